"""Cases: create, change, status and their activities, audited (C5.5, C5.6).

See ``jilu.casework.actions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext

from jilu.audit.chain import record
from jilu.casework.actions_common import _person, _plain
from jilu.casework.actions_numbering import _next_case_order, _rename_scope
from jilu.casework.models import (
    CASE_HANDLER_ROLES,
    Activity,
    Annotation,
    Case,
    Category,
    CloseReason,
    Party,
    Power,
    RetentionClass,
)
from jilu.evidence.hooks import keep_until_changed
from jilu.org.models import Person, Unit

# The bureau's retention schedule: 执法类别 → 保管期限 of the case file (C5.6).
# Overridden by settings.CASEWORK_RETENTION_SCHEDULE.
DEFAULT_RETENTION_SCHEDULE = {
    Category.LICENSING: RetentionClass.Y30,
    Category.PENALTY: RetentionClass.Y30,
    Category.COERCION: RetentionClass.Y30,
    Category.INSPECTION: RetentionClass.Y10,
    Category.EXPROPRIATION: RetentionClass.PERMANENT,
    Category.OTHER: RetentionClass.Y10,
}

# A case moves forward along this path; a reviewer may send it back to open.
# Closing an open case skips legal review (C5.5): allowed only as a case that
# did not end in a decision (不予处罚, 撤销立案 …), with the reason written down
# (see ``set_case_status``), never as if it were finished.
CASE_TRANSITIONS = {
    Case.Status.OPEN: {Case.Status.TRANSFERRED, Case.Status.CLOSED},
    Case.Status.TRANSFERRED: {Case.Status.REVIEWED, Case.Status.OPEN},
    Case.Status.REVIEWED: {Case.Status.CLOSED, Case.Status.OPEN},
    Case.Status.CLOSED: set(),
}

# C5.5: a case reaches legal only by handing over a package, and comes back
# only by the reviewer's decision (jilu.transfer.actions); by hand a handler may
# only close a case that is open or reviewed.
MANUAL_STATUSES = frozenset({Case.Status.CLOSED})


def retention_for(category: str) -> str:
    schedule = getattr(settings, "CASEWORK_RETENTION_SCHEDULE", None) or DEFAULT_RETENTION_SCHEDULE
    value = schedule.get(category) or schedule.get(str(category))
    if value not in RetentionClass.values:
        raise ValidationError(
            gettext("保管期限表未规定执法类别“%(category)s”的保管期限")
            % {"category": Category(category).label}
        )
    return value


def _activity_recordings(activity: Activity) -> list[int]:
    return list(activity.annotations.values_list("recording_id", flat=True))


def _case_recordings(case: Case) -> list[int]:
    return list(
        Annotation.objects.filter(Q(case=case) | Q(activity__case=case)).values_list(
            "recording_id", flat=True
        )
    )


# --- cases ------------------------------------------------------------------------


def _check_handler(handler: Person | None) -> None:
    """Only a person who handles cases may be named 承办人 (CASE_HANDLER_ROLES)."""
    if handler is None:
        return
    if not handler.is_active or not handler.roles.intersection(CASE_HANDLER_ROLES):
        raise ValidationError(
            {
                "handler": gettext("%(name)s 不是案件承办人、中队长或大队长，不能担任承办人")
                % {"name": handler.name}
            }
        )


@transaction.atomic
def create_case(
    *,
    actor: Any,
    number: str,
    category: str,
    unit: Unit,
    handler: Person | None = None,
    retention: str | None = None,
    power: Power | None = None,
    matter_text: str = "",
    party: Party | None = None,
    title: str = "",
) -> Case:
    number = (number or "").strip()
    if not number:
        raise ValidationError({"number": gettext("请填写案件编号")})
    if Case.objects.filter(number=number).exists():
        raise ValidationError(
            {"number": gettext("案件编号 %(number)s 已存在") % {"number": number}}
        )
    _check_handler(handler)
    case = Case(
        number=number,
        category=category,
        unit=unit,
        handler=handler,
        retention=retention or retention_for(category),
        power=power,
        matter_text=(matter_text or "").strip(),
        party=party,
        title=(title or "").strip(),
        created_by=_person(actor),
    )
    case.full_clean()
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        raise ValidationError(
            {"number": gettext("案件编号 %(number)s 已存在") % {"number": number}}
        ) from None
    record(
        "casework.case.create",
        actor=actor,
        obj=case,
        details={
            "number": number,
            "category": category,
            "unit": unit.code,
            "retention": case.retention,
            "handler": handler.pk if handler else None,
        },
    )
    return case


@transaction.atomic
def update_case(*, actor: Any, case: Case, **changes: Any) -> Case:
    allowed = {"title", "category", "power", "matter_text", "party", "handler", "retention"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown case fields: {sorted(unknown)}")
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.editable:
        raise ValidationError(
            gettext("案件 %(number)s 已移送或结案，不能再修改") % {"number": case.number}
        )
    if "handler" in changes and getattr(changes["handler"], "pk", None) != case.handler_id:
        _check_handler(changes["handler"])
    before = {k: _plain(getattr(case, k)) for k in changes}
    for k, v in changes.items():
        setattr(case, k, v)
    case.full_clean()
    case.save()
    diff = {k: [before[k], _plain(getattr(case, k))] for k in changes}
    renamed = _rename_scope(case=case) if "party" in changes else []
    record(
        "casework.case.update", actor=actor, obj=case, details={"changes": diff, "renamed": renamed}
    )
    return case


# C5.5: the reasons a case may close without legal review.
CLOSE_WITHOUT_REVIEW_REASONS = frozenset(CloseReason.values) - {CloseReason.REVIEWED}


@transaction.atomic
def set_case_status(
    *, actor: Any, case: Case, status: str, note: str = "", reason: str = ""
) -> Case:
    """Move the case along ``CASE_TRANSITIONS``.

    C5.4/C5.5: a case is finished only after its record list has gone to legal
    review. Closing a case that is still open (never reviewed) needs one of
    ``CLOSE_WITHOUT_REVIEW_REASONS`` and a written explanation; both are kept
    on the case and in the audit log.
    """
    from django.utils import timezone

    case = Case.objects.select_for_update().get(pk=case.pk)
    if status not in CASE_TRANSITIONS[case.status]:
        raise ValidationError(
            gettext("案件状态不能从“%(old)s”改为“%(new)s”")
            % {"old": case.get_status_display(), "new": Case.Status(status).label}
        )
    note = (note or "").strip()
    old = case.status
    fields = ["status", "updated_at"]
    details: dict[str, Any] = {"from": old, "to": status, "note": note}
    if status == Case.Status.CLOSED:
        if old == Case.Status.REVIEWED:
            reason = CloseReason.REVIEWED
        else:
            errors = {}
            if reason not in CLOSE_WITHOUT_REVIEW_REASONS:
                errors["reason"] = gettext(
                    "案件未经法制审核（C5.5），不能作为办结结案；如不予处罚、撤销立案等，"
                    "请选择结案原因"
                )
            if not note:
                errors["note"] = gettext("未经法制审核结案，请写明理由")
            if errors:
                raise ValidationError(errors)
            details["without_review"] = True
            details["recordings"] = Annotation.objects.filter(case=case).count()
        case.close_reason = reason
        case.close_note = note
        case.closed_at = timezone.now()
        details["reason"] = str(reason)
        fields += ["close_reason", "close_note", "closed_at"]
    case.status = status
    case.save(update_fields=fields)
    record("casework.case.status", actor=actor, obj=case, details=details)
    # C5.6: evidence is kept as long as the case file, counted from closing.
    keep_until_changed(_case_recordings(case))
    return case


@transaction.atomic
def add_activity_to_case(*, actor: Any, case: Case, activity: Activity) -> Activity:
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.editable:
        raise ValidationError(
            gettext("案件 %(number)s 已移送或结案，不能再加入活动") % {"number": case.number}
        )
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.case_id == case.pk:
        return activity
    if activity.case_id is not None:
        raise ValidationError(
            gettext("该活动已属于案件 %(number)s，请先从该案件移出")
            % {"number": activity.case.number}
        )
    activity.case = case
    activity.case_order = _next_case_order(case)
    activity.save(update_fields=["case", "case_order"])
    Annotation.objects.filter(activity=activity).update(case=case, list_no=None)
    renamed = _rename_scope(case=case)
    record(
        "casework.case.add_activity",
        actor=actor,
        obj=case,
        details={"activity": activity.pk, "order": activity.case_order, "renamed": renamed},
    )
    keep_until_changed(_activity_recordings(activity))  # C5.6
    return activity


@transaction.atomic
def remove_activity_from_case(*, actor: Any, activity: Activity) -> Activity:
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    case = activity.case
    if case is None:
        return activity
    if not case.editable:
        raise ValidationError(
            gettext("案件 %(number)s 已移送或结案，不能移出活动") % {"number": case.number}
        )
    activity.case = None
    activity.case_order = None
    activity.save(update_fields=["case", "case_order"])
    Annotation.objects.filter(activity=activity).update(case=None, list_no=None)
    renamed = _rename_scope(case=case) + _rename_scope(case=None, activity=activity)
    record(
        "casework.case.remove_activity",
        actor=actor,
        obj=case,
        details={"activity": activity.pk, "renamed": renamed},
    )
    keep_until_changed(_activity_recordings(activity))  # C5.6
    return activity


@transaction.atomic
def reorder_case_activities(*, actor: Any, case: Case, activity_ids: Sequence[int]) -> Case:
    """Put the case's activities in the given order; the record list follows
    unless it was ordered by hand (A2 rule 4)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.editable:
        raise ValidationError(
            gettext("案件 %(number)s 已移送或结案，不能调整顺序") % {"number": case.number}
        )
    current = list(case.activities.values_list("pk", flat=True))
    if sorted(current) != sorted(activity_ids):
        raise ValidationError(gettext("顺序须列出本案件的全部活动，每项一次"))
    case.activities.update(case_order=None)
    for i, pk in enumerate(activity_ids, start=1):
        Activity.objects.filter(pk=pk).update(case_order=i)
    renamed = _rename_scope(case=case)
    record(
        "casework.case.reorder_activities",
        actor=actor,
        obj=case,
        details={"order": list(activity_ids), "renamed": renamed},
    )
    return case
