"""Attribution of a verified file: the chain of checks, recordings and quarantine.

Attribution of a verified file is a chain of small checks (``CHECKS``): the
first that objects sends the file to quarantine with its reason; a file that
passes them all becomes a :class:`~jilu.evidence.models.Recording` of the
recorder named in its file name, held at that time by the officer the holder
history names (C1.3), started at the name's time corrected by the docking's
clock offset (C3.2), and flagged when it reached a workstation more than 24
hours after it was made (C5.1). Callers import these through
:mod:`jilu.ingest.actions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jilu.audit.chain import record
from jilu.devices.models import Recorder, Workstation
from jilu.devices.queries import holder_at
from jilu.evidence.deadlines import COLLECTION_DEADLINE
from jilu.evidence.hooks import keep_until_changed
from jilu.evidence.models import Recording, StoredObject
from jilu.evidence.tasks import enqueue_processing
from jilu.ingest import naming
from jilu.ingest.models import DockingSession, QuarantineItem
from jilu.org.models import Person, Unit

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
            # C5.6: kept at least a year from the start; the keep-until is written now.
            keep_until_changed([recording.pk])
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
