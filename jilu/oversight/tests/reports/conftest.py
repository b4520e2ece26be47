"""Report tests (C6.4): November 2026 over the test city, with facts whose
rates the tests count by hand (see each test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jilu.casework.tests.conftest import T0

# When the tests draft: after November has ended (Beijing time).
AS_OF = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)


def _finding(n: int, rule: str, clause: str, unit, person, state: str):
    from jilu.oversight.finding_models import Finding

    return Finding.objects.create(
        rule=rule,
        clause=clause,
        key=f"test-{n}",
        subject_kind="unit",
        subject_id=unit.pk,
        subject_label=unit.name,
        period_start=T0,
        period_end=T0 + timedelta(days=1),
        period_label="2026-11-26",
        unit=unit,
        person=person,
        state=state,
        created_at=T0,
        last_fact_at=T0,
    )


@pytest.fixture
def november(tree, people, recorders, make_recording, make_activity):
    """What happened in November 2026 (Beijing time), and some that stays out:

    activities (C2.1): a1 (brigade, 王五+李四) recorded by r1; a2 (brigade) not
    recorded; a3 (湖里中队, 韩一) recorded by r4; a4 in December (out).
    recordings: r1 王五 in time, annotated after 1 h; r2 王五 docked after 30 h
    (late), never annotated; r3 李四 annotated after 60 h (late); r4 韩一 in
    time, annotated after 2 h; r5 王五 at 00:30 on 1 November in Beijing (in),
    never annotated; r6 王五 at 23:30 on 31 October in Beijing (out).
    dockings (C3.2, threshold 60 s): 中华中队's station 61, 10, −90 s;
    湖里中队's 5 s; one of 500 s in December (out).
    findings: C3.2 open and C5.1 confirmed (中华中队), C2.1/C6.5.1 open (大队).
    """
    from jilu.casework.actions import annotate
    from jilu.devices.actions import create_workstation
    from jilu.ingest.docking import open_docking
    from jilu.ingest.models import DockingSession

    a = "system:test"
    a1 = make_activity(start=T0, minutes=60)
    a2 = make_activity(start=T0 + timedelta(days=1), minutes=60)
    a3 = make_activity(
        start=T0 + timedelta(days=2),
        minutes=30,
        officers=("officer_other",),
        unit=tree["squad3"],
        kind="S2",
    )
    make_activity(start=datetime(2026, 12, 1, 1, 0, tzinfo=UTC), minutes=60)  # December
    r1 = make_recording("officer", start=T0, minutes=10)
    make_recording(
        "officer",
        start=T0 - timedelta(days=5),
        minutes=10,
        docked_at=T0 - timedelta(days=5) + timedelta(hours=30),
    )
    r3 = make_recording("officer_b", start=T0 + timedelta(hours=1), minutes=10)
    r4 = make_recording("officer_other", start=T0 + timedelta(days=2), minutes=10)
    make_recording("officer", start=datetime(2026, 10, 31, 16, 30, tzinfo=UTC), minutes=5)
    make_recording("officer", start=datetime(2026, 10, 31, 15, 30, tzinfo=UTC), minutes=5)
    annotate(
        actor=a, recording=r1, activity=a1, step="site_check", at=r1.docked_at + timedelta(hours=1)
    )
    annotate(
        actor=a,
        recording=r3,
        activity=a1,
        step="site_check",
        at=r3.docked_at + timedelta(hours=60),
    )
    annotate(
        actor=a, recording=r4, activity=a3, step="site_check", at=r4.docked_at + timedelta(hours=2)
    )
    stations = {}
    for unit in ("squad1", "squad3"):
        stations[unit], _token = create_workstation(actor=a, unit=tree[unit], name=f"{unit}站")
    for unit, serial, offset, at in (
        ("squad1", "A000001", 61, T0),
        ("squad1", "A000002", 10, T0),
        ("squad1", "A000002", -90, T0),
        ("squad3", "A000003", 5, T0),
        ("squad1", "A000001", 500, datetime(2026, 12, 2, 1, 0, tzinfo=UTC)),
    ):
        docking = open_docking(
            actor=f"station:{stations[unit].pk}",
            station=stations[unit],
            serial=serial,
            clock_offset_seconds=offset,
        )
        DockingSession.objects.filter(pk=docking.pk).update(started_at=at)
    _finding(1, "clock_drift", "C3.2", tree["squad1"], people["officer"], "open")
    _finding(2, "late_collection", "C5.1", tree["squad1"], people["officer"], "confirmed")
    _finding(3, "no_recording", "C2.1", tree["brigade"], people["officer"], "open")
    return {"a1": a1, "a2": a2, "a3": a3}
