"""Changing the order of a case's AV record list (Attachment 2, rule 4; C5.4).

The recordings of a case are numbered in the order the case was handled, and
each standard name (C5.3) starts with its list number (``01_…``), so the
list's 序号 and the file names always agree. Moving a row renumbers every row
and renames every file in one transaction, with the audit rows in the same
transaction. The recordings themselves never change (C6.5.3): only their
annotations do.

The renumbering itself is ``casework.actions.reorder_record_list`` (the one
place names and numbers are computed, which also marks the list as ordered by
hand so later annotations are appended, not re-sorted). This module adds what
the record-list page needs around it: refusing an edit made on a stale view
of the list, and moving one row to a position.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from jilu.audit.chain import record
from jilu.casework import actions
from jilu.casework.models import Annotation, Case


def current_order(case: Case) -> list[int]:
    """Annotation ids in list order, as the record list shows them."""
    return list(
        Annotation.objects.filter(case=case)
        .order_by("list_no", "recording__started_at", "pk")
        .values_list("pk", flat=True)
    )


def reorder(*, actor: Any, case: Case, order: list[int], expected: list[int] | None = None) -> Case:
    """Number the case's recordings 1…n in the order of ``order`` (annotation ids).

    ``order`` names every annotation of the case exactly once. ``expected`` is
    the order the person saw: if the list changed since (another handler
    moved a row, an officer annotated a new recording), the change is refused
    rather than applied over it. Refused once the case was transferred (C5.5).
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        before = {
            a.pk: (a.list_no, a.standard_name)
            for a in Annotation.objects.select_for_update().filter(case=case)
        }
        current = current_order(case)
        if expected is not None and list(expected) != current:
            raise ValidationError("清单已被他人修改，请刷新页面后重新调整顺序")
        order = [int(pk) for pk in order]
        if len(order) != len(set(order)) or set(order) != set(before):
            raise ValidationError("新顺序必须且只能包含本案清单中的每一条记录各一次，请刷新后重试")
        if order == current:
            return case
        case = actions.reorder_record_list(actor=actor, case=case, annotation_ids=order)
        after = {a.pk: (a.list_no, a.standard_name) for a in Annotation.objects.filter(case=case)}
        # Every number agrees with its name's prefix (A2 rule 4); anything
        # else is a bug that must not reach the case file.
        for no, name in after.values():
            if no is None or name.split("_", 1)[0].lstrip("0") != str(no):
                raise ValidationError(f"清单序号与文件名不一致（{name}），顺序未修改")
        record(
            "casework.recordlist.move",
            actor=actor,
            obj=case,
            details={
                "case": case.number,
                "order": order,
                "changed": [
                    {
                        "annotation": pk,
                        "from": {"no": before[pk][0], "name": before[pk][1]},
                        "to": {"no": after[pk][0], "name": after[pk][1]},
                    }
                    for pk in order
                    if before[pk] != after[pk]
                ],
            },
        )
        return case


def move(*, actor: Any, case: Case, annotation_id: int, to: int, expected: list[int]) -> Case:
    """Move one row to position ``to`` (1-based), the others keeping their order."""
    if annotation_id not in expected:
        raise ValidationError("这条记录不在本案清单中，请刷新后重试")
    order = [pk for pk in expected if pk != annotation_id]
    to = max(1, min(int(to), len(expected)))
    order.insert(to - 1, annotation_id)
    return reorder(actor=actor, case=case, order=order, expected=expected)
