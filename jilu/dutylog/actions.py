"""Every state change of a duty-log note (执勤日志, C6.2), each in one transaction
with its audit row.

The officer writes a note (pending); a squad or brigade leader covering the
officer's unit, not the officer themself, confirms it or returns it with a
reason; a returned (or still pending) note may be edited by the officer, which
resubmits it. A confirmed note is final.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.audit.chain import record
from jilu.devices.models import Holding, Recorder
from jilu.dutylog.models import UnrecordedNote
from jilu.org.roles import LEADERS

MAX_SPAN = timedelta(hours=24)
MAX_DESCRIPTION = 2000
MAX_NOTE = 500
# A little slack for clocks: "now" typed on the form is not "in the future".
FUTURE_SLACK = timedelta(minutes=2)


def _audit(action: str, *, actor: Any, note: UnrecordedNote, **details: Any) -> None:
    record(
        f"dutylog.note.{action}",
        actor=actor,
        object_type="dutylog.note",
        object_id=str(note.pk),
        details={
            "officer": note.officer_id,
            "start": note.start.isoformat(),
            "end": note.end.isoformat(),
            "reason": note.reason,
            **details,
        },
    )


def covers(user: Any, note: UnrecordedNote) -> bool:
    """A squad or brigade leader (explicit grant) whose unit subtree holds the note."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not user.roles.intersection(LEADERS) or not user.unit_id:
        return False
    return note.unit.path.startswith(user.unit.path)


def may_decide(user: Any, note: UnrecordedNote) -> bool:
    """C6.2: the leader confirms; never the officer themself."""
    return (
        note.state == UnrecordedNote.State.PENDING
        and note.officer_id != user.pk
        and covers(user, note)
    )


def may_edit(user: Any, note: UnrecordedNote) -> bool:
    return note.officer_id == user.pk and note.editable


def awaiting_confirmation(user: Any):
    """Pending notes this leader may confirm (C6.2)."""
    if not getattr(user, "is_authenticated", False) or not user.roles.intersection(LEADERS):
        return UnrecordedNote.objects.none()
    if not user.unit_id:
        return UnrecordedNote.objects.none()
    return UnrecordedNote.objects.filter(
        state=UnrecordedNote.State.PENDING, unit__path__startswith=user.unit.path
    ).exclude(officer_id=user.pk)


def _clean(
    officer: Any,
    *,
    start: datetime | None,
    end: datetime | None,
    reason: str,
    description: str,
    recorder: str | None,
    editing: int | None = None,
) -> dict[str, Any]:
    """The validated fields, or ValidationError naming every problem (C6.2)."""
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    if start is None:
        errors.setdefault("start", []).append(_("请填写开始时间"))
    if end is None:
        errors.setdefault("end", []).append(_("请填写结束时间"))
    if start is not None and end is not None:
        if end <= start:
            errors.setdefault("end", []).append(_("结束时间必须晚于开始时间"))
        elif end - start > MAX_SPAN:
            errors.setdefault("end", []).append(_("一条记录最长 24 小时，请分开填写"))
    for field, value in (("start", start), ("end", end)):
        if value is not None and value > now + FUTURE_SLACK:
            errors.setdefault(field, []).append(_("不能填写未来的时间"))
    if reason not in UnrecordedNote.Reason.values:
        errors.setdefault("reason", []).append(_("请选择无法记录的原因"))
    description = (description or "").strip()
    if not description:
        errors.setdefault("description", []).append(_("请说明无法记录的具体情况"))
    elif len(description) > MAX_DESCRIPTION:
        errors.setdefault("description", []).append(_("情况说明过长"))
    rec = None
    serial = (recorder or "").strip().upper()
    if serial:
        rec = Recorder.objects.filter(serial=serial).first()
        held = Holding.objects.filter(recorder=rec, person=officer)
        if rec is None or not held.exists():
            errors.setdefault("recorder", []).append(_("这台记录仪不是你持有过的记录仪"))
        elif start is not None and end is not None and end > start:
            # The recorder the note is about must have been the officer's during the span.
            during = held.filter(started_at__lt=end).filter(
                Q(ended_at__isnull=True) | Q(ended_at__gt=start)
            )
            if not during.exists():
                errors.setdefault("recorder", []).append(
                    _("这段时间你没有持有这台记录仪，请填写当时持有的记录仪")
                )
    if start is not None and end is not None and end > start and "start" not in errors:
        # One account of a period (C6.2): a second note over the same time would
        # leave two reasons for it; the officer corrects the note already written.
        clash = (
            UnrecordedNote.objects.filter(officer=officer, start__lt=end, end__gt=start)
            .exclude(state=UnrecordedNote.State.RETURNED)
            .exclude(pk=editing)
            .order_by("start")
            .first()
        )
        if clash is not None:
            errors.setdefault("start", []).append(
                _("这段时间与你已填写的执勤日志（%(start)s 至 %(end)s）重叠，请修改那一条")
                % {
                    "start": timezone.localtime(clash.start).strftime("%m-%d %H:%M"),
                    "end": timezone.localtime(clash.end).strftime("%m-%d %H:%M"),
                }
            )
    if errors:
        raise ValidationError(errors)
    return {
        "start": start,
        "end": end,
        "reason": reason,
        "description": description,
        "recorder": rec,
    }


