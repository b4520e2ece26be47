"""The devices API: recorders and holders (C1.3), workstations (C1.2), and the
station side reporting checks of docked recorders (C1.4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from jilu.devices import actions
from jilu.devices.models import DeviceEvent, Holding

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def fleet(people, make_recorder):
    ours = make_recorder("A000001")
    spare = make_recorder("A000002")
    theirs = make_recorder("B000001", unit="squad3")
    actions.issue_recorder(
        actor="system:test",
        recorder=ours,
        person=people["officer"],
        at=datetime(2026, 3, 1, 8, 0, tzinfo=SHANGHAI),
    )
    return {"ours": ours, "spare": spare, "theirs": theirs}


def test_list_recorders_is_restricted_and_shows_holders(fleet, api):
    token = api.token("squad_leader")
    response = api.get("/recorders", token)
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    by_serial = {r["serial"]: r for r in data["items"]}
    assert set(by_serial) == {"A000001", "A000002"}
    assert by_serial["A000001"]["holder"]["name"] == "王五"
    assert by_serial["A000001"]["status_label"] == "在用"
    assert by_serial["A000002"]["holder"] is None

    assert {r["serial"] for r in api.get("/recorders", token, held="false").json()["items"]} == {
        "A000002"
    }
    assert api.get("/recorders", token, unit="350206000101").json()["count"] == 0
    bad = api.get("/recorders", token, status="broken")
    assert bad.status_code == 422  # status takes the document's codes (an enum)
    assert "status" in bad.json()["detail"] and "in_service" in bad.json()["detail"]
    inspector = api.get("/recorders", api.token("inspector")).json()
    assert inspector["count"] == 3
    assert api.get("/recorders", api.token("officer")).json()["count"] == 1  # what they hold


def test_get_recorder_with_history(fleet, api, people):
    token = api.token("squad_leader")
    data = api.get("/recorders/a000001", token).json()
    assert data["serial"] == "A000001"
    assert data["holdings"][0]["person"]["username"] == "officer"
    assert data["holdings"][0]["ended_at"] is None
    out = api.get("/recorders/B000001", token)
    assert out.status_code == 404 and "管辖范围" in out.json()["detail"]


def test_holder_at_lookup(fleet, api, people):
    """C1.3: who held recorder X at time T, over the API."""
    token = api.token("brigade_leader")
    actions.return_recorder(
        actor="system:test", recorder=fleet["ours"], at=datetime(2026, 3, 1, 18, 0, tzinfo=SHANGHAI)
    )
    during = api.get("/recorders/A000001/holder", token, at="2026-03-01T09:00:00+08:00").json()
    assert during["holder"]["username"] == "officer"
    assert during["started_at"].startswith("2026-03-01T00:00:00")  # UTC
    # No offset means Beijing time; 07:59 Beijing is before the issue at 08:00.
    before = api.get("/recorders/A000001/holder", token, at="2026-03-01T07:59:00").json()
    assert before["holder"] is None
    utc = api.get("/recorders/A000001/holder", token, at="2026-03-01T00:30:00Z").json()
    assert utc["holder"]["name"] == "王五"
    after = api.get("/recorders/A000001/holder", token, at="2026-03-01T18:00:00+08:00").json()
    assert after["holder"] is None and after["serial"] == "A000001"

    # An unencoded '+' arrives as a space; it is still read as the offset.
    plus = api.get("/recorders/A000001/holder?at=2026-03-01T09:00:00+08:00", token)
    assert plus.json()["holder"]["username"] == "officer"

    bad = api.get("/recorders/A000001/holder", token, at="yesterday")
    assert bad.status_code == 400 and "ISO 8601" in bad.json()["detail"]
    hidden = api.get("/recorders/B000001/holder", token, at="2026-03-01T09:00:00+08:00")
    assert hidden.status_code == 404


def test_issue_and_return_over_the_api(fleet, api, people):
    """C1.3: issuing and returning are actions open to leaders in scope."""
    token = api.token("squad_leader")
    issued = api.post("/recorders/A000002/issue", token, {"user_no": people["officer_b"].user_no})
    assert issued.status_code == 200, issued.content
    assert issued.json()["holder"]["username"] == "officer_b"
    twice = api.post("/recorders/A000002/issue", token, {"username": "officer"})
    assert twice.status_code == 400
    assert twice.json()["detail"] == "记录仪 A000002 已由 李四 持有，请先办理归还"
    returned = api.post("/recorders/A000002/return", token, {"note": "完好"})
    assert returned.status_code == 200 and returned.json()["holder"] is None
    assert returned.json()["holdings"][0]["ended_at"] is not None
    again = api.post("/recorders/A000002/return", token, {})
    assert again.status_code == 400 and "当前无人持有" in again.json()["detail"]

    outside = api.post("/recorders/A000002/issue", token, {"username": "officer_other"})
    assert outside.status_code == 400 and "找不到可配发的人员" in outside.json()["detail"]
    ambiguous = api.post("/recorders/A000002/issue", token, {"username": "officer", "user_no": "1"})
    assert ambiguous.status_code == 400
    future = (timezone.now() + timedelta(days=1)).isoformat()
    late = api.post("/recorders/A000002/issue", token, {"username": "officer", "at": future})
    assert late.status_code == 400 and "晚于当前时间" in late.json()["detail"]
    assert Holding.objects.filter(recorder=fleet["spare"]).count() == 1


def test_issue_needs_rights(fleet, api, people):
    inspector = api.token("inspector")
    refused = api.post("/recorders/A000002/issue", inspector, {"username": "officer_b"})
    assert refused.status_code == 403 and "无权" in refused.json()["detail"]
    officer = api.token("officer")
    assert api.post("/recorders/A000001/return", officer, {}).status_code == 403
    assert (
        api.post("/recorders/A000002/issue", officer, {"username": "officer_b"}).status_code == 404
    )
    other = api.token("squad_admin")
    assert api.post("/recorders/A000002/issue", other, {"username": "officer_b"}).status_code == 404
    assert Holding.objects.count() == 1


def test_list_workstations_is_restricted(tree, api, make_station):
    make_station("中华站", unit="squad1")
    gone, _ = make_station("湖里站", unit="squad3")
    actions.revoke_workstation(actor="system:test", station=gone)
    leader = api.get("/workstations", api.token("brigade_leader")).json()
    assert [s["name"] for s in leader["items"]] == ["中华站"]
    inspector = api.token("inspector")
    assert api.get("/workstations", inspector).json()["count"] == 2
    active = api.get("/workstations", inspector, active="true").json()
    assert [s["name"] for s in active["items"]] == ["中华站"]
    assert active["items"][0]["token_prefix"].startswith("jst_")
    assert "token_digest" not in active["items"][0]
    assert api.get("/workstations", api.token("officer")).json()["count"] == 0


def test_station_reports_checks_of_a_docked_recorder(fleet, api, make_station):
    """C1.4: battery, storage and clock offset read at docking become events."""
    station, raw = make_station()
    response = api.post(
        "/station/checks",
        raw,
        {
            "serial": "a000001",
            "battery_pct": 72,
            "storage_free_bytes": 1234,
            "storage_total_bytes": 5678,
            "clock_offset_seconds": 3.0,
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["serial"] == "A000001" and data["holder"]["username"] == "officer"
    assert [e["kind"] for e in data["events"]] == ["battery", "storage", "clock"]
    events = DeviceEvent.objects.filter(recorder=fleet["ours"])
    assert events.count() == 3
    assert all(e.workstation_id == station.pk for e in events)
    station.refresh_from_db()
    assert station.last_seen_at is not None


def test_station_clock_offset_from_the_device_clock(fleet, api, make_station):
    _, raw = make_station()
    at = timezone.now() - timedelta(minutes=1)
    device = at + timedelta(seconds=42)
    response = api.post(
        "/station/checks",
        raw,
        {"serial": "A000001", "at": at.isoformat(), "device_clock": device.isoformat()},
    )
    assert response.status_code == 201
    assert DeviceEvent.objects.get(kind="clock").clock_offset_seconds == pytest.approx(42)


def test_station_errors(fleet, api, make_station, people):
    station, raw = make_station()
    unknown = api.post("/station/checks", raw, {"serial": "Z999999", "battery_pct": 50})
    assert unknown.status_code == 404
    assert unknown.json()["detail"].startswith("未登记的记录仪：产品序号 Z999999")
    impossible = api.post("/station/checks", raw, {"serial": "A000001", "battery_pct": 250})
    assert impossible.status_code == 400 and "0 到 100" in impossible.json()["detail"]
    nothing = api.post("/station/checks", raw, {"serial": "A000001"})
    assert nothing.status_code == 400 and "至少填写一项" in nothing.json()["detail"]
    assert not DeviceEvent.objects.exists()

    person = api.token("admin")
    wrong = api.post("/station/checks", person, {"serial": "A000001", "battery_pct": 50})
    assert wrong.status_code == 403 and "工作站令牌" in wrong.json()["detail"]
    assert api.get("/recorders", raw).status_code == 403  # stations are not people

    actions.revoke_workstation(actor=people["admin"], station=station)
    revoked = api.post("/station/checks", raw, {"serial": "A000001", "battery_pct": 50})
    assert revoked.status_code == 401


def test_openapi_lists_the_device_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/recorders",
        "/api/v1/recorders/{serial}",
        "/api/v1/recorders/{serial}/holder",
        "/api/v1/recorders/{serial}/issue",
        "/api/v1/recorders/{serial}/return",
        "/api/v1/workstations",
        "/api/v1/station/checks",
        "/api/v1/station/me",
    ):
        assert path in paths, path
