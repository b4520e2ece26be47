"""Cases: number, retention class from the schedule (C5.6), status, activities in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from jilu.casework import actions, queries
from jilu.casework.models import Case

from .conftest import T0


def _case(tree, number="思城执罚〔2026〕7号", category="penalty", **kw):
    return actions.create_case(
        actor="system:test", number=number, category=category, unit=tree["brigade"], **kw
    )


def test_retention_comes_from_the_schedule(tree, settings):
    assert _case(tree).retention == "30y"
    assert _case(tree, number="B", category="inspection").retention == "10y"
    settings.CASEWORK_RETENTION_SCHEDULE = {"penalty": "permanent"}
    assert _case(tree, number="C").retention == "permanent"
    with pytest.raises(ValidationError, match="保管期限表"):
        _case(tree, number="D", category="inspection")


def test_case_number_is_unique(tree):
    _case(tree)
    with pytest.raises(ValidationError, match="已存在"):
        _case(tree)


def test_status_transitions(tree):
    case = _case(tree)
    actions.set_case_status(actor="system:test", case=case, status="transferred")
    actions.set_case_status(actor="system:test", case=case, status="reviewed")
    actions.set_case_status(actor="system:test", case=case, status="closed")
    with pytest.raises(ValidationError, match="不能从"):
        actions.set_case_status(actor="system:test", case=case, status="open")


def test_activities_in_order(tree, make_activity, people):
    case = _case(tree)
    a = make_activity()
    b = make_activity(start=T0 + timedelta(hours=1))
    actions.add_activity_to_case(actor="system:test", case=case, activity=a)
    actions.add_activity_to_case(actor="system:test", case=case, activity=b)
    assert list(queries.case_activities(case)) == [a, b]
    actions.reorder_case_activities(actor="system:test", case=case, activity_ids=[b.pk, a.pk])
    assert list(queries.case_activities(case)) == [b, a]
    with pytest.raises(ValidationError, match="全部活动"):
        actions.reorder_case_activities(actor="system:test", case=case, activity_ids=[b.pk])


def test_removing_an_activity_renumbers_the_list(tree, make_activity, make_recording, people):
    case = _case(tree)
    a = make_activity(case=case)
    b = make_activity(case=case, start=T0 + timedelta(hours=1))
    actions.annotate(
        actor=people["officer"], recording=make_recording(), activity=a, step="site_check"
    )
    rb = make_recording(start=T0 + timedelta(hours=1))
    actions.annotate(actor=people["officer"], recording=rb, activity=b, step="service")
    actions.remove_activity_from_case(actor="system:test", activity=a)
    rows = queries.case_recordings(case)
    assert [(r.list_no, r.recording) for r in rows] == [(1, rb)]
    assert rows[0].standard_name.startswith("01_")


def test_case_access(tree, people, make_activity):
    case = _case(tree)
    assert case in Case.objects.restrict(people["case_handler"], "change")
    assert case in Case.objects.restrict(people["legal_reviewer"], "view")
    assert case not in Case.objects.restrict(people["officer"], "view")
    make_activity(case=case)
    # Officers see the cases of activities they took part in, but do not edit them.
    assert case in Case.objects.restrict(people["officer"], "view")
    assert case not in Case.objects.restrict(people["officer"], "change")
    assert case not in Case.objects.restrict(people["squad_admin"], "view")


def test_moving_a_recording_to_another_case_renumbers_both(
    tree, make_activity, make_recording, people
):
    # A2 rule 4: numbers and names agree in both lists after a re-annotation.
    first, second = _case(tree), _case(tree, number="思城执罚〔2026〕8号")
    a = make_activity(case=first)
    b = make_activity(case=second, start=T0 + timedelta(hours=2))
    r1, r2 = make_recording(start=T0), make_recording(start=T0 + timedelta(minutes=30))
    actions.annotate_run(
        actor=people["officer"], recordings=[r1, r2], activity=a, step="site_check"
    )
    actions.annotate(actor=people["officer"], recording=r1, activity=b, step="inquiry")
    left = queries.case_recordings(first)
    moved = queries.case_recordings(second)
    assert [(r.list_no, r.recording) for r in left] == [(1, r2)]
    assert left[0].standard_name.startswith("01_") and not left[0].standard_name.endswith("-2")
    assert [(r.list_no, r.recording) for r in moved] == [(1, r1)]
    assert moved[0].standard_name.startswith("01_") and moved[0].step == "询问笔录"
