"""What every evidence store backend offers: content-addressed, write-once objects."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from jilu.evidence.store.errors import ObjectMissing
from jilu.evidence.store.hashing import check_key, hash_chunks


@dataclass(frozen=True)
class PutResult:
    sha256: str
    sm3: str
    size: int
    created: bool  # False: the same bytes were already stored, the existing object won
    # The store's own name for this version of the object (S3 VersionId), which
    # every later read pins (C6.5.3); "" where the store keeps no versions (the
    # filesystem) or the bucket is not versioned.
    version: str = ""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    sha256: str  # as recomputed now ("" when the object is missing)
    sm3: str
    size: int
    problem: str  # "" when ok, else e.g. "missing" or "SHA-256 differs: …"
    version: str = ""  # the version that was read ("" where the store keeps none)
    # Versions of the key written after the one read (S3 VersionIds, delete
    # markers as "delete marker <id>"), newest first: somebody overwrote or
    # deleted the object behind Jilu's back (C6.5.3), whatever the read found.
    newer: tuple[str, ...] = ()


class Store(ABC):
    """Objects keyed by the SHA-256 of their bytes; once visible, never overwritten.

    ``put`` reads its stream once, hashing SHA-256 and SM3 in parallel while
    writing a temporary copy; only bytes that match the caller's expectations
    become visible, under their SHA-256 (C6.5.3: recordings cannot be altered
    or replaced; C6.5.4: nothing half-written is ever taken for an object).
    """

    kind: str

    @abstractmethod
    def put(
        self,
        stream: BinaryIO,
        *,
        expected_sha256: str | None = None,
        expected_sm3: str | None = None,
        expected_size: int | None = None,
    ) -> PutResult:
        """Store the stream's bytes; raise ``HashMismatch`` (storing nothing) if they differ."""

    @abstractmethod
    def exists(self, key: str, *, version: str | None = None) -> bool: ...

    @abstractmethod
    def size(self, key: str, *, version: str | None = None) -> int:
        """The object's size in bytes; ``ObjectMissing`` if there is none."""

    @abstractmethod
    def _open_range(
        self, key: str, start: int, end: int | None, version: str | None
    ) -> Iterator[bytes]: ...

    def open_range(
        self, key: str, start: int = 0, end: int | None = None, *, version: str | None = None
    ) -> Iterator[bytes]:
        """Stream bytes ``[start, end)`` of the object in chunks.

        ``version`` names the version to read where the store keeps versions;
        ``None`` (every caller but fixity) reads the version recorded when the
        object was stored, so an object overwritten later under the same key
        still gives its original bytes (C6.5.3); ``""`` reads the newest.

        ``end`` is exclusive, like a Python slice: ``open_range(k, 0, 10)`` gives
        the first 10 bytes (HTTP ``Range: bytes=0-9``). ``end=None`` reads to the
        end; an ``end`` past the object's size is clipped to it, and a ``start``
        at or past the end gives no bytes. The object is opened before this
        returns, so a missing one raises ``ObjectMissing`` here, not mid-stream.
        """
        check_key(key)
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"bad range [{start}, {end}): need 0 <= start <= end")
        return self._open_range(key, start, end, version)

    @abstractmethod
    def delete(self, key: str) -> int:
        """Remove the object for good (every version, where the store keeps
        versions): only a retention disposal that people approved does this
        (C5.6), after its tombstone is written. Returns how many versions or
        files were removed (0 when there was nothing); ``ObjectRetained`` when
        the store still protects it."""

    def retain_until(self, key: str, until: datetime) -> bool:
        """Make the store refuse to delete or overwrite the object before
        ``until`` (S3 Object Lock); never shortens it. False when the store has
        no such protection (the filesystem), True when it is set."""
        return False

    def verify(self, key: str, *, version: str | None = None) -> VerifyResult:
        """Re-read the object (the recorded version, or ``version``) and
        recompute both hashes (fixity check)."""
        check_key(key)
        try:
            chunks = self.open_range(key, version=version)
        except ObjectMissing:
            return VerifyResult(False, "", "", 0, "missing", version or "")
        got = hash_chunks(chunks)
        problem = "" if got.sha256 == key else f"SHA-256 differs: expected {key}, got {got.sha256}"
        return VerifyResult(not problem, got.sha256, got.sm3, got.size, problem, version or "")

    def put_path(
        self,
        path: str | os.PathLike[str],
        *,
        expected_sha256: str | None = None,
        expected_sm3: str | None = None,
        expected_size: int | None = None,
    ) -> PutResult:
        """``put`` the contents of a local file."""
        with open(Path(path), "rb", buffering=0) as stream:
            try:
                os.posix_fadvise(stream.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            except (AttributeError, OSError):
                pass  # advice only; not every platform or file system takes it
            return self.put(
                stream,
                expected_sha256=expected_sha256,
                expected_sm3=expected_sm3,
                expected_size=expected_size,
            )

    def put_complete_file(
        self,
        path: str | os.PathLike[str],
        *,
        expected_sha256: str | None = None,
        expected_sm3: str | None = None,
        expected_size: int | None = None,
    ) -> PutResult:
        """Store a finished local file that nobody writes any more (a completed upload).

        The default reads it like ``put_path``; the filesystem store instead
        hashes it in place and links it into the store, saving a copy.
        """
        return self.put_path(
            path,
            expected_sha256=expected_sha256,
            expected_sm3=expected_sm3,
            expected_size=expected_size,
        )
