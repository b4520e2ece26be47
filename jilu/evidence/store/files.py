"""The embedded default: objects as read-only files under ``STORE_ROOT``.

Layout::

    STORE_ROOT/objects/ab/cd/abcd…(64 hex)   chmod 0444, never replaced
    STORE_ROOT/tmp/<random>.part             being written; same file system

An object is written under a temporary name, fsynced, checked, made read-only
and only then published with ``os.link``, which fails rather than replace an
existing name: whoever was first wins, and a crash leaves at most a ``.part``.
"""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from jilu.evidence.store.base import PutResult, Store
from jilu.evidence.store.errors import ObjectMissing
from jilu.evidence.store.hashing import (
    CHUNK,
    check_expected,
    check_key,
    hash_chunks,
    normalise_expected,
    read_chunks,
)

# Start write-back of every this many bytes while hashing goes on, so the
# closing fsync has little left to wait for.
WRITEBACK_EVERY = 64 * 1024 * 1024


class FileWriter:
    """A pump sink that appends chunks to an open file descriptor.

    Every ``writeback_every`` bytes it asks the kernel to start writing the
    finished range to disk (``POSIX_FADV_DONTNEED`` starts write-back of dirty
    pages without waiting and drops them from the cache once clean), so disk
    writes overlap the hashing instead of all happening at the final fsync.
    """

    def __init__(self, fd: int, *, writeback_every: int = WRITEBACK_EVERY) -> None:
        self.fd = fd
        self.writeback_every = writeback_every
        self.written = 0
        self._flushed = 0

    def __call__(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.written += len(chunk)
        if self.writeback_every and self.written - self._flushed >= self.writeback_every:
            try:
                os.posix_fadvise(
                    self.fd, self._flushed, self.written - self._flushed, os.POSIX_FADV_DONTNEED
                )
            except (AttributeError, OSError):
                self.writeback_every = 0  # not supported here: the final fsync does it all
            self._flushed = self.written


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def makedirs_durable(path: Path) -> None:
    """``mkdir -p`` that fsyncs the parent of every directory it creates."""
    if path.is_dir():
        return
    makedirs_durable(path.parent)
    try:
        path.mkdir()
    except FileExistsError:
        return
    fsync_dir(path.parent)


class FileStore(Store):
    kind = "file"

    def __init__(self, root: Path, *, chunk: int = CHUNK) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self.chunk = chunk

    def path(self, key: str) -> Path:
        check_key(key)
        return self.objects / key[:2] / key[2:4] / key

    def put(
        self,
        stream: BinaryIO,
        *,
        expected_sha256: str | None = None,
        expected_sm3: str | None = None,
        expected_size: int | None = None,
    ) -> PutResult:
        sha256, sm3, size = normalise_expected(expected_sha256, expected_sm3, expected_size)
        makedirs_durable(self.tmp)
        tmp = self.tmp / f"{uuid.uuid4().hex}.part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            try:
                got = hash_chunks(read_chunks(stream, self.chunk), FileWriter(fd))
                check_expected(got, sha256=sha256, sm3=sm3, size=size)
                os.fchmod(fd, 0o444)
                os.fsync(fd)
            finally:
                os.close(fd)
            final = self.path(got.sha256)
            makedirs_durable(final.parent)
            try:
                os.link(tmp, final)  # never replaces: FileExistsError if someone was first
                created = True
            except FileExistsError:
                created = False
            fsync_dir(final.parent)
        finally:
            tmp.unlink(missing_ok=True)
        return PutResult(got.sha256, got.sm3, got.size, created)

    def put_complete_file(
        self,
        path: str | os.PathLike[str],
        *,
        expected_sha256: str | None = None,
        expected_sm3: str | None = None,
        expected_size: int | None = None,
    ) -> PutResult:
        """Hash the finished file where it lies and hard-link it into the store.

        One read pass and no second copy: the bytes are checked against the
        expected values first (``HashMismatch``: nothing is linked, the file is
        left as it was), then the file is made read-only and published under
        its SHA-256 with ``os.link``, which never replaces an existing object.
        The caller must not write to ``path`` afterwards and removes its own
        name for it when done. Falls back to a copy when ``path`` is on another
        file system.
        """
        sha256, sm3, size = normalise_expected(expected_sha256, expected_sm3, expected_size)
        source = Path(path)
        with open(source, "rb", buffering=0) as stream:
            got = hash_chunks(read_chunks(stream, self.chunk))
            check_expected(got, sha256=sha256, sm3=sm3, size=size)
            os.fsync(stream.fileno())
        final = self.path(got.sha256)
        makedirs_durable(final.parent)
        if final.exists():
            return PutResult(got.sha256, got.sm3, got.size, False)
        try:
            os.chmod(source, 0o444)
            os.link(source, final)  # never replaces: FileExistsError if someone was first
            created = True
        except FileExistsError:
            created = False
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            return self.put_path(
                source, expected_sha256=got.sha256, expected_sm3=got.sm3, expected_size=got.size
            )
        fsync_dir(final.parent)
        return PutResult(got.sha256, got.sm3, got.size, created)

    # The filesystem keeps no versions: an object file is never replaced
    # (``os.link``) and read-only, so ``version`` has nothing to choose.
    def exists(self, key: str, *, version: str | None = None) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> int:
        path = self.path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return 0
        fsync_dir(path.parent)
        return 1

    def size(self, key: str, *, version: str | None = None) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise ObjectMissing(f"no stored object {key}") from None

    def _open_range(
        self, key: str, start: int, end: int | None, version: str | None
    ) -> Iterator[bytes]:
        try:
            fh = open(self.path(key), "rb", buffering=0)
        except FileNotFoundError:
            raise ObjectMissing(f"no stored object {key}") from None
        return self._read(fh, start, end)

    def _read(self, fh: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
        with fh:
            fh.seek(start)
            remaining = None if end is None else end - start
            while remaining is None or remaining > 0:
                want = self.chunk if remaining is None else min(self.chunk, remaining)
                data = fh.read(want)
                if not data:
                    return
                if remaining is not None:
                    remaining -= len(data)
                yield data
