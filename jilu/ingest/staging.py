"""Where the bytes of unfinished tus uploads wait, so that any web process can continue any upload.

Three kinds (``JILU_UPLOAD_STAGING``; an upload keeps the kind it was created
with, in ``Upload.staging``):

- ``local``: ``SPOOL_DIR/uploads/<id>.part`` on this machine (the embedded
  default, one web machine);
- ``shared-dir``: the same files in ``JILU_UPLOAD_STAGING_DIR``, a volume every
  web process mounts;
- ``store``: one S3 multipart upload per tus upload in the evidence bucket
  (``staging_s3.py``; the default with ``JILU_STORAGE=s3``).

Whatever the kind, the upload's ``offset`` in the database is the truth: a
writer makes the bytes durable first (fsync, or the part uploaded), then the
offset is advanced with what the staging area needs to find them again
(``Upload.staged``); bytes beyond the offset are never used. Completion hands
the staged bytes to the evidence store, which hashes SHA-256 and SM3 in one
pass and refuses bytes that differ from what the station declared before
anything becomes visible under their content address (C6.5.3, C6.5.4).
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings

from jilu.evidence.models import StoredObject
from jilu.ingest import spool
from jilu.ingest.models import Upload
from jilu.ingest.staging_base import (
    Staging,
    StagingLost,
    Writer,
    parse_hex,
    receiving,
)

__all__ = ["DirStaging", "Staging", "StagingLost", "Writer", "get_staging", "staging_for"]


# --- a directory (local, shared-dir) ------------------------------------------


class DirWriter(Writer):
    def __init__(self, directory: Path, upload: Upload) -> None:
        self.directory = directory
        self.offset = upload.offset
        self.path = spool.partial_path(upload.pk, directory)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            size = os.fstat(self.fd).st_size
            if size < self.offset:
                raise StagingLost(
                    f"服务器暂存文件只有 {size} 字节，少于已确认的 {self.offset} 字节（暂存区被改动）"
                )
            if size > self.offset:
                os.ftruncate(self.fd, self.offset)  # written but never acknowledged (a crash)
            os.lseek(self.fd, self.offset, os.SEEK_SET)
        except BaseException:
            os.close(self.fd)
            raise
        self.written = 0

    def write(self, data: bytes) -> None:
        spool.write_all(self.fd, data)
        self.written += len(data)

    def commit(self, *, complete: bool) -> dict[str, Any]:
        os.fsync(self.fd)
        if self.offset == 0 and self.written:
            spool.fsync_dir(self.directory)  # the partial file's name is durable too
        return {}

    def abandon(self) -> None:
        os.ftruncate(self.fd, self.offset)
        os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)


class DirStaging(Staging):
    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self.directory = Path(directory)

    def writer(self, upload: Upload) -> Writer:
        spool.ensure_dir(self.directory)
        return DirWriter(self.directory, upload)

    def put(self, upload: Upload, *, actor: Any) -> StoredObject:
        from jilu.evidence.actions import store_object

        # Every byte has arrived and the lock is held: the finished file is
        # hashed where it lies and linked into a filesystem store, not copied.
        return store_object(
            actor=actor,
            path=spool.partial_path(upload.pk, self.directory),
            expected_sha256=upload.sha256,
            expected_sm3=upload.sm3,
            expected_size=upload.length,
        )

    def discard(self, upload_id: uuid.UUID, staged: dict[str, Any]) -> None:
        spool.remove(upload_id, self.directory)

    def sweep(self, *, now: datetime, min_age: timedelta) -> int:
        if not self.directory.is_dir():
            return 0
        cutoff = (now - min_age).timestamp()
        files: dict[uuid.UUID, Path] = {}
        for path in self.directory.glob("*.part"):
            try:
                old = path.stat().st_mtime < cutoff
            except FileNotFoundError:
                continue
            pk = parse_hex(path.stem)
            if old and pk is not None:
                files[pk] = path
            elif old:
                path.unlink(missing_ok=True)  # not an upload's file at all
        live = receiving(set(files))
        removed = 0
        for pk, path in files.items():
            if pk not in live:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


# --- choosing -------------------------------------------------------------------


def configured_kind() -> str:
    return settings.UPLOAD_STAGING.kind


def get_staging(kind: str) -> Staging:
    """The staging area of ``kind`` as the settings describe it."""
    if kind == "local":
        return DirStaging("local", Path(settings.SPOOL_DIR) / "uploads")
    if kind == "shared-dir":
        directory = settings.UPLOAD_STAGING.directory
        if directory is None:
            raise StagingLost(
                "该上传暂存在共享目录中，但本服务器未配置 JILU_UPLOAD_STAGING_DIR，无法读取"
            )
        return DirStaging("shared-dir", directory)
    if kind == "store":
        from jilu.ingest.staging_s3 import StoreStaging

        return StoreStaging.configured()
    raise StagingLost(f"未知的暂存方式 {kind!r}")


def staging_for(upload: Upload) -> Staging:
    return get_staging(upload.staging or "local")


def configured_areas() -> list[Staging]:
    """Every staging area this process can reach, for the sweep of leftovers."""
    areas: list[Staging] = [get_staging("local")]
    if settings.UPLOAD_STAGING.kind == "shared-dir":
        areas.append(get_staging("shared-dir"))
    if settings.STORAGE_KIND == "s3":
        areas.append(get_staging("store"))
    return areas
