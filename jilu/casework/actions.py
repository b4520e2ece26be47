"""Every state change of activities, cases and annotation: atomic, audited.

Access (who may call which action on which object) is decided by the caller
through ``restrict()``; the rules here are those of the work itself: two
officers on site (C4.1), annotation ties a recording to an activity without
touching the recording (C5.2, C6.5.3), standard names and record-list numbers
agree within a case (C5.3, A2 rule 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from jilu.audit.chain import record
from jilu.casework import naming
from jilu.casework.models import (
    MIN_ON_SITE_OFFICERS,
    ON_SITE_KINDS,
    Activity,
    ActivityKind,
    Annotation,
    Case,
    Category,
    Party,
    Power,
    RecordedStep,
    RetentionClass,
)
from jilu.evidence.models import Recording
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


def _person(actor: Any) -> Person | None:
    return actor if isinstance(actor, Person) else None


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def retention_for(category: str) -> str:
    schedule = getattr(settings, "CASEWORK_RETENTION_SCHEDULE", None) or DEFAULT_RETENTION_SCHEDULE
    value = schedule.get(category) or schedule.get(str(category))
    if value not in RetentionClass.values:
        raise ValidationError(f"保管期限表未规定执法类别“{Category(category).label}”的保管期限")
    return value


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
        raise ValidationError({"name": "请填写相对人的名称或姓名"})
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
                {"id_number": "统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）"}
            )
    elif len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        raise ValidationError({"id_number": "公民身份号码应为18位，最后一位可以是X"})


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
        errors["officers"] = "请选择参加活动的执法人员"
    elif activity.kind in ON_SITE_KINDS and len(set(officers)) < MIN_ON_SITE_OFFICERS:
        # C4.1: the two officers state their names and certificate numbers on arrival.
        errors["officers"] = (
            f"“{ActivityKind(activity.kind).label}”须由至少两名执法人员进行（C4.1），"
            "请再选择一名执法人员"
        )
    if activity.planned_start is None and activity.actual_start is None:
        errors["planned_start"] = "请填写计划开始时间或实际开始时间"
    for start, end, field in (
        (activity.planned_start, activity.planned_end, "planned_end"),
        (activity.actual_start, activity.actual_end, "actual_end"),
    ):
        if start and end and end < start:
            errors[field] = "结束时间早于开始时间，请检查"
    if activity.actual_end and not activity.actual_start:
        errors["actual_start"] = "填写了实际结束时间，请同时填写实际开始时间"
    if activity.power_id and not activity.power.active:
        errors["power"] = f"执法事项“{activity.power.name}”已停用，请选择在用事项"
    if activity.case_id and not activity.case.editable:
        errors["case"] = f"案件 {activity.case.number} 已移送或结案，不能再修改其活动"
    for person in officers:
        if not person.is_active:
            errors["officers"] = f"{person.name} 不在岗，不能作为执法人员"
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
        raise ValidationError(f"案件 {activity.case.number} 已移送或结案，不能再修改其活动")
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


# --- cases ------------------------------------------------------------------------


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
        raise ValidationError({"number": "请填写案件编号"})
    if Case.objects.filter(number=number).exists():
        raise ValidationError({"number": f"案件编号 {number} 已存在"})
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
        raise ValidationError({"number": f"案件编号 {number} 已存在"}) from None
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
        raise ValidationError(f"案件 {case.number} 已移送或结案，不能再修改")
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


@transaction.atomic
def set_case_status(*, actor: Any, case: Case, status: str, note: str = "") -> Case:
    case = Case.objects.select_for_update().get(pk=case.pk)
    if status not in CASE_TRANSITIONS[case.status]:
        raise ValidationError(
            f"案件状态不能从“{case.get_status_display()}”改为“{Case.Status(status).label}”"
        )
    old = case.status
    case.status = status
    case.save(update_fields=["status", "updated_at"])
    record(
        "casework.case.status",
        actor=actor,
        obj=case,
        details={"from": old, "to": status, "note": note.strip()},
    )
    return case


def _next_case_order(case: Case) -> int:
    top = case.activities.aggregate(m=Max("case_order"))["m"]
    return (top or 0) + 1


@transaction.atomic
def add_activity_to_case(*, actor: Any, case: Case, activity: Activity) -> Activity:
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.editable:
        raise ValidationError(f"案件 {case.number} 已移送或结案，不能再加入活动")
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.case_id == case.pk:
        return activity
    if activity.case_id is not None:
        raise ValidationError(f"该活动已属于案件 {activity.case.number}，请先从该案件移出")
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
    return activity


@transaction.atomic
def remove_activity_from_case(*, actor: Any, activity: Activity) -> Activity:
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    case = activity.case
    if case is None:
        return activity
    if not case.editable:
        raise ValidationError(f"案件 {case.number} 已移送或结案，不能移出活动")
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
    return activity


@transaction.atomic
def reorder_case_activities(*, actor: Any, case: Case, activity_ids: Sequence[int]) -> Case:
    """Put the case's activities in the given order; the record list follows
    unless it was ordered by hand (A2 rule 4)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.editable:
        raise ValidationError(f"案件 {case.number} 已移送或结案，不能调整顺序")
    current = list(case.activities.values_list("pk", flat=True))
    if sorted(current) != sorted(activity_ids):
        raise ValidationError("顺序须列出本案件的全部活动，每项一次")
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


