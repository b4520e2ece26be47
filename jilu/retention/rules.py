"""How long a recording must be kept: the rules, in one table, with their clauses.

A recording is kept until the latest date any rule that applies to it gives;
a rule that gives no date keeps it with no end in sight. The minimum applies
to every recording, classified or not, so nothing is ever kept less than it
(C5.6: 原始声像资料保存期限不少于一年). This is the Waukesha lesson: a recording
that was mis-categorised, or never linked, still gets the minimum, and
anything tied to an open case is never disposable.

| rule | clause | keeps until |
|---|---|---|
| ``original`` | C5.6 | one year after the recording ends (the minimum, always) |
| ``case_open`` | C5.6 | no end: the recording is evidence of a case not yet closed |
| ``case_file`` | C5.6 | the case file's 保管期限 (30 or 10 years), counted from 1 January of the year after the case was closed, as archive periods are |
| ``case_permanent`` | C5.6 | no end: the case file is kept permanently (永久) |
| ``hold`` | C6.4, C5.5 | no end while an inspection, legal or litigation hold covers it |
| ``finding`` | C6.4 | no end while a finding of the inspection department names it (open or explained, not yet decided) |
| ``access_request`` | C6.3 | no end while an access request naming it is pending, approved and unexpired, or its copies are being prepared |
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jilu.access.models import AccessRequest
from jilu.casework.models import RETENTION_YEARS, Annotation, Case, RetentionClass
from jilu.evidence.models import Recording
from jilu.evidence.timeline import SHANGHAI
from jilu.retention import clock
from jilu.retention.models import Hold

MINIMUM_YEARS = 1


@dataclass(frozen=True)
class Rule:
    code: str
    clause: str
    text: Any  # lazy


RULES = {
    r.code: r
    for r in [
        Rule("original", "C5.6", _("原始声像资料至少保存一年")),
        Rule("case_open", "C5.6", _("作为案件证据：案件尚未结案，随案保存")),
        Rule("case_file", "C5.6", _("作为案件证据：与案卷保存期限相同")),
        Rule("case_permanent", "C5.6", _("作为案件证据：案卷永久保存")),
        Rule("hold", "C6.4", _("保全中")),
        Rule("access_request", "C6.3", _("调用申请办理中")),
        Rule("finding", "C6.4", _("督察发现处理中")),
    ]
}

# Apps above retention that also keep recordings (oversight: an open finding
# names them) register here from AppConfig.ready(): ``provider(ids)`` returns
# ``{recording id: [(rule code, detail), …]}`` of reasons with no end.
_providers: list[Callable[[list[int]], dict[int, list[tuple[str, str]]]]] = []


def register_keep_reason(
    provider: Callable[[list[int]], dict[int, list[tuple[str, str]]]],
) -> None:
    if provider not in _providers:
        _providers.append(provider)


@dataclass
class Reason:
    rule: str
    until: date | None  # None: no end while it applies
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        rule = RULES[self.rule]
        return {
            "rule": self.rule,
            "clause": rule.clause,
            "until": self.until.isoformat() if self.until else None,
            "detail": self.detail,
        }


@dataclass
class Decision:
    recording_id: int
    reasons: list[Reason] = field(default_factory=list)

    @property
    def indefinite(self) -> bool:
        return any(r.until is None for r in self.reasons)

    @property
    def until(self) -> date | None:
        """The latest date of all reasons; None when any keeps it with no end."""
        if self.indefinite:
            return None
        return max(r.until for r in self.reasons)  # type: ignore[type-var]

    @property
    def deciding(self) -> Reason:
        if self.indefinite:
            return next(r for r in self.reasons if r.until is None)
        return max(self.reasons, key=lambda r: r.until)  # type: ignore[arg-type,return-value]


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def local_day(at: datetime) -> date:
    return timezone.localtime(at, SHANGHAI).date()


def case_file_until(case: Case) -> date | None:
    """The end of a closed case file's 保管期限, counted from 1 January of the
    year after closing; None for a permanent file."""
    years = RETENTION_YEARS.get(RetentionClass(case.retention)) if case.retention else None
    if years is None:
        return None
    closed = local_day(case.closed_at) if case.closed_at else local_day(clock.now())
    return date(closed.year + 1 + years, 1, 1)


def decide(recording_ids: Iterable[int], *, now: datetime | None = None) -> dict[int, Decision]:
    """The decision for each recording, in a few queries for the whole batch."""
    now = now or clock.now()
    ids = sorted(set(recording_ids))
    decisions = {pk: Decision(pk) for pk in ids}
    if not ids:
        return decisions

    # C5.6 minimum: one year after the recording ends (its start while unknown).
    for pk, started, ended in Recording.objects.filter(pk__in=ids).values_list(
        "pk", "started_at", "ended_at"
    ):
        end = local_day(ended or started)
        decisions[pk].reasons.append(Reason("original", add_years(end, MINIMUM_YEARS)))

    # Evidence of a case: through the annotation's case or its activity's case.
    cases_of: dict[int, set[int]] = defaultdict(set)
    activities_of: dict[int, int] = {}
    for rec_id, case_id, activity_id, activity_case_id in Annotation.objects.filter(
        recording_id__in=ids
    ).values_list("recording_id", "case_id", "activity_id", "activity__case_id"):
        activities_of[rec_id] = activity_id
        for c in (case_id, activity_case_id):
            if c:
                cases_of[rec_id].add(c)
    case_ids = {c for cs in cases_of.values() for c in cs}
    cases = {c.pk: c for c in Case.objects.filter(pk__in=case_ids)}
    for rec_id, cs in cases_of.items():
        for case_id in cs:
            case = cases[case_id]
            if case.status != Case.Status.CLOSED:
                decisions[rec_id].reasons.append(Reason("case_open", None, case.number))
                continue
            until = case_file_until(case)
            rule = "case_permanent" if until is None else "case_file"
            decisions[rec_id].reasons.append(Reason(rule, until, case.number))

    # Holds on the recording, its activity or any of its cases.
    active = ~Q(state=Hold.State.RELEASED)
    activity_ids = set(activities_of.values())
    held = Hold.objects.filter(active).filter(
        Q(recording_id__in=ids) | Q(activity_id__in=activity_ids) | Q(case_id__in=case_ids)
    )
    for hold in held.values("recording_id", "activity_id", "case_id", "kind", "pk"):
        for rec_id in ids:
            if (
                hold["recording_id"] == rec_id
                or (hold["activity_id"] and activities_of.get(rec_id) == hold["activity_id"])
                or (hold["case_id"] and hold["case_id"] in cases_of.get(rec_id, ()))
            ):
                decisions[rec_id].reasons.append(Reason("hold", None, f"#{hold['pk']}"))

    # Access requests that still name it: pending, or approved and not expired (C6.3).
    open_requests = AccessRequest.objects.filter(
        Q(status__in=[AccessRequest.Status.PENDING, AccessRequest.Status.PREPARING])
        | Q(status=AccessRequest.Status.APPROVED)
        & (Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    )
    link = AccessRequest.recordings.through
    for rec_id, number in link.objects.filter(
        recording_id__in=ids, accessrequest__in=open_requests
    ).values_list("recording_id", "accessrequest__number"):
        decisions[rec_id].reasons.append(Reason("access_request", None, number))

    # Whatever the apps above say keeps a recording (an open finding, C6.4).
    for provider in _providers:
        for rec_id, found in provider(ids).items():
            for rule, detail in found:
                decisions[rec_id].reasons.append(Reason(rule, None, detail))
    return decisions


def explain(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored reasons with their rule's words, for pages and printouts."""
    out = []
    for r in reasons:
        rule = RULES.get(r["rule"])
        out.append({**r, "text": str(rule.text) if rule else r["rule"]})
    return out
