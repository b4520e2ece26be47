"""Rules on equipment: the readings at docking (C3.2 clock, C1.4 battery and
storage), loss and damage (C6.5.5, C6.5.6), and once a day the state of the
equipment (C1.1 officers without a recorder, C1.2 units without a
workstation, C1.4 recorders not checked for too long)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef

from jilu.devices import queries as device_queries
from jilu.devices.models import DeviceEvent, Holding, Recorder
from jilu.ingest.models import DockingSession
from jilu.oversight import engine, periods
from jilu.oversight.actions import SYSTEM, Fact, Subject, note_finding


def _recorder(recorder: Recorder) -> Subject:
    return Subject("recorder", recorder.pk, recorder.serial)


def run_dockings(values: dict, now: datetime) -> int:
    drift = values["clock_drift_seconds"]
    battery = values["low_battery_pct"]
    storage = values["low_storage_pct"]

    def handle(rows: list[DockingSession]) -> None:
        for session in rows:
            common = {
                "actor": SYSTEM,
                "subject": _recorder(session.recorder),
                "period": periods.day(session.started_at),
                "unit": session.recorder.unit,
                "person": session.holder,
            }
            offset = session.clock_offset_seconds
            if offset is not None and abs(offset) > drift:  # C3.2
                note_finding(
                    rule="clock_drift",
                    facts=[
                        Fact(
                            "docking", session.pk, session.started_at, {"offset": round(offset, 1)}
                        )
                    ],
                    **common,
                )
            pct = session.battery_pct
            if pct is not None and 0 <= pct <= 100 and pct < battery:  # C1.4
                note_finding(
                    rule="low_battery",
                    facts=[Fact("docking", session.pk, session.started_at, {"battery_pct": pct})],
                    **common,
                )
            free, total = session.storage_free_bytes, session.storage_total_bytes
            if free is not None and total and 0 <= free <= total and free * 100 < storage * total:
                note_finding(
                    rule="low_storage",
                    facts=[
                        Fact(
                            "docking",
                            session.pk,
                            session.started_at,
                            {"free_pct": round(free * 100 / total, 1)},
                        )
                    ],
                    **common,
                )

    return engine.by_rows(
        "dockings",
        lambda: DockingSession.objects.filter(recorder__isnull=False).select_related(
            "recorder__unit", "holder"
        ),
        handle,
    )


def run_incidents(values: dict, now: datetime) -> int:
    """C6.5.5, C6.5.6: each loss or damage reported; the holder at the time answers."""
    rules = {DeviceEvent.Kind.LOSS: "recorder_lost", DeviceEvent.Kind.DAMAGE: "recorder_damaged"}

    def handle(rows: list[DeviceEvent]) -> None:
        for event in rows:
            holder = device_queries.holder_at(event.recorder, event.at) or event.reported_by
            note_finding(
                actor=SYSTEM,
                rule=rules[event.kind],
                subject=_recorder(event.recorder),
                period=periods.day(event.at),
                unit=event.recorder.unit,
                person=holder,
                facts=[Fact("device_event", event.pk, event.at, {"note": event.note[:200]})],
            )

    return engine.by_rows(
        "device_events",
        lambda: DeviceEvent.objects.filter(kind__in=list(rules)).select_related(
            "recorder__unit", "reported_by"
        ),
        handle,
    )


def run_daily(values: dict, now: datetime) -> int:
    """Once a local day: the equipment as it stands (C1.1, C1.2, C1.4). These
    judge a state, not new rows, so they look at the whole (small) equipment
    tables once a day rather than at history."""
    today = periods.last_midnight(now)
    days = values["check_interval_days"]

    def handle(start: datetime, end: datetime) -> None:
        if end != today:  # days missed while nothing ran: judge the state once, now
            return
        month = periods.month(now)
        for person in device_queries.officers_without_recorder(None).filter(unit__isnull=False):
            note_finding(
                actor=SYSTEM,
                rule="no_recorder",
                subject=Subject("officer", person.pk, str(person)),
                period=month,
                unit=person.unit,
                person=None,
                facts=[
                    Fact(
                        "person",
                        person.pk,
                        end,
                        {"day": periods.local(end - timedelta(seconds=1)).date().isoformat()},
                    )
                ],
            )
        for unit in device_queries.units_without_workstation(None):
            note_finding(
                actor=SYSTEM,
                rule="no_workstation",
                subject=Subject("unit", unit.pk, unit.name),
                period=month,
                unit=unit,
                person=None,
                facts=[
                    Fact(
                        "unit",
                        unit.pk,
                        end,
                        {"day": periods.local(end - timedelta(seconds=1)).date().isoformat()},
                    )
                ],
            )
        since = end - timedelta(days=days)
        checked = DeviceEvent.objects.filter(
            recorder=OuterRef("pk"), kind__in=DeviceEvent.CHECK_KINDS, at__gte=since
        )
        stale = (
            Recorder.objects.filter(status=Recorder.Status.IN_SERVICE, registered_at__lt=since)
            .exclude(Exists(checked))
            .select_related("unit")
        )
        for recorder in stale:
            holding = (
                Holding.objects.filter(recorder=recorder, ended_at__isnull=True)
                .select_related("person")
                .first()
            )
            last = device_queries.last_check_at(recorder)
            note_finding(
                actor=SYSTEM,
                rule="not_checked",
                subject=_recorder(recorder),
                period=month,
                unit=recorder.unit,
                person=holding.person if holding else None,
                facts=[
                    Fact(
                        "recorder",
                        recorder.pk,
                        end,
                        {
                            "serial": recorder.serial,
                            "last_check": last.isoformat() if last else None,
                        },
                    )
                ],
            )

    return engine.by_window("daily", today, handle, first=lambda: today - engine.WINDOW_STEP)
