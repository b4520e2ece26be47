"""Equipment gaps: frontline officers without a recorder (C1.1); squads and
independently housed brigades without a workstation (C1.2)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jilu.devices import actions, queries

pytestmark = pytest.mark.django_db

GAPS = reverse("devices:gaps")


def test_officer_without_recorder_appears_until_issued_one(people, make_recorder, as_user):
    """C1.1: every frontline officer is issued one recorder."""
    client = as_user("squad_leader")
    response = client.get(GAPS)
    names = {p.name for g in response.context["groups"] for p in g["people"]}
    assert {"王五", "李四", "何中队"} <= names
    assert "韩一" not in names  # squad3: outside the squad leader's scope
    assert response.context["without_count"] == 3
    body = response.content.decode()
    assert "中华中队" in body and "需要登记新的记录仪" in body

    recorder = make_recorder("A000001")
    response = client.get(GAPS)
    assert response.context["groups"][0]["idle"] == 1
    assert "去配发" in response.content.decode()

    actions.issue_recorder(actor="system:test", recorder=recorder, person=people["officer"])
    names = {p.name for g in client.get(GAPS).context["groups"] for p in g["people"]}
    assert "王五" not in names and "李四" in names


def test_officer_with_a_lost_recorder_counts_as_without(people, make_recorder, as_user):
    """C1.1: only a recorder in service counts."""
    client = as_user("squad_leader")
    recorder = make_recorder()
    actions.issue_recorder(actor="system:test", recorder=recorder, person=people["officer"])
    assert people["officer"] not in queries.officers_without_recorder(people["admin"])
    actions.record_device_event(actor="system:test", recorder=recorder, kind="loss", note="遗失")
    assert people["officer"] in queries.officers_without_recorder(people["admin"])
    page = client.get(GAPS).content.decode()
    assert f"持有的 {recorder.serial} 遗失" in page


def test_units_without_workstation(tree, as_user, make_station):
    """C1.2: squads and independently housed brigades need one; other brigades do not."""
    client = as_user("admin")
    missing = {u.code for u in client.get(GAPS).context["missing"]}
    assert tree["squad1"].code in missing
    assert tree["squad2"].code in missing
    assert tree["squad3"].code in missing
    assert tree["brigade2"].code in missing  # independently housed
    assert tree["brigade"].code not in missing  # not independently housed
    assert tree["district"].code not in missing and tree["city"].code not in missing
    body = client.get(GAPS).content.decode()
    assert "独立驻点大队" in body
    assert f"?unit={tree['squad1'].code}" in body  # link to register one there

    station, _ = make_station(unit="squad1")
    missing = {u.code for u in client.get(GAPS).context["missing"]}
    assert tree["squad1"].code not in missing

    actions.revoke_workstation(actor="system:test", station=station)
    response = client.get(GAPS)
    assert tree["squad1"].code in {u.code for u in response.context["missing"]}
    assert "台工作站的令牌已吊销" in response.content.decode()


def test_gaps_are_scoped_to_the_leaders_units(tree, as_user):
    leader = as_user("brigade_leader").get(GAPS)
    codes = {u.code for u in leader.context["missing"]}
    assert codes == {tree["squad1"].code, tree["squad2"].code}
    assert leader.context["needing_count"] == 2
    assert "登记工作站</a>" not in leader.content.decode()  # leaders cannot register them
    inspector = as_user("inspector").get(GAPS)
    assert {tree["squad3"].code, tree["brigade2"].code} <= {
        u.code for u in inspector.context["missing"]
    }