@transaction.atomic
def reorder_record_list(*, actor: Any, case: Case, annotation_ids: Sequence[int]) -> Case:
    """Number the case's recordings in the given order (序号, A2) and rename them to agree."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.editable:
        raise ValidationError(f"案件 {case.number} 已移送或结案，清单顺序不能再调整")
    current = list(Annotation.objects.filter(case=case).values_list("pk", flat=True))
    if sorted(current) != sorted(annotation_ids):
        raise ValidationError("顺序须列出本案件清单的全部声像记录，每项一次")
    case.list_order_manual = True
    case.save(update_fields=["list_order_manual", "updated_at"])
    renamed = _rename_scope(case=case, order=list(annotation_ids))
    record(
        "casework.case.reorder_list",
        actor=actor,
        obj=case,
        details={"order": list(annotation_ids), "renamed": renamed},
    )
    return case


# --- annotation (C5.2) and standard names (C5.3) ----------------------------------


def _name_fields(annotation: Annotation) -> dict[str, Any]:
    activity = annotation.activity
    party = activity.party or (activity.case.party if activity.case_id else None)
    return {
        "unit": activity.unit.short_name or activity.unit.name,
        "party": party.name if party else (activity.place_name or naming.FALLBACK_PARTY),
        "date": activity.span_start,
        "step": annotation.get_step_display(),
        "kind": activity.get_kind_display(),
        "matter": activity.matter,
        "case": activity.case.number if activity.case_id else "",
        "place": activity.place_name or activity.address,
    }


def _rename_scope(
    *, case: Case | None, activity: Activity | None = None, order: list[int] | None = None
) -> list[dict]:
    """Renumber and rename every annotation of a case (or of one activity outside
    any case) so that names are unique and list numbers agree with them."""
    if case is not None:
        qs = Annotation.objects.filter(case=case)
    elif activity is not None:
        qs = Annotation.objects.filter(activity=activity, case__isnull=True)
    else:
        return []
    items = list(
        qs.select_related(
            "recording", "activity", "activity__unit", "activity__party", "activity__power"
        ).select_related("activity__case", "activity__case__party")
    )
    if not items:
        return []
    if order is not None:
        rank = {pk: i for i, pk in enumerate(order)}
        items.sort(key=lambda a: rank[a.pk])
    elif case is not None and case.list_order_manual:
        # Hand-ordered list: keep it, append newcomers in time order.
        items.sort(key=lambda a: (a.list_no is None, a.list_no or 0, a.recording.started_at, a.pk))
    else:
        items.sort(
            key=lambda a: (
                a.activity.case_order or 0,
                a.activity.span_start,
                a.activity_id,
                a.recording.started_at,
                a.recording_id,
            )
        )
    old = {a.pk: (a.list_no, a.standard_name) for a in items}
    # Clear first so that swapping two names never trips the unique constraints.
    for a in items:
        Annotation.objects.filter(pk=a.pk).update(list_no=None, standard_name=f"~a{a.pk}")
    taken: list[str] = []
    total = len(items)
    changes = []
    for i, a in enumerate(items, start=1):
        base = naming.base_name(**_name_fields(a))
        list_no = i if case is not None else None
        name = naming.standard_name(base, list_no=list_no, total=total, taken=taken)
        taken.append(name)
        Annotation.objects.filter(pk=a.pk).update(list_no=list_no, standard_name=name)
        a.list_no, a.standard_name = list_no, name
        if old[a.pk] != (list_no, name):
            changes.append({"annotation": a.pk, "list_no": list_no, "name": name})
    return changes


def _check_annotation(recording: Recording, activity: Activity, step: str) -> None:
    if step not in RecordedStep.values:
        raise ValidationError({"step": "请选择记录事项"})
    if activity.case_id and not activity.case.editable:
        raise ValidationError(f"案件 {activity.case.number} 已移送或结案，不能再关联声像记录")
    existing = getattr(recording, "annotation", None) if _annotated(recording) else None
    if existing is not None and existing.case_id and not existing.case.editable:
        raise ValidationError(
            f"该声像记录已列入案件 {existing.case.number} 的清单，案件已移送或结案，不能改标"
        )


def _annotated(recording: Recording) -> bool:
    return Annotation.objects.filter(recording_id=recording.pk).exists()


@transaction.atomic
def annotate(
    *,
    actor: Any,
    recording: Recording,
    activity: Activity,
    step: str,
    note: str = "",
    at: datetime | None = None,
) -> Annotation:
    """Tie a recording to the activity it shows with its recorded step (C5.2);
    re-annotating replaces the link and is audited with what it was before.
    The recording itself is never changed (C6.5.3)."""
    return _annotate_many(
        actor=actor, recordings=[recording], activity=activity, step=step, note=note, at=at
    )[0]


@transaction.atomic
def annotate_run(
    *,
    actor: Any,
    recordings: Sequence[Recording],
    activity: Activity,
    step: str,
    note: str = "",
    at: datetime | None = None,
) -> list[Annotation]:
    """Bulk-link a run of segments to one activity with one step (one audit row each)."""
    if not recordings:
        raise ValidationError("请选择要关联的声像记录")
    return _annotate_many(
        actor=actor, recordings=recordings, activity=activity, step=step, note=note, at=at
    )


def _annotate_many(
    *,
    actor: Any,
    recordings: Sequence[Recording],
    activity: Activity,
    step: str,
    note: str,
    at: datetime | None,
) -> list[Annotation]:
    at = at or timezone.now()
    activity = Activity.objects.select_related("case", "unit").get(pk=activity.pk)
    touched_cases: dict[int | None, Case | None] = {}
    touched_activities: dict[int, Activity] = {activity.pk: activity}
    results = []
    before_rows = {}
    for recording in recordings:
        _check_annotation(recording, activity, step)
        ann = (
            Annotation.objects.select_related("activity", "case")
            .filter(recording_id=recording.pk)
            .first()
        )
        if ann is not None:
            before_rows[recording.pk] = {
                "activity": ann.activity_id,
                "step": ann.step,
                "standard_name": ann.standard_name,
                "list_no": ann.list_no,
            }
            if ann.case_id != activity.case_id:
                touched_cases[ann.case_id] = ann.case
            touched_activities[ann.activity_id] = ann.activity
            ann.activity = activity
            ann.case = activity.case
            ann.step = step
            ann.note = note.strip()
            ann.annotated_by = _person(actor)
            ann.annotated_at = at
            ann.list_no = None
            ann.standard_name = f"~r{recording.pk}"
            ann.save()
        else:
            ann = Annotation.objects.create(
                recording=recording,
                activity=activity,
                case=activity.case,
                step=step,
                note=note.strip(),
                standard_name=f"~r{recording.pk}",
                annotated_by=_person(actor),
                annotated_at=at,
                first_annotated_at=at,
            )
        results.append(ann)
    renamed = _rename_scope(case=activity.case, activity=activity)
    for case_id, case in touched_cases.items():
        if case_id is not None:
            renamed += _rename_scope(case=case)
    for pk, other in touched_activities.items():
        if pk != activity.pk and other.case_id is None:
            renamed += _rename_scope(case=None, activity=other)
    for ann in results:
        ann.refresh_from_db()
        before = before_rows.get(ann.recording_id)
        record(
            "casework.reannotate" if before else "casework.annotate",
            actor=actor,
            obj=ann.recording,
            details={
                "annotation": ann.pk,
                "activity": activity.pk,
                "case": activity.case_id,
                "step": step,
                "standard_name": ann.standard_name,
                "list_no": ann.list_no,
                "before": before,
                "sha256": ann.recording.sha256,
                "bulk": len(results) > 1,
            },
        )
    if renamed:
        record(
            "casework.rename",
            actor=actor,
            obj=activity,
            details={"renamed": renamed},
        )
    return results


@transaction.atomic
def create_activity_for_recording(
    *,
    actor: Any,
    recording: Recording,
    step: str,
    officers: Iterable[Person],
    run: Sequence[Recording] | None = None,
    **fields: Any,
) -> tuple[Activity, list[Annotation]]:
    """Write down the activity on the spot from the recording(s) and annotate them."""
    from jilu.casework.queries import recording_end

    recs = list(run or [recording])
    starts = [r.started_at for r in recs]
    ends = [e for e in (recording_end(r) for r in recs) if e is not None]
    fields.setdefault("actual_start", min(starts))
    fields.setdefault("actual_end", max(ends) if ends else None)
    if recording.officer_id:
        officers = [recording.officer, *officers]
    activity = create_activity(actor=actor, officers=officers, **fields)
    return activity, annotate_run(actor=actor, recordings=recs, activity=activity, step=step)
