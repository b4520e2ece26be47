"""Every state change of spot checks (C6.4), each in one transaction with its
audit row: an inspector draws a sample, reviews each sampled item against the
checklist (``spotcheck_checklist``) and completes the spot check, when the
failed items become findings (``actions.note_finding``: one per subject, rule
and month). Drawing again from the stored seed (``verify``) is audited too.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jilu.audit.chain import record
from jilu.evidence.models import Recording
from jilu.evidence.timeline import SHANGHAI
from jilu.oversight import clock, ledger, periods
from jilu.oversight import spotcheck_sample as sampling
from jilu.oversight.actions import Fact, Subject, note_finding
from jilu.oversight.ledger_models import LedgerConfirmation
from jilu.oversight.spotcheck_checklist import FAIL, ITEMS, OUTCOMES, PASS, items_for, score
from jilu.oversight.spotcheck_models import SpotCheck, SpotCheckItem, SpotCheckMark

SEED = re.compile(r"^[0-9a-f]{8,64}$")
MAX_NOTE = 500


def may_draw(user: Any) -> bool:
    """Inspectors (and superusers) draw and review spot checks (C6.4)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or user.has_role("inspector")


def _require_inspector(user: Any) -> None:
    if not may_draw(user):
        raise PermissionDenied(_("只有督察可以抽检"))


def draw_spot_check(
    *,
    actor: Any,
    kind: str,
    first_day: date | None,
    last_day: date | None,
    per: str,
    per_stratum: Any,
    unit_ids: list[Any],
    seed: str = "",
) -> SpotCheck:
    """Draw a stratified sample and store it with its seed and query."""
    _require_inspector(actor)
    n = sampling.check_parameters(
        kind=kind, first_day=first_day, last_day=last_day, per=per, per_stratum=per_stratum
    )
    units = sampling.chosen_units(unit_ids)
    seed = (seed or "").strip().lower() or secrets.token_hex(16)
    if not SEED.match(seed):
        raise ValidationError({"seed": [_("随机种子应为 8 至 64 位十六进制数字（0-9、a-f）")]})
    strata = sampling.strata(sampling.stratum_units(units), first_day, last_day, per)
    if len(strata) * n > sampling.MAX_SAMPLE:
        raise ValidationError(
            {
                "per_stratum": [
                    _(
                        "共 %(strata)s 层，每层 %(n)s 个，最多可能抽取 %(total)s 个，超过上限 "
                        "%(max)s：请减少每层抽取数、单位或期间"
                    )
                    % {
                        "strata": len(strata),
                        "n": n,
                        "total": len(strata) * n,
                        "max": sampling.MAX_SAMPLE,
                    }
                ]
            }
        )
    sample = sampling.draw(seed, kind, strata, n)
    if not sample.members:
        what = _("声像记录") if kind == "recordings" else _("台账记录")
        raise ValidationError(
            {"period": [_("所选单位在这个期间没有%(what)s，无法抽检") % {"what": what}]}
        )
    query = sampling.query(
        kind=kind,
        first_day=first_day,
        last_day=last_day,
        per=per,
        per_stratum=n,
        units=units,
        sample=sample,
    )
    with transaction.atomic():
        spot = SpotCheck.objects.create(
            kind=kind,
            first_day=first_day,
            last_day=last_day,
            per=per,
            per_stratum=n,
            seed=seed,
            query=query,
            sample_sha256=sample.digest,
            population=sample.population,
            created_by=actor,
            created_at=clock.now(),
        )
        spot.units.set(units)
        spot.strata_units.set({d.stratum.unit for d in sample.strata})
        SpotCheckItem.objects.bulk_create(_items(spot, kind, sample))
        record(
            "oversight.spotcheck.draw",
            actor=actor,
            obj=spot,
            object_type="oversight.spotcheck",
            details={
                "kind": kind,
                "period": f"{first_day.isoformat()}/{last_day.isoformat()}",
                "per": per,
                "per_stratum": n,
                "units": [u.code for u in units],
                "seed": seed,
                "population": sample.population,
                "count": len(sample.members),
                "sample_sha256": sample.digest,
            },
        )
    return spot


