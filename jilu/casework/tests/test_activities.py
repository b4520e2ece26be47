"""Activities (S1–S8): two officers on site (C4.1), times, audit, access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from jilu.audit.models import AuditEntry
from jilu.casework import actions
from jilu.casework.models import Activity

from .conftest import T0


def test_on_site_kind_needs_two_officers(make_activity):
    # C4.1: the two officers state their names and certificate numbers on arrival.
    with pytest.raises(ValidationError, match="至少两名执法人员"):
        make_activity(officers=("officer",), kind="S1")
    assert not Activity.objects.exists()


def test_office_kind_may_have_one_officer(make_activity):
    act = make_activity(officers=("officer",), kind="S2")
    assert list(act.officers.all()) and not act.on_site


def test_end_before_start_is_refused(make_activity):
    with pytest.raises(ValidationError, match="结束时间早于开始时间"):
        make_activity(minutes=-5)


def test_actual_times_take_precedence(make_activity):
    act = make_activity(
        actual_start=T0 + timedelta(minutes=5), actual_end=T0 + timedelta(minutes=50)
    )
    assert act.window() == (T0 + timedelta(minutes=5), T0 + timedelta(minutes=50))


def test_create_and_update_are_audited(make_activity, people):
    act = make_activity(actor=people["officer"])
    actions.update_activity(actor=people["officer"], activity=act, place_name="新地点")
    entries = AuditEntry.objects.filter(action__startswith="casework.activity")
    assert [e.action for e in entries] == ["casework.activity.create", "casework.activity.update"]
    assert entries[1].details["changes"]["place_name"] == ["某某餐厅", "新地点"]


def test_updating_the_party_renames_the_recordings(make_activity, make_recording, people, tree):
    act = make_activity()
    ann = actions.annotate(
        actor=people["officer"], recording=make_recording(), activity=act, step="site_check"
    )
    other = actions.create_party(
        actor="system:test", unit=tree["squad1"], kind="person", name="张三"
    )
    actions.update_activity(actor=people["officer"], activity=act, party=other)
    ann.refresh_from_db()
    assert ann.standard_name == "思明区城管执法大队_张三_20261126_现场检查"


def test_officers_see_activities_they_took_part_in(make_activity, people):
    act = make_activity(officers=("officer", "officer_b"))
    assert act in Activity.objects.restrict(people["officer"], "view")
    assert act in Activity.objects.restrict(people["officer"], "change")
    assert act not in Activity.objects.restrict(people["officer_other"], "view")
    # Leaders of the unit subtree and inspectors read it.
    assert act in Activity.objects.restrict(people["brigade_leader"], "view")
    assert act in Activity.objects.restrict(people["inspector"], "view")
    assert act not in Activity.objects.restrict(people["inspector"], "change")
    assert act not in Activity.objects.restrict(people["squad_admin"], "view")


def test_id_numbers_are_checked(tree):
    with pytest.raises(ValidationError, match="统一社会信用代码"):
        actions.create_party(
            actor="system:test",
            unit=tree["squad1"],
            kind="organisation",
            name="某公司",
            id_number="123",
        )
    with pytest.raises(ValidationError, match="公民身份号码"):
        actions.create_party(
            actor="system:test", unit=tree["squad1"], kind="person", name="某人", id_number="12345"
        )
    p = actions.create_party(
        actor="system:test",
        unit=tree["squad1"],
        kind="person",
        name="某人",
        id_number="35020319900101123x",
    )
    assert p.id_number.endswith("X")
