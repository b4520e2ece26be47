"""The city-scale store: an S3-protocol bucket (MinIO, Ceph RGW, AWS S3).

``put`` hashes while spooling to a local temporary file (``SPOOL_DIR``), checks
the hashes, then uploads under ``objects/ab/cd/<sha256>`` with
``If-None-Match: *`` so an existing key is never overwritten, whoever wrote it
(C6.5.3). Small objects go up in one ``PutObject`` carrying their SHA-256, which
the server checks; big ones as a multipart upload with a SHA-256 per part.
With ``object_lock_days`` set, objects are written under Object Lock in
compliance mode, so not even the bucket's owner can delete them early.

This talks to boto3 directly rather than through django-storages'
``S3Storage``: that class's ``save`` has no conditional write, no Object Lock
arguments and no ranged streaming, which are the three things this store needs.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from jilu.conf import S3Config
from jilu.evidence.store.base import PutResult, Store
from jilu.evidence.store.errors import (
    ObjectMissing,
    ObjectRetained,
    StoreError,
    StoreUnavailable,
)
from jilu.evidence.store.files import FileWriter, makedirs_durable
from jilu.evidence.store.hashing import (
    CHUNK,
    check_expected,
    check_key,
    hash_chunks,
    normalise_expected,
    read_chunks,
)

log = logging.getLogger(__name__)

MULTIPART_THRESHOLD = 64 * 1024 * 1024
PART_SIZE = 64 * 1024 * 1024
MAX_PARTS = 10_000
_MISSING = {"404", "NoSuchKey", "NotFound"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _failed(message: str, exc: ClientError) -> StoreError:
    """A refusal from the store; ``StoreUnavailable`` when it answered 5xx (busy,
    down for maintenance) even after the client's own retries."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    if int(status) >= 500:
        return StoreUnavailable(message)
    return StoreError(message)


F = TypeVar("F", bound=Callable[..., Any])


