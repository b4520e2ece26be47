"""Status rules, checks (C1.4) and incidents (C6.5.5 damage, C6.5.6 loss)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from jilu.audit.models import AuditEntry
from jilu.devices import actions, queries
from jilu.devices.models import DeviceEvent, Recorder

pytestmark = pytest.mark.django_db

S = Recorder.Status


def test_loss_event_marks_the_recorder_lost_and_keeps_the_holder(people, make_recorder):
    """C6.5.6: a lost recorder stays with its holder, who answers for it (C1.3)."""
    recorder = make_recorder()
    actions.issue_recorder(actor=people["admin"], recorder=recorder, person=people["officer"])
    event = actions.record_device_event(
        actor=people["officer"], recorder=recorder, kind="loss", note="巡查时在中山路遗失"
    )
    recorder.refresh_from_db()
    assert recorder.status == S.LOST
    assert event.reported_by == people["officer"]
    assert queries.holder_at(recorder, timezone.now()) == people["officer"]
    assert AuditEntry.objects.filter(action="devices.event.loss").exists()
    status_entry = AuditEntry.objects.get(action="devices.recorder.status")
    assert status_entry.details["to"] == "lost"
    # A lost recorder cannot be handed to anyone else until it is found.
    actions.return_recorder(actor=people["admin"], recorder=recorder)
    with pytest.raises(ValidationError, match="遗失"):
        actions.issue_recorder(actor=people["admin"], recorder=recorder, person=people["officer_b"])
    actions.record_device_event(
        actor=people["admin"], recorder=recorder, kind="found", note="已找回"
    )
    recorder.refresh_from_db()
    assert recorder.status == S.IN_SERVICE


def test_fault_and_damage_send_for_repair_and_repair_brings_back(people, make_recorder):
    """C6.5.5: damage is recorded and takes the recorder out of use until repaired."""
    recorder = make_recorder()
    actions.record_device_event(
        actor=people["admin"], recorder=recorder, kind="damage", note="屏幕碎裂"
    )
    recorder.refresh_from_db()
    assert recorder.status == S.UNDER_REPAIR
    actions.record_device_event(
        actor=people["admin"], recorder=recorder, kind="fault", note="无法开机"
    )
    recorder.refresh_from_db()
    assert recorder.status == S.UNDER_REPAIR
    actions.record_device_event(actor=people["admin"], recorder=recorder, kind="repair")
    recorder.refresh_from_db()
    assert recorder.status == S.IN_SERVICE
    # A repair does not bring back a lost recorder; only finding it does.
    actions.record_device_event(actor=people["admin"], recorder=recorder, kind="loss", note="遗失")
    actions.record_device_event(actor=people["admin"], recorder=recorder, kind="repair")
    recorder.refresh_from_db()
    assert recorder.status == S.LOST


def test_incidents_must_say_what_happened(people, make_recorder):
    """C6.5.5–6: loss, damage and fault are held to account, so they need an account."""
    recorder = make_recorder()
    for kind in ("loss", "damage", "fault"):
        with pytest.raises(ValidationError, match="必须说明经过"):
            actions.record_device_event(
                actor=people["officer"], recorder=recorder, kind=kind, note=" "
            )
    assert not DeviceEvent.objects.exists()
    recorder.refresh_from_db()
    assert recorder.status == S.IN_SERVICE


def test_status_rules(people, make_recorder):
    recorder = make_recorder()
    actions.issue_recorder(actor=people["admin"], recorder=recorder, person=people["officer"])
    with pytest.raises(ValidationError, match="请先由 王五 归还再报废"):
        actions.set_recorder_status(actor=people["admin"], recorder=recorder, status=S.RETIRED)
    with pytest.raises(ValidationError, match="未知状态"):
        actions.set_recorder_status(actor=people["admin"], recorder=recorder, status="broken")
    actions.set_recorder_status(actor=people["admin"], recorder=recorder, status=S.UNDER_REPAIR)
    actions.return_recorder(actor=people["admin"], recorder=recorder)
    actions.set_recorder_status(
        actor=people["admin"], recorder=recorder, status=S.RETIRED, note="老化"
    )
    with pytest.raises(ValidationError, match="已报废"):
        actions.set_recorder_status(actor=people["admin"], recorder=recorder, status=S.IN_SERVICE)
    with pytest.raises(ValidationError, match="报废"):
        actions.issue_recorder(actor=people["admin"], recorder=recorder, person=people["officer"])
    # Setting the same status again changes nothing and writes no audit row.
    before = AuditEntry.objects.count()
    actions.set_recorder_status(actor=people["admin"], recorder=recorder, status=S.RETIRED)
    assert AuditEntry.objects.count() == before


def test_a_check_records_one_event_per_reading_with_one_audit_row(
    people, make_recorder, make_station
):
    """C1.4: battery, storage and clock each become an event."""
    recorder = make_recorder()
    station, _ = make_station()
    events = actions.record_check(
        actor=f"station:{station.pk}",
        recorder=recorder,
        workstation=station,
        battery_pct=72,
        storage_free_bytes=1234,
        storage_total_bytes=5678,
        clock_offset_seconds=-3.5,
    )
    assert [e.kind for e in events] == ["battery", "storage", "clock"]
    assert all(e.workstation == station for e in events)
    assert events[0].battery_pct == 72
    assert (events[1].storage_free_bytes, events[1].storage_total_bytes) == (1234, 5678)
    assert events[2].clock_offset_seconds == -3.5
    assert AuditEntry.objects.filter(action="devices.recorder.check").count() == 1
    assert queries.last_check_at(recorder) == events[0].at


@pytest.mark.parametrize(
    ("readings", "message"),
    [
        ({}, "至少填写一项"),
        ({"battery_pct": 101}, "0 到 100"),
        ({"battery_pct": -1}, "0 到 100"),
        ({"storage_free_bytes": -5}, "不能为负数"),
        ({"storage_free_bytes": 10, "storage_total_bytes": 5}, "不能大于总存储"),
        ({"storage_total_bytes": 5}, "也要填写剩余存储"),
        ({"clock_offset_seconds": float("nan")}, "有限"),
    ],
)
def test_impossible_readings_are_refused(people, make_recorder, readings, message):
    """C1.4: a reading no device can give is a mistake to be fixed, not data."""
    recorder = make_recorder()
    with pytest.raises(ValidationError, match=message):
        actions.record_check(actor=people["officer"], recorder=recorder, **readings)
    assert not DeviceEvent.objects.exists()
    assert not AuditEntry.objects.filter(action="devices.recorder.check").exists()


def test_single_check_events_need_their_reading(people, make_recorder):
    recorder = make_recorder()
    with pytest.raises(ValidationError, match="电量检查需要填写电量"):
        actions.record_device_event(actor=people["admin"], recorder=recorder, kind="battery")
    with pytest.raises(ValidationError, match="未知事件类型"):
        actions.record_device_event(actor=people["admin"], recorder=recorder, kind="explode")
    with pytest.raises(ValidationError, match="晚于当前时间"):
        actions.record_device_event(
            actor=people["admin"],
            recorder=recorder,
            kind="battery",
            battery_pct=50,
            at=timezone.now() + timedelta(hours=2),
        )


def test_workstation_token_lifecycle(tree, people):
    """C1.2: a station's token works until revoked or replaced; only its digest is kept."""
    station, raw = actions.create_workstation(
        actor=people["admin"], unit=tree["squad1"], name="一号站"
    )
    assert raw.startswith("jst_") and raw not in station.token_digest
    assert actions.station_for_token(raw) == station
    station.refresh_from_db()
    assert station.last_seen_at is not None
    station, raw2 = actions.reissue_workstation_token(actor=people["admin"], station=station)
    assert actions.station_for_token(raw) is None
    assert actions.station_for_token(raw2) == station
    actions.revoke_workstation(actor=people["admin"], station=station)
    assert actions.station_for_token(raw2) is None
    with pytest.raises(ValidationError, match="已经吊销"):
        actions.revoke_workstation(actor=people["admin"], station=station)
    with pytest.raises(ValidationError, match="已吊销"):
        actions.reissue_workstation_token(actor=people["admin"], station=station)
    with pytest.raises(ValidationError, match="不能为空"):
        actions.create_workstation(actor=people["admin"], unit=tree["squad2"], name=" ")
    actions.create_workstation(actor=people["admin"], unit=tree["squad1"], name="一号站")
    with pytest.raises(ValidationError, match="名为“一号站”"):
        actions.create_workstation(actor=people["admin"], unit=tree["squad1"], name="一号站")
