"""State changes of docking sessions: a recorder volume arriving at a station.

One function per change, ``transaction.atomic``, keyword-only ``actor``, the
audit row in the same transaction. Stations act as ``"station:<id>:<name>"``.
Callers import these through :mod:`jilu.ingest.actions`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jilu.audit.chain import record
from jilu.devices import actions as device_actions
from jilu.devices.models import Recorder, Workstation
from jilu.devices.queries import holder_at
from jilu.ingest.models import DockingSession

PROGRESS_STATES = ("found", "spooled", "uploading", "verified", "wiped", "failed")


def station_actor(station: Workstation) -> str:
    return f"station:{station.pk}:{station.name}"


# --- docking sessions -----------------------------------------------------


@transaction.atomic
def open_docking(
    *,
    actor: Any,
    station: Workstation,
    serial: str = "",
    user_no: str = "",
    user_name: str = "",
    unit_no: str = "",
    unit_name: str = "",
    device_clock: datetime | None = None,
    station_clock: datetime | None = None,
    clock_offset_seconds: float | None = None,
    battery_pct: int | None = None,
    storage_free_bytes: int | None = None,
    storage_total_bytes: int | None = None,
    files_found: int = 0,
    info_problem: str = "",
    reading_problems: list[str] | None = None,
    at: datetime | None = None,
) -> DockingSession:
    """A recorder volume arrived at ``station``: note what it reported and who held it.

    The battery, storage and clock readings are recorded as device checks
    (C1.4, C3.2) on a known recorder. A reading the device could not really
    have (battery 130 %) is kept on the session as reported, noted in
    ``reading_problem``, and not made a check; so are readings the station
    could not parse (``reading_problems``). The docking goes on, because the
    files must be taken in regardless.

    ``at`` is when the volume arrived, for a docking written down afterwards
    (a workstation's own log taken over); now by default.
    """
    now = at or timezone.now()
    serial = (serial or "").strip().upper()
    if clock_offset_seconds is None and device_clock is not None and station_clock is not None:
        clock_offset_seconds = (device_clock - station_clock).total_seconds()
    recorder = (
        Recorder.objects.filter(serial=serial).select_related("unit").first() if serial else None
    )
    holder = holder_at(recorder, now) if recorder is not None else None
    session = DockingSession.objects.create(
        station=station,
        recorder=recorder,
        serial=serial[:32],
        user_no=(user_no or "")[:32],
        user_name=(user_name or "")[:50],
        unit_no=(unit_no or "")[:32],
        unit_name=(unit_name or "")[:100],
        holder=holder,
        device_clock=device_clock,
        station_clock=station_clock,
        clock_offset_seconds=clock_offset_seconds,
        battery_pct=battery_pct,
        storage_free_bytes=storage_free_bytes,
        storage_total_bytes=storage_total_bytes,
        files_found=max(0, files_found or 0),
        info_problem=(info_problem or "").strip(),
        started_at=now,
    )
    problems: list[str] = list(reading_problems or [])
    if recorder is not None:
        problems += _record_checks(actor=actor, session=session, recorder=recorder, at=now)
    if problems:
        session.reading_problem = "；".join(problems)
        session.save(update_fields=["reading_problem"])
    record(
        "ingest.docking.open",
        actor=actor,
        obj=session,
        details={
            "station": station.pk,
            "serial": session.serial,
            "recorder": recorder.pk if recorder else None,
            "holder": holder.pk if holder else None,
            "clock_offset_seconds": clock_offset_seconds,
            "battery_pct": battery_pct,
            "storage_free_bytes": storage_free_bytes,
            "storage_total_bytes": storage_total_bytes,
            "files_found": session.files_found,
            "info_problem": session.info_problem,
            "reading_problem": session.reading_problem,
        },
    )
    return session


def _record_checks(
    *, actor: Any, session: DockingSession, recorder: Recorder, at: datetime
) -> list[str]:
    """C1.4 battery and storage, C3.2 clock: one device check per reading present."""
    checks: list[tuple[str, dict[str, Any]]] = []
    if session.battery_pct is not None:
        checks.append(("battery", {"battery_pct": session.battery_pct}))
    if session.storage_free_bytes is not None:
        checks.append(
            (
                "storage",
                {
                    "storage_free_bytes": session.storage_free_bytes,
                    "storage_total_bytes": session.storage_total_bytes,
                },
            )
        )
    if session.clock_offset_seconds is not None:
        checks.append(("clock", {"clock_offset_seconds": session.clock_offset_seconds}))
    problems = []
    for kind, readings in checks:
        try:
            device_actions.record_device_event(
                actor=actor,
                recorder=recorder,
                kind=kind,
                at=at,
                workstation=session.station,
                note=f"对接会话 #{session.pk}",
                **readings,
            )
        except ValidationError as exc:
            problems.append("；".join(exc.messages))
    return problems


@transaction.atomic
def finish_docking(
    *,
    actor: Any,
    session: DockingSession,
    files_found: int,
    files_verified: int,
    files_already_present: int,
    files_flagged: int,
    files_failed: int,
    at: datetime | None = None,
) -> DockingSession:
    """The station is done with the volume; its counts are kept as it reports them.

    Finishing again (a station that restarted) updates the counts. ``at`` as
    for :func:`open_docking`.
    """
    session = DockingSession.objects.select_for_update().get(pk=session.pk)
    again = session.finished_at is not None
    session.files_found = files_found
    session.files_ingested = files_verified
    session.files_already_present = files_already_present
    session.files_flagged = files_flagged
    session.files_failed = files_failed
    session.finished_at = at or timezone.now()
    session.save(
        update_fields=[
            "files_found",
            "files_ingested",
            "files_already_present",
            "files_flagged",
            "files_failed",
            "finished_at",
        ]
    )
    record(
        "ingest.docking.finish",
        actor=actor,
        obj=session,
        details={
            "files_found": files_found,
            "files_verified": files_verified,
            "files_already_present": files_already_present,
            "files_flagged": files_flagged,
            "files_failed": files_failed,
            "again": again,
            "recordings": session.recordings.count(),
            "quarantined": session.quarantine_items.count(),
        },
    )
    return session


def report_progress(*, actor: Any, session: DockingSession, files: list[dict]) -> DockingSession:
    """Keep the station's latest per-file progress for the workstation page.

    Progress is telemetry, replaced every few seconds; it changes no evidence
    and decides nothing, so it writes no audit row (the outcome of each file
    is audited when its upload completes, and the counts when the session
    finishes).
    """
    now = timezone.now()
    clean = [
        {
            "name": str(f.get("name", ""))[:255],
            "size": max(0, int(f.get("size") or 0)),
            "done": max(0, int(f.get("done") or 0)),
            "state": f.get("state") if f.get("state") in PROGRESS_STATES else "found",
        }
        for f in files
    ]
    DockingSession.objects.filter(pk=session.pk).update(
        progress={"files": clean, "at": now.isoformat(), "by": str(actor)}, progress_at=now
    )
    session.progress = {"files": clean, "at": now.isoformat(), "by": str(actor)}
    session.progress_at = now
    return session