def _reaching(method: F) -> F:
    """Connection failures and timeouts become ``StoreUnavailable`` (503 for a
    request, a retry for a task) instead of an unexplained botocore error."""

    @wraps(method)
    def wrapper(self: S3Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (BotoConnectionError, HTTPClientError) as exc:
            raise self.unreachable(exc) from exc

    return wrapper  # type: ignore[return-value]


class S3Store(Store):
    kind = "s3"

    def __init__(
        self,
        config: S3Config,
        spool_dir: Path,
        *,
        chunk: int = CHUNK,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        part_size: int = PART_SIZE,
        upload_threads: int = 4,
    ) -> None:
        self.config = config
        self.bucket = config.bucket
        self.spool_dir = Path(spool_dir)
        self.chunk = chunk
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.upload_threads = upload_threads
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=config.endpoint_url,
            aws_access_key_id=config.access_key,
            aws_secret_access_key=config.secret_key,
            region_name=config.region,
            config=Config(
                s3={"addressing_style": "path" if config.endpoint_url else "auto"},
                retries={"mode": "standard", "max_attempts": 5},
                # An unreachable store answers 503 within seconds, not minutes.
                connect_timeout=10,
                max_pool_connections=max(10, upload_threads * 2),
            ),
        )

    def unreachable(self, exc: BaseException) -> StoreUnavailable:
        where = self.config.endpoint_url or "S3"
        return StoreUnavailable(
            f"the store {where} (bucket {self.bucket}) cannot be reached: "
            f"{type(exc).__name__}: {exc}"
        )

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"objects/{key[:2]}/{key[2:4]}/{key}"

    # --- writing ----------------------------------------------------------
    @_reaching
    def put(
        self,
        stream: BinaryIO,
        *,
        expected_sha256: str | None = None,
        expected_sm3: str | None = None,
        expected_size: int | None = None,
    ) -> PutResult:
        sha256, sm3, size = normalise_expected(expected_sha256, expected_sm3, expected_size)
        makedirs_durable(self.spool_dir)
        spool = self.spool_dir / f"s3-{uuid.uuid4().hex}.part"
        fd = os.open(spool, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            try:
                got = hash_chunks(
                    read_chunks(stream, self.chunk), FileWriter(fd, writeback_every=0)
                )
            finally:
                os.close(fd)
            check_expected(got, sha256=sha256, sm3=sm3, size=size)
            if self.exists(got.sha256):
                created = False
            else:
                created = self.upload(spool, got.sha256, got.sm3, got.size)
        finally:
            spool.unlink(missing_ok=True)
        return PutResult(got.sha256, got.sm3, got.size, created)

    def _extra_args(self, sm3: str) -> dict[str, Any]:
        extra: dict[str, Any] = {"Metadata": {"sm3": sm3}}
        days = self.config.object_lock_days
        if days:
            extra["ObjectLockMode"] = "COMPLIANCE"
            extra["ObjectLockRetainUntilDate"] = datetime.now(UTC) + timedelta(days=days)
        return extra

    @_reaching
    def upload(self, path: Path, sha256: str, sm3: str, size: int) -> bool:
        """Upload a local file as object ``sha256`` unless that key exists; True if it was created.

        The caller has checked that the file's SHA-256 is ``sha256``.
        """
        key = self.object_key(sha256)
        try:
            if size < self.multipart_threshold:
                with open(path, "rb") as body:
                    self.client.put_object(
                        Bucket=self.bucket,
                        Key=key,
                        Body=body,
                        ContentLength=size,
                        ChecksumAlgorithm="SHA256",
                        ChecksumSHA256=_b64(bytes.fromhex(sha256)),
                        IfNoneMatch="*",
                        **self._extra_args(sm3),
                    )
            else:
                self._multipart(path, key, size, sm3)
        except ClientError as exc:
            code = _code(exc)
            if code in {"PreconditionFailed", "412"}:
                return False  # the key exists: the existing object wins
            if code in {"ConditionalRequestConflict", "409"} and self.exists(sha256):
                return False  # a concurrent put of the same bytes finished first
            raise _failed(f"upload of {sha256} to bucket {self.bucket} failed: {exc}", exc) from exc
        return True

    def _multipart(self, path: Path, key: str, size: int, sm3: str) -> None:
        part_size = max(self.part_size, -(-size // MAX_PARTS))
        upload_id = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256", **self._extra_args(sm3)
        )["UploadId"]
        try:
            with open(path, "rb", buffering=0) as fh:

                def send(number: int) -> dict[str, Any]:
                    body = os.pread(fh.fileno(), part_size, (number - 1) * part_size)
                    digest = _b64(hashlib.sha256(body).digest())
                    response = self.client.upload_part(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=body,
                        ChecksumSHA256=digest,
                    )
                    return {
                        "PartNumber": number,
                        "ETag": response["ETag"],
                        "ChecksumSHA256": digest,
                    }

                numbers = range(1, -(-size // part_size) + 1)
                with ThreadPoolExecutor(self.upload_threads, "jilu-s3-part") as pool:
                    parts = list(pool.map(send, numbers))
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                IfNoneMatch="*",
            )
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except ClientError as exc:  # the bucket's lifecycle rule cleans up what is left
                log.warning("could not abort multipart upload %s of %s: %s", upload_id, key, exc)
            raise

    # --- retention ----------------------------------------------------------
    @_reaching
    def delete(self, key: str) -> int:
        """Delete every version of the object (and any delete marker), so no
        older version survives a disposal; Object Lock refuses before retain-until."""
        object_key = self.object_key(key)
        removed = 0
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=object_key):
            entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            for entry in entries:
                if entry["Key"] != object_key:
                    continue
                try:
                    self.client.delete_object(
                        Bucket=self.bucket, Key=object_key, VersionId=entry["VersionId"]
                    )
                except ClientError as exc:
                    if _code(exc) in ("AccessDenied", "InvalidRequest", "ObjectLocked"):
                        raise ObjectRetained(
                            f"the store refuses to delete object {key} (version "
                            f"{entry['VersionId']}): it is under Object Lock until its "
                            f"retain-until date ({exc})"
                        ) from exc
                    raise _failed(f"could not delete object {key}: {exc}", exc) from exc
                removed += 1
        return removed

    @_reaching
    def retain_until(self, key: str, until: datetime) -> bool:
        """Extend the Object Lock retain-until of the object's current version to
        ``until`` when that is later than what it has; never shortens it."""
        if not self.config.object_lock_days:
            return False
        head = self._head(key)
        if head is None:
            raise ObjectMissing(f"no stored object {key} in bucket {self.bucket}")
        have = head.get("ObjectLockRetainUntilDate")
        if have is not None and have >= until:
            return True
        self.client.put_object_retention(
            Bucket=self.bucket,
            Key=self.object_key(key),
            VersionId=head["VersionId"],
            Retention={
                "Mode": head.get("ObjectLockMode") or "COMPLIANCE",
                "RetainUntilDate": until,
            },
        )
        return True

    # --- reading ----------------------------------------------------------
    @_reaching
    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise _failed(
                f"could not look up object {key} in bucket {self.bucket}: {exc}", exc
            ) from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise ObjectMissing(f"no stored object {key} in bucket {self.bucket}")
        return int(head["ContentLength"])

    @_reaching
    def _open_range(self, key: str, start: int, end: int | None) -> Iterator[bytes]:
        if end is not None and end == start:
            if not self.exists(key):
                raise ObjectMissing(f"no stored object {key} in bucket {self.bucket}")
            return iter(())
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self.object_key(key)}
        if start or end is not None:
            args["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            body = self.client.get_object(**args)["Body"]
        except ClientError as exc:
            code = _code(exc)
            if code in _MISSING:
                raise ObjectMissing(f"no stored object {key} in bucket {self.bucket}") from None
            if code in {"InvalidRange", "416"}:
                return iter(())  # start is at or past the end of the object
            raise _failed(
                f"could not read object {key} from bucket {self.bucket}: {exc}", exc
            ) from exc
        return self._stream(body)

    def _stream(self, body: Any) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(self.chunk)
        except (BotoConnectionError, HTTPClientError) as exc:
            raise self.unreachable(exc) from exc
        finally:
            body.close()
