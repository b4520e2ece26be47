"""Partial files of unfinished uploads staged in a directory (``local`` and ``shared-dir``).

``<dir>/<upload id>.part`` holds the bytes received so far: ``SPOOL_DIR/uploads``
on this machine (``JILU_UPLOAD_STAGING=local``), or ``JILU_UPLOAD_STAGING_DIR``
on a volume every web process mounts (``shared-dir``). The upload's
``offset`` in the database is the durable truth: it is advanced only after the
bytes up to it were fsynced, so after a crash the file may be longer than the
offset (the unacknowledged tail is cut off at the next PATCH) but never shorter.
The lock that keeps two requests from writing one file is in ``locks.py``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings


def uploads_dir() -> Path:
    """This machine's staging directory (``local``)."""
    return ensure_dir(Path(settings.SPOOL_DIR) / "uploads")


def ensure_dir(path: Path) -> Path:
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        fsync_dir(path.parent)
    return path


def partial_path(upload_id: uuid.UUID | str, directory: Path | None = None) -> Path:
    return (directory or uploads_dir()) / f"{uuid.UUID(str(upload_id)).hex}.part"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove(upload_id: uuid.UUID | str, directory: Path | None = None) -> None:
    partial_path(upload_id, directory).unlink(missing_ok=True)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
