"""Audit checkpoints copied into the S3 bucket under Object Lock (C6.5.3).

Registered into ``jilu.audit.checkpoints`` from ``EvidenceConfig.ready()``:
audit knows nothing of the store. Each checkpoint becomes the object
``audit-checkpoints/<n>.json``, written once (``If-None-Match: *``) and, with
``JILU_S3_OBJECT_LOCK_DAYS`` set, in compliance mode for that many days, so
neither Jilu nor the bucket's owner can rewrite or remove it early.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from jilu.evidence.store import get_store
from jilu.evidence.store.errors import StoreError
from jilu.evidence.store.s3 import _MISSING, S3Store, _code

PREFIX = "audit-checkpoints/"


class BucketCheckpoints:
    def __init__(self, store: S3Store) -> None:
        self.store = store
        self.name = f"bucket {store.bucket}"

    @staticmethod
    def key(n: int) -> str:
        return f"{PREFIX}{n:012d}.json"

    def write(self, n: int, line: bytes) -> None:
        extra: dict[str, Any] = {}
        days = self.store.config.object_lock_days
        if days:
            extra["ObjectLockMode"] = "COMPLIANCE"
            extra["ObjectLockRetainUntilDate"] = datetime.now(UTC) + timedelta(days=days)
        try:
            self.store.client.put_object(
                Bucket=self.store.bucket,
                Key=self.key(n),
                Body=line,
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",
                IfNoneMatch="*",
                **extra,
            )
        except ClientError as exc:
            if _code(exc) not in {"PreconditionFailed", "412"}:
                raise StoreError(f"cannot write {self.key(n)}: {exc}") from exc
            if self.read(n) != line:  # already there: harmless only if it is the same
                raise StoreError(f"{self.key(n)} already holds a different checkpoint") from None

    def read(self, n: int) -> bytes | None:
        try:
            got = self.store.client.get_object(Bucket=self.store.bucket, Key=self.key(n))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise StoreError(f"cannot read {self.key(n)}: {exc}") from exc
        return got["Body"].read()

    def latest(self) -> int | None:
        """The highest number under the prefix (keys are zero-padded, listed in order)."""
        newest = None
        pages = self.store.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.store.bucket, Prefix=PREFIX
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(PREFIX) :].removesuffix(".json")
                    if name.isdigit():
                        newest = max(newest or 0, int(name))
        except ClientError as exc:
            raise StoreError(f"cannot list {PREFIX} in bucket {self.store.bucket}: {exc}") from exc
        return newest


def bucket_checkpoints() -> BucketCheckpoints | None:
    """The sink for the configured store: the bucket when it is S3, else none."""
    if settings.STORAGE_KIND != "s3":
        return None
    store = get_store()
    return BucketCheckpoints(store) if isinstance(store, S3Store) else None
