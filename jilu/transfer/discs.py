"""Disc capacities, the split of a case across discs, and the names files get
on the disc (C5.3, C5.4, C5.5).

Every view of the disc a reader may use shows the same name for a file:
Joliet (older Windows tools), Rock Ridge (Linux) and UDF (current Windows and
macOS). ``index.html`` links and the bag's manifests name files by that name,
so a name that one view cannot hold would break them in that view. The
package therefore settles each file's name on the disc with
:func:`disc_names` before anything is written (the rule is in its docstring
and in ``docs/case-disc.md``); the writer then refuses any name that does not
fit every view rather than cutting it differently in one of them. Only plain
ISO 9660 (for readers that know nothing newer) gets 8.3 names of d-characters.
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
# Joliet: 64 UCS-2 code units per name (a character outside the BMP takes two).
JOLIET_MAX = 64
# UDF: a file identifier of at most 254 bytes (OSTA compressed Unicode, 8 or 16 bits).
UDF_MAX_BYTES = 254
# Rock Ridge as Linux and most archivers read it: 255 bytes of UTF-8.
RR_MAX_BYTES = 255
# Joliet does not allow these in a name (nor control characters).
JOLIET_FORBIDDEN = frozenset("*/:;?\\")
SHORTENED = "~"
# A shortened name keeps this many UCS-2 units of the end of its stem.
KEEP_TAIL = 16
# An extension longer than this is treated as part of the stem.
EXT_MAX = 8

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


def ucs2_len(text: str) -> int:
    """UCS-2 code units of ``text`` as Joliet stores it (two for a character outside the BMP)."""
    return len(text.encode("utf-16-le")) // 2


def _units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _head(text: str, limit: int) -> str:
    """The longest start of ``text`` within ``limit`` UCS-2 units (never half a character)."""
    used = 0
    for i, ch in enumerate(text):
        used += _units(ch)
        if used > limit:
            return text[:i]
    return text


def _tail(text: str, limit: int) -> str:
    """The longest end of ``text`` within ``limit`` UCS-2 units (never half a character)."""
    used = 0
    for i in range(len(text) - 1, -1, -1):
        used += _units(text[i])
        if used > limit:
            return text[i + 1 :]
    return text


def fits_every_view(name: str) -> bool:
    """Whether Joliet, Rock Ridge and UDF can all hold ``name`` unchanged."""
    return (
        bool(name)
        and name not in (".", "..")
        and ucs2_len(name) <= JOLIET_MAX
        and udf_len(name) <= UDF_MAX_BYTES
        and len(name.encode("utf-8")) <= RR_MAX_BYTES
        and not any(ch in JOLIET_FORBIDDEN or ord(ch) < 0x20 for ch in name)
    )


def _name_ext(name: str) -> tuple[str, str]:
    stem, ext = _split_ext(name)
    if ext and ucs2_len(ext) <= EXT_MAX and stem:
        return stem, ext
    return name, ""


def _shorten(stem: str, ext: str, mark: str) -> str:
    """``<start of stem><mark><end of stem><ext>`` within :data:`JOLIET_MAX` units."""
    room = JOLIET_MAX - ucs2_len(ext) - ucs2_len(mark)
    if ucs2_len(stem) <= room:
        return f"{stem}{mark}{ext}"
    tail = _tail(stem, min(KEEP_TAIL, room // 2))
    head = _head(stem, room - ucs2_len(tail)).rstrip(" .")
    return f"{head}{mark}{tail}{ext}"


def disc_names(names: Iterable[str]) -> dict[str, str]:
    """Full name → the name of the file on the disc, the same in every view.

    The rule (also in ``docs/case-disc.md``):

    1. characters Joliet does not allow (``* / : ; ? \\`` and control
       characters) become ``-`` (standard names never contain them, C5.3);
    2. a name of at most 64 UCS-2 units (Joliet's limit; a character outside
       the Basic Multilingual Plane counts two) is kept as it is;
    3. a longer name keeps its extension, its start (the record-list number,
       the unit, the party…) and the last 16 units of its stem (usually the
       date and the inspection content), joined by ``~``, 64 units in all;
    4. a name equal to an earlier one, ignoring case as Windows does, takes
       ``~2``, ``~3``… in place of ``~`` (or before the extension).

    Within a case names begin with distinct record-list numbers, which the
    rule keeps, so rule 4 is a safeguard. The result depends only on the
    names and their order, so the builder and the review check that repeats
    it get the same names.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        clean = "".join(
            "-" if ch in JOLIET_FORBIDDEN or ord(ch) < 0x20 else ch for ch in name
        ).strip(" ")
        stem, ext = _name_ext(clean or "-")
        candidate = stem + ext
        n = 1
        while True:
            if n > 1:
                candidate = _shorten(stem, ext, f"{SHORTENED}{n}")
            elif not fits_every_view(candidate):
                candidate = _shorten(stem, ext, SHORTENED)
            if candidate.lower() not in taken and fits_every_view(candidate):
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
