"""Resolving quarantined files: register the recorder, attribute by hand, or close; all audited.

C6.5.4: files that cannot be attributed are never discarded; C1.3: the holder
history decides the officer; C6.5.3: a resolution is an audited act.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from jilu.audit.models import AuditEntry
from jilu.devices.models import Holding, Recorder
from jilu.evidence.models import Recording
from jilu.ingest import actions
from jilu.ingest.models import QuarantineItem
from jilu.ingest.tests.conftest import SERIAL, hours_ago, mp4, name_for, open_docking
from jilu.org.models import Person

pytestmark = pytest.mark.django_db


def _item(tus, data, name, docking) -> QuarantineItem:
    resp = tus.upload(data, name, docking=docking)
    return QuarantineItem.objects.get(pk=int(resp["Jilu-Quarantine-Id"]))


@pytest.fixture
def unknown(tus, station, people):
    """Two files of an unregistered recorder Z999999, docked with a +60 s clock offset."""
    docking = open_docking(station, serial="Z999999", clock_offset_seconds=60)
    starts = [hours_ago(5), hours_ago(3)]
    items = [
        _item(
            tus,
            mp4(50 + i),
            name_for(s, serial="Z999999", user_no=people["officer_b"].user_no, seq=i + 1),
            docking,
        )
        for i, s in enumerate(starts)
    ]
    return items, starts


def test_registering_the_recorder_attributes_every_file_of_that_serial(unknown, people, tree):
    items, starts = unknown
    recordings = actions.register_and_attribute(
        actor=people["admin"],
        item=items[0],
        unit=tree["squad1"],
        holder=people["officer_b"],
        note="新配发未登记",
    )
    assert len(recordings) == 2
    recorder = Recorder.objects.get(serial="Z999999")
    holding = Holding.objects.get(recorder=recorder)
    assert holding.person == people["officer_b"]
    assert holding.started_at == starts[0] - timedelta(seconds=60)  # the earliest true start
    for item in items:
        item.refresh_from_db()
        assert item.resolution == QuarantineItem.Resolution.REGISTERED
        assert item.resolved_by == people["admin"] and item.recording is not None
        assert item.recording.officer == people["officer_b"]
        assert not item.recording.user_no_mismatch
    assert sorted(r.started_at for r in recordings) == [s - timedelta(seconds=60) for s in starts]
    assert AuditEntry.objects.filter(action="ingest.quarantine.attribute").count() == 2
    assert AuditEntry.objects.filter(action="devices.recorder.register").count() == 1


def test_registering_without_a_holder_flags_the_recordings(unknown, people, tree):
    items, _ = unknown
    recordings = actions.register_and_attribute(
        actor=people["admin"], item=items[1], unit=tree["squad1"]
    )
    assert all(r.officer is None and r.user_no_mismatch for r in recordings)


def test_attributing_by_hand_follows_holder_history(tus, docking, recorder, people):
    item = _item(tus, mp4(60), name_for(hours_ago(4), serial="B000001"), docking)
    assert item.reason == QuarantineItem.Reason.SERIAL_MISMATCH
    rec = actions.attribute_quarantined(
        actor=people["admin"], item=item, recorder=recorder, note="核实为本机文件"
    )
    assert rec.officer == people["officer"]
    assert rec.recorder == recorder
    # The name's user number is the officer's: no mismatch.
    assert not rec.user_no_mismatch
    item.refresh_from_db()
    assert item.resolution == QuarantineItem.Resolution.ATTRIBUTED and item.recording == rec
    entry = AuditEntry.objects.get(action="ingest.quarantine.attribute")
    assert entry.actor == people["admin"] and entry.details["note"] == "核实为本机文件"


def test_naming_another_officer_than_the_history_is_flagged(tus, docking, recorder, people):
    item = _item(tus, mp4(61), "DCIM/VID_0001.MP4", docking)
    start = timezone.now() - timedelta(hours=2)
    rec = actions.attribute_quarantined(
        actor=people["admin"],
        item=item,
        recorder=recorder,
        officer=people["officer_b"],
        started_at=start,
    )
    assert rec.officer == people["officer_b"] and rec.user_no_mismatch
    assert rec.started_at == start and rec.clock_offset_seconds is None
    assert rec.name_start_local is None and rec.kind == "video"


def test_a_bad_name_needs_a_start_time(tus, docking, recorder, people):
    item = _item(tus, mp4(62), "DCIM/VID_0002.MP4", docking)
    with pytest.raises(ValidationError, match="录制开始时间"):
        actions.attribute_quarantined(actor=people["admin"], item=item, recorder=recorder)


def test_a_zero_byte_file_can_only_be_closed(tus, docking, recorder, people):
    resp = tus.upload(b"", name_for(hours_ago(2)), docking=docking)
    item = QuarantineItem.objects.get(pk=int(resp["Jilu-Quarantine-Id"]))
    with pytest.raises(ValidationError, match="零字节"):
        actions.attribute_quarantined(actor=people["admin"], item=item, recorder=recorder)
    with pytest.raises(ValidationError, match="说明"):
        actions.close_quarantined(actor=people["admin"], item=item, note=" ")
    actions.close_quarantined(actor=people["admin"], item=item, note="设备故障，已报修")
    item.refresh_from_db()
    assert item.resolution == QuarantineItem.Resolution.CLOSED and item.recording is None
    assert item.stored_object_id == item.sha256  # the bytes stay
    assert AuditEntry.objects.filter(action="ingest.quarantine.close").count() == 1
    with pytest.raises(ValidationError, match="已于"):
        actions.close_quarantined(actor=people["admin"], item=item, note="again")


def test_attributing_bytes_already_held_answers_the_existing_recording(
    tus, docking, recorder, people
):
    data = mp4(63)
    rec = Recording.objects.get(
        pk=int(tus.upload(data, name_for(hours_ago(2)), docking=docking)["Jilu-Recording-Id"])
    )
    item = _item(tus, data, "DCIM/copy.MP4", docking)
    again = actions.attribute_quarantined(
        actor=people["admin"], item=item, recorder=recorder, started_at=hours_ago(2)
    )
    assert again.pk == rec.pk and Recording.objects.count() == 1


def test_register_is_only_for_unknown_serials(tus, docking, people, tree):
    item = _item(tus, mp4(64), "DCIM/VID_0003.MP4", docking)
    with pytest.raises(ValidationError, match="未登记"):
        actions.register_and_attribute(actor=people["admin"], item=item, unit=tree["squad1"])


# --- the page's forms -----------------------------------------------------


def _signed_in(client, person):
    client.force_login(person)
    return client


def test_the_administrator_registers_through_the_page(client, unknown, people, tree):
    items, _ = unknown
    url = f"/ingest/quarantine/{items[0].pk}/"
    _signed_in(client, people["admin"])
    page = client.get(url)
    assert page.status_code == 200
    assert "登记记录仪并归属" in page.content.decode()
    resp = client.post(
        url,
        {
            "op": "register",
            "reg-unit": tree["squad1"].pk,
            "reg-holder_user_no": people["officer_b"].user_no,
            "reg-note": "补登记",
        },
        follow=True,
    )
    assert resp.status_code == 200
    assert "已登记记录仪" in resp.content.decode()
    assert QuarantineItem.objects.filter(resolved_at__isnull=True).count() == 0


def test_the_administrator_attributes_through_the_page(client, tus, docking, recorder, people):
    item = _item(tus, mp4(65), "DCIM/VID_0004.MP4", docking)
    url = f"/ingest/quarantine/{item.pk}/"
    _signed_in(client, people["admin"])
    # A recorder outside nobody's register and a missing time give clear errors.
    resp = client.post(url, {"op": "attribute", "attr-serial": "Q123456", "attr-kind": "video"})
    assert "没有产品序号为 Q123456 的记录仪" in resp.content.decode()
    resp = client.post(url, {"op": "attribute", "attr-serial": SERIAL, "attr-kind": "video"})
    assert "录制开始时间" in resp.content.decode()
    local = timezone.localtime(timezone.now() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")
    resp = client.post(
        url,
        {
            "op": "attribute",
            "attr-serial": SERIAL,
            "attr-kind": "video",
            "attr-started_at": local,
            "attr-note": "人工核对",
        },
    )
    assert resp.status_code == 302
    item.refresh_from_db()
    assert item.recording.officer == people["officer"]


def test_the_administrator_closes_through_the_page(client, tus, docking, people):
    resp = tus.upload(b"", name_for(hours_ago(1)), docking=docking)
    item = QuarantineItem.objects.get(pk=int(resp["Jilu-Quarantine-Id"]))
    _signed_in(client, people["admin"])
    resp = client.post(
        f"/ingest/quarantine/{item.pk}/", {"op": "close", "close-note": "零字节，设备故障"}
    )
    assert resp.status_code == 302
    item.refresh_from_db()
    assert item.resolution == QuarantineItem.Resolution.CLOSED


@pytest.mark.parametrize("who", ["squad_leader", "brigade_leader", "inspector", "archivist"])
def test_only_administrators_resolve(client, unknown, people, tree, who):
    items, _ = unknown
    _signed_in(client, people[who])
    url = f"/ingest/quarantine/{items[0].pk}/"
    assert client.get(url).status_code == 200
    resp = client.post(url, {"op": "close", "close-note": "x"})
    assert resp.status_code == 403
    assert QuarantineItem.objects.get(pk=items[0].pk).is_open


def test_an_administrator_of_another_district_cannot_see_or_resolve(client, unknown, people):
    items, _ = unknown
    _signed_in(client, people["squad_admin"])  # admin of 湖里中队
    url = f"/ingest/quarantine/{items[0].pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"op": "close", "close-note": "x"}).status_code == 404


def test_the_holder_offered_must_be_in_scope(client, unknown, people, tree, make_person):
    items, _ = unknown
    _signed_in(client, people["admin"])
    resp = client.post(
        f"/ingest/quarantine/{items[0].pk}/",
        {"op": "register", "reg-unit": tree["squad1"].pk, "reg-holder_user_no": "ZZZZZZ"},
    )
    assert "找不到警号为 ZZZZZZ" in resp.content.decode()
    assert not Recorder.objects.filter(serial="Z999999").exists()
    assert Person.objects.filter(user_no="ZZZZZZ").count() == 0
