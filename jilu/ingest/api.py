"""Station API (docs/station-protocol.md §2, §3, §5, §6): docking sessions and "do you hold this?".

Only workstation tokens reach these handlers; a person's token gets 403.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Literal

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from jilu.devices.models import Workstation
from jilu.evidence.models import Recording, StoredObject
from jilu.ingest import actions
from jilu.ingest.models import DockingSession, QuarantineItem
from jilu.org.api_types import ByteCount, Count, Error, Id

router = Router(tags=["ingest"])

HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def require_station(request: HttpRequest) -> Workstation:
    station = getattr(request, "station", None)
    if not isinstance(station, Workstation):
        raise HttpError(403, "此接口需要工作站令牌")
    return station


def _own_docking(station: Workstation, docking_id: int) -> DockingSession:
    session = DockingSession.objects.filter(pk=docking_id, station=station).first()
    if session is None:
        raise HttpError(404, f"对接会话 {docking_id} 不存在或不属于本工作站")
    return session


class DockingIn(Schema):
    serial: str | None = ""
    user_no: str | None = ""
    user_name: str | None = ""
    unit_no: str | None = ""
    unit_name: str | None = ""
    # Clocks are taken as text and parsed here: a device that reports a
    # malformed clock must not stop its files from being taken in.
    device_clock: str | None = None
    station_clock: str | None = None
    clock_offset_seconds: float | None = None
    # Bounds only keep the database safe; impossible readings are noted, not refused.
    battery_pct: int | None = Field(None, ge=-30000, le=30000)
    storage_free_bytes: int | None = Field(None, ge=-(2**62), le=2**62)
    storage_total_bytes: int | None = Field(None, ge=-(2**62), le=2**62)
    files_found: int = Field(0, ge=0, le=2**31 - 1)
    info_problem: str | None = ""


class HolderOut(Schema):
    name: str
    user_no: str | None


class DockingOut(Schema):
    id: int
    recorder_known: bool
    holder: HolderOut | None


class FinishIn(Schema):
    files_found: Count = 0
    files_verified: Count = 0
    files_already_present: Count = 0
    files_flagged: Count = 0
    files_failed: Count = 0


class FinishOut(Schema):
    id: int
    finished_at: datetime
    files_found: int
    files_verified: int
    files_already_present: int
    files_flagged: int
    files_failed: int
    recordings: int
    quarantined: int


class ProgressFile(Schema):
    name: str = Field(..., max_length=255)
    size: ByteCount = 0
    done: ByteCount = 0
    state: Literal["found", "spooled", "uploading", "verified", "wiped", "failed"]


class ProgressIn(Schema):
    files: list[ProgressFile] = Field(..., max_length=20000)


class ProgressOut(Schema):
    id: int
    files: int


class FileOut(Schema):
    sha256: str
    sm3: str
    size: int
    recording_id: int | None
    quarantine_id: int | None


def _clock(value: str | None, what: str, problems: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"{what}“{value[:40]}”不是 ISO 8601 时间")
        return None
    if timezone.is_naive(parsed):
        problems.append(f"{what}“{value[:40]}”缺少时区")
        return None
    return parsed


@router.post("/station/dockings", response={201: DockingOut, 403: Error})
def open_docking(request: HttpRequest, body: DockingIn):
    """Open a docking session for one recorder volume (§2)."""
    station = require_station(request)
    problems: list[str] = []
    device_clock = _clock(body.device_clock, "设备时钟", problems)
    station_clock = _clock(body.station_clock, "工作站时钟", problems)
    offset = body.clock_offset_seconds
    if offset is not None and not math.isfinite(offset):
        problems.append("时钟偏差不是有限的秒数")
        offset = None
    session = actions.open_docking(
        actor=actions.station_actor(station),
        station=station,
        serial=body.serial or "",
        user_no=body.user_no or "",
        user_name=body.user_name or "",
        unit_no=body.unit_no or "",
        unit_name=body.unit_name or "",
        device_clock=device_clock,
        station_clock=station_clock,
        clock_offset_seconds=offset,
        battery_pct=body.battery_pct,
        storage_free_bytes=body.storage_free_bytes,
        storage_total_bytes=body.storage_total_bytes,
        files_found=body.files_found,
        info_problem=body.info_problem or "",
        reading_problems=problems,
    )
    holder = session.holder
    return Status(
        201,
        DockingOut(
            id=session.pk,
            recorder_known=session.recorder_id is not None,
            holder=HolderOut(name=holder.name, user_no=holder.user_no) if holder else None,
        ),
    )


@router.post(
    "/station/dockings/{docking_id}/finish", response={200: FinishOut, 403: Error, 404: Error}
)
def finish_docking(request: HttpRequest, docking_id: Id, body: FinishIn):
    """Close the docking session with the station's counts (§5)."""
    station = require_station(request)
    session = actions.finish_docking(
        actor=actions.station_actor(station),
        session=_own_docking(station, docking_id),
        files_found=body.files_found,
        files_verified=body.files_verified,
        files_already_present=body.files_already_present,
        files_flagged=body.files_flagged,
        files_failed=body.files_failed,
    )
    return FinishOut(
        id=session.pk,
        finished_at=session.finished_at,
        files_found=session.files_found,
        files_verified=session.files_ingested,
        files_already_present=session.files_already_present,
        files_flagged=session.files_flagged,
        files_failed=session.files_failed,
        recordings=session.recordings.count(),
        quarantined=session.quarantine_items.count(),
    )


