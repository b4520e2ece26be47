"""Unfinished uploads staged in the S3 bucket (``JILU_UPLOAD_STAGING=store``), as tusd's S3 store does.

One S3 multipart upload per tus upload, under ``uploads/<id>/`` in the
evidence bucket, so every web process reads and continues the same upload:

- ``uploads/<id>/data``: the multipart upload. The bytes of each PATCH are cut
  into parts of the upload's part size (``JILU_UPLOAD_PART_MIB``, grown for
  files that would need more than 10,000 parts); every part but the last must
  be at least 5 MiB, so
- ``uploads/<id>/tail-<start>``: the bytes after the last whole part (fewer
  than a part) wait in an ordinary object, as tusd's "incomplete part". The
  next PATCH reads it back and sends it on in front of its own bytes. Its name
  carries the offset it starts at, so writing the next tail never overwrites
  one the database still points to; within one start it only ever grows, and
  only its acknowledged length is read.

The database holds the truth (``Upload.offset`` and ``Upload.staged``: the
multipart upload's id, each acknowledged part's number, size and ETag): S3 may
hold more (a part or tail written by a request that died before its offset
was acknowledged), never less. An upload smaller than one part never starts
a multipart upload at all.

Completion assembles the parts (``CompleteMultipartUpload`` onto the staging
key, which is not an evidence object), then streams them through the evidence
store's ``put``: SHA-256 and SM3 in one pass, compared with what the station
declared, before anything becomes visible under the content address
(C6.5.3, C6.5.4). Afterwards, or when an upload fails, is terminated or
expires, everything under ``uploads/<id>/`` goes: the multipart upload is
aborted and every version of its objects deleted. A bucket lifecycle rule
aborting incomplete multipart uploads under ``uploads/`` after more than
``TUS_EXPIRY_DAYS`` is a good second net (docs/station-protocol.md).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from django.conf import settings

from jilu.evidence.models import StoredObject
from jilu.evidence.store import StoreError, StoreUnavailable, get_store
from jilu.evidence.store.s3 import S3Store
from jilu.ingest.models import Upload
from jilu.ingest.staging_base import (
    Staging,
    StagingLost,
    Writer,
    parse_hex,
    receiving,
    record_staged,
)

log = logging.getLogger(__name__)

PREFIX = "uploads/"
MAX_PARTS = 10_000
MIB = 1024 * 1024
_GONE = {"NoSuchUpload", "NoSuchKey", "404", "NotFound"}


def part_size_for(length: int, configured: int) -> int:
    """The configured part size, grown (in whole MiB) when 10,000 parts would not hold ``length``."""
    needed = -(-length // MAX_PARTS)
    return max(configured, -(-needed // MIB) * MIB)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class StoreStaging(Staging):
    kind = "store"

    def __init__(self, store: S3Store) -> None:
        self.store = store
        self.client = store.client
        self.bucket = store.bucket

    @classmethod
    def configured(cls) -> StoreStaging:
        store = get_store()
        if not isinstance(store, S3Store):
            raise StagingLost("该上传暂存在 S3 存储中，但本服务器的证据存储不是 S3（JILU_STORAGE）")
        return cls(store)

    # --- names ------------------------------------------------------------------
    @staticmethod
    def prefix(upload_id: uuid.UUID | str) -> str:
        return f"{PREFIX}{uuid.UUID(str(upload_id)).hex}/"

    def data_key(self, upload_id: uuid.UUID | str) -> str:
        return self.prefix(upload_id) + "data"

    def tail_key(self, upload_id: uuid.UUID | str, start: int) -> str:
        return self.prefix(upload_id) + f"tail-{start}"

    # --- calls --------------------------------------------------------------------
    def call(self, method: str, what: str, **kwargs: Any) -> Any:
        """One S3 call; a refusal becomes ``StoreError`` (``StoreUnavailable`` on 5xx
        or when the store cannot be reached), naming ``what`` was being done."""
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except (BotoConnectionError, HTTPClientError) as exc:
            raise self.store.unreachable(exc) from exc
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            kind = StoreUnavailable if status >= 500 else StoreError
            raise kind(f"{what} in bucket {self.bucket} failed: {exc}") from exc

    def read(self, key: str, length: int) -> bytes:
        """The first ``length`` bytes of ``key``; ``StagingLost`` if it holds fewer."""
        if length == 0:
            return b""
        try:
            body = self.call(
                "get_object", f"reading {key}", Key=key, Range=f"bytes=0-{length - 1}"
            )["Body"]
        except StoreError as exc:
            if isinstance(exc.__cause__, ClientError) and _code(exc.__cause__) in _GONE | {
                "InvalidRange"
            }:
                raise StagingLost(f"暂存对象 {key} 不存在（暂存区被改动）") from None
            raise
        try:
            data = body.read()
        except (BotoConnectionError, HTTPClientError) as exc:
            raise self.store.unreachable(exc) from exc
        finally:
            body.close()
        if len(data) != length:
            raise StagingLost(
                f"暂存对象 {key} 只有 {len(data)} 字节，少于已确认的 {length} 字节（暂存区被改动）"
            )
        return data

    # --- the Staging interface ------------------------------------------------------
    def writer(self, upload: Upload) -> Writer:
        return StoreWriter(self, upload)

    def put(self, upload: Upload, *, actor: Any) -> StoredObject:
        from jilu.evidence.actions import store_object

        staged = dict(upload.staged or {})
        parts = staged.get("parts") or []
        if not parts:  # smaller than one part: all of it is the tail
            key = self.tail_key(upload.pk, 0)
            args: dict[str, Any] = {"Key": key, "Range": f"bytes=0-{upload.length - 1}"}
        else:
            key = self.data_key(upload.pk)
            if not staged.get("assembled"):
                self._assemble(upload, staged)
                staged["assembled"] = True
                record_staged(upload=upload, staged=staged)
            args = {"Key": key}
        try:
            body = self.call("get_object", f"reading the staged upload {key}", **args)["Body"]
        except StoreError as exc:
            if isinstance(exc.__cause__, ClientError) and _code(exc.__cause__) in _GONE:
                raise StagingLost(f"暂存对象 {key} 不存在（暂存区被改动）") from None
            raise
        try:
            return store_object(
                actor=actor,
                stream=body,
                expected_sha256=upload.sha256,
                expected_sm3=upload.sm3,
                expected_size=upload.length,
            )
        finally:
            body.close()

    def _assemble(self, upload: Upload, staged: dict[str, Any]) -> None:
        key = self.data_key(upload.pk)
        try:
            self.call(
                "complete_multipart_upload",
                f"assembling the staged upload {key}",
                Key=key,
                UploadId=staged["mpu"],
                MultipartUpload={
                    "Parts": [{"PartNumber": n, "ETag": etag} for n, _size, etag in staged["parts"]]
                },
            )
        except StoreError as exc:
            cause = exc.__cause__
            if not (isinstance(cause, ClientError) and _code(cause) in _GONE):
                raise
            # Assembled by a request that died before it said so: the object is there.
            try:
                head = self.call("head_object", f"looking up {key}", Key=key)
            except StoreError:
                head = None
            if head is None or int(head["ContentLength"]) != upload.length:
                raise StagingLost(f"暂存的分段上传 {key} 已不存在（暂存区被改动）") from None

    def discard(self, upload_id: uuid.UUID, staged: dict[str, Any]) -> None:
        prefix = self.prefix(upload_id)
        uploads = self.call("list_multipart_uploads", "listing staged uploads", Prefix=prefix)
        for entry in uploads.get("Uploads", []):
            self._abort(entry["Key"], entry["UploadId"])
        if staged.get("mpu"):
            self._abort(self.data_key(upload_id), staged["mpu"])
        self._delete_versions(prefix, lambda _entry: True)

    def _abort(self, key: str, upload_id: str) -> bool:
        try:
            self.call("abort_multipart_upload", f"aborting {key}", Key=key, UploadId=upload_id)
        except StoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and _code(cause) in _GONE:
                return False
            raise
        return True

    def _delete_versions(self, prefix: str, wanted: Any) -> int:
        """Delete every version and delete marker under ``prefix`` that ``wanted``
        accepts: in a versioned bucket a plain delete would only hide them."""
        removed = 0
        paginator = self.client.get_paginator("list_object_versions")
        try:
            pages = list(paginator.paginate(Bucket=self.bucket, Prefix=prefix))
        except (BotoConnectionError, HTTPClientError) as exc:
            raise self.store.unreachable(exc) from exc
        except ClientError as exc:
            raise StoreError(f"listing {prefix} in bucket {self.bucket} failed: {exc}") from exc
        for page in pages:
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if not wanted(entry):
                    continue
                self.call(
                    "delete_object",
                    f"deleting {entry['Key']}",
                    Key=entry["Key"],
                    VersionId=entry["VersionId"],
                )
                removed += 1
        return removed

    def sweep(self, *, now: datetime, min_age: timedelta) -> int:
        cutoff = now - min_age
        mpus: list[tuple[uuid.UUID | None, str, str, datetime]] = []
        paginator = self.client.get_paginator("list_multipart_uploads")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=PREFIX):
                for entry in page.get("Uploads", []):
                    mpus.append(
                        (
                            _upload_of(entry["Key"]),
                            entry["Key"],
                            entry["UploadId"],
                            entry["Initiated"],
                        )
                    )
        except (BotoConnectionError, HTTPClientError) as exc:
            raise self.store.unreachable(exc) from exc
        except ClientError as exc:
            raise StoreError(
                f"listing staged uploads in bucket {self.bucket} failed: {exc}"
            ) from exc
        seen: set[uuid.UUID] = {pk for pk, _key, _id, _at in mpus if pk is not None}
        versions = self.client.get_paginator("list_object_versions")
        try:
            for page in versions.paginate(Bucket=self.bucket, Prefix=PREFIX):
                for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    pk = _upload_of(entry["Key"])
                    if pk is not None:
                        seen.add(pk)
        except (BotoConnectionError, HTTPClientError) as exc:
            raise self.store.unreachable(exc) from exc
        except ClientError as exc:
            raise StoreError(
                f"listing staged objects in bucket {self.bucket} failed: {exc}"
            ) from exc
        live = receiving(seen)
        removed = 0
        for pk, key, mpu, initiated in mpus:
            if pk is None or pk not in live:
                # An ended upload's: no request can make use of it any more.
                removed += self._abort(key, mpu)
            elif (live[pk].staged or {}).get("mpu") != mpu and max(
                initiated, live[pk].updated_at
            ) < cutoff:
                # Begun by a request that died before its first part was
                # acknowledged (old enough that none is still sending it).
                removed += self._abort(key, mpu)

        def ended(entry: dict[str, Any]) -> bool:
            pk = _upload_of(entry["Key"])
            return pk is None or pk not in live

        removed += self._delete_versions(PREFIX, ended)
        return removed


def _upload_of(key: str) -> uuid.UUID | None:
    rest = key[len(PREFIX) :] if key.startswith(PREFIX) else ""
    return parse_hex(rest.split("/", 1)[0]) if "/" in rest else None


class StoreWriter(Writer):
    """Cuts one PATCH's bytes into parts, keeping what is left over as the tail."""

    def __init__(self, staging: StoreStaging, upload: Upload) -> None:
        staged = dict(upload.staged or {})
        self.staging = staging
        self.upload_id = upload.pk
        self.part_size = int(
            staged.get("part_size")
            or part_size_for(upload.length, settings.UPLOAD_STAGING.part_size)
        )
        self.mpu: str | None = staged.get("mpu")
        self.began_mpu = False
        self.parts: list[list[Any]] = [list(p) for p in staged.get("parts") or []]
        self.new_parts: list[list[Any]] = []
        self.start = sum(int(size) for _n, size, _etag in self.parts)
        tail = upload.offset - self.start
        if tail < 0 or staged.get("assembled"):
            raise StagingLost("暂存状态与已确认的偏移不一致（暂存区被改动）")
        self.old_tail = staging.tail_key(upload.pk, self.start) if tail else None
        self.new_tail: str | None = None
        self.buffer = bytearray(staging.read(self.old_tail, tail) if self.old_tail else b"")

    def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= self.part_size:
            self._send(bytes(self.buffer[: self.part_size]))
            del self.buffer[: self.part_size]

    def _send(self, body: bytes) -> None:
        staging = self.staging
        key = staging.data_key(self.upload_id)
        if self.mpu is None:
            self.mpu = staging.call(
                "create_multipart_upload", f"starting the staged upload {key}", Key=key
            )["UploadId"]
            self.began_mpu = True
        number = len(self.parts) + len(self.new_parts) + 1
        etag = staging.call(
            "upload_part",
            f"sending part {number} of {key}",
            Key=key,
            UploadId=self.mpu,
            PartNumber=number,
            Body=body,
        )["ETag"]
        self.new_parts.append([number, len(body), etag])

    def commit(self, *, complete: bool) -> dict[str, Any]:
        if self.buffer:
            if complete and (self.parts or self.new_parts):
                self._send(bytes(self.buffer))  # the last part may be small
            else:
                start = self.start + sum(size for _n, size, _etag in self.new_parts)
                self.new_tail = self.staging.tail_key(self.upload_id, start)
                self.staging.call(
                    "put_object",
                    f"keeping the last bytes in {self.new_tail}",
                    Key=self.new_tail,
                    Body=bytes(self.buffer),
                )
            self.buffer.clear()
        staged: dict[str, Any] = {"part_size": self.part_size, "parts": self.parts + self.new_parts}
        if self.mpu is not None:
            staged["mpu"] = self.mpu
        return staged

    def abandon(self) -> None:
        if self.began_mpu and self.mpu is not None:
            try:  # nobody knows of it yet; the sweep would find it otherwise
                self.staging._abort(self.staging.data_key(self.upload_id), self.mpu)
            except StoreError as exc:
                log.warning(
                    "upload %s: aborting an unused multipart upload: %s", self.upload_id, exc
                )
        self.buffer.clear()

    def acknowledged(self) -> None:
        if self.old_tail and self.old_tail != self.new_tail:
            try:
                self.staging.call("delete_object", f"deleting {self.old_tail}", Key=self.old_tail)
            except StoreError as exc:  # the upload's discard removes it at the end
                log.info("upload %s: an old tail stays until the end: %s", self.upload_id, exc)
