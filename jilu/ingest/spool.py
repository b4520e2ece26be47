"""The upload spool: one partial file per unfinished tus upload.

``SPOOL_DIR/uploads/<upload id>.part`` holds the bytes received so far. The
upload's ``offset`` in the database is the durable truth: it is advanced only
after the bytes up to it were fsynced, so after a crash the file may be longer
than the offset (the unacknowledged tail is cut off at the next PATCH) but
never shorter.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings


class Locked(Exception):
    """Another request is writing to this upload right now."""


def uploads_dir() -> Path:
    path = Path(settings.SPOOL_DIR) / "uploads"
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        fsync_dir(path.parent)
    return path


def partial_path(upload_id: uuid.UUID | str) -> Path:
    return uploads_dir() / f"{uuid.UUID(str(upload_id)).hex}.part"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove(upload_id: uuid.UUID | str) -> None:
    partial_path(upload_id).unlink(missing_ok=True)


@contextlib.contextmanager
def locked_partial(upload_id: uuid.UUID | str) -> Iterator[int]:
    """Open (creating if need be) the partial file, exclusively locked.

    Raises :class:`Locked` at once when another request holds it: a tus client
    that retries while its previous PATCH is still being read must wait, not
    interleave bytes. The lock goes with the file descriptor (flock), so a
    crashed process never leaves it held.
    """
    path = partial_path(upload_id)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(str(upload_id)) from None
        yield fd
    finally:
        os.close(fd)  # releases the lock


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