def create_note(
    *,
    actor: Any,
    start: datetime | None,
    end: datetime | None,
    reason: str,
    description: str,
    recorder: str | None = None,
) -> UnrecordedNote:
    """The officer (``actor``) notes a period they could not record (C6.2)."""
    if not actor.unit_id:
        raise PermissionDenied(_("你没有所属单位，无法填写执勤日志"))
    fields = _clean(
        actor, start=start, end=end, reason=reason, description=description, recorder=recorder
    )
    with transaction.atomic():
        note = UnrecordedNote.objects.create(officer=actor, unit_id=actor.unit_id, **fields)
        _audit("create", actor=actor, note=note)
    return note


def update_note(
    note: UnrecordedNote,
    *,
    actor: Any,
    start: datetime | None,
    end: datetime | None,
    reason: str,
    description: str,
    recorder: str | None = None,
) -> UnrecordedNote:
    """The officer corrects a note not yet confirmed; it goes back to the leader."""
    fields = _clean(
        actor,
        start=start,
        end=end,
        reason=reason,
        description=description,
        recorder=recorder,
        editing=note.pk,
    )
    with transaction.atomic():
        note = UnrecordedNote.objects.select_for_update().get(pk=note.pk)
        if not may_edit(actor, note):
            raise PermissionDenied(_("只有本人可以修改尚未确认的执勤日志"))
        resubmitted = note.state == UnrecordedNote.State.RETURNED
        for key, value in fields.items():
            setattr(note, key, value)
        note.state = UnrecordedNote.State.PENDING
        note.save()
        _audit("update", actor=actor, note=note, resubmitted=resubmitted)
    return note


def _for_decision(note: UnrecordedNote, actor: Any, refusal: str) -> UnrecordedNote:
    """The note locked for a leader's decision; who may decide is checked first,
    before any input, so a person without the right always gets 403."""
    note = UnrecordedNote.objects.select_for_update().select_related("unit").get(pk=note.pk)
    if not may_decide(actor, note):
        raise PermissionDenied(refusal)
    return note


def _leader_text(text: str, *, required: str = "") -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationError({"note": [required]})
    if len(text) > MAX_NOTE:
        raise ValidationError({"note": [_("意见过长")]})
    return text


def confirm_note(note: UnrecordedNote, *, actor: Any, leader_note: str = "") -> UnrecordedNote:
    """C6.2: the covering leader acknowledges the report."""
    with transaction.atomic():
        note = _for_decision(
            note,
            actor,
            _("只有管辖该队员单位的中队长或大队长可以确认待确认的执勤日志，本人不能确认"),
        )
        leader_note = _leader_text(leader_note)
        note.state = UnrecordedNote.State.CONFIRMED
        note.confirmed_by = actor
        note.confirmed_at = timezone.now()
        note.leader_note = leader_note
        note.save()
        _audit("confirm", actor=actor, note=note, leader_note=leader_note)
    return note


def return_note(note: UnrecordedNote, *, actor: Any, reason: str) -> UnrecordedNote:
    """The leader sends the note back to the officer for correction (reason required)."""
    with transaction.atomic():
        note = _for_decision(
            note,
            actor,
            _("只有管辖该队员单位的中队长或大队长可以退回待确认的执勤日志，本人不能退回"),
        )
        reason = _leader_text(reason, required=_("退回时必须填写退回理由"))
        note.state = UnrecordedNote.State.RETURNED
        note.returned_by = actor
        note.returned_at = timezone.now()
        note.return_reason = reason
        note.save()
        _audit("return", actor=actor, note=note, return_reason=reason)
    return note
