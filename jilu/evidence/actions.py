"""Every state change of stored objects: one function each, atomic, audited."""

from __future__ import annotations

import os
from typing import Any, BinaryIO

from django.db import transaction

from jilu.audit.chain import record
from jilu.evidence.models import StoredObject
from jilu.evidence.store import StoreError, get_store


def store_object(
    *,
    actor: Any,
    stream: BinaryIO | None = None,
    path: str | os.PathLike[str] | None = None,
    expected_sha256: str | None = None,
    expected_sm3: str | None = None,
    expected_size: int | None = None,
) -> StoredObject:
    """Put the bytes of ``stream`` — or of the finished file at ``path`` — into
    the evidence store and record them (C6.5.3, C6.5.4).

    The bytes are checked against the expected hashes and size before they
    become visible (``HashMismatch`` otherwise; nothing is stored or recorded).
    A finished file is hashed in place and linked into a filesystem store
    rather than copied; nobody may write to it afterwards.
    Idempotent: storing the same bytes again returns the existing row and
    writes no second audit entry.
    """
    if (stream is None) == (path is None):
        raise ValueError("store_object takes exactly one of stream= or path=")
    store = get_store()
    expected = {
        "expected_sha256": expected_sha256,
        "expected_sm3": expected_sm3,
        "expected_size": expected_size,
    }
    if path is not None:
        put = store.put_complete_file(path, **expected)
    else:
        put = store.put(stream, **expected)
    with transaction.atomic():
        obj, created = StoredObject.objects.get_or_create(
            sha256=put.sha256,
            defaults={
                "sm3": put.sm3,
                "size": put.size,
                "backend": store.kind,
                "version_id": put.version,  # pinned for every later read (C6.5.3)
            },
        )
        if not created and (obj.sm3 != put.sm3 or obj.size != put.size):
            raise StoreError(
                f"stored object {put.sha256} is recorded with SM3 {obj.sm3} and {obj.size} bytes "
                f"but the bytes have SM3 {put.sm3} and {put.size} bytes; run `jilu verify`"
            )
        if created:
            record(
                "evidence.object.store",
                actor=actor,
                obj=obj,
                details={
                    "sha256": put.sha256,
                    "sm3": put.sm3,
                    "size": put.size,
                    "backend": store.kind,
                    "new_bytes": put.created,
                    "version": put.version,  # "" on the filesystem
                },
            )
    return obj
