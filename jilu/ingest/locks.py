"""The lock on one upload that every web process sees.

A PATCH, a HEAD that completes an upload, a DELETE and the completion itself
hold it, so two requests never write or finish the same upload at once; a
second request is refused at once (tus ``423``, the client retries) rather
than made to wait behind a body that may take minutes to arrive.

- PostgreSQL (a city: several web processes on several machines): a session
  advisory lock (``pg_try_advisory_lock``) keyed by the upload's id. It lives
  in the database, so every web process sees it, and it dies with the
  connection, so a web process that crashes or is killed never leaves it held.
- SQLite (the embedded default, one machine): ``flock`` on a lock file in the
  spool, which also goes with its holder's file descriptor.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)


class Locked(Exception):
    """Another request holds this upload right now."""


def lock_key(upload_id: uuid.UUID | str) -> int:
    """The advisory lock's 64-bit key: a hash of the upload id in Jilu's own namespace."""
    digest = hashlib.blake2b(
        b"jilu.ingest.upload:" + uuid.UUID(str(upload_id)).bytes, digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def locks_dir() -> Path:
    path = Path(settings.SPOOL_DIR) / "locks"
    path.mkdir(parents=True, exist_ok=True)
    return path


def lock_path(upload_id: uuid.UUID | str) -> Path:
    return locks_dir() / f"{uuid.UUID(str(upload_id)).hex}.lock"


@contextlib.contextmanager
def upload_lock(upload_id: uuid.UUID | str) -> Iterator[None]:
    """Hold the upload's lock for the ``with`` block; :class:`Locked` at once if taken."""
    if connection.vendor == "postgresql":
        with _advisory(upload_id):
            yield
    else:
        with _flock(upload_id):
            yield


@contextlib.contextmanager
def _advisory(upload_id: uuid.UUID | str) -> Iterator[None]:
    key = lock_key(upload_id)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (taken,) = cur.fetchone()
    if not taken:
        raise Locked(str(upload_id))
    try:
        yield
    finally:
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [key])
        except Exception as exc:  # the connection is gone, and the lock with it
            log.warning("upload %s: releasing its lock failed: %s", upload_id, exc)
            connection.close()


@contextlib.contextmanager
def _flock(upload_id: uuid.UUID | str) -> Iterator[None]:
    path = lock_path(upload_id)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(str(upload_id)) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the file was swept away meanwhile: another request may hold its successor
            raise Locked(str(upload_id))
        yield
    finally:
        os.close(fd)  # releases the lock


def remove_lock_file(upload_id: uuid.UUID | str) -> None:
    """Remove the lock file of an upload that ended (SQLite only; harmless elsewhere)."""
    with contextlib.suppress(OSError):
        lock_path(upload_id).unlink()
