"""The duty log over the API (C6.2): the same notes, scope and decisions as its pages.

The officer notes a period they could not record; the leader covering their unit,
never the officer, confirms it or returns it with a reason; inspectors read all
(C6.4). Every change is the pages' action, audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from conftest import api_auth
from jilu.audit.models import AuditEntry
from jilu.devices import actions as device_actions
from jilu.dutylog.models import UnrecordedNote

pytestmark = pytest.mark.django_db

URL = "/api/v1/duty-log"


def period(hours_ago: int = 5, hours: int = 2) -> tuple[str, str]:
    end = timezone.now().replace(microsecond=0) - timedelta(hours=hours_ago)
    return (end - timedelta(hours=hours)).isoformat(), end.isoformat()


def body(**extra) -> dict:
    start, end = period()
    return {
        "start": start,
        "end": end,
        "reason": "weather",
        "description": "暴雨，记录仪进水风险，未开机",
        **extra,
    }


@pytest.fixture
def as_(client, people):
    tokens: dict[str, dict] = {}

    def headers(username: str) -> dict:
        if username not in tokens:
            tokens[username] = api_auth(client, username)
        return tokens[username]

    return headers


def post(client, url, data, headers):
    return client.post(url, data, content_type="application/json", **headers)


@pytest.fixture
def note(client, as_):
    response = post(client, URL, body(), as_("officer"))
    assert response.status_code == 201, response.content
    return response.json()


def test_officer_notes_a_period_and_reads_it_back(client, as_, people, note):
    assert note["state"] == "pending" and note["reason"] == "weather"
    assert note["officer"]["id"] == people["officer"].pk and note["unit_code"] == "350203000101"
    assert note["may_edit"] and not note["may_decide"]
    assert AuditEntry.objects.filter(action="dutylog.note.create", actor=people["officer"]).exists()
    mine = client.get(URL, **as_("officer")).json()
    assert [n["id"] for n in mine["items"]] == [note["id"]] and mine["count"] == 1
    assert client.get(f"{URL}/{note['id']}", **as_("officer")).json()["id"] == note["id"]


def test_scope_is_the_pages_scope(client, as_, note):
    """C6.4: officers their own; leaders their subtree; inspectors all; others nothing."""
    assert client.get(f"{URL}/{note['id']}", **as_("officer_b")).status_code == 404
    assert client.get(URL, {"tab": "mine"}, **as_("officer_b")).json()["count"] == 0
    assert client.get(f"{URL}/{note['id']}", **as_("officer_other")).status_code == 404
    leader = client.get(URL, {"tab": "confirm"}, **as_("squad_leader")).json()
    assert [n["id"] for n in leader["items"]] == [note["id"]]
    assert leader["items"][0]["may_decide"] and not leader["items"][0]["may_edit"]
    inspector = client.get(URL, {"tab": "all"}, **as_("inspector")).json()
    assert [n["id"] for n in inspector["items"]] == [note["id"]]
    assert not inspector["items"][0]["may_decide"]
    # The other district's administrator reads their own subtree only.
    assert client.get(URL, {"tab": "all"}, **as_("squad_admin")).json()["count"] == 0
    # Tabs the role does not have are refused, not silently changed.
    refused = client.get(URL, {"tab": "all"}, **as_("officer"))
    assert refused.status_code == 403 and "tab=mine" in refused.json()["detail"]
    assert client.get(URL, {"tab": "confirm"}, **as_("officer")).status_code == 403
    assert client.get(URL, {"tab": "everything"}, **as_("officer")).status_code == 422


def test_filters_by_state_and_day(client, as_, note):
    # The day is Beijing time's: the note's start may fall on another UTC date.
    day = timezone.localtime(datetime.fromisoformat(note["start"])).date().isoformat()
    assert client.get(URL, {"state": "pending", "day": day}, **as_("officer")).json()["count"]
    assert client.get(URL, {"state": "confirmed"}, **as_("officer")).json()["count"] == 0
    assert client.get(URL, {"state": "done"}, **as_("officer")).status_code == 422
    assert client.get(URL, {"day": "0001-01-01"}, **as_("officer")).status_code == 422


def test_only_the_covering_leader_confirms_never_the_officer(client, as_, people, note):
    """C6.2: the superior acknowledges the report."""
    url = f"{URL}/{note['id']}/confirm"
    own = post(client, url, {}, as_("officer"))
    assert own.status_code == 403 and "本人不能确认" in own.json()["detail"]
    assert post(client, url, {}, as_("inspector")).status_code == 403  # reads, decides nothing
    assert post(client, url, {}, as_("officer_other")).status_code == 404  # out of scope
    done = post(client, url, {"note": "已核实"}, as_("squad_leader"))
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "confirmed" and done.json()["leader_note"] == "已核实"
    assert done.json()["confirmed_by"] == people["squad_leader"].name
    assert AuditEntry.objects.filter(action="dutylog.note.confirm").count() == 1
    # A confirmed note is final: no second decision, no edit.
    assert post(client, url, {}, as_("squad_leader")).status_code == 403
    edit = client.put(
        f"{URL}/{note['id']}", body(), content_type="application/json", **as_("officer")
    )
    assert edit.status_code == 403


def test_return_needs_a_reason_and_the_officer_resubmits(client, as_, note):
    url = f"{URL}/{note['id']}/return"
    empty = post(client, url, {"reason": "  "}, as_("squad_leader"))
    assert empty.status_code == 400 and empty.json()["fields"]["note"] == ["退回时必须填写退回理由"]
    assert post(client, url, {}, as_("squad_leader")).status_code == 422  # reason is required
    returned = post(client, url, {"reason": "请写明设备编号"}, as_("squad_leader"))
    assert returned.status_code == 200 and returned.json()["state"] == "returned"
    # Someone else cannot edit it; the officer can, which sends it back to the leader.
    other = client.put(
        f"{URL}/{note['id']}", body(), content_type="application/json", **as_("squad_leader")
    )
    assert other.status_code == 403
    fixed = client.put(
        f"{URL}/{note['id']}",
        body(reason="device_fault", description="记录仪进水，已报修"),
        content_type="application/json",
        **as_("officer"),
    )
    assert fixed.status_code == 200, fixed.content
    assert fixed.json()["state"] == "pending" and fixed.json()["reason"] == "device_fault"
    entry = AuditEntry.objects.get(action="dutylog.note.update")
    assert entry.details["resubmitted"] is True


def test_bad_input_names_each_field(client, as_, people, note):
    start, end = period(hours_ago=30)
    reversed_ = post(client, URL, body(start=end, end=start), as_("officer"))
    assert reversed_.status_code == 400
    assert reversed_.json()["fields"]["end"] == ["结束时间必须晚于开始时间"]
    overlap = post(client, URL, body(), as_("officer"))  # the same period again
    assert overlap.status_code == 400 and "重叠" in overlap.json()["fields"]["start"][0]
    start, end = period(hours_ago=40)
    not_held = post(client, URL, body(start=start, end=end, recorder="Z000001"), as_("officer"))
    assert not_held.status_code == 400 and "recorder" in not_held.json()["fields"]
    for field, value in (("reason", "行政检查"), ("start", "0001-01-01T00:00:00+08:00")):
        bad = post(client, URL, body(**{field: value}), as_("officer"))
        assert bad.status_code == 422 and field in bad.json()["detail"]
    assert UnrecordedNote.objects.count() == 1


def test_a_recorder_the_officer_held_is_accepted(client, as_, people, tree):
    recorder = device_actions.register_recorder(
        actor="system:test", serial="A000001", unit=tree["squad1"]
    )
    device_actions.issue_recorder(
        actor="system:test",
        recorder=recorder,
        person=people["officer"],
        at=timezone.now() - timedelta(days=3),
    )
    response = post(client, URL, body(recorder="a000001"), as_("officer"))
    assert response.status_code == 201 and response.json()["recorder_serial"] == "A000001"


def test_station_tokens_and_anonymous_callers_are_refused(client, tree, people):
    _, raw = device_actions.create_workstation(actor="system:test", unit=tree["squad1"], name="站")
    station = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get(URL, **station).status_code == 403
    assert post(client, URL, body(), station).status_code == 403
    assert client.get(URL).status_code == 401
