"""The evidence store: content-addressed, write-once objects (C6.5.3, C6.5.4).

``get_store()`` gives the store the settings describe: files under
``STORE_ROOT`` (``JILU_STORAGE=file``, the embedded default) or an S3-protocol
bucket (``JILU_STORAGE=s3``). Objects are keyed by the SHA-256 of their bytes,
carry an SM3 computed in the same read pass, and are never overwritten.

On S3 every object's version is recorded beside its row (``StoredObject.
version_id``) and every read asks for that version (``recorded_version``), so
bytes written later under the same key are never served (C6.5.3).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings

from jilu.conf import S3Config
from jilu.evidence.store.base import PutResult, Store, VerifyResult
from jilu.evidence.store.errors import (
    HashMismatch,
    InvalidKey,
    ObjectMissing,
    ObjectRetained,
    StoreError,
    StoreUnavailable,
)

__all__ = [
    "HashMismatch",
    "InvalidKey",
    "ObjectMissing",
    "ObjectRetained",
    "PutResult",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "VerifyResult",
    "get_store",
    "recorded_version",
]


def recorded_version(sha256: str) -> str:
    """The store version recorded for object ``sha256`` when it was stored
    ("" when none is: the filesystem, or an object not recorded yet)."""
    from jilu.evidence.models import StoredObject

    found = StoredObject.objects.filter(pk=sha256).values_list("version_id", flat=True).first()
    return found or ""


@lru_cache(maxsize=8)
def _build(kind: str, root: Path, s3: S3Config | None, spool: Path) -> Store:
    if kind == "file":
        from jilu.evidence.store.files import FileStore

        return FileStore(root)
    if kind == "s3":
        if s3 is None:
            raise StoreError("STORAGE_KIND is 's3' but settings.S3 is not configured")
        from jilu.evidence.store.s3 import S3Store

        return S3Store(s3, spool, pins=recorded_version)
    raise StoreError(f"unknown STORAGE_KIND {kind!r}: use 'file' or 's3'")


def get_store() -> Store:
    """The configured store; one instance per distinct configuration.

    Settings are read on every call (cheap), so tests that override them get
    a store for the new configuration; ``get_store.cache_clear()`` drops them all.
    """
    return _build(
        settings.STORAGE_KIND, Path(settings.STORE_ROOT), settings.S3, Path(settings.SPOOL_DIR)
    )


get_store.cache_clear = _build.cache_clear  # type: ignore[attr-defined]
