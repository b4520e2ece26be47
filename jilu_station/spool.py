"""The local spool: each media file is copied once off the recorder, hashed on the way.

The copy reads the volume once; every chunk is written to the spool and fed
to a SHA-256 thread and an SM3 thread at the same time (hashlib releases the
GIL on large updates, so the two hashes run in parallel with the I/O). The
copy is fsynced and renamed to ``objects/<sha256>`` before the journal says
``spooled``. A file that is removed or changed on the volume while it is
being copied is noticed (size and mtime checked again afterwards).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jilu_station import faults, safefs
from jilu_station.journal import Journal, State

CHUNK = 4 * 1024 * 1024
# Start write-back of the spool copy every this many bytes, so the disk writes overlap the
# hashing instead of all waiting for the closing fsync (and dirty pages never pile up).
WRITEBACK_EVERY = 64 * 1024 * 1024
RESERVE = 16 * 1024 * 1024  # keep this much free in the spool (journal, other writers)
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class SpoolFull(Exception):
    """No room in the spool; nothing is wiped, a later run continues."""


class SourceChanged(Exception):
    """The file on the volume changed or vanished while it was being copied."""


class VolumeBusy(Exception):
    """Another station process is ingesting the same volume."""


class DualHasher:
    """SHA-256 and SM3 of one byte stream, each in its own thread."""

    def __init__(self, depth: int = 4) -> None:
        self._hashes = [hashlib.sha256(), hashlib.new("sm3")]
        self._queues: list[queue.Queue[bytes | None]] = [
            queue.Queue(maxsize=depth) for _ in self._hashes
        ]
        self._threads = [
            threading.Thread(target=self._run, args=(h, q), daemon=True, name="hash")
            for h, q in zip(self._hashes, self._queues, strict=True)
        ]
        for t in self._threads:
            t.start()

    @staticmethod
    def _run(h: hashlib._Hash, q: queue.Queue[bytes | None]) -> None:
        while (data := q.get()) is not None:
            h.update(data)

    def update(self, data: bytes) -> None:
        for q in self._queues:
            q.put(data)

    def hexdigests(self) -> tuple[str, str]:
        """(sha256, sm3) of everything fed; ends the threads."""
        for q in self._queues:
            q.put(None)
        for t in self._threads:
            t.join()
        return self._hashes[0].hexdigest(), self._hashes[1].hexdigest()


def hash_file(path: str | os.PathLike[str] | int) -> tuple[str, str, int]:
    """(sha256, sm3, size) of a file by path, or of an open descriptor from its current offset."""
    hasher = DualHasher()
    size = 0
    fd = path if isinstance(path, int) else os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        while data := os.read(fd, CHUNK):
            hasher.update(data)
            size += len(data)
    finally:
        if not isinstance(path, int):
            os.close(fd)
    sha256, sm3 = hasher.hexdigests()
    return sha256, sm3, size


def sha256_of(fd: int) -> str:
    h = hashlib.sha256()
    while data := os.read(fd, CHUNK):
        h.update(data)
    return h.hexdigest()


@dataclass(frozen=True)
class Copied:
    sha256: str
    sm3: str
    size: int
    note: str = ""  # e.g. the file vanished from the volume after it was read whole


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def mib(n: int | float) -> str:
    return f"{n / 1048576:.1f} MiB"


class Spool:
    """``DIR/journal.sqlite3``, ``DIR/objects/<sha256>``, ``DIR/tmp/<entry>.part``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()
        try:
            for sub in ("objects", "tmp", "locks"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            self.journal = Journal(self.root / "journal.sqlite3")
        except OSError as exc:
            if exc.errno in _DISK_FULL:
                raise SpoolFull(self._full_message(0)) from exc
            raise

    def object_path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / "objects" / sha256

    def free_bytes(self) -> int:
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize

    def _full_message(self, needed: int) -> str:
        free = self.free_bytes()
        need = f" ({mib(needed)} needed)" if needed else ""
        return (
            f"the spool disk is full: {self.root} has {mib(free)} free{need}. "
            "Nothing was wiped from the recorder; free space there (or pass another --spool) "
            "and run again: the journal continues where this run stopped."
        )

    @contextmanager
    def volume_lock(self, volume_key: str) -> Iterator[None]:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", volume_key)[:120] or "volume"
        fd = os.open(self.root / "locks" / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise VolumeBusy(
                    f"another jilu-station process is already ingesting {volume_key} "
                    f"with the spool {self.root}"
                ) from None
            yield
        finally:
            os.close(fd)

    def copy_in(
        self,
        root_fd: int,
        rel_path: str,
        *,
        size: int,
        mtime_ns: int,
        entry_id: int,
        on_bytes: Callable[[int], None] = lambda n: None,
    ) -> Copied:
        """Copy one file off the volume into the spool while hashing it (one read pass)."""
        try:
            src = safefs.open_file(root_fd, rel_path)
        except FileNotFoundError:
            raise SourceChanged("removed from the volume before it could be copied") from None
        try:
            st = os.fstat(src)
            if st.st_size != size or st.st_mtime_ns != mtime_ns:
                raise SourceChanged(
                    f"changed on the volume since the scan ({size} → {st.st_size} bytes); "
                    "run again to take the new version"
                )
            if self.free_bytes() < size + RESERVE:
                raise SpoolFull(self._full_message(size + RESERVE))
            os.posix_fadvise(src, 0, 0, os.POSIX_FADV_SEQUENTIAL)
            return self._copy(src, rel_path, size, mtime_ns, st, entry_id, on_bytes, root_fd)
        finally:
            os.close(src)

    def _copy(
        self,
        src: int,
        rel_path: str,
        size: int,
        mtime_ns: int,
        st: os.stat_result,
        entry_id: int,
        on_bytes: Callable[[int], None],
        root_fd: int,
    ) -> Copied:
        part = self.root / "tmp" / f"{entry_id}.part"
        hasher = DualHasher()
        total = flushed = 0
        try:
            out = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                while data := os.read(src, CHUNK):
                    hasher.update(data)
                    faults.reached("spool-write")
                    _write_all(out, data)
                    total += len(data)
                    on_bytes(len(data))
                    if total - flushed >= WRITEBACK_EVERY:
                        # Starts write-back now (the pages stay cached until they are clean).
                        os.posix_fadvise(out, flushed, total - flushed, os.POSIX_FADV_DONTNEED)
                        flushed = total
                    faults.reached("copy-chunk")
                os.fsync(out)
            finally:
                os.close(out)
            sha256, sm3 = hasher.hexdigests()
        except OSError as exc:
            hasher.hexdigests()
            part.unlink(missing_ok=True)
            if exc.errno in _DISK_FULL:
                raise SpoolFull(self._full_message(size + RESERVE)) from exc
            if exc.errno == errno.EIO:
                raise SourceChanged(f"read error on the volume: {exc.strerror}") from exc
            raise
        except BaseException:
            hasher.hexdigests()
            part.unlink(missing_ok=True)
            raise
        note = ""
        try:
            after = os.fstat(src)
            now = safefs.lstat(root_fd, rel_path)
        except FileNotFoundError:
            now = None
        if (
            total != size
            or after.st_size != size
            or after.st_mtime_ns != mtime_ns
            or (now is not None and (now.st_ino, now.st_size) != (st.st_ino, size))
            or (now is not None and now.st_mtime_ns != mtime_ns)
        ):
            part.unlink(missing_ok=True)
            raise SourceChanged(
                f"changed on the volume while it was being copied ({size} bytes expected, "
                f"{total} read); the partial copy was discarded; run again"
            )
        if now is None:
            note = (
                "removed from the volume while it was being copied; the copy had been read "
                "whole and unchanged before that, and is uploaded"
            )
        target = self.object_path(sha256)
        if target.exists():
            part.unlink()  # the same bytes are already spooled (a duplicate file)
        else:
            os.replace(part, target)
        _fsync_dir(target.parent)
        faults.reached("spooled")
        return Copied(sha256=sha256, sm3=sm3, size=total, note=note)

    def rehash(self, sha256: str) -> tuple[str, str, int] | None:
        """Hash the spool copy again; None when it is gone."""
        path = self.object_path(sha256)
        if not path.exists():
            return None
        return hash_file(path)

    def release(self, sha256: str, *, entry_id: int) -> None:
        """Drop the spool copy once no other unfinished entry needs the same bytes."""
        if self.journal.spool_users(sha256, besides=entry_id) == 0:
            self.object_path(sha256).unlink(missing_ok=True)

    def sweep(self, *, older_than: float = 3600.0) -> None:
        """Remove leftovers of crashed runs: parts and objects no unfinished entry needs."""
        cutoff = time.time() - older_than
        wanted = {
            e.sha256
            for e in self.journal.entries()
            if e.state in (State.SPOOLED, State.UPLOADING) and e.sha256
        }
        copying = {e.id for e in self.journal.entries() if e.state == State.FOUND}
        for part in (self.root / "tmp").glob("*.part"):
            stem = part.stem
            if (not stem.isdigit() or int(stem) not in copying) and part.stat().st_mtime < cutoff:
                part.unlink(missing_ok=True)
        for obj in (self.root / "objects").iterdir():
            if obj.name not in wanted and obj.stat().st_mtime < cutoff:
                obj.unlink(missing_ok=True)