@router.post(
    "/station/dockings/{docking_id}/progress", response={200: ProgressOut, 403: Error, 404: Error}
)
def docking_progress(request: HttpRequest, docking_id: Id, body: ProgressIn):
    """Per-file progress for the workstation page (§6)."""
    station = require_station(request)
    session = actions.report_progress(
        actor=actions.station_actor(station),
        session=_own_docking(station, docking_id),
        files=[f.dict() for f in body.files],
    )
    return ProgressOut(id=session.pk, files=len(body.files))


@router.get("/station/files/{sha256}", response={200: FileOut, 400: Error, 403: Error, 404: Error})
def held_file(request: HttpRequest, sha256: str, serial: str = ""):
    """Does the server hold these bytes verified, as a recording or in quarantine (§3)?

    The station wipes a file from the recorder only after this answers 200
    with the same SHA-256, SM3 and size. With ``serial`` the question is about
    that recorder's file: the same bytes held for another recorder (every empty
    file is alike) do not count, so each recorder's recording reaches the server
    (C2.1: a missing recording must stay visible).
    """
    require_station(request)
    if not HEX64.match(sha256):
        return Status(400, Error(detail="不是有效的 SHA-256（应为64位十六进制）"))
    sha256 = sha256.lower()
    stored = StoredObject.objects.filter(sha256=sha256).first()
    if stored is None:
        return Status(404, Error(detail="服务器没有这些字节"))
    recordings = Recording.objects.filter(sha256=sha256)
    items = QuarantineItem.objects.filter(sha256=sha256)
    serial = serial.strip().upper()
    if serial:
        # That recorder's file: named for it, or taken from its docked volume
        # (a file on the volume naming another recorder is quarantined as such).
        recordings = recordings.filter(Q(recorder__serial=serial) | Q(docking__serial=serial))
        items = items.filter(Q(serial__iexact=serial) | Q(docking__serial__iexact=serial))
    recording = recordings.order_by("pk").first()
    item = items.order_by("pk").first()
    if recording is None and item is None:
        return Status(404, Error(detail="服务器有这些字节，但它们不属于任何声像记录或待处理文件"))
    if recording is None and item.recording_id:
        recording = item.recording
    return Status(
        200,
        FileOut(
            sha256=stored.sha256,
            sm3=stored.sm3,
            size=stored.size,
            recording_id=recording.pk if recording else None,
            quarantine_id=item.pk if item else None,
        ),
    )
