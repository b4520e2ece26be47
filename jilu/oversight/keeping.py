"""A finding of the inspection department keeps the recordings it names until
an inspector has decided it (C6.4 with C5.6): registered with retention's rules,
and every change of a finding tells retention to recompute them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from jilu.evidence.hooks import keep_until_changed
from jilu.oversight.finding_models import Finding, FindingFact

UNDECIDED = (Finding.State.OPEN, Finding.State.EXPLAINED)


def open_findings_of(recording_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """``{recording id: [("finding", "#pk 规则"), …]}`` for retention's rules."""
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    facts = FindingFact.objects.filter(
        kind=FindingFact.Kind.RECORDING,
        object_id__in=[str(i) for i in recording_ids],
        finding__state__in=UNDECIDED,
    ).values_list("object_id", "finding_id", "finding__rule")
    for object_id, finding_id, rule in facts:
        out[int(object_id)].append(("finding", f"#{finding_id} {rule}"))
    return out


def recordings_named(findings: Iterable[int]) -> list[int]:
    ids = FindingFact.objects.filter(
        finding_id__in=list(findings), kind=FindingFact.Kind.RECORDING
    ).values_list("object_id", flat=True)
    return [int(i) for i in ids if str(i).isdigit()]


def changed(*finding_ids: int) -> None:
    """Inside the finding's transaction: its recordings' keep-until, recomputed."""
    keep_until_changed(recordings_named(finding_ids))
