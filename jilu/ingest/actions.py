"""Every state change of docking sessions, uploads, recordings at ingest and quarantine.

One function per change, ``transaction.atomic``, keyword-only ``actor``, the
audit row in the same transaction. Stations act as ``"station:<id>:<name>"``.

Attribution of a verified file is a chain of small checks (``CHECKS``): the
first that objects sends the file to quarantine with its reason; a file that
passes them all becomes a :class:`~jilu.evidence.models.Recording` of the
recorder named in its file name, held at that time by the officer the holder
history names (C1.3), started at the name's time corrected by the docking's
clock offset (C3.2), and flagged when it reached a workstation more than 24
hours after it was made (C5.1).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jilu.audit.chain import record
from jilu.devices import actions as device_actions
from jilu.devices.models import Recorder, Workstation
from jilu.devices.queries import holder_at
from jilu.evidence.models import Recording, StoredObject
from jilu.evidence.tasks import enqueue_processing
from jilu.ingest import naming, spool
from jilu.ingest.models import DockingSession, QuarantineItem, Upload
from jilu.org.models import Person, Unit

# C5.1: recordings reach a workstation within 24 hours.
COLLECTION_DEADLINE = timedelta(hours=24)
PROGRESS_STATES = ("found", "spooled", "uploading", "verified", "wiped", "failed")


def station_actor(station: Workstation) -> str:
    return f"station:{station.pk}:{station.name}"


def upload_expiry() -> timedelta:
    return timedelta(days=getattr(settings, "TUS_EXPIRY_DAYS", 7))


def _person(actor: Any) -> Person | None:
    return actor if isinstance(actor, Person) else None


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
) -> DockingSession:
    """A recorder volume arrived at ``station``: note what it reported and who held it.

    The battery, storage and clock readings are recorded as device checks
    (C1.4, C3.2) on a known recorder. A reading the device could not really
    have (battery 130 %) is kept on the session as reported, noted in
    ``reading_problem``, and not made a check; so are readings the station
    could not parse (``reading_problems``). The docking goes on, because the
    files must be taken in regardless.
    """
    now = timezone.now()
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
) -> DockingSession:
    """The station is done with the volume; its counts are kept as it reports them.

    Finishing again (a station that restarted) updates the counts.
    """
    session = DockingSession.objects.select_for_update().get(pk=session.pk)
    again = session.finished_at is not None
    session.files_found = files_found
    session.files_ingested = files_verified
    session.files_already_present = files_already_present
    session.files_flagged = files_flagged
    session.files_failed = files_failed
    session.finished_at = timezone.now()
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


# --- uploads --------------------------------------------------------------


@transaction.atomic
def create_upload(
    *,
    actor: Any,
    station: Workstation | None,
    person: Person | None,
    docking: DockingSession | None,
    length: int,
    filename: str,
    sha256: str,
    sm3: str,
    mtime: datetime | None = None,
    metadata_raw: str = "",
) -> Upload:
    upload = Upload.objects.create(
        id=uuid.uuid4(),
        station=station,
        person=person,
        docking=docking,
        length=length,
        filename=filename,
        sha256=sha256,
        sm3=sm3,
        mtime=mtime,
        metadata_raw=metadata_raw,
        expires_at=timezone.now() + upload_expiry(),
    )
    record(
        "ingest.upload.create",
        actor=actor,
        obj=upload,
        details={
            "filename": filename,
            "length": length,
            "sha256": sha256,
            "sm3": sm3,
            "docking": docking.pk if docking else None,
        },
    )
    return upload


def advance_upload(*, upload: Upload, old_offset: int, new_offset: int) -> bool:
    """Acknowledge bytes up to ``new_offset`` (already fsynced to the spool).

    A compare-and-set on the offset and state: False when the upload moved on
    meanwhile (terminated, expired). Per-chunk progress writes no audit row;
    the upload's creation and outcome do.
    """
    updated = Upload.objects.filter(
        pk=upload.pk, offset=old_offset, state=Upload.State.RECEIVING
    ).update(
        offset=new_offset,
        expires_at=timezone.now() + upload_expiry(),
        updated_at=timezone.now(),
    )
    if updated:
        upload.offset = new_offset
    return bool(updated)


@transaction.atomic
def reject_upload(*, actor: Any, upload: Upload, detail: str) -> Upload:
    """The received bytes are not what the station declared: discard them (nothing visible)."""
    upload = Upload.objects.select_for_update().get(pk=upload.pk)
    if upload.state != Upload.State.RECEIVING:
        return upload
    upload.state = Upload.State.FAILED
    upload.failure = detail
    upload.finished_at = timezone.now()
    upload.save(update_fields=["state", "failure", "finished_at", "updated_at"])
    record(
        "ingest.upload.reject",
        actor=actor,
        obj=upload,
        details={
            "filename": upload.filename,
            "declared_sha256": upload.sha256,
            "declared_sm3": upload.sm3,
            "detail": detail,
        },
    )
    transaction.on_commit(lambda: spool.remove(upload.pk))
    return upload


@transaction.atomic
def terminate_upload(*, actor: Any, upload: Upload) -> Upload:
    """tus termination: the client gives up an unfinished upload."""
    upload = Upload.objects.select_for_update().get(pk=upload.pk)
    if upload.state == Upload.State.COMPLETE:
        raise ValidationError("已入库的上传不能删除：证据一经入库不可删除")
    if upload.state != Upload.State.RECEIVING:
        return upload
    upload.state = Upload.State.TERMINATED
    upload.finished_at = timezone.now()
    upload.save(update_fields=["state", "finished_at", "updated_at"])
    record(
        "ingest.upload.terminate",
        actor=actor,
        obj=upload,
        details={"filename": upload.filename, "offset": upload.offset, "length": upload.length},
    )
    transaction.on_commit(lambda: spool.remove(upload.pk))
    return upload


def expire_uploads(*, actor: Any = "system:ingest", now: datetime | None = None) -> int:
    """tus expiration: give up unfinished uploads idle past their ``expires_at``.

    Also removes spool files left behind by uploads that ended (a crash
    between the end and the file's removal); returns how many uploads expired.
    """
    now = now or timezone.now()
    count = 0
    ids = list(
        Upload.objects.filter(state=Upload.State.RECEIVING, expires_at__lt=now).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        if expire_upload(actor=actor, upload_id=pk, now=now):
            count += 1
    remove_spool_leftovers(now=now)
    return count


def remove_spool_leftovers(
    *, now: datetime | None = None, min_age: timedelta = timedelta(hours=1)
) -> int:
    """Delete partial files of uploads that are no longer receiving (or never existed).

    Only files untouched for ``min_age``; the bytes of a completed upload are in
    the store, those of an ended one were never acknowledged as evidence. No
    audit row: the upload's end was audited when it happened.
    """
    now = now or timezone.now()
    cutoff = (now - min_age).timestamp()
    files: dict[str, Path] = {}
    for path in spool.uploads_dir().glob("*.part"):
        try:
            if path.stat().st_mtime < cutoff:
                files[path.stem] = path
        except FileNotFoundError:
            continue
    if not files:
        return 0
    receiving = {
        pk.hex
        for pk in Upload.objects.filter(
            pk__in=[uuid.UUID(stem) for stem in files if _is_uuid(stem)],
            state=Upload.State.RECEIVING,
        ).values_list("pk", flat=True)
    }
    removed = 0
    for stem, path in files.items():
        if stem not in receiving:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@transaction.atomic
def expire_upload(*, actor: Any, upload_id: uuid.UUID, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    upload = Upload.objects.select_for_update().get(pk=upload_id)
    if upload.state != Upload.State.RECEIVING or upload.expires_at >= now:
        return False
    upload.state = Upload.State.EXPIRED
    upload.finished_at = now
    upload.save(update_fields=["state", "finished_at", "updated_at"])
    record(
        "ingest.upload.expire",
        actor=actor,
        obj=upload,
        details={"filename": upload.filename, "offset": upload.offset, "length": upload.length},
    )
    transaction.on_commit(lambda: spool.remove(upload.pk))
    return True


@transaction.atomic
def complete_upload(*, actor: Any, upload: Upload, stored: StoredObject) -> Upload:
    """The upload's bytes are verified in the store: attribute them and close the upload.

    The recording (or quarantine item), the upload's completion and their
    audit rows are one transaction. Idempotent: a completed upload is answered
    as it is.
    """
    upload = (
        Upload.objects.select_for_update(of=("self",))
        .select_related("docking", "docking__station", "station", "person")
        .get(pk=upload.pk)
    )
    if upload.state == Upload.State.COMPLETE:
        return upload
    if upload.state != Upload.State.RECEIVING:
        raise ValidationError(f"上传已{upload.get_state_display()}，不能完成")
    station = upload.station or (upload.docking.station if upload.docking else None)
    outcome = attribute_file(
        actor=actor,
        stored=stored,
        filename=upload.filename,
        docking=upload.docking,
        station=station,
        unit=_responsible_unit(station, upload.person),
        mtime=upload.mtime,
    )
    upload.state = Upload.State.COMPLETE
    upload.offset = upload.length
    upload.finished_at = timezone.now()
    upload.recording = outcome.recording
    upload.quarantine = outcome.quarantine
    upload.save()
    record(
        "ingest.upload.complete",
        actor=actor,
        obj=upload,
        details={
            "filename": upload.filename,
            "sha256": stored.sha256,
            "sm3": stored.sm3,
            "size": stored.size,
            "docking": upload.docking_id,
            "recording": outcome.recording.pk if outcome.recording else None,
            "quarantine": outcome.quarantine.pk if outcome.quarantine else None,
            "new": outcome.created,
        },
    )
    return upload


def _responsible_unit(station: Workstation | None, person: Person | None) -> Unit:
    if station is not None:
        return station.unit
    if person is not None and person.unit_id:
        return person.unit
    root = Unit.objects.filter(parent__isnull=True).order_by("pk").first()
    if root is None:
        raise ValidationError("系统中还没有单位，无法登记待处理文件")
    return root


# --- attribution: a chain of checks ---------------------------------------


@dataclass
class FileFacts:
    """What is known about one verified file when it is attributed."""

    stored: StoredObject
    filename: str
    docking: DockingSession | None
    parsed: naming.ParsedName | None = None
    recorder: Recorder | None = None


@dataclass(frozen=True)
class Problem:
    reason: str  # QuarantineItem.Reason
    text: str


def check_zero_byte(f: FileFacts) -> Problem | None:
    if f.stored.size == 0:
        return Problem(
            QuarantineItem.Reason.ZERO_BYTE,
            "文件大小为 0 字节：记录仪没有写入任何数据（可能录制被中断或设备故障）。"
            "请核实设备并登记故障，或核实后结案。",
        )
    return None


def check_info(f: FileFacts) -> Problem | None:
    if f.docking is not None and f.docking.info_problem:
        return Problem(
            QuarantineItem.Reason.INFO_MISSING,
            f"对接时记录仪信息文件（ZFY_INFO.json）不可用：{f.docking.info_problem}。"
            "无法确认记录仪与时钟偏差，请人工核实后归属。",
        )
    return None


def check_name(f: FileFacts) -> Problem | None:
    f.parsed = naming.parse(f.filename)
    if f.parsed is None:
        return Problem(
            QuarantineItem.Reason.BAD_NAME,
            f"文件名“{naming.basename(f.filename)}”不符合“产品序号_警号_年月日时分秒_序号."
            "MP4/MOV/WAV/JPG”的命名规范，无法确定记录仪与录制时间，请人工归属。",
        )
    return None


def check_serial_matches_docking(f: FileFacts) -> Problem | None:
    assert f.parsed is not None
    if f.docking is not None and f.docking.serial and f.parsed.serial != f.docking.serial:
        return Problem(
            QuarantineItem.Reason.SERIAL_MISMATCH,
            f"文件名中的产品序号 {f.parsed.serial} 与对接的记录仪 {f.docking.serial} 不符"
            "（文件可能是从其他设备复制而来），请人工核实后归属。",
        )
    return None


def check_recorder_known(f: FileFacts) -> Problem | None:
    assert f.parsed is not None
    f.recorder = Recorder.objects.filter(serial=f.parsed.serial).first()
    if f.recorder is None:
        return Problem(
            QuarantineItem.Reason.UNKNOWN_SERIAL,
            f"产品序号为 {f.parsed.serial} 的记录仪未在系统登记。请登记该记录仪"
            "（登记后自动归属），或人工归属到已登记的记录仪。",
        )
    return None


# Order matters: later checks rely on what earlier ones established (the parsed
# name), and an unknown serial comes last so that registering the recorder is
# all such a file still needs.
CHECKS: list[Callable[[FileFacts], Problem | None]] = [
    check_zero_byte,
    check_info,
    check_name,
    check_serial_matches_docking,
    check_recorder_known,
]


@dataclass(frozen=True)
class Outcome:
    recording: Recording | None
    quarantine: QuarantineItem | None
    created: bool


def attribute_file(
    *,
    actor: Any,
    stored: StoredObject,
    filename: str,
    docking: DockingSession | None,
    station: Workstation | None,
    unit: Unit,
    mtime: datetime | None = None,
) -> Outcome:
    """Make a verified file a recording, or put it in quarantine with the first reason.

    Must run inside the caller's transaction (it writes audit rows).
    """
    facts = FileFacts(stored=stored, filename=filename, docking=docking)
    for check in CHECKS:
        problem = check(facts)
        if problem is not None:
            item, created = _quarantine(
                actor=actor,
                stored=stored,
                filename=filename,
                serial=(
                    facts.parsed.serial if facts.parsed else (docking.serial if docking else "")
                ),
                docking=docking,
                station=station,
                unit=unit,
                problem=problem,
                mtime=mtime,
            )
            if item.recording_id:
                return Outcome(item.recording, item, created)
            return Outcome(None, item, created)
    assert facts.parsed is not None and facts.recorder is not None
    offset = docking.clock_offset_seconds if docking is not None else None
    started_at = facts.parsed.corrected_start(offset)
    officer = holder_at(facts.recorder, started_at)
    recording, created = make_recording(
        actor=actor,
        stored=stored,
        recorder=facts.recorder,
        officer=officer,
        user_no_in_name=facts.parsed.user_no,
        user_no_mismatch=officer is None or (officer.user_no or "").upper() != facts.parsed.user_no,
        kind=facts.parsed.kind,
        original_name=filename,
        name_start_local=facts.parsed.start_local,
        clock_offset_seconds=offset,
        started_at=started_at,
        station=station,
        docking=docking,
        docked_at=docking.started_at if docking is not None else timezone.now(),
    )
    return Outcome(recording, None, created)


def make_recording(
    *,
    actor: Any,
    stored: StoredObject,
    recorder: Recorder,
    officer: Person | None,
    user_no_in_name: str,
    user_no_mismatch: bool,
    kind: str,
    original_name: str,
    name_start_local: datetime | None,
    clock_offset_seconds: float | None,
    started_at: datetime,
    station: Workstation | None,
    docking: DockingSession | None,
    docked_at: datetime,
    via: str = "ingest",
) -> tuple[Recording, bool]:
    """The recording of ``stored`` from ``recorder``; the existing one if already held.

    Must run inside the caller's transaction. The unique (recorder, sha256)
    constraint settles a race between two uploads of the same bytes: the
    loser answers the winner's recording.
    """
    existing = Recording.objects.filter(recorder=recorder, sha256=stored.sha256).first()
    if existing is None:
        try:
            with transaction.atomic():
                recording = Recording.objects.create(
                    stored_object=stored,
                    recorder=recorder,
                    officer=officer,
                    user_no_in_name=user_no_in_name,
                    user_no_mismatch=user_no_mismatch,
                    kind=kind,
                    original_name=original_name,
                    name_start_local=name_start_local,
                    clock_offset_seconds=clock_offset_seconds,
                    started_at=started_at,
                    size=stored.size,
                    sha256=stored.sha256,
                    sm3=stored.sm3,
                    station=station,
                    docking=docking,
                    docked_at=docked_at,
                    # C5.1: end unknown until probing; the start is the stricter stand-in.
                    collected_within_24h=docked_at - started_at <= COLLECTION_DEADLINE,
                )
        except IntegrityError:
            existing = Recording.objects.get(recorder=recorder, sha256=stored.sha256)
        else:
            record(
                "ingest.recording.create",
                actor=actor,
                obj=recording,
                details={
                    "via": via,
                    "sha256": stored.sha256,
                    "sm3": stored.sm3,
                    "size": stored.size,
                    "recorder": recorder.serial,
                    "officer": officer.pk if officer else None,
                    "user_no_in_name": user_no_in_name,
                    "user_no_mismatch": user_no_mismatch,
                    "original_name": original_name,
                    "started_at": started_at.isoformat(),
                    "clock_offset_seconds": clock_offset_seconds,
                    "docking": docking.pk if docking else None,
                    "station": station.pk if station else None,
                    "collected_within_24h": recording.collected_within_24h,
                },
            )
            # Media processing (probe, integrity, pictures) starts once this commits.
            enqueue_processing(recording.pk)
            return recording, True
    # C6.5.3: the same bytes arriving again are noted, never stored as a second recording.
    record(
        "ingest.recording.again",
        actor=actor,
        obj=existing,
        details={
            "via": via,
            "original_name": original_name,
            "docking": docking.pk if docking else None,
            "station": station.pk if station else None,
        },
    )
    return existing, False


def _quarantine(
    *,
    actor: Any,
    stored: StoredObject,
    filename: str,
    serial: str,
    docking: DockingSession | None,
    station: Workstation | None,
    unit: Unit,
    problem: Problem,
    mtime: datetime | None,
) -> tuple[QuarantineItem, bool]:
    existing = QuarantineItem.objects.filter(stored_object=stored, original_name=filename).first()
    if existing is None:
        try:
            with transaction.atomic():
                item = QuarantineItem.objects.create(
                    stored_object=stored,
                    sha256=stored.sha256,
                    sm3=stored.sm3,
                    size=stored.size,
                    original_name=filename,
                    serial=serial[:32],
                    docking=docking,
                    station=station,
                    unit=unit,
                    reason=problem.reason,
                    reason_text=problem.text,
                    mtime=mtime,
                )
        except IntegrityError:
            existing = QuarantineItem.objects.get(stored_object=stored, original_name=filename)
        else:
            record(
                "ingest.quarantine.create",
                actor=actor,
                obj=item,
                details={
                    "sha256": stored.sha256,
                    "size": stored.size,
                    "original_name": filename,
                    "serial": item.serial,
                    "reason": problem.reason,
                    "reason_text": problem.text,
                    "docking": docking.pk if docking else None,
                },
            )
            return item, True
    record(
        "ingest.quarantine.again",
        actor=actor,
        obj=existing,
        details={"original_name": filename, "docking": docking.pk if docking else None},
    )
    return existing, False


# --- resolving quarantine (administrators) --------------------------------


def _open_item(item: QuarantineItem) -> QuarantineItem:
    item = (
        QuarantineItem.objects.select_for_update(of=("self",))
        .select_related("docking", "station", "stored_object")
        .get(pk=item.pk)
    )
    if not item.is_open:
        raise ValidationError(
            f"该文件已于 {timezone.localtime(item.resolved_at):%Y-%m-%d %H:%M} 处理"
        )
    return item


@transaction.atomic
def attribute_quarantined(
    *,
    actor: Person,
    item: QuarantineItem,
    recorder: Recorder,
    officer: Person | None = None,
    started_at: datetime | None = None,
    kind: str | None = None,
    note: str = "",
    resolution: str = QuarantineItem.Resolution.ATTRIBUTED,
) -> Recording:
    """Attribute a quarantined file by hand to ``recorder`` (and ``officer``).

    ``started_at`` is the true start time when the administrator gives it;
    otherwise the file name's time corrected by the docking's clock offset.
    The officer defaults to the holder history's (C1.3); naming another, or
    a name whose user number differs, sets the mismatch flag.
    """
    item = _open_item(item)
    if item.size == 0:
        raise ValidationError("零字节文件没有任何内容，不能作为声像记录；请核实后结案")
    parsed = naming.parse(item.original_name)
    docking = item.docking
    offset = docking.clock_offset_seconds if docking is not None else None
    if started_at is None:
        if parsed is None:
            raise ValidationError("文件名中没有录制时间，请填写录制开始时间")
        started_at = parsed.corrected_start(offset)
    else:
        offset = None  # the administrator gave the true time
    if started_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError("录制开始时间晚于当前时间，请核对")
    from_history = holder_at(recorder, started_at)
    officer = officer or from_history
    user_no_in_name = parsed.user_no if parsed else ""
    mismatch = (
        officer is None
        or officer != from_history
        or bool(user_no_in_name and user_no_in_name != (officer.user_no or "").upper())
    )
    note = (note or "").strip()
    recording, created = make_recording(
        actor=actor,
        stored=item.stored_object,
        recorder=recorder,
        officer=officer,
        user_no_in_name=user_no_in_name,
        user_no_mismatch=mismatch,
        kind=kind or (parsed.kind if parsed else naming.kind_for(item.original_name)),
        original_name=item.original_name,
        name_start_local=parsed.start_local if parsed else None,
        clock_offset_seconds=offset,
        started_at=started_at,
        station=item.station,
        docking=docking,
        docked_at=docking.started_at if docking is not None else item.created_at,
        via="quarantine",
    )
    item.resolved_at = timezone.now()
    item.resolved_by = _person(actor)
    item.resolution = resolution
    item.resolution_note = note
    item.recording = recording
    item.save(
        update_fields=["resolved_at", "resolved_by", "resolution", "resolution_note", "recording"]
    )
    record(
        "ingest.quarantine.attribute",
        actor=actor,
        obj=item,
        details={
            "reason": item.reason,
            "resolution": resolution,
            "recording": recording.pk,
            "recording_created": created,
            "recorder": recorder.serial,
            "officer": officer.pk if officer else None,
            "holder_from_history": from_history.pk if from_history else None,
            "started_at": started_at.isoformat(),
            "note": note,
        },
    )
    return recording


@transaction.atomic
def register_and_attribute(
    *,
    actor: Person,
    item: QuarantineItem,
    unit: Unit,
    vendor: str = "",
    model: str = "",
    holder: Person | None = None,
    holder_since: datetime | None = None,
    note: str = "",
) -> list[Recording]:
    """Register the unknown recorder a file names, then attribute every open
    unknown-serial file of that serial (C1.3: with ``holder`` as its holder
    from ``holder_since``, by default the earliest of those files' start)."""
    item = _open_item(item)
    parsed = naming.parse(item.original_name)
    if item.reason != QuarantineItem.Reason.UNKNOWN_SERIAL or parsed is None:
        raise ValidationError("只有“未登记的记录仪序号”的文件可以通过登记记录仪来归属")
    serial = parsed.serial
    pending = list(
        QuarantineItem.objects.select_for_update(of=("self",))
        .filter(
            reason=QuarantineItem.Reason.UNKNOWN_SERIAL, serial=serial, resolved_at__isnull=True
        )
        .select_related("docking", "stored_object")
        .order_by("created_at")
    )
    recorder = device_actions.register_recorder(
        actor=actor, serial=serial, unit=unit, vendor=vendor, model=model
    )
    if holder is not None:
        if holder_since is None:
            starts = []
            for other in pending:
                p = naming.parse(other.original_name)
                if p is not None:
                    off = other.docking.clock_offset_seconds if other.docking else None
                    starts.append(p.corrected_start(off))
            holder_since = min(starts) if starts else timezone.now()
        device_actions.issue_recorder(
            actor=actor,
            recorder=recorder,
            person=holder,
            at=holder_since,
            note=f"登记待处理文件的记录仪时配发；{note}".rstrip("；"),
        )
    recordings = [
        attribute_quarantined(
            actor=actor,
            item=other,
            recorder=recorder,
            note=note,
            resolution=QuarantineItem.Resolution.REGISTERED,
        )
        for other in pending
    ]
    return recordings


@transaction.atomic
def close_quarantined(*, actor: Person, item: QuarantineItem, note: str) -> QuarantineItem:
    """Close an item without making it a recording (e.g. a zero-byte file); the bytes stay."""
    item = _open_item(item)
    note = (note or "").strip()
    if not note:
        raise ValidationError("结案必须说明核实情况")
    item.resolved_at = timezone.now()
    item.resolved_by = _person(actor)
    item.resolution = QuarantineItem.Resolution.CLOSED
    item.resolution_note = note
    item.save(update_fields=["resolved_at", "resolved_by", "resolution", "resolution_note"])
    record(
        "ingest.quarantine.close",
        actor=actor,
        obj=item,
        details={"reason": item.reason, "sha256": item.sha256, "note": note},
    )
    return item
