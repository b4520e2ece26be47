"""What every upload staging area offers (``staging.py`` chooses one; ``staging_s3.py`` is the bucket's)."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from jilu.evidence.models import StoredObject
from jilu.ingest.models import Upload


class StagingLost(Exception):
    """The staging area holds fewer bytes than were acknowledged (it was altered)."""


class Writer(ABC):
    """Appends one PATCH's bytes after the acknowledged offset."""

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Take the next bytes (a pump sink; raises ``OSError`` or ``StoreError``)."""

    @abstractmethod
    def commit(self, *, complete: bool) -> dict[str, Any]:
        """Make every byte written durable; the ``staged`` state to acknowledge with the offset.

        ``complete``: these are the upload's last bytes.
        """

    @abstractmethod
    def abandon(self) -> None:
        """Forget what this writer wrote: nothing of it will be acknowledged."""

    def acknowledged(self) -> None:  # noqa: B027 (optional hook)
        """The offset was advanced: tidy what the new state no longer needs."""

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release what the writer holds (file descriptors)."""


class Staging(ABC):
    kind: str

    @abstractmethod
    def writer(self, upload: Upload) -> Writer:
        """A writer after ``upload.offset``; ``StagingLost`` if fewer bytes are staged."""

    @abstractmethod
    def put(self, upload: Upload, *, actor: Any) -> StoredObject:
        """Every byte has arrived (the lock is held): store them, checked against the
        declared SHA-256, SM3 and size (``HashMismatch``: nothing is visible)."""

    @abstractmethod
    def discard(self, upload_id: uuid.UUID, staged: dict[str, Any]) -> None:
        """Remove everything staged for the upload (it ended)."""

    @abstractmethod
    def sweep(self, *, now: datetime, min_age: timedelta) -> int:
        """Remove what uploads that are not receiving left behind, untouched for
        ``min_age`` (a crash between an upload's end and its discard); how many."""


def receiving(ids: set[uuid.UUID]) -> dict[uuid.UUID, Upload]:
    """Which of ``ids`` are uploads still receiving."""
    rows = Upload.objects.filter(pk__in=ids, state=Upload.State.RECEIVING)
    return {row.pk: row for row in rows}


def parse_hex(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(hex=value)
    except ValueError:
        return None


def record_staged(*, upload: Upload, staged: dict) -> bool:
    """Note a change of the staging area that moves no byte (the parts assembled).

    A compare-and-set on the offset and state, like ``advance_upload``; no audit
    row (the upload's creation and outcome have theirs).
    """
    updated = Upload.objects.filter(
        pk=upload.pk, offset=upload.offset, state=Upload.State.RECEIVING
    ).update(staged=staged, updated_at=timezone.now())
    if updated:
        upload.staged = staged
    return bool(updated)