def _items(spot: SpotCheck, kind: str, sample: sampling.Sample) -> list[SpotCheckItem]:
    out: list[SpotCheckItem] = []
    for drawn in sample.strata:
        stratum = drawn.stratum
        if kind == "recordings":
            recs = Recording.objects.in_bulk([int(m) for m in drawn.chosen])
            rows: dict[str, dict] = {}
        else:
            recs = {}
            rows = _ledger_rows(stratum, drawn.chosen)
        for member in drawn.chosen:
            item = SpotCheckItem(
                spot_check=spot,
                position=len(out) + 1,
                unit=stratum.unit,
                stratum=stratum.key,
                period_label=stratum.period,
            )
            if kind == "recordings":
                rec = recs[int(member)]
                item.recording = rec
                item.officer_id = rec.officer_id
            else:
                day, _sep, officer = member.partition("/")
                item.day = date.fromisoformat(day)
                item.officer_id = int(officer) if officer.isdigit() else None
                item.ledger_row, item.ledger_confirmed = rows[member]
            out.append(item)
    return out


def _ledger_rows(stratum: sampling.Stratum, keys: list[str]) -> dict[str, tuple[dict, bool]]:
    """What the ledger says for each drawn row: the confirmed month's frozen row
    once the squad leader confirmed it, else the row as computed now."""
    live = {
        ledger.row_key("recordings", r): r
        for r in ledger.recording_rows(stratum.unit, stratum.start, stratum.end)
    }
    out = {}
    for key in keys:
        day = date.fromisoformat(key.split("/")[0])
        confirmed = LedgerConfirmation.objects.filter(
            unit=stratum.unit, year=day.year, month=day.month
        ).first()
        row = None
        if confirmed is not None:
            frozen = {
                ledger.row_key("recordings", r): r for r in confirmed.snapshot.get("recordings", [])
            }
            row = frozen.get(key)
        out[key] = (row, True) if row is not None else (live[key], False)
    return out


def review_item(
    item: SpotCheckItem, *, actor: Any, marks: dict[str, str], note: str = ""
) -> SpotCheckItem:
    """Mark each checklist item of one sampled item: pass, fail or not applicable."""
    _require_inspector(actor)
    checklist = items_for(item.spot_check.kind)
    codes = [c.code for c in checklist]
    errors = []
    unknown = sorted(set(marks) - set(codes))
    if unknown:
        errors.append(_("没有这些检查项：%(codes)s") % {"codes": "、".join(unknown)})
    missing = [str(c.label) for c in checklist if c.code not in marks]
    if missing:
        errors.append(_("请对每一项作出判断：%(items)s") % {"items": "、".join(missing)})
    bad = sorted(c for c, v in marks.items() if c in codes and v not in OUTCOMES)
    if bad:
        errors.append(_("判断只能是符合、不符合或不适用：%(codes)s") % {"codes": "、".join(bad)})
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors.append(_("检查意见不能超过 %(n)s 字") % {"n": MAX_NOTE})
    if errors:
        raise ValidationError({"marks": errors})
    with transaction.atomic():
        spot = SpotCheck.objects.select_for_update().get(pk=item.spot_check_id)
        if spot.completed:
            raise ValidationError({"state": [_("这次抽检已经完成，不能再修改检查结果")]})
        item = SpotCheckItem.objects.select_for_update().get(pk=item.pk)
        SpotCheckMark.objects.filter(item=item).delete()
        SpotCheckMark.objects.bulk_create(
            SpotCheckMark(item=item, code=c, outcome=marks[c]) for c in codes
        )
        item.score = score({c: marks[c] for c in codes})
        item.note = note
        item.reviewed_by = actor
        item.reviewed_at = clock.now()
        item.save(update_fields=["score", "note", "reviewed_by", "reviewed_at"])
        record(
            "oversight.spotcheck.review",
            actor=actor,
            obj=spot,
            object_type="oversight.spotcheck",
            details={
                "position": item.position,
                "recording": item.recording_id,
                "ledger_row": None if item.recording_id else item.sample_key,
                "marks": [f"{c}:{marks[c]}" for c in codes],
                "score": item.score,
                "note": note,
            },
        )
    return item


