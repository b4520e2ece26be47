"""Case order of activities, record-list numbers and standard names (C5.3, A2 rule 4).

Within a case the standard names of its recordings and their record-list
numbers agree; every change that touches them renames the whole scope here
(see ``jilu.casework.actions``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import translation
from django.utils.translation import gettext

from jilu.audit.chain import record
from jilu.casework import naming
from jilu.casework.models import Activity, Annotation, Case


def _next_case_order(case: Case) -> int:
    top = case.activities.aggregate(m=Max("case_order"))["m"]
    return (top or 0) + 1


# --- standard names (C5.3) and record-list numbers (A2) -------------------------


@translation.override("zh-hans")  # printed documents stay Chinese (A1, A2, C5.3, C5.5)
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


@transaction.atomic
def reorder_record_list(*, actor: Any, case: Case, annotation_ids: Sequence[int]) -> Case:
    """Number the case's recordings in the given order (序号, A2) and rename them to agree."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.editable:
        raise ValidationError(
            gettext("案件 %(number)s 已移送或结案，清单顺序不能再调整") % {"number": case.number}
        )
    current = list(Annotation.objects.filter(case=case).values_list("pk", flat=True))
    if sorted(current) != sorted(annotation_ids):
        raise ValidationError(gettext("顺序须列出本案件清单的全部声像记录，每项一次"))
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
