"""Quarantined files over the API: the same list, scope and resolutions as the pages.

C6.5.4: a file that cannot be attributed is never discarded; C1.3: the holder
history decides the officer; resolving is an administrator's audited act.
"""

from __future__ import annotations

import pytest

from conftest import api_auth
from jilu.audit.models import AuditEntry
from jilu.evidence.models import Recording
from jilu.ingest.models import QuarantineItem
from jilu.ingest.tests.conftest import hours_ago, mp4, name_for, open_docking

pytestmark = pytest.mark.django_db

URL = "/api/v1/quarantine"


def _item(tus, data, name, docking) -> QuarantineItem:
    resp = tus.upload(data, name, docking=docking)
    return QuarantineItem.objects.get(pk=int(resp["Jilu-Quarantine-Id"]))


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
def mismatch(tus, docking):
    """A file naming recorder B000001 taken from A000123's volume (squad 1's station)."""
    return _item(tus, mp4(70), name_for(hours_ago(4), serial="B000001"), docking)


def test_readers_see_the_list_in_their_scope(client, as_, mismatch):
    for who in ("admin", "squad_leader", "inspector", "archivist"):
        page = client.get(URL, **as_(who)).json()
        assert [i["id"] for i in page["items"]] == [mismatch.pk], who
    item = page["items"][0]
    assert item["reason"] == "serial_mismatch" and item["resolution"] == ""
    assert item["unit_code"] == "350203000101" and item["station_name"] == "中华中队工作站"
    # Another district's administrator sees nothing of squad 1 (404 on the item).
    assert client.get(URL, **as_("squad_admin")).json()["count"] == 0
    assert client.get(f"{URL}/{mismatch.pk}", **as_("squad_admin")).status_code == 404
    # Officers do not open the quarantine at all (the page's rule).
    refused = client.get(URL, **as_("officer"))
    assert refused.status_code == 403 and refused.json()["detail"] == "你的角色不能查看待处理文件"
    assert client.get(f"{URL}/{mismatch.pk}", **as_("officer")).status_code == 403


def test_filters(client, as_, mismatch):
    assert client.get(URL, {"show": "resolved"}, **as_("admin")).json()["count"] == 0
    assert client.get(URL, {"reason": "serial_mismatch"}, **as_("admin")).json()["count"] == 1
    assert client.get(URL, {"reason": "zero_byte"}, **as_("admin")).json()["count"] == 0
    assert client.get(URL, {"reason": "其他"}, **as_("admin")).status_code == 422
    assert client.get(URL, {"show": "some"}, **as_("admin")).status_code == 422


def test_only_the_administrator_of_the_unit_attributes(client, as_, people, mismatch, recorder):
    url = f"{URL}/{mismatch.pk}/attribute"
    detail = client.get(f"{URL}/{mismatch.pk}", **as_("squad_leader")).json()
    assert detail["may_resolve"] is False
    for who in ("squad_leader", "inspector"):
        refused = post(client, url, {"serial": recorder.serial}, as_(who))
        assert refused.status_code == 403, who
    assert post(client, url, {"serial": recorder.serial}, as_("squad_admin")).status_code == 404
    assert client.get(f"{URL}/{mismatch.pk}", **as_("admin")).json()["may_resolve"] is True
    done = post(client, url, {"serial": recorder.serial, "note": "核实为本机文件"}, as_("admin"))
    assert done.status_code == 200, done.content
    out = done.json()
    recording = Recording.objects.get(pk=out["recording_ids"][0])
    assert recording.officer == people["officer"]  # from the holder history (C1.3)
    assert out["item"]["resolution"] == "attributed" and out["item"]["recording_id"] == recording.pk
    assert out["item"]["resolved_by"] == people["admin"].name and not out["item"]["may_resolve"]
    entry = AuditEntry.objects.get(action="ingest.quarantine.attribute")
    assert entry.actor == people["admin"] and entry.details["note"] == "核实为本机文件"
    again = post(client, url, {"serial": recorder.serial}, as_("admin"))
    assert again.status_code == 409 and again.json()["detail"] == "该文件已经处理"


