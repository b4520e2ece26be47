"""Disc capacities, the split of a case across discs, and the names each file
gets in the ISO 9660 and Joliet namespaces (C5.5).

Rock Ridge and UDF carry the full record-list names (序号 + standard name,
C5.3/C5.4), Chinese included. Joliet stores at most 64 UCS-2 characters per
name, so a longer name gets a shortened one that keeps the record-list number
and the extension and is unique in its directory; plain ISO 9660 gets an
8.3 name of d-characters, also unique.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SECTOR = 2048
# Nominal capacities in bytes (what burning software counts as 4.7 / 8.5 / 25 GB).
CAPACITIES = {"dvd": 4_700_000_000, "dvd-dl": 8_500_000_000, "bd": 25_000_000_000}
DISC_LABELS = {"dvd": "DVD（4.7 GB）", "dvd-dl": "DVD DL（8.5 GB）", "bd": "BD（25 GB）"}
# ISO 9660 + Joliet + Rock Ridge + UDF descriptors, path tables and root directories.
FIXED_OVERHEAD = 1024 * 1024
# Per file: directory records in four namespaces, a UDF file entry, padding.
PER_FILE_OVERHEAD = 4 * SECTOR
JOLIET_MAX = 64
UDF_MAX_BYTES = 254

_NOT_DCHAR = re.compile(r"[^A-Z0-9_]+")
_UNDERSCORES = re.compile(r"_+")


class DoesNotFit(ValueError):
    """A single file is larger than what one disc of the chosen kind holds."""


def capacity_of(disc: str) -> int:
    try:
        return CAPACITIES[disc]
    except KeyError:
        raise ValueError(
            f"未知的光盘类型 {disc!r}：可选 {', '.join(CAPACITIES)}（unknown disc type)"
        ) from None


def on_disc(size: int) -> int:
    """Bytes a file of ``size`` takes on the disc (whole sectors) plus its records."""
    return -(-size // SECTOR) * SECTOR + PER_FILE_OVERHEAD


@dataclass
class Plan:
    """Which items (indexes into the caller's list) go on which disc."""

    discs: list[list[int]] = field(default_factory=list)


def plan_discs(
    sizes: Sequence[int], *, capacity: int, shared_bytes: int, names: Sequence[str] = ()
) -> Plan:
    """Fill discs in record-list order, so each disc holds consecutive rows.

    ``shared_bytes`` is what every disc carries besides its recordings (the
    record list, index page, manifests): it and the file-system overhead are
    reserved on each disc.
    """
    room = capacity - FIXED_OVERHEAD - on_disc(shared_bytes)
    plan = Plan()
    used = room + 1  # forces a first disc
    for i, size in enumerate(sizes):
        need = on_disc(size)
        if need > room:
            name = names[i] if i < len(names) else f"#{i + 1}"
            raise DoesNotFit(
                f"文件 {name}（{size} 字节）大于一张光盘的可用容量（{max(room, 0)} 字节）；"
                "请选择更大容量的光盘类型（--disc dvd-dl 或 bd）。"
            )
        if used + need > room:
            plan.discs.append([])
            used = 0
        plan.discs[-1].append(i)
        used += need
    if not plan.discs:
        plan.discs.append([])
    return plan


def _split_ext(name: str) -> tuple[str, str]:
    if "." in name.lstrip("."):
        stem, ext = name.rsplit(".", 1)
        return stem, "." + ext
    return name, ""


def _fit_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def joliet_names(names: Iterable[str]) -> dict[str, str]:
    """Full name → Joliet name: unique (case-insensitively) and at most 64 characters.

    pycdlib counts the 64 in UTF-8 bytes, not UCS-2 characters, so a shortened
    name keeps at most 64 bytes (about 21 Chinese characters): the record-list
    number and the start of the name, ``~`` (and a number if needed), the extension.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        candidate = name
        if len(candidate.encode("utf-8")) > JOLIET_MAX or candidate.lower() in taken:
            stem, ext = _split_ext(name)
            ext = _fit_utf8(ext, 8)
            n = 0
            while True:
                suffix = "~" if n == 0 else f"~{n}"
                keep = JOLIET_MAX - len(ext.encode("utf-8")) - len(suffix)
                candidate = _fit_utf8(stem, keep).rstrip(" .") + suffix + ext
                if candidate.lower() not in taken:
                    break
                n += 1
        taken.add(candidate.lower())
        out[name] = candidate
    return out


def _dchars(text: str) -> str:
    return _UNDERSCORES.sub("_", _NOT_DCHAR.sub("_", text.upper())).strip("_")


def iso9660_names(names: Iterable[str], *, directory: bool = False) -> dict[str, str]:
    """Full name → ISO 9660 level-1 style name (8.3 d-characters, unique)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        stem, ext = (name, "") if directory else _split_ext(name)
        base = _dchars(stem) or ("DIR" if directory else "FILE")
        ext3 = _dchars(ext)[:3]
        n = 0
        while True:
            suffix = "" if n == 0 else f"_{n}"  # "~" is not a d-character
            candidate = base[: 8 - len(suffix)] + suffix
            if candidate not in taken:
                break
            n += 1
        taken.add(candidate)
        out[name] = candidate if directory else f"{candidate}.{ext3}"
    return out


def udf_len(name: str) -> int:
    """Bytes of ``name`` as a UDF d-string (OSTA compressed Unicode, 8 or 16 bits)."""
    width = 1 if all(ord(c) < 256 for c in name) else 2
    return 1 + width * len(name)


def udf_names(names: Iterable[str]) -> dict[str, str]:
    """Full name → UDF name: the full name unless it exceeds UDF's 254 bytes."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        candidate = name
        if udf_len(candidate) > UDF_MAX_BYTES or candidate in taken:
            stem, ext = _split_ext(name)
            n = 0
            while True:
                suffix = "~" if n == 0 else f"~{n}"
                cut = len(stem)
                candidate = stem + suffix + ext
                while udf_len(candidate) > UDF_MAX_BYTES and cut > 0:
                    cut -= 1
                    candidate = stem[:cut] + suffix + ext
                if candidate not in taken:
                    break
                n += 1
        taken.add(candidate)
        out[name] = candidate
    return out
