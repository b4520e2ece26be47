"""One ISO image per disc from its bag directory, with pycdlib.

ISO 9660 (interchange level 3, so a recording over 4 GiB may span extents)
with 8.3 names, Joliet with names of at most 64 characters, Rock Ridge and
UDF 2.60 with the full record-list names. Files are added by path: pycdlib
opens each one only while writing it and copies it in ``BLOCKSIZE`` pieces,
so no recording is ever held in memory.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pycdlib

from jilu.transfer.bag import no_space
from jilu.transfer.discs import iso9660_names, joliet_names, udf_names

BLOCKSIZE = 4 * 1024 * 1024
APP_IDENT = "JILU CASE DISC PACKAGE"
_VOL_CHARS = re.compile(r"[^A-Z0-9_]+")


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


def volume_ident(case_number: str, disc_no: int) -> str:
    """A d-character volume identifier (≤ 32): ``JILU_<ascii of case>_D01``."""
    ascii_part = _VOL_CHARS.sub("_", case_number.upper()).strip("_")[:20]
    return f"JILU_{ascii_part}_D{disc_no:02d}".replace("__", "_")[:32]


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
    volume: str,
    created: float,
    progress: Callable[[int], None] | None = None,
) -> IsoResult:
    """Write the tree under ``root`` to the ISO image ``dest`` (streaming)."""
    dirs, files = _layout(root)
    iso = pycdlib.PyCdlib()
    iso.new(
        interchange_level=3,
        joliet=3,
        rock_ridge="1.09",
        udf="2.60",
        vol_ident=volume,
        app_ident_str=APP_IDENT,
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

    try:
        iso.write(str(dest), blocksize=BLOCKSIZE, progress_cb=report)
    except OSError as exc:
        dest.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise no_space(dest.parent) from exc
        raise
    finally:
        iso.close()
    return IsoResult(path=dest, size=os.path.getsize(dest), entries=files)