def test_attribute_bad_input_names_the_field(client, as_, mismatch, recorder):
    url = f"{URL}/{mismatch.pk}/attribute"
    unknown = post(client, url, {"serial": "Q000009"}, as_("admin"))
    assert unknown.status_code == 400 and "Q000009" in unknown.json()["fields"]["serial"][0]
    nobody = post(
        client, url, {"serial": recorder.serial, "officer_user_no": "000000"}, as_("admin")
    )
    assert nobody.status_code == 400 and "officer_user_no" in nobody.json()["fields"]
    assert post(client, url, {"serial": "A" * 8}, as_("admin")).status_code == 422
    assert (
        post(client, url, {"serial": recorder.serial, "kind": "film"}, as_("admin")).status_code
        == 422
    )
    future = post(
        client,
        url,
        {"serial": recorder.serial, "started_at": "2199-01-01T00:00:00+08:00"},
        as_("admin"),
    )
    assert future.status_code == 400 and "晚于当前时间" in future.json()["detail"]
    assert QuarantineItem.objects.get(pk=mismatch.pk).is_open


def test_registering_the_unknown_recorder(client, as_, tus, station, people, tree):
    docking = open_docking(station, serial="Z999999", clock_offset_seconds=60)
    names = [name_for(hours_ago(h), serial="Z999999", seq=n) for n, h in ((1, 5), (2, 3))]
    items = [_item(tus, mp4(80 + i), name, docking) for i, name in enumerate(names)]
    url = f"{URL}/{items[0].pk}/register"
    outside = post(client, url, {"unit_code": tree["squad1"].code}, as_("squad_leader"))
    assert outside.status_code == 403
    assert (
        post(client, url, {"unit_code": tree["squad3"].code}, as_("squad_admin")).status_code == 404
    )
    bad_unit = post(client, url, {"unit_code": "999999999999"}, as_("admin"))
    assert bad_unit.status_code == 400 and "unit_code" in bad_unit.json()["fields"]
    done = post(
        client,
        url,
        {"unit_code": tree["squad1"].code, "holder_user_no": people["officer_b"].user_no},
        as_("admin"),
    )
    assert done.status_code == 200, done.content
    assert len(done.json()["recording_ids"]) == 2
    assert {r.officer for r in Recording.objects.all()} == {people["officer_b"]}
    for item in items:
        item.refresh_from_db()
        assert item.resolution == "registered"


def test_closing_needs_a_note_and_keeps_the_bytes(client, as_, tus, docking, people):
    resp = tus.upload(b"", name_for(hours_ago(2)), docking=docking)
    item = QuarantineItem.objects.get(pk=int(resp["Jilu-Quarantine-Id"]))
    url = f"{URL}/{item.pk}"
    attribute = post(client, f"{url}/attribute", {"serial": "A000123"}, as_("admin"))
    assert attribute.status_code == 400 and "零字节" in attribute.json()["detail"]
    empty = post(client, f"{url}/close", {"note": " "}, as_("admin"))
    assert empty.status_code == 400 and "note" in empty.json()["fields"]
    assert post(client, f"{url}/close", {}, as_("admin")).status_code == 422
    assert post(client, f"{url}/close", {"note": "设备故障"}, as_("inspector")).status_code == 403
    closed = post(client, f"{url}/close", {"note": "设备故障，已报修"}, as_("admin"))
    assert closed.status_code == 200 and closed.json()["resolution"] == "closed"
    item.refresh_from_db()
    assert item.stored_object_id == item.sha256 and item.recording is None  # the bytes stay
    assert AuditEntry.objects.filter(action="ingest.quarantine.close").count() == 1
    assert post(client, f"{url}/close", {"note": "again"}, as_("admin")).status_code == 409
