"""Parties and activities: create and change, audited (C4.1).

See ``jilu.casework.actions``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from jilu.audit.chain import record
from jilu.casework.actions_common import _person, _plain
from jilu.casework.actions_numbering import _next_case_order, _rename_scope
from jilu.casework.models import MIN_ON_SITE_OFFICERS, ON_SITE_KINDS, Activity, ActivityKind, Party
from jilu.org.models import Person, Unit

ACTIVITY_FIELDS = (
    "kind",
    "category",
    "power",
    "matter_text",
    "party",
    "address",
    "place_name",
    "unit",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "present_person",
    "party_notified_on",
    "party_refused",
    "witness1_name",
    "witness1_unit",
    "witness2_name",
    "witness2_unit",
    "legal_basis",
    "decision_no",
    "inspection_items",
    "notes",
)


# --- parties and powers -------------------------------------------------------


@transaction.atomic
def create_party(
    *,
    actor: Any,
    unit: Unit,
    kind: str,
    name: str,
    id_number: str = "",
    representative: str = "",
    phone: str = "",
    address: str = "",
) -> Party:
    party = Party(
        unit=unit,
        kind=kind,
        name=(name or "").strip(),
        id_number=(id_number or "").strip().upper(),
        representative=(representative or "").strip(),
        phone=(phone or "").strip(),
        address=(address or "").strip(),
        created_by=_person(actor),
    )
    if not party.name:
        raise ValidationError({"name": gettext("请填写相对人的名称或姓名")})
    _check_id_number(party)
    party.full_clean()
    party.save()
    record(
        "casework.party.create",
        actor=actor,
        obj=party,
        details={"name": party.name, "kind": party.kind, "unit": unit.code},
    )
    return party


def _check_id_number(party: Party) -> None:
    value = party.id_number
    if not value:
        return
    if party.kind == Party.Kind.ORGANISATION:
        # GB 32100-2015: 18 characters, digits and upper-case letters except I O Z S V.
        if len(value) != 18 or any(c not in "0123456789ABCDEFGHJKLMNPQRTUWXY" for c in value):
            raise ValidationError(
                {
                    "id_number": gettext(
                        "统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）"
                    )
                }
            )
    elif len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        raise ValidationError({"id_number": gettext("公民身份号码应为18位，最后一位可以是X")})


def find_or_create_party(*, actor: Any, unit: Unit, kind: str, name: str, **extra: Any) -> Party:
    name = (name or "").strip()
    existing = Party.objects.filter(unit=unit, name=name, kind=kind).first()
    if existing is not None:
        return existing
    return create_party(actor=actor, unit=unit, kind=kind, name=name, **extra)


# --- activities -----------------------------------------------------------------


def _check_activity(activity: Activity, officers: Sequence[Person]) -> None:
    errors: dict[str, str] = {}
    if not officers:
        errors["officers"] = gettext("请选择参加活动的执法人员")
    elif activity.kind in ON_SITE_KINDS and len(set(officers)) < MIN_ON_SITE_OFFICERS:
        # C4.1: the two officers state their names and certificate numbers on arrival.
        errors["officers"] = gettext(
            "“%(kind)s”须由至少两名执法人员进行（C4.1），请再选择一名执法人员"
        ) % {"kind": ActivityKind(activity.kind).label}
    if activity.planned_start is None and activity.actual_start is None:
        errors["planned_start"] = gettext("请填写计划开始时间或实际开始时间")
    for start, end, field in (
        (activity.planned_start, activity.planned_end, "planned_end"),
        (activity.actual_start, activity.actual_end, "actual_end"),
    ):
        if start and end and end < start:
            errors[field] = gettext("结束时间早于开始时间，请检查")
    if activity.actual_end and not activity.actual_start:
        errors["actual_start"] = gettext("填写了实际结束时间，请同时填写实际开始时间")
    if activity.power_id and not activity.power.active:
        errors["power"] = gettext("执法事项“%(name)s”已停用，请选择在用事项") % {
            "name": activity.power.name
        }
    if activity.case_id and not activity.case.editable:
        errors["case"] = gettext("案件 %(number)s 已移送或结案，不能再修改其活动") % {
            "number": activity.case.number
        }
    for person in officers:
        if not person.is_active:
            errors["officers"] = gettext("%(name)s 不在岗，不能作为执法人员") % {
                "name": person.name
            }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_activity(*, actor: Any, officers: Iterable[Person], **fields: Any) -> Activity:
    """Write down an activity (S1–S8) with its officers."""
    unknown = set(fields) - set(ACTIVITY_FIELDS) - {"case"}
    if unknown:
        raise TypeError(f"unknown activity fields: {sorted(unknown)}")
    officers = list(dict.fromkeys(officers))
    activity = Activity(created_by=_person(actor), **fields)
    for name in ("matter_text", "address", "place_name", "notes"):
        setattr(activity, name, (getattr(activity, name) or "").strip())
    _check_activity(activity, officers)
    activity.save()
    activity.officers.set(officers)
    if activity.case_id:
        activity.case_order = _next_case_order(activity.case)
        activity.save(update_fields=["case_order"])
    record(
        "casework.activity.create",
        actor=actor,
        obj=activity,
        details={
            **{k: _plain(getattr(activity, k)) for k in ("kind", "category", "unit", "case")},
            "officers": [p.pk for p in officers],
            "start": activity.span_start.isoformat(),
        },
    )
    return activity


@transaction.atomic
def update_activity(
    *, actor: Any, activity: Activity, officers: Iterable[Person] | None = None, **changes: Any
) -> Activity:
    """Change an activity; the standard names of its recordings follow (C5.3)."""
    unknown = set(changes) - set(ACTIVITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown activity fields: {sorted(unknown)}")
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.case_id and not activity.case.editable:
        raise ValidationError(
            gettext("案件 %(number)s 已移送或结案，不能再修改其活动")
            % {"number": activity.case.number}
        )
    before = {k: _plain(getattr(activity, k)) for k in changes}
    old_officers = list(activity.officers.all())
    for k, v in changes.items():
        setattr(activity, k, v)
    new_officers = list(dict.fromkeys(officers)) if officers is not None else old_officers
    _check_activity(activity, new_officers)
    activity.save()
    if officers is not None:
        activity.officers.set(new_officers)
    after = {k: _plain(getattr(activity, k)) for k in changes}
    diff = {k: [before[k], after[k]] for k in changes if before[k] != after[k]}
    if officers is not None and {p.pk for p in old_officers} != {p.pk for p in new_officers}:
        diff["officers"] = [[p.pk for p in old_officers], [p.pk for p in new_officers]]
    renamed = _rename_scope(case=activity.case, activity=activity)
    record(
        "casework.activity.update",
        actor=actor,
        obj=activity,
        details={"changes": diff, "renamed": renamed},
    )
    return activity
