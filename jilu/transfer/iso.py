"""One ISO image per disc from its bag directory, with pycdlib.

ISO 9660 (interchange level 3, so a recording over 4 GiB may span extents)
with 8.3 names, Joliet with names of at most 64 characters, Rock Ridge and
UDF 2.60 with the full record-list names. Files are added by path: pycdlib
opens each one only while writing it and copies it in ``BLOCKSIZE`` pieces,
so no recording is ever held in memory.

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
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pycdlib
from pycdlib.utils import encode_space_pad

from jilu.transfer.bag import no_space
from jilu.transfer.discs import iso9660_names, joliet_names, udf_names

BLOCKSIZE = 4 * 1024 * 1024
APP_IDENT = "JILU CASE DISC PACKAGE"
_ASCII_RUNS = re.compile(r"[A-Z0-9]+")
ISO9660_VOLUME_MAX = 32  # d-characters (ECMA-119 8.4.6)
JOLIET_VOLUME_MAX = 16  # UCS-2 characters in the same 32 bytes
UDF_VOLUME_MAX = 30  # Latin-1 characters in a dstring[32] (ECMA-167 1/7.2.12)
VOLUME_PREFIX = "JILU"
TAG_LEN = 4  # hex digits of the case number's SHA-256
_D_CHARS = re.compile(r"[A-Z0-9_]+")


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
    ids = VolumeIds(iso9660=iso9660, joliet=joliet, udf=joliet)
    assert _D_CHARS.fullmatch(ids.iso9660) and len(ids.iso9660) <= ISO9660_VOLUME_MAX
    assert _D_CHARS.fullmatch(ids.joliet) and len(ids.joliet) <= JOLIET_VOLUME_MAX
    assert len(ids.udf) <= UDF_VOLUME_MAX
    return ids


def volume_ident(case_number: str, disc_no: int) -> str:
    """The ISO 9660 volume identifier (≤ 32 d-characters) of the disc."""
    return volume_idents(case_number, disc_no).iso9660


def _layout(root: Path) -> tuple[list[tuple[str, str, str, str]], list[IsoEntry]]:
    """Directories (iso, joliet, rr, udf paths) and files under ``root``, parents first."""
    dirs: list[tuple[str, str, str, str]] = []
    files: list[IsoEntry] = []

    def walk(path: Path, iso: str, joliet: str, rr: str, udf: str) -> None:
        children = sorted(path.iterdir(), key=lambda p: (not p.is_dir(), p.name))
        sub_dirs = [c.name for c in children if c.is_dir()]
        plain = [c.name for c in children if not c.is_dir()]
        iso_dir = iso9660_names(sub_dirs, directory=True)
        iso_file = iso9660_names(plain)
        jol = joliet_names(sub_dirs + plain)
        udf_map = udf_names(sub_dirs + plain)
        for child in children:
            name = child.name
            if child.is_dir():
                spec = (
                    f"{iso}/{iso_dir[name]}",
                    f"{joliet}/{jol[name]}",
                    f"{rr}/{name}",
                    f"{udf}/{udf_map[name]}",
                )
                dirs.append(spec)
                walk(child, *spec)
            else:
                files.append(
                    IsoEntry(
                        rel=child.relative_to(root).as_posix(),
                        iso_path=f"{iso}/{iso_file[name]};1",
                        joliet_path=f"{joliet}/{jol[name]}",
                        rr_path=f"{rr}/{name}",
                        udf_path=f"{udf}/{udf_map[name]}",
                        size=child.stat().st_size,
                    )
                )

    walk(root, "", "", "", "")
    return dirs, files


def write_iso(
    root: Path,
    dest: Path,
    *,
    volume: VolumeIds,
    created: float,
    progress: Callable[[int], None] | None = None,
) -> IsoResult:
    """Write the tree under ``root`` to the ISO image ``dest`` (streaming).

    The image is written to ``<dest>.part`` and renamed to ``dest`` only once
    complete, so an interrupted or failed write never leaves an image that
    could pass for a disc.
    """
    dirs, files = _layout(root)
    part = dest.with_name(dest.name + ".part")
    iso = pycdlib.PyCdlib()
    try:
        _write(iso, dirs, files, root, part, volume, created, progress)
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


def _write(iso, dirs, files, root, dest, volume: VolumeIds, created, progress) -> None:
    # pycdlib's new() puts one identifier into the primary descriptor, the
    # Joliet one and all UDF ones; give it the one that fits everywhere
    # (Joliet, ≤ 16) and then put the longer ISO 9660 one into the primary
    # descriptor with pycdlib's own padding (the field is 32 a/d-characters).
    iso.new(
        interchange_level=3,
        joliet=3,
        rock_ridge="1.09",
        udf="2.60",
        vol_ident=volume.joliet,
        app_ident_str=APP_IDENT,
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
            creation_time=created,
        )
    last = [0]

    def report(done: int, _total: int) -> None:
        if progress is not None and done > last[0]:
            progress(done - last[0])
            last[0] = done

    iso.write(str(dest), blocksize=BLOCKSIZE, progress_cb=report)
