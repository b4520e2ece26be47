"""Ledger tests: a squad's month of records."""

from datetime import UTC, datetime, timedelta

import pytest

MONTH = (2026, 11)


@pytest.fixture
def november(tree, people, recorders, make_recording, make_activity):
    """中华中队 (squad1) in November 2026: recordings, annotations, checks,
    incidents, a hand-over and dockings; and some that must stay out of its
    ledgers (another squad's, December's)."""
    from jilu.casework.actions import annotate
    from jilu.devices import actions as devices
    from jilu.ingest.models import DockingSession

    a = "system:test"
    t0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 09:00 in Xiamen
    activity = make_activity(start=t0, minutes=120)
    own = [
        make_recording("officer", start=t0, minutes=10),
        make_recording("officer", start=t0 + timedelta(minutes=10), minutes=20),
        # Docked 30 hours after it started: late (C5.1).
        make_recording(
            "officer", start=t0 + timedelta(hours=1), minutes=5, docked_at=t0 + timedelta(hours=31)
        ),
        make_recording("officer_b", start=t0, minutes=15),
        make_recording("officer_b", start=t0 + timedelta(days=1), minutes=7),
    ]
    # In time, late (docked + 50 h), and officer_b's first in time; the rest unannotated.
    annotate(
        actor=a,
        recording=own[0],
        activity=activity,
        step="site_check",
        at=own[0].docked_at + timedelta(hours=1),
    )
    annotate(
        actor=a,
        recording=own[1],
        activity=activity,
        step="site_check",
        at=own[1].docked_at + timedelta(hours=50),
    )
    annotate(
        actor=a,
        recording=own[3],
        activity=activity,
        step="site_check",
        at=own[3].docked_at + timedelta(hours=2),
    )
    outside = [
        make_recording("officer_other", start=t0, minutes=30),  # 湖里中队
        make_recording("officer", start=datetime(2026, 12, 1, 1, 0, tzinfo=UTC), minutes=3),
        # 2026-10-31 23:30 in Xiamen is October, though 2026-11-01 in no zone.
        make_recording("officer", start=datetime(2026, 10, 31, 15, 30, tzinfo=UTC), minutes=3),
    ]
    r1, r2 = recorders["officer"], recorders["officer_b"]
    devices.record_check(
        actor=a,
        recorder=r1,
        at=datetime(2026, 11, 10, 1, 0, tzinfo=UTC),
        battery_pct=90,
        storage_free_bytes=10,
        storage_total_bytes=100,
    )
    devices.record_check(
        actor=a, recorder=r1, at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC), clock_offset_seconds=1.5
    )
    devices.record_device_event(
        actor=a,
        recorder=r2,
        kind="fault",
        at=datetime(2026, 11, 15, 3, 0, tzinfo=UTC),
        note="屏幕不亮",
    )
    devices.record_device_event(
        actor=a,
        recorder=r2,
        kind="repair",
        at=datetime(2026, 11, 18, 3, 0, tzinfo=UTC),
        note="更换屏幕",
    )
    devices.return_recorder(actor=a, recorder=r2, at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    devices.issue_recorder(
        actor=a,
        recorder=r2,
        person=people["squad_leader"],
        at=datetime(2026, 11, 21, 1, 0, tzinfo=UTC),
    )
    station, _token = devices.create_workstation(
        actor=a, unit=tree["squad1"], name="中华中队工作站"
    )
    dockings = [
        DockingSession.objects.create(station=station, recorder=r1, serial=r1.serial, started_at=at)
        for at in (
            t0 + timedelta(hours=3),
            t0 + timedelta(hours=31),
            datetime(2026, 12, 2, 1, 0, tzinfo=UTC),
        )
    ]
    return {
        "activity": activity,
        "own": own,
        "outside": outside,
        "dockings": dockings,
        "station": station,
    }
