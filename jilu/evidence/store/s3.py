"""The city-scale store: an S3-protocol bucket (MinIO, Ceph RGW, AWS S3).

``put`` hashes while spooling to a local temporary file (``SPOOL_DIR``), checks
the hashes, then uploads under ``objects/ab/cd/<sha256>`` with
``If-None-Match: *`` so an existing key is never overwritten, whoever wrote it
(C6.5.3). Small objects go up in one ``PutObject`` carrying their SHA-256, which
the server checks; big ones as a multipart upload with a SHA-256 per part.
With ``object_lock_days`` set, objects are written under Object Lock in
compliance mode, so not even the bucket's owner can delete them early.

Versions pinned (C6.5.3): the bucket is versioned (``jilu create-bucket``; the
city deploy checks refuse a bucket without versioning), every write returns
the new object's ``VersionId`` and the evidence app records it beside the
object's row. Object Lock stops deletion of a version, not a new version on
top of it: anyone holding the application's key can still put other bytes
under the same name. So every read (ranges, whole reads, verify, presigned
URLs) asks for the recorded version, never "the latest", and fixity names any
version written after it (``verify().newer``). ``pins`` is how the store finds
the recorded version of a key when a caller does not name one.

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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from jilu.conf import S3Config
from jilu.evidence.store.base import PutResult, Store, VerifyResult
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
# Asked for a version the key does not have (deleted by its VersionId).
_NO_VERSION = {"NoSuchVersion", "InvalidArgument", "400"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def version_of(response: dict[str, Any]) -> str:
    """The VersionId a write answered with ("" from a bucket without versioning).

    Every path that puts an object the evidence store holds (PutObject, a
    completed multipart upload, a server-side copy) passes its answer through
    here, so the version is recorded and pinned (C6.5.3)."""
    version = str(response.get("VersionId") or "")
    return "" if version == "null" else version


def _label(entry: dict[str, Any]) -> str:
    return f"delete marker {entry['id']}" if entry["deleted"] else entry["id"]


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
        pins: Callable[[str], str] | None = None,
    ) -> None:
        self.config = config
        self.pins = pins
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

    def pinned(self, key: str, version: str | None = None) -> str:
        """The version a read of ``key`` asks for: ``version`` when given, else
        the one recorded at ingest; "" (the newest) when none is recorded."""
        if version is not None:
            return version
        return self.pins(key) if self.pins is not None else ""

    @staticmethod
    def _versioned(args: dict[str, Any], version: str) -> dict[str, Any]:
        if version:
            args["VersionId"] = version
        return args

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
            if self._head(got.sha256, "") is not None:
                created, version = False, self.original_version(got.sha256)
            else:
                created, version = self.upload(spool, got.sha256, got.sm3, got.size)
        finally:
            spool.unlink(missing_ok=True)
        return PutResult(got.sha256, got.sm3, got.size, created, version)

    def _extra_args(self, sm3: str) -> dict[str, Any]:
        extra: dict[str, Any] = {"Metadata": {"sm3": sm3}}
        days = self.config.object_lock_days
        if days:
            extra["ObjectLockMode"] = "COMPLIANCE"
            extra["ObjectLockRetainUntilDate"] = datetime.now(UTC) + timedelta(days=days)
        return extra

    @_reaching
    def upload(self, path: Path, sha256: str, sm3: str, size: int) -> tuple[bool, str]:
        """Upload a local file as object ``sha256`` unless that key exists.

        Returns (created, version): whether this call wrote it, and the version
        to pin: the one written, or when the key already existed the first
        version ever written under it (``original_version``). The caller has
        checked that the file's SHA-256 is ``sha256``.
        """
        key = self.object_key(sha256)
        try:
            if size < self.multipart_threshold:
                with open(path, "rb") as body:
                    response = self.client.put_object(
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
                response = self._multipart(path, key, size, sm3)
        except ClientError as exc:
            code = _code(exc)
            if code in {"PreconditionFailed", "412"}:
                # the key exists: the existing object wins
                return False, self.original_version(sha256)
            if code in {"ConditionalRequestConflict", "409"} and self._head(sha256, "") is not None:
                # a concurrent put of the same bytes finished first
                return False, self.original_version(sha256)
            raise _failed(f"upload of {sha256} to bucket {self.bucket} failed: {exc}", exc) from exc
        return True, version_of(response)

    def _multipart(self, path: Path, key: str, size: int, sm3: str) -> dict[str, Any]:
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
            return self.client.complete_multipart_upload(
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
        """Extend the Object Lock retain-until of the object's recorded version
        to ``until`` when that is later than what it has; never shortens it."""
        if not self.config.object_lock_days:
            return False
        head = self._head(key, self.pinned(key))
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
    def _head(self, key: str, version: str) -> dict[str, Any] | None:
        """HeadObject of ``version`` ("" the newest); None when there is none."""
        args = self._versioned({"Bucket": self.bucket, "Key": self.object_key(key)}, version)
        try:
            return self.client.head_object(**args)
        except ClientError as exc:
            if _code(exc) in _MISSING or (version and _code(exc) in _NO_VERSION):
                return None
            raise _failed(
                f"could not look up object {key} in bucket {self.bucket}: {exc}", exc
            ) from exc

    def exists(self, key: str, *, version: str | None = None) -> bool:
        return self._head(key, self.pinned(key, version)) is not None

    def size(self, key: str, *, version: str | None = None) -> int:
        head = self._head(key, self.pinned(key, version))
        if head is None:
            raise ObjectMissing(f"no stored object {key} in bucket {self.bucket}")
        return int(head["ContentLength"])

    @_reaching
    def versions(self, key: str) -> list[dict[str, Any]]:
        """Every version and delete marker of the object's key, newest first:
        ``{"id", "latest", "modified", "deleted"}`` each (``deleted`` for a delete
        marker). Empty when the key never held anything."""
        object_key = self.object_key(key)
        found: list[dict[str, Any]] = []
        paginator = self.client.get_paginator("list_object_versions")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=object_key):
                for deleted, entries in ((False, "Versions"), (True, "DeleteMarkers")):
                    for entry in page.get(entries, []):
                        if entry["Key"] == object_key:
                            item = {
                                "id": str(entry.get("VersionId") or "null"),
                                "latest": bool(entry.get("IsLatest")),
                                "modified": entry.get("LastModified"),
                                "deleted": deleted,
                            }
                            found.append(item)
        except ClientError as exc:
            raise _failed(f"could not list the versions of object {key}: {exc}", exc) from exc
        # Newest first (the latest, then by time); the store lists each kind
        # newest first, and the sort keeps that order between equal times.
        found.sort(
            key=lambda item: (
                not item["latest"],
                -(item["modified"].timestamp() if item["modified"] else 0.0),
            )
        )
        return found

    def original_version(self, key: str) -> str:
        """The first version written under ``key`` (the one Jilu's conditional
        write created, since nothing can be written before it); "" when the
        bucket keeps no versions."""
        written = [v for v in self.versions(key) if not v["deleted"] and v["id"] != "null"]
        return written[-1]["id"] if written else ""

    def newer_versions(self, key: str, version: str) -> tuple[str, ...]:
        """Versions and delete markers written under ``key`` after ``version``,
        newest first ("delete marker <id>" for a deletion)."""
        if not version:
            return ()
        listed = self.versions(key)
        ids = [v["id"] for v in listed]
        # Listed newest first: everything before the pinned version came after
        # it (and when it is gone altogether, everything still there did).
        cut = ids.index(version) if version in ids else len(listed)
        return tuple(_label(v) for v in listed[:cut])

    def verify(self, key: str, *, version: str | None = None) -> VerifyResult:
        """Re-hash the recorded version (or ``version``) and name every version
        written after it: an overwrite cannot hide behind an intact original."""
        pinned = self.pinned(key, version)
        result = super().verify(key, version=pinned)
        return replace(result, version=pinned, newer=self.newer_versions(key, pinned))

    def presigned_get(
        self,
        key: str,
        *,
        seconds: int,
        content_type: str = "",
        disposition: str = "",
        version: str | None = None,
    ) -> str:
        """A GetObject URL of the recorded version, valid ``seconds``."""
        params = self._versioned(
            {"Bucket": self.bucket, "Key": self.object_key(key)}, self.pinned(key, version)
        )
        if content_type:
            params["ResponseContentType"] = content_type
        if disposition:
            params["ResponseContentDisposition"] = disposition
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)

    @_reaching
    def _open_range(
        self, key: str, start: int, end: int | None, version: str | None
    ) -> Iterator[bytes]:
        version = self.pinned(key, version)
        if end is not None and end == start:
            if self._head(key, version) is None:
                raise ObjectMissing(f"no stored object {key} in bucket {self.bucket}")
            return iter(())
        args = self._versioned({"Bucket": self.bucket, "Key": self.object_key(key)}, version)
        if start or end is not None:
            args["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            body = self.client.get_object(**args)["Body"]
        except ClientError as exc:
            code = _code(exc)
            if code in _MISSING or (version and code in _NO_VERSION):
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
