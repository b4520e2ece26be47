"""One ISO image per disc from its bag directory, with pycdlib.

ISO 9660 (interchange level 3, so a recording over 4 GiB may span extents)
with 8.3 names, and Joliet, Rock Ridge and UDF with the names the package
settled before writing (:func:`jilu.transfer.discs.disc_names`): every one of
these three views shows the same name for each file, so ``index.html`` links
and the bag's manifests hold whichever view a reader uses. A name one view
cannot hold is refused here (:class:`NameDoesNotFit`), never cut in that view
alone. Files are added by path: pycdlib opens each one only while writing it
and copies it in ``BLOCKSIZE`` pieces, so no recording is ever held in memory.

What pycdlib writes, and what is corrected here:

* Joliet allows 64 UCS-2 characters per name; pycdlib counts the 64 in bytes
  of UTF-8 (21 Chinese characters), so :class:`_DiscImage` counts UCS-2 units
  instead;
* UDF is revision 1.02 (pycdlib's ``udf="2.60"`` is the name of its option;
  its descriptors say 1.02 and ``udfinfo`` reads ``udfrev=1.02``). Files get
  plain File Entries (an Extended File Entry, which a creation time would
  bring, is UDF 2.00 and later);
* pycdlib writes UDF time zones in units of 15 minutes (the ISO 9660 unit),
  where UDF counts minutes, which put UDF times 7 h 28 min off for Beijing
  time; every date of every record (ISO 9660, Joliet, Rock Ridge, UDF) is set
  here to the package's creation time, each in its own unit;
* the volume set: disc n of m of a case has volume set size m and sequence
  number n (ISO 9660 and Joliet), and a volume set identifier common to the
  case's discs. Each disc still holds a complete file system and bag of its
  own; UDF keeps one volume per disc.

Volume identifiers (C5.5: the discs of a case must be told apart) are made
from the case number by :func:`volume_idents`, one per namespace, because
each has its own limit:

* ISO 9660 primary volume descriptor: at most 32 d-characters (A–Z 0–9 _);
* Joliet supplementary descriptor: the same 32 bytes in UCS-2, so at most 16
  characters;
* UDF: pycdlib writes the identifier given to ``PyCdlib.new`` into every UDF
  identifier field; the shortest are dstring[32] (volume and file-set
  identifier: a compression byte, the text, a length byte), i.e. at most 30
  Latin-1 or 15 UCS-2 characters. UDF gets the Joliet identifier (≤ 16 ASCII
  characters), which fits, so Windows (UDF) and Joliet readers show the same
  label.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
import struct
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pycdlib
from pycdlib import dates as pycdlib_dates
from pycdlib import udf as pycdlib_udf
from pycdlib import utils as pycdlib_utils
from pycdlib.pycdlibexception import PyCdlibInvalidInput
from pycdlib.utils import encode_space_pad

from jilu.transfer.bag import PackageError, no_space
from jilu.transfer.discs import JOLIET_MAX, fits_every_view, iso9660_names, ucs2_len

BLOCKSIZE = 4 * 1024 * 1024
APP_IDENT = "JILU CASE DISC PACKAGE"
_ASCII_RUNS = re.compile(r"[A-Z0-9]+")
ISO9660_VOLUME_MAX = 32  # d-characters (ECMA-119 8.4.6)
JOLIET_VOLUME_MAX = 16  # UCS-2 characters in the same 32 bytes
UDF_VOLUME_MAX = 30  # Latin-1 characters in a dstring[32] (ECMA-167 1/7.2.12)
VOLUME_PREFIX = "JILU"
TAG_LEN = 4  # hex digits of the case number's SHA-256
_D_CHARS = re.compile(r"[A-Z0-9_]+")


class NameDoesNotFit(PackageError):
    """A file name that Joliet, Rock Ridge or UDF cannot hold unchanged."""


@dataclass
class IsoEntry:
    """Where one file of the bag sits in each namespace of the image."""

    rel: str
    iso_path: str
    joliet_path: str
    rr_path: str
    udf_path: str
    size: int = 0


@dataclass
class IsoResult:
    path: Path
    size: int
    entries: list[IsoEntry] = field(default_factory=list)


@dataclass(frozen=True)
class VolumeIds:
    """The volume identifier of one disc in each namespace of its image."""

    iso9660: str
    joliet: str
    udf: str
    volume_set: str = ""  # ISO 9660 / Joliet volume set identifier, the same on every disc


def _tail(runs: list[str], budget: int) -> str:
    """The last ASCII runs of the case number (where its serial number is) within ``budget``."""
    out: list[str] = []
    for run in reversed(runs):
        cost = len(run) + (1 if out else 0)
        if cost > budget:
            if not out:  # one run longer than the budget: keep its end
                out.append(run[-budget:] if budget > 0 else "")
            break
        out.insert(0, run)
        budget -= cost
    return "_".join(p for p in out if p)


def volume_idents(case_number: str, disc_no: int) -> VolumeIds:
    """Valid, distinct volume identifiers for disc ``disc_no`` of the case (C5.5).

    Each is ``[JILU_]<ASCII runs of the case number>_<tag>_D01``: the runs
    of letters and digits in the number (full-width ones folded to ASCII,
    cut from the left when too long, because the serial number is at the
    end), a tag of four hex digits of the number's SHA-256 (so that
    ``厦思城执罚〔2026〕001号`` and ``2026-001`` differ, and a number
    without any ASCII still gets one), and the disc number, which is never
    cut. Any case number, however long, gives identifiers within the limits.
    """
    normal = unicodedata.normalize("NFKC", case_number.strip())
    runs = _ASCII_RUNS.findall(normal.upper())
    tag = hashlib.sha256(normal.encode("utf-8")).hexdigest()[:TAG_LEN].upper()
    disc = f"D{disc_no:02d}"

    long_part = _tail(runs, ISO9660_VOLUME_MAX - len(VOLUME_PREFIX) - len(tag) - len(disc) - 3)
    iso9660 = "_".join(p for p in (VOLUME_PREFIX, long_part, tag, disc) if p)
    short_part = _tail(runs, JOLIET_VOLUME_MAX - len(tag) - len(disc) - 2) or VOLUME_PREFIX
    joliet = "_".join((short_part, tag, disc))
    if len(joliet) > JOLIET_VOLUME_MAX:  # more than 9999 discs: only tag and disc remain
        joliet = f"{tag}_{disc}"[-JOLIET_VOLUME_MAX:]
    volume_set = "_".join(p for p in (VOLUME_PREFIX, long_part, tag) if p)
    ids = VolumeIds(iso9660=iso9660, joliet=joliet, udf=joliet, volume_set=volume_set)
    assert _D_CHARS.fullmatch(ids.iso9660) and len(ids.iso9660) <= ISO9660_VOLUME_MAX
    assert _D_CHARS.fullmatch(ids.joliet) and len(ids.joliet) <= JOLIET_VOLUME_MAX
    assert len(ids.udf) <= UDF_VOLUME_MAX
    return ids


def volume_ident(case_number: str, disc_no: int) -> str:
    """The ISO 9660 volume identifier (≤ 32 d-characters) of the disc."""
    return volume_idents(case_number, disc_no).iso9660


def _checked(path: Path, root: Path) -> str:
    name = path.name
    if not fits_every_view(name):
        raise NameDoesNotFit(
            f"文件名 {path.relative_to(root).as_posix()} 超出光盘文件系统的限制"
            f"（Joliet 每个名称最多 {JOLIET_MAX} 个字符），未写入光盘映像。"
        )
    return name


def _layout(root: Path) -> tuple[list[tuple[str, str, str, str]], list[IsoEntry]]:
    """Directories (iso, joliet, rr, udf paths) and files under ``root``, parents first.

    Joliet, Rock Ridge and UDF carry each name as it is; only the ISO 9660
    view gets 8.3 names. Every name is checked before anything is written.
    """
    dirs: list[tuple[str, str, str, str]] = []
    files: list[IsoEntry] = []

    def walk(path: Path, iso: str, full: str) -> None:
        children = sorted(path.iterdir(), key=lambda p: (not p.is_dir(), p.name))
        for child in children:
            _checked(child, root)
        seen: dict[str, str] = {}
        for child in children:  # Joliet and Windows readers ignore case
            other = seen.setdefault(child.name.lower(), child.name)
            if other != child.name:
                raise NameDoesNotFit(f"{other} 与 {child.name} 只有大小写不同，光盘上无法区分。")
        iso_dir = iso9660_names([c.name for c in children if c.is_dir()], directory=True)
        iso_file = iso9660_names([c.name for c in children if not c.is_dir()])
        for child in children:
            name = child.name
            if child.is_dir():
                spec = (
                    f"{iso}/{iso_dir[name]}",
                    f"{full}/{name}",
                    f"{full}/{name}",
                    f"{full}/{name}",
                )
                dirs.append(spec)
                walk(child, spec[0], spec[1])
            else:
                files.append(
                    IsoEntry(
                        rel=child.relative_to(root).as_posix(),
                        iso_path=f"{iso}/{iso_file[name]};1",
                        joliet_path=f"{full}/{name}",
                        rr_path=f"{full}/{name}",
                        udf_path=f"{full}/{name}",
                        size=child.stat().st_size,
                    )
                )

    walk(root, "", "")
    return dirs, files


class _DiscImage(pycdlib.PyCdlib):
    """pycdlib with Joliet's limit counted as the specification says: 64 UCS-2
    characters per name (pycdlib counts 64 bytes of UTF-8)."""

    def _joliet_name_and_parent_from_path(self, joliet_path):
        parts = pycdlib_utils.split_path(joliet_path)
        name = parts.pop().decode("utf-8")
        if ucs2_len(name) > JOLIET_MAX:
            raise PyCdlibInvalidInput(f"Joliet names can be a maximum of {JOLIET_MAX} characters")
        parent = self._find_joliet_record(b"/" + b"/".join(parts))
        return name.encode("utf-16_be"), parent


def _pycdlib_objects(root: object) -> Iterator[object]:
    """Every pycdlib object reachable from ``root`` (descriptors, records, dates), once."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if obj is None or isinstance(obj, (str, bytes, bytearray, int, float)) or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
            continue
        if isinstance(obj, dict):
            stack.extend(obj.values())
            continue
        if obj is not root and not type(obj).__module__.startswith("pycdlib"):
            continue
        yield obj
        names: list[str] = []
        for klass in type(obj).__mro__:
            names.extend(getattr(klass, "__slots__", ()))
        names.extend(getattr(obj, "__dict__", {}))
        stack.extend(getattr(obj, n, None) for n in names)