def _moment(item: SpotCheckItem) -> datetime:
    if item.recording is not None:
        return item.recording.started_at
    return datetime.combine(item.day, time(12), tzinfo=SHANGHAI)


def _subject(item: SpotCheckItem) -> tuple[Subject, Any, Any]:
    """Who answers for a failed item: the officer, else the recorder (a
    recording) or the squad (a ledger row); the unit; the person."""
    if item.officer is not None:
        officer = item.officer
        return Subject("officer", officer.pk, str(officer)), officer.unit or item.unit, officer
    if item.recording is not None:
        recorder = item.recording.recorder
        return Subject("recorder", recorder.pk, recorder.serial), recorder.unit, None
    return Subject("unit", item.unit.pk, item.unit.name), item.unit, None


@transaction.atomic
def complete_spot_check(spot: SpotCheck, *, actor: Any) -> SpotCheck:
    """Score the spot check and turn each failed checklist item into a finding."""
    _require_inspector(actor)
    spot = SpotCheck.objects.select_for_update().get(pk=spot.pk)
    if spot.completed:
        raise ValidationError({"state": [_("这次抽检已经完成")]})
    items = list(
        spot.items.select_related(
            "recording__recorder__unit", "officer__unit", "unit"
        ).prefetch_related("marks")
    )
    waiting = [i.position for i in items if i.reviewed_at is None]
    if waiting:
        raise ValidationError(
            {
                "items": [
                    _("还有 %(n)s 个抽检项没有检查（第 %(list)s 项），请全部检查后再完成")
                    % {"n": len(waiting), "list": "、".join(str(p) for p in waiting[:20])}
                ]
            }
        )
    passed = failed = 0
    findings: list[int] = []
    for item in items:
        for mark in item.marks.all():
            if mark.outcome == PASS:
                passed += 1
            elif mark.outcome == FAIL:
                failed += 1
                findings.append(_note(spot, item, mark.code, actor))
    spot.passed, spot.failed = passed, failed
    spot.score = round(100 * passed / (passed + failed), 1) if passed + failed else None
    spot.state = SpotCheck.State.COMPLETED
    spot.completed_by = actor
    spot.completed_at = clock.now()
    spot.save(update_fields=["passed", "failed", "score", "state", "completed_by", "completed_at"])
    record(
        "oversight.spotcheck.complete",
        actor=actor,
        obj=spot,
        object_type="oversight.spotcheck",
        details={
            "passed": passed,
            "failed": failed,
            "score": spot.score,
            "findings": sorted(set(findings)),
        },
    )
    return spot


def _note(spot: SpotCheck, item: SpotCheckItem, code: str, actor: Any) -> int:
    check = ITEMS[code]
    subject, unit, person = _subject(item)
    at = _moment(item)
    facts = [
        Fact(
            "spot_item",
            item.pk,
            at,
            {
                "spot_check": spot.pk,
                "position": item.position,
                "item": code,
                "recording": item.recording_id,
                "ledger_row": None if item.recording_id else item.sample_key,
                "note": item.note,
            },
        )
    ]
    if item.recording_id is not None:
        # The recording itself: kept while the finding is undecided (C5.6), and linked.
        facts.append(Fact("recording", item.recording_id, at, {}))
    finding, _new = note_finding(
        actor=actor,
        rule=check.rule,
        subject=subject,
        period=periods.month(at),
        unit=unit,
        person=person,
        facts=facts,
    )
    return finding.pk


def verify_spot_check(spot: SpotCheck, *, actor: Any) -> sampling.Comparison:
    """Draw the sample again from the stored seed and query and compare (anyone
    who may read the spot check may do this; it is audited)."""
    members = [(i.stratum, i.sample_key) for i in spot.items.order_by("position")]
    result = sampling.redraw(spot.query, spot.seed, members)
    with transaction.atomic():
        record(
            "oversight.spotcheck.verify",
            actor=actor,
            obj=spot,
            object_type="oversight.spotcheck",
            details={
                "same": result.same,
                "sample_sha256": result.sample_sha256,
                "redrawn_sha256": result.redrawn_sha256,
            },
        )
    return result
