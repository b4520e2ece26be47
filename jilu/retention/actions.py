"""Every state change of retention: keep-until, holds, disposals (C5.6).

Each action is one transaction with its audit row. A disposal takes four
people-steps and two different people: the weekly task proposes a unit's list,
an archivist reviews it (and may take items off), the unit's leader approves,
and only then is anything removed — after every item's keep-until has been
recomputed from the facts once more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.audit.chain import record
from jilu.casework.models import Activity, Annotation, Case
from jilu.evidence import disposal as evidence_disposal
from jilu.evidence.models import Derivative, Recording
from jilu.evidence.store import StoreError, get_store
from jilu.evidence.timeline import SHANGHAI
from jilu.org.models import Person, Unit
from jilu.org.roles import LEADERS, Role
from jilu.retention import clock, rules
from jilu.retention.models import (
    HOLD_PLACERS,
    HOLD_RELEASERS,
    Disposal,
    DisposalItem,
    Hold,
    KeepUntil,
)

log = logging.getLogger(__name__)
SYSTEM = "system:retention"
BATCH = 500


# --- keep-until --------------------------------------------------------------------


def recompute(recording_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Store the keep-until of each recording from the rules, and extend the
    store's retain-until (Object Lock) to it; returns how many changed."""
    ids = sorted(set(recording_ids))
    changed = 0
    extend: list[tuple[int, date | None]] = []
    now = now or clock.now()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        decisions = rules.decide(chunk, now=now)
        existing = {k.pk: k for k in KeepUntil.objects.filter(pk__in=chunk)}
        for pk, decision in decisions.items():
            until = decision.until
            reasons = [r.as_dict() for r in decision.reasons]
            row = existing.get(pk)
            if row is not None and row.until == until and row.reasons == reasons:
                continue
            KeepUntil.objects.update_or_create(
                recording_id=pk,
                defaults={
                    "until": until,
                    "rule": decision.deciding.rule,
                    "reasons": reasons,
                    "computed_at": now,
                },
            )
            changed += 1
            extend.append((pk, until))
    _extend_store_retention(extend)
    return changed


def recompute_for_hook(recording_ids: list[int]) -> None:
    """Evidence's ``keep_until_changed`` hook: recompute in the caller's transaction."""
    recompute(recording_ids)


def _extend_store_retention(changed: list[tuple[int, date | None]]) -> None:
    """With Object Lock, the store itself refuses a deletion before keep-until.
    An indefinite keep-until locks for the store's default period from now,
    extended again whenever it is recomputed (and by the weekly run)."""
    lock_days = getattr(getattr(settings, "S3", None), "object_lock_days", 0) or 0
    if not changed or not lock_days:
        return
    store = get_store()
    shas = dict(
        Recording.objects.filter(pk__in=[pk for pk, _u in changed]).values_list("pk", "sha256")
    )
    for pk, until in changed:
        if until is None:
            target = timezone.now() + timedelta(days=lock_days)
        else:
            target = datetime.combine(until, time.min, tzinfo=SHANGHAI).astimezone(UTC)
        try:
            store.retain_until(shas[pk], target)
        except StoreError as exc:  # the database keep-until still protects it
            log.warning("could not extend the retain-until of %s: %s", shas.get(pk), exc)


def recordings_of_activity(activity: Activity) -> list[int]:
    return list(Annotation.objects.filter(activity=activity).values_list("recording_id", flat=True))


def recordings_of_case(case: Case) -> list[int]:
    return list(
        Annotation.objects.filter(Q(case=case) | Q(activity__case=case)).values_list(
            "recording_id", flat=True
        )
    )


# --- holds ---------------------------------------------------------------------------


def _target_unit(recording: Any, activity: Any, case: Any) -> Unit:
    if case is not None:
        return case.unit
    if activity is not None:
        return activity.unit
    officer = recording.officer
    if officer is not None and officer.unit_id:
        return officer.unit
    return recording.recorder.unit


def _covered(hold: Hold) -> list[int]:
    if hold.recording_id:
        return [hold.recording_id]
    if hold.activity_id:
        return recordings_of_activity(hold.activity)
    return recordings_of_case(hold.case)