def set_times(image: pycdlib.PyCdlib, when: datetime) -> int:
    """Set every date of every record in the image to ``when`` (an aware time).

    ISO 9660 and Rock Ridge count the offset from UTC in 15-minute units, UDF
    in minutes; the date and time are ``when``'s own wall clock (Beijing time
    for a package made in Xiamen). Dates left unspecified (a volume's
    expiration) stay so. Returns how many dates were set.
    """
    offset = when.utcoffset()
    if offset is None:
        raise ValueError("set_times needs a time with its UTC offset")
    minutes = int(offset.total_seconds() // 60)
    quarters = minutes // 15
    count = 0
    for obj in _pycdlib_objects(image):
        if not getattr(obj, "_initialized", False):
            continue
        if isinstance(obj, pycdlib_dates.DirectoryRecordDate):
            obj.years_since_1900 = when.year - 1900
            obj.month, obj.day_of_month = when.month, when.day
            obj.hour, obj.minute, obj.second = when.hour, when.minute, when.second
            obj.gmtoffset = quarters
        elif isinstance(obj, pycdlib_dates.VolumeDescriptorDate):
            if obj.date_str == pycdlib_dates.VolumeDescriptorDate.EMPTY_STRING:
                continue
            obj.year, obj.month, obj.dayofmonth = when.year, when.month, when.day
            obj.hour, obj.minute, obj.second = when.hour, when.minute, when.second
            obj.hundredthsofsecond = 0
            obj.gmtoffset = quarters
            obj.date_str = when.strftime("%Y%m%d%H%M%S00").encode() + struct.pack("=b", quarters)
        elif isinstance(obj, pycdlib_udf.UDFTimestamp):
            obj.year, obj.month, obj.day = when.year, when.month, when.day
            obj.hour, obj.minute, obj.second = when.hour, when.minute, when.second
            obj.centiseconds = obj.hundreds_microseconds = obj.microseconds = 0
            obj.tz = minutes
            obj.timetype = 1  # local time, with its offset in tz
        else:
            continue
        count += 1
    return count


def write_iso(
    root: Path,
    dest: Path,
    *,
    volume: VolumeIds,
    created: datetime,
    disc_no: int = 1,
    disc_count: int = 1,
    progress: Callable[[int], None] | None = None,
) -> IsoResult:
    """Write the tree under ``root`` to the ISO image ``dest`` (streaming).

    ``created`` (an aware time) is every file's and directory's date in every
    view; the image is disc ``disc_no`` of ``disc_count`` of the volume set.
    Raises :class:`NameDoesNotFit` before writing anything when a name does
    not fit every view. The image is written to ``<dest>.part`` and renamed to ``dest`` only once
    complete, so an interrupted or failed write never leaves an image that
    could pass for a disc.
    """
    if not 1 <= disc_no <= disc_count:
        raise ValueError(f"disc {disc_no} of {disc_count}")
    dirs, files = _layout(root)
    part = dest.with_name(dest.name + ".part")
    iso = _DiscImage()
    try:
        _write(iso, dirs, files, root, part, volume, created, (disc_no, disc_count), progress)
        os.replace(part, dest)
    except BaseException as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise no_space(dest.parent) from exc
        raise
    finally:
        with contextlib.suppress(pycdlib.pycdlibexception.PyCdlibInvalidInput):
            iso.close()  # refused when new() itself failed: nothing to close
    return IsoResult(path=dest, size=os.path.getsize(dest), entries=files)


def _write(iso, dirs, files, root, dest, volume: VolumeIds, created, disc, progress) -> None:
    disc_no, disc_count = disc
    # pycdlib's new() puts one identifier into the primary descriptor, the
    # Joliet one and all UDF ones; give it the one that fits everywhere
    # (Joliet, ≤ 16) and then put the longer ISO 9660 one into the primary
    # descriptor with pycdlib's own padding (the field is 32 a/d-characters).
    # udf="2.60" is pycdlib's only UDF option; what it writes is UDF 1.02.
    iso.new(
        interchange_level=3,
        joliet=3,
        rock_ridge="1.09",
        udf="2.60",
        vol_ident=volume.joliet,
        app_ident_str=APP_IDENT,
        set_size=disc_count,
        seqnum=disc_no,
        vol_set_ident=volume.volume_set or volume.iso9660,
    )
    iso.pvd.volume_identifier = encode_space_pad(
        volume.iso9660.encode("ascii"), ISO9660_VOLUME_MAX, "ascii"
    )
    for iso_path, joliet_path, rr_path, udf_path in dirs:
        iso.add_directory(
            iso_path,
            rr_name=rr_path.rsplit("/", 1)[-1],
            joliet_path=joliet_path,
            udf_path=udf_path,
            file_mode=stat.S_IFDIR | 0o555,
        )
    for entry in files:
        iso.add_file(
            str(root / entry.rel),
            iso_path=entry.iso_path,
            rr_name=entry.rr_path.rsplit("/", 1)[-1],
            joliet_path=entry.joliet_path,
            udf_path=entry.udf_path,
            file_mode=stat.S_IFREG | 0o444,
        )
    set_times(iso, created)
    last = [0]

    def report(done: int, _total: int) -> None:
        if progress is not None and done > last[0]:
            progress(done - last[0])
            last[0] = done

    iso.write(str(dest), blocksize=BLOCKSIZE, progress_cb=report)
