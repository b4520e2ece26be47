"""Recorder file names in the reference layout (DESIGN.md contract 5).

``DCIM/[YYYYMMDD/]<serial>_<user_no>_<YYYYMMDDhhmmss>_<NNNN>.(MP4|MOV|WAV|JPG)``:
the serial (产品序号, 7 characters), the user number (警号, 6 characters), the
device's local wall-clock time when recording started (Asia/Shanghai) and a
sequence number. Other vendors' layouts are the station's business (adapters);
what reaches the server is this name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

DEVICE_TZ = ZoneInfo("Asia/Shanghai")

NAME_RE = re.compile(
    r"^(?P<serial>[0-9A-Za-z]{7})_(?P<user_no>[0-9A-Za-z]{6})_(?P<ts>\d{14})_(?P<seq>\d{4})"
    r"\.(?P<ext>mp4|mov|wav|jpg)$",
    re.IGNORECASE,
)

KIND_BY_EXT = {
    "mp4": "video",
    "mov": "video",
    "avi": "video",
    "mkv": "video",
    "ts": "video",
    "wav": "audio",
    "mp3": "audio",
    "aac": "audio",
    "amr": "audio",
    "m4a": "audio",
    "jpg": "photo",
    "jpeg": "photo",
    "png": "photo",
}


@dataclass(frozen=True)
class ParsedName:
    serial: str
    user_no: str
    start_local: datetime  # aware, Asia/Shanghai: the device's clock, uncorrected
    seq: int
    ext: str  # lower case
    kind: str

    def corrected_start(self, clock_offset_seconds: float | None) -> datetime:
        """C3.2: true start = name time − (device clock − station clock)."""
        return self.start_local - timedelta(seconds=clock_offset_seconds or 0.0)


def basename(filename: str) -> str:
    return PurePosixPath(filename.replace("\\", "/")).name


def kind_for(filename: str) -> str:
    ext = basename(filename).rsplit(".", 1)[-1].lower() if "." in basename(filename) else ""
    return KIND_BY_EXT.get(ext, "other")


def parse(filename: str) -> ParsedName | None:
    """The fields of a conforming name, or None when the name does not conform."""
    m = NAME_RE.match(basename(filename))
    if m is None:
        return None
    try:
        naive = datetime.strptime(m["ts"], "%Y%m%d%H%M%S")
    except ValueError:
        return None  # e.g. month 13: not a time the device could have written
    ext = m["ext"].lower()
    return ParsedName(
        serial=m["serial"].upper(),
        user_no=m["user_no"].upper(),
        start_local=naive.replace(tzinfo=DEVICE_TZ),
        seq=int(m["seq"]),
        ext=ext,
        kind=KIND_BY_EXT[ext],
    )


def problem_with_path(filename: str) -> str:
    """Why a relative path from a station is unacceptable, or "" when it is fine."""
    if not filename or not filename.strip():
        return "文件名为空"
    if len(filename) > 255:
        return "文件名超过255个字符"
    if "\x00" in filename:
        return "文件名含有空字符"
    path = PurePosixPath(filename.replace("\\", "/"))
    if path.is_absolute():
        return "文件名必须是相对于记录仪卷的路径，不能是绝对路径"
    if any(part == ".." for part in path.parts):
        return "文件名不能含有“..”"
    if not path.name:
        return "文件名缺少文件部分"
    return ""
