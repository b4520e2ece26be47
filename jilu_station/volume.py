"""Recorder volumes: what is on a docked recorder, read through a layout adapter.

The reference layout (DESIGN.md contract 5) is::

    VOLUME/ZFY_INFO.json
    VOLUME/DCIM/[YYYYMMDD/]<serial>_<user_no>_<YYYYMMDDhhmmss>_<NNNN>.(MP4|MOV|WAV|JPG)

Other vendors' layouts plug in as further :class:`VolumeAdapter` classes added
to :data:`ADAPTERS`; the station only sees :class:`VolumeInfo` and
:class:`MediaFile`.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol

from jilu_station import safefs

# Device wall clocks are Beijing time; China has had no daylight saving since 1991.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
INFO_NAME = "ZFY_INFO.json"
INFO_MAX_BYTES = 64 * 1024

NAME_RE = re.compile(
    r"^(?P<serial>[A-Za-z0-9]{7})_(?P<user_no>[A-Za-z0-9]{6})_(?P<ts>\d{14})_(?P<seq>\d{4})"
    r"\.(?P<ext>MP4|MOV|WAV|JPG)$",
    re.IGNORECASE,
)
KINDS = {"MP4": "video", "MOV": "video", "WAV": "audio", "JPG": "photo"}


@dataclass(frozen=True)
class VolumeInfo:
    """What the recorder reports about itself at docking (C1.4, C3.2)."""

    serial: str = ""
    user_no: str = ""
    user_name: str = ""
    unit_no: str = ""
    unit_name: str = ""
    device_clock: datetime | None = None
    station_clock: datetime = field(default_factory=lambda: datetime.now(UTC))
    battery_pct: int | None = None
    storage_free_bytes: int | None = None
    storage_total_bytes: int | None = None
    problem: str = ""  # non-empty when the info file is missing or malformed

    @property
    def clock_offset_seconds(self) -> float | None:
        """Device clock minus station clock at the moment the info was read (C3.2)."""
        if self.device_clock is None:
            return None
        return round((self.device_clock - self.station_clock).total_seconds(), 3)

    def docking_payload(self, files_found: int) -> dict[str, Any]:
        """The body of ``POST /api/v1/station/dockings`` (docs/station-protocol.md §2)."""
        return {
            "serial": self.serial,
            "user_no": self.user_no,
            "user_name": self.user_name,
            "unit_no": self.unit_no,
            "unit_name": self.unit_name,
            "device_clock": self.device_clock.isoformat() if self.device_clock else None,
            "station_clock": self.station_clock.astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "clock_offset_seconds": self.clock_offset_seconds,
            "battery_pct": self.battery_pct,
            "storage_free_bytes": self.storage_free_bytes,
            "storage_total_bytes": self.storage_total_bytes,
            "files_found": files_found,
            "info_problem": self.problem,
        }


@dataclass(frozen=True)
class MediaFile:
    """One media file on the volume, as found by the scan."""

    rel_path: str
    size: int
    mtime_ns: int
    serial: str = ""
    user_no: str = ""
    started: datetime | None = None  # device-local wall clock from the name (Beijing time)
    seq: int | None = None
    kind: str = "other"
    name_problem: str = ""  # non-empty when the name does not follow the layout

    @property
    def mtime_iso(self) -> str:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, CHINA).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Flagged:
    """An entry the station refuses to read (symlink, special file …), with the reason."""

    rel_path: str
    reason: str


@dataclass
class Scan:
    info: VolumeInfo
    media: list[MediaFile]
    flagged: list[Flagged]
    adapter: str


class VolumeAdapter(Protocol):
    """A recorder layout. ``detect`` is cheap; ``scan`` never raises for bad content."""

    name: str

    def detect(self, root_fd: int) -> bool: ...

    def scan(self, root_fd: int) -> Scan: ...


class InfoError(ValueError):
    pass


def _text(data: dict[str, Any], key: str, *, required: bool = False, max_len: int = 200) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise InfoError(f"field “{key}” is missing")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InfoError(f"field “{key}” must be text, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > max_len:
        raise InfoError(f"field “{key}” is too long ({len(text)} characters)")
    return text


def _count(data: dict[str, Any], key: str, *, maximum: int | None = None) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InfoError(f"field “{key}” must be a non-negative whole number, got {value!r}")
    if maximum is not None and value > maximum:
        raise InfoError(f"field “{key}” must be at most {maximum}, got {value}")
    return value


def parse_clock(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise InfoError("field “clock” (the device clock, ISO 8601) is missing")
    try:
        clock = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InfoError(f"field “clock” is not an ISO 8601 time: {value!r}") from None
    if clock.tzinfo is None:
        clock = clock.replace(tzinfo=CHINA)  # the device's wall clock is Beijing time
    return clock


def parse_info(raw: bytes, *, station_clock: datetime) -> VolumeInfo:
    """Parse ``ZFY_INFO.json``; raises :class:`InfoError` saying what is wrong."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InfoError(f"{INFO_NAME} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InfoError(f"{INFO_NAME} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise InfoError(f"{INFO_NAME} must hold a JSON object")
    serial = _text(data, "serial", required=True, max_len=32).upper()
    if not re.fullmatch(r"[A-Z0-9]{1,32}", serial):
        raise InfoError(f"field “serial” has unexpected characters: {serial!r}")
    return VolumeInfo(
        serial=serial,
        user_no=_text(data, "user_no", max_len=32),
        user_name=_text(data, "user_name", max_len=100),
        unit_no=_text(data, "unit_no", max_len=32),
        unit_name=_text(data, "unit_name"),
        device_clock=parse_clock(data.get("clock")),
        station_clock=station_clock,
        battery_pct=_count(data, "battery_pct", maximum=100),
        storage_free_bytes=_count(data, "storage_free_bytes"),
        storage_total_bytes=_count(data, "storage_total_bytes"),
    )


def parse_name(rel_path: str, size: int, mtime_ns: int) -> MediaFile:
    name = rel_path.rsplit("/", 1)[-1]
    match = NAME_RE.match(name)
    if match is None:
        return MediaFile(
            rel_path,
            size,
            mtime_ns,
            name_problem=(
                f"name “{name}” does not follow <serial>_<user_no>_<YYYYMMDDhhmmss>_<NNNN>"
                ".(MP4|MOV|WAV|JPG)"
            ),
        )
    try:
        started = datetime.strptime(match["ts"], "%Y%m%d%H%M%S").replace(tzinfo=CHINA)
    except ValueError:
        return MediaFile(
            rel_path, size, mtime_ns, name_problem=f"name “{name}” has an impossible time"
        )
    return MediaFile(
        rel_path,
        size,
        mtime_ns,
        serial=match["serial"].upper(),
        user_no=match["user_no"],
        started=started,
        seq=int(match["seq"]),
        kind=KINDS[match["ext"].upper()],
    )


def _find(root_fd: int, wanted: str) -> str | None:
    """The actual spelling of a top-level name (FAT volumes are case-insensitive)."""
    with os.scandir(root_fd) as it:
        for entry in it:
            if entry.name.upper() == wanted.upper():
                return entry.name
    return None


class ReferenceAdapter:
    """``ZFY_INFO.json`` + ``DCIM/`` (DESIGN.md contract 5)."""

    name = "zfy"

    def detect(self, root_fd: int) -> bool:
        return _find(root_fd, INFO_NAME) is not None or _find(root_fd, "DCIM") is not None

    def read_info(self, root_fd: int) -> VolumeInfo:
        now = datetime.now(UTC)
        name = _find(root_fd, INFO_NAME)
        if name is None:
            return VolumeInfo(station_clock=now, problem=f"{INFO_NAME} is missing")
        try:
            fd = safefs.open_file(root_fd, name)
        except (OSError, safefs.OutsideVolume) as exc:
            return VolumeInfo(station_clock=now, problem=f"{INFO_NAME} cannot be read: {exc}")
        try:
            raw = os.read(fd, INFO_MAX_BYTES + 1)
        finally:
            os.close(fd)
        now = datetime.now(UTC)  # the moment the device clock was read (C3.2)
        if len(raw) > INFO_MAX_BYTES:
            return VolumeInfo(station_clock=now, problem=f"{INFO_NAME} is larger than 64 KiB")
        try:
            return parse_info(raw, station_clock=now)
        except InfoError as exc:
            return VolumeInfo(station_clock=now, problem=str(exc))

    def scan(self, root_fd: int) -> Scan:
        info = self.read_info(root_fd)
        media: list[MediaFile] = []
        flagged: list[Flagged] = []
        dcim = _find(root_fd, "DCIM")
        if dcim is not None:
            try:
                found = list(safefs.walk(root_fd, dcim))
            except safefs.OutsideVolume as exc:
                found = [safefs.Found(dcim, 0, 0, str(exc))]
            for item in found:
                if item.problem:
                    flagged.append(Flagged(item.rel_path, item.problem))
                else:
                    media.append(parse_name(item.rel_path, item.size, item.mtime_ns))
        if info.problem and not info.serial:
            # Protocol §2: the serial is then taken from the file names.
            serials = Counter(m.serial for m in media if m.serial)
            if serials:
                info = replace(info, serial=serials.most_common(1)[0][0])
        return Scan(info=info, media=media, flagged=flagged, adapter=self.name)


ADAPTERS: list[VolumeAdapter] = [ReferenceAdapter()]


def adapter_for(root_fd: int) -> VolumeAdapter | None:
    for adapter in ADAPTERS:
        if adapter.detect(root_fd):
            return adapter
    return None


def scan_volume(root: str | os.PathLike[str]) -> Scan:
    """Scan a mounted volume with the first adapter that recognises it (else the reference one)."""
    root_fd = safefs.open_root(root)
    try:
        adapter = adapter_for(root_fd) or ADAPTERS[0]
        return adapter.scan(root_fd)
    finally:
        os.close(root_fd)