def may_place(user: Any, kind: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser or user.has_role(Role.ADMIN):
        return True
    wanted = {
        Hold.Kind.INSPECTION: (Role.INSPECTOR,),
        Hold.Kind.LEGAL: (Role.LEGAL_REVIEWER,),
        Hold.Kind.LITIGATION: (Role.ARCHIVIST, Role.LEGAL_REVIEWER, *LEADERS),
    }.get(kind, ())
    return user.has_role(*wanted)


@transaction.atomic
def place_hold(
    *,
    actor: Person,
    kind: str,
    reason: str,
    recording: Recording | None = None,
    activity: Activity | None = None,
    case: Case | None = None,
) -> Hold:
    if kind not in Hold.Kind.values:
        raise ValidationError({"kind": _("保全类型不正确")})
    if sum(x is not None for x in (recording, activity, case)) != 1:
        raise ValidationError(_("保全对象须是一条声像记录、一项执法活动或一个案件"))
    if not may_place(actor, kind):
        raise PermissionDenied(_("你不能设置这种保全"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请写明保全理由")})
    unit = _target_unit(recording, activity, case)
    if not (
        actor.is_superuser
        or actor.has_role(Role.INSPECTOR, Role.ADMIN, Role.LEGAL_REVIEWER)
        or (actor.unit_id and unit.path.startswith(actor.unit.path))
    ):
        raise PermissionDenied(_("保全对象不在你的管辖范围内"))
    hold = Hold.objects.create(
        kind=kind,
        reason=reason[:300],
        recording=recording,
        activity=activity,
        case=case,
        unit=unit,
        placed_by=actor,
        placed_at=timezone.now(),
    )
    covered = _covered(hold)
    record(
        "retention.hold.place",
        actor=actor,
        obj=hold,
        details={"kind": kind, "target": hold.target_label(), "recordings": len(covered)},
    )
    recompute(covered)
    return hold


@transaction.atomic
def request_release(*, actor: Person, hold: Hold, reason: str) -> Hold:
    hold = Hold.objects.select_for_update().get(pk=hold.pk)
    if hold.state != Hold.State.ACTIVE:
        raise ValidationError(_("这项保全不在保全中，不能申请解除"))
    if not (actor.has_role(*HOLD_PLACERS) or actor.is_superuser):
        raise PermissionDenied(_("你不能申请解除保全"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请写明解除理由")})
    hold.state = Hold.State.RELEASE_REQUESTED
    hold.release_requested_by = actor
    hold.release_requested_at = timezone.now()
    hold.release_reason = reason[:300]
    hold.save()
    record("retention.hold.release_request", actor=actor, obj=hold, details={"reason": reason})
    return hold


@transaction.atomic
def approve_release(*, actor: Person, hold: Hold) -> Hold:
    """A hold is released only when a second person approves (never the one who asked)."""
    hold = Hold.objects.select_for_update().get(pk=hold.pk)
    if hold.state != Hold.State.RELEASE_REQUESTED:
        raise ValidationError(_("这项保全没有待批准的解除申请"))
    if hold.release_requested_by_id == actor.pk:
        raise PermissionDenied(_("解除保全须由申请人以外的人批准"))
    if not (actor.is_superuser or actor.has_role(*HOLD_RELEASERS)):
        raise PermissionDenied(_("只有督察、领导或系统管理员可以批准解除保全"))
    if not (
        actor.is_superuser
        or actor.has_role(Role.INSPECTOR, Role.ADMIN)
        or (actor.unit_id and hold.unit.path.startswith(actor.unit.path))
    ):
        raise PermissionDenied(_("保全对象不在你的管辖范围内"))
    hold.state = Hold.State.RELEASED
    hold.released_by = actor
    hold.released_at = timezone.now()
    hold.save()
    record("retention.hold.release", actor=actor, obj=hold, details={"kind": hold.kind})
    recompute(_covered(hold))
    return hold


# --- disposal ------------------------------------------------------------------------


def _next_number(now: datetime) -> str:
    year = timezone.localtime(now, SHANGHAI).year
    prefix = f"XH{year}-"
    last = Disposal.objects.filter(number__startswith=prefix).aggregate(m=Max("number")).get("m")
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{n:04d}"


def unit_recordings(unit: Unit):
    """A unit's own recordings: those whose officer (else recorder) belongs to it.
    Each recording is proposed by exactly one unit."""
    return Recording.objects.filter(
        Q(officer__unit=unit) | Q(officer__isnull=True, recorder__unit=unit)
    )


def due_for_disposal(unit: Unit, *, now: datetime | None = None) -> list[tuple[int, Any]]:
    """(recording id, decision) of the unit's recordings past their keep-until
    today, recomputed from the facts (the dry run; nothing is written)."""
    now = now or clock.now()
    today = rules.local_day(now)
    disposed = evidence_disposal.tombstoned_keys()
    pending = DisposalItem.objects.filter(
        outcome=DisposalItem.Outcome.PENDING,
        disposal__state__in=[
            Disposal.State.PROPOSED,
            Disposal.State.REVIEWED,
            Disposal.State.APPROVED,
        ],
    ).values("recording_id")
    # Cheap first cut on the stored keep-until (or none stored yet), then the rules.
    candidates = (
        unit_recordings(unit)
        .exclude(sha256__in=disposed)
        .exclude(pk__in=pending)
        .filter(Q(keep__isnull=True) | Q(keep__until__lt=today))
        .values_list("pk", flat=True)
    )
    due = []
    ids = list(candidates)
    for start in range(0, len(ids), BATCH):
        for pk, decision in rules.decide(ids[start : start + BATCH], now=now).items():
            if decision.until is not None and decision.until < today:
                due.append((pk, decision))
    return due


@transaction.atomic
def propose_disposal(*, actor: Any, unit: Unit, now: datetime | None = None) -> Disposal | None:
    """The unit's list of what has passed its keep-until and is held by nothing;
    None when nothing is due."""
    now = now or clock.now()
    due = due_for_disposal(unit, now=now)
    if not due:
        return None
    disposal = Disposal.objects.create(
        number=_next_number(now),
        unit=unit,
        cutoff=rules.local_day(now),
        proposed_at=now,
    )
    DisposalItem.objects.bulk_create(
        [
            DisposalItem(
                disposal=disposal,
                recording_id=pk,
                keep_until=decision.until,
                rule=decision.deciding.rule,
            )
            for pk, decision in due
        ]
    )
    record(
        "retention.disposal.propose",
        actor=actor,
        obj=disposal,
        details={"unit": unit.code, "items": len(due), "cutoff": disposal.cutoff.isoformat()},
    )
    return disposal


def _locked(disposal: Disposal) -> Disposal:
    return Disposal.objects.select_for_update().get(pk=disposal.pk)


def _in_scope(actor: Person, disposal: Disposal) -> bool:
    return bool(actor.unit_id) and disposal.unit.path.startswith(actor.unit.path)


@transaction.atomic
def review_disposal(
    *, actor: Person, disposal: Disposal, exclude: dict[int, str] | None = None
) -> Disposal:
    """The archivist checks the list; ``exclude`` takes items off (item id → why)."""
    disposal = _locked(disposal)
    if disposal.state != Disposal.State.PROPOSED:
        raise ValidationError(_("这份销毁清单不在待审核状态"))
    if not actor.has_role(Role.ARCHIVIST) or not _in_scope(actor, disposal):
        raise PermissionDenied(_("只有本单位（或上级）的档案管理员可以审核销毁清单"))
    for item_id, why in (exclude or {}).items():
        why = (why or "").strip()
        if not why:
            raise ValidationError(_("排除一项须写明理由"))
        updated = DisposalItem.objects.filter(
            disposal=disposal, pk=item_id, outcome=DisposalItem.Outcome.PENDING
        ).update(outcome=DisposalItem.Outcome.EXCLUDED, note=why[:300])
        if not updated:
            raise ValidationError(_("清单中没有第 %(id)s 项") % {"id": item_id})
    disposal.state = Disposal.State.REVIEWED
    disposal.reviewed_by = actor
    disposal.reviewed_at = timezone.now()
    disposal.save()
    record(
        "retention.disposal.review",
        actor=actor,
        obj=disposal,
        details={"excluded": sorted(int(i) for i in (exclude or {}))},
    )
    return disposal


@transaction.atomic
def approve_disposal(*, actor: Person, disposal: Disposal) -> Disposal:
    """The unit's leader approves; never the archivist who reviewed it."""
    disposal = _locked(disposal)
    if disposal.state != Disposal.State.REVIEWED:
        raise ValidationError(_("销毁清单须先经档案管理员审核，才能批准"))
    if disposal.reviewed_by_id == actor.pk:
        raise PermissionDenied(_("审核和批准须由两个不同的人完成"))
    if not actor.has_role(*LEADERS) or not _in_scope(actor, disposal):
        raise PermissionDenied(_("只有本单位（或上级）的领导可以批准销毁"))
    disposal.state = Disposal.State.APPROVED
    disposal.approved_by = actor
    disposal.approved_at = timezone.now()
    disposal.save()
    record("retention.disposal.approve", actor=actor, obj=disposal, details={})
    return disposal


@transaction.atomic
def refuse_disposal(*, actor: Person, disposal: Disposal, note: str) -> Disposal:
    disposal = _locked(disposal)
    if disposal.state not in (Disposal.State.PROPOSED, Disposal.State.REVIEWED):
        raise ValidationError(_("这份销毁清单已不能驳回"))
    if not (actor.has_role(Role.ARCHIVIST, *LEADERS) and _in_scope(actor, disposal)):
        raise PermissionDenied(_("只有本单位（或上级）的档案管理员或领导可以驳回销毁清单"))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("请写明驳回理由")})
    disposal.state = Disposal.State.REFUSED
    disposal.refused_by = actor
    disposal.refused_at = timezone.now()
    disposal.note = note[:300]
    disposal.save()
    record("retention.disposal.refuse", actor=actor, obj=disposal, details={"note": note})
    return disposal


def _names(recording: Recording) -> list[str]:
    names = [recording.original_name]
    standard = (
        Annotation.objects.filter(recording=recording)
        .values_list("standard_name", flat=True)
        .first()
    )
    if standard:
        names.append(standard)
    return names


@transaction.atomic
def execute_disposal(*, actor: Any, disposal: Disposal, now: datetime | None = None) -> Disposal:
    """Carry out an approved disposal: every item is decided again from the facts
    of now; an item that must still be kept is kept (and says why); the rest get
    tombstones, and their bytes (original and derived copies) leave the store."""
    disposal = _locked(disposal)
    if disposal.state != Disposal.State.APPROVED:
        raise ValidationError(_("销毁清单须经审核和批准后才能执行"))
    now = now or clock.now()
    today = rules.local_day(now)
    items = list(
        disposal.items.filter(outcome=DisposalItem.Outcome.PENDING).select_related("recording")
    )
    decisions = rules.decide([i.recording_id for i in items], now=now)
    approvers = [
        f"{disposal.reviewed_by.name}（{_('档案管理员审核')}）",
        f"{disposal.approved_by.name}（{_('领导批准')}）",
    ]
    to_go = []
    for item in items:
        decision = decisions[item.recording_id]
        if decision.until is None or decision.until >= today:
            item.outcome = DisposalItem.Outcome.KEPT
            reason = decision.deciding
            item.note = f"{rules.RULES[reason.rule].text} {reason.detail}".strip()[:300]
            item.save(update_fields=["outcome", "note"])
            continue
        rec = item.recording
        objects = [evidence_disposal.ObjectToDispose(rec.stored_object, _names(rec), [rec.pk])]
        for d in Derivative.objects.filter(recording=rec).select_related("stored_object"):
            objects.append(
                evidence_disposal.ObjectToDispose(
                    d.stored_object, [f"{d.kind}: {rec.original_name}"], [rec.pk]
                )
            )
        to_go.extend(objects)
        item.outcome = DisposalItem.Outcome.DISPOSED
        item.save(update_fields=["outcome"])
    rule = rules.RULES["original"]
    evidence_disposal.write_tombstones(
        actor=actor,
        objects=to_go,
        rule="original",
        clause=rule.clause,
        reason=str(rule.text),
        approved_by=approvers,
        approved_at=disposal.approved_at,
        disposal_ref=disposal.number,
    )
    disposal.state = Disposal.State.EXECUTED
    disposal.executed_at = now
    disposal.save()
    record(
        "retention.disposal.execute",
        actor=actor,
        obj=disposal,
        details={
            "disposed": sum(1 for i in items if i.outcome == DisposalItem.Outcome.DISPOSED),
            "kept": sum(1 for i in items if i.outcome == DisposalItem.Outcome.KEPT),
            "objects": len(to_go),
        },
    )
    return disposal


def units_with_recordings() -> list[Unit]:
    ids = set(Person.objects.filter(recordings__isnull=False).values_list("unit_id", flat=True))
    return list(Unit.objects.filter(pk__in=ids).order_by("path"))
