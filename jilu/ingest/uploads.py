"""State changes of tus uploads: creation, progress, rejection, termination,
expiry and completion.

One function per change, ``transaction.atomic``, keyword-only ``actor``, the
audit row in the same transaction. Completing an upload attributes its file
(:func:`jilu.ingest.attribution.attribute_file`). Callers import these through
:mod:`jilu.ingest.actions`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jilu.audit.chain import record
from jilu.devices.models import Workstation
from jilu.evidence.models import StoredObject
from jilu.ingest import locks
from jilu.ingest.attribution import attribute_file
from jilu.ingest.models import DockingSession, Upload
from jilu.ingest.staging import configured_areas, configured_kind, staging_for
from jilu.org.models import Person, Unit

log = logging.getLogger(__name__)


def upload_expiry() -> timedelta:
    return timedelta(days=getattr(settings, "TUS_EXPIRY_DAYS", 7))


# --- uploads --------------------------------------------------------------


@transaction.atomic
def create_upload(
    *,
    actor: Any,
    station: Workstation | None,
    person: Person | None,
    docking: DockingSession | None,
    length: int,
    filename: str,
    sha256: str,
    sm3: str,
    mtime: datetime | None = None,
    metadata_raw: str = "",
) -> Upload:
    upload = Upload.objects.create(
        id=uuid.uuid4(),
        station=station,
        person=person,
        docking=docking,
        length=length,
        filename=filename,
        sha256=sha256,
        sm3=sm3,
        mtime=mtime,
        metadata_raw=metadata_raw,
        expires_at=timezone.now() + upload_expiry(),
        staging=configured_kind(),
    )
    record(
        "ingest.upload.create",
        actor=actor,
        obj=upload,
        details={
            "filename": filename,
            "length": length,
            "sha256": sha256,
            "sm3": sm3,
            "docking": docking.pk if docking else None,
        },
    )
    return upload


def advance_upload(
    *, upload: Upload, old_offset: int, new_offset: int, staged: dict | None = None
) -> bool:
    """Acknowledge bytes up to ``new_offset`` (already durable in the staging area),
    with what the staging area needs to find them (``staged``; unchanged if None).

    A compare-and-set on the offset and state: False when the upload moved on
    meanwhile (terminated, expired). Per-chunk progress writes no audit row;
    the upload's creation and outcome do.
    """
    changes: dict[str, Any] = {
        "offset": new_offset,
        "expires_at": timezone.now() + upload_expiry(),
        "updated_at": timezone.now(),
    }
    if staged is not None:
        changes["staged"] = staged
    updated = Upload.objects.filter(
        pk=upload.pk, offset=old_offset, state=Upload.State.RECEIVING
    ).update(**changes)
    if updated:
        upload.offset = new_offset
        if staged is not None:
            upload.staged = staged
    return bool(updated)


def discard_staged(upload: Upload) -> None:
    """Remove what the staging area holds for an upload that ended (after commit).

    A failure is logged, not raised: the upload's end is already recorded, and
    the sweep of :func:`remove_spool_leftovers` removes what stays behind.
    """
    try:
        staging_for(upload).discard(upload.pk, upload.staged or {})
    except Exception:
        log.exception("upload %s: removing its staged bytes failed; the sweep retries", upload.pk)
    locks.remove_lock_file(upload.pk)


@transaction.atomic
def reject_upload(*, actor: Any, upload: Upload, detail: str) -> Upload:
    """The received bytes are not what the station declared: discard them (nothing visible)."""
    upload = Upload.objects.select_for_update().get(pk=upload.pk)
    if upload.state != Upload.State.RECEIVING:
        return upload
    upload.state = Upload.State.FAILED
    upload.failure = detail
    upload.finished_at = timezone.now()
    upload.save(update_fields=["state", "failure", "finished_at", "updated_at"])
    record(
        "ingest.upload.reject",
        actor=actor,
        obj=upload,
        details={
            "filename": upload.filename,
            "declared_sha256": upload.sha256,
            "declared_sm3": upload.sm3,
            "detail": detail,
        },
    )
    transaction.on_commit(lambda: discard_staged(upload))
    return upload


@transaction.atomic
def terminate_upload(*, actor: Any, upload: Upload) -> Upload:
    """tus termination: the client gives up an unfinished upload."""
    upload = Upload.objects.select_for_update().get(pk=upload.pk)
    if upload.state == Upload.State.COMPLETE:
        raise ValidationError("已入库的上传不能删除：证据一经入库不可删除")
    if upload.state != Upload.State.RECEIVING:
        return upload
    upload.state = Upload.State.TERMINATED
    upload.finished_at = timezone.now()
    upload.save(update_fields=["state", "finished_at", "updated_at"])
    record(
        "ingest.upload.terminate",
        actor=actor,
        obj=upload,
        details={"filename": upload.filename, "offset": upload.offset, "length": upload.length},
    )
    transaction.on_commit(lambda: discard_staged(upload))
    return upload


def expire_uploads(*, actor: Any = "system:ingest", now: datetime | None = None) -> int:
    """tus expiration: give up unfinished uploads idle past their ``expires_at``.

    Their staged bytes go when each expiry commits (on S3: the multipart upload
    aborted, the tail and assembled objects deleted). Also removes what uploads
    that ended left behind (a crash between the end and the removal); returns
    how many uploads expired.
    """
    now = now or timezone.now()
    count = 0
    ids = list(
        Upload.objects.filter(state=Upload.State.RECEIVING, expires_at__lt=now).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        if expire_upload(actor=actor, upload_id=pk, now=now):
            count += 1
    remove_spool_leftovers(now=now)
    return count


def remove_spool_leftovers(
    *, now: datetime | None = None, min_age: timedelta = timedelta(hours=1)
) -> int:
    """Delete what uploads that are no longer receiving (or never existed) left
    in every staging area this process reaches: partial files on the spool or
    the shared directory, and in the bucket their multipart uploads (aborted)
    and staged objects (every version), also multipart uploads begun by a
    request that died before its first part was acknowledged.

    Only what was untouched for ``min_age``; the bytes of a completed upload are
    in the store, those of an ended one were never acknowledged as evidence. No
    audit row: the upload's end was audited when it happened.
    """
    now = now or timezone.now()
    removed = 0
    for area in configured_areas():
        try:
            removed += area.sweep(now=now, min_age=min_age)
        except Exception:  # one unreachable area does not stop the others
            log.exception("sweeping the %s upload staging area failed", area.kind)
    return removed


@transaction.atomic
def expire_upload(*, actor: Any, upload_id: uuid.UUID, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    upload = Upload.objects.select_for_update().get(pk=upload_id)
    if upload.state != Upload.State.RECEIVING or upload.expires_at >= now:
        return False
    upload.state = Upload.State.EXPIRED
    upload.finished_at = now
    upload.save(update_fields=["state", "finished_at", "updated_at"])
    record(
        "ingest.upload.expire",
        actor=actor,
        obj=upload,
        details={"filename": upload.filename, "offset": upload.offset, "length": upload.length},
    )
    transaction.on_commit(lambda: discard_staged(upload))
    return True


@transaction.atomic
def complete_upload(*, actor: Any, upload: Upload, stored: StoredObject) -> Upload:
    """The upload's bytes are verified in the store: attribute them and close the upload.

    The recording (or quarantine item), the upload's completion and their
    audit rows are one transaction. Idempotent: a completed upload is answered
    as it is.
    """
    upload = (
        Upload.objects.select_for_update(of=("self",))
        .select_related("docking", "docking__station", "station", "person")
        .get(pk=upload.pk)
    )
    if upload.state == Upload.State.COMPLETE:
        return upload
    if upload.state != Upload.State.RECEIVING:
        raise ValidationError(f"上传已{upload.get_state_display()}，不能完成")
    station = upload.station or (upload.docking.station if upload.docking else None)
    outcome = attribute_file(
        actor=actor,
        stored=stored,
        filename=upload.filename,
        docking=upload.docking,
        station=station,
        unit=_responsible_unit(station, upload.person),
        mtime=upload.mtime,
    )
    upload.state = Upload.State.COMPLETE
    upload.offset = upload.length
    upload.finished_at = timezone.now()
    upload.recording = outcome.recording
    upload.quarantine = outcome.quarantine
    upload.save()
    record(
        "ingest.upload.complete",
        actor=actor,
        obj=upload,
        details={
            "filename": upload.filename,
            "sha256": stored.sha256,
            "sm3": stored.sm3,
            "size": stored.size,
            "docking": upload.docking_id,
            "recording": outcome.recording.pk if outcome.recording else None,
            "quarantine": outcome.quarantine.pk if outcome.quarantine else None,
            "new": outcome.created,
        },
    )
    return upload


def _responsible_unit(station: Workstation | None, person: Person | None) -> Unit:
    if station is not None:
        return station.unit
    if person is not None and person.unit_id:
        return person.unit
    root = Unit.objects.filter(parent__isnull=True).order_by("pk").first()
    if root is None:
        raise ValidationError("系统中还没有单位，无法登记待处理文件")
    return root
