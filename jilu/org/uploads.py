"""Actions on a workbook upload read in the background (``WorkbookUpload``).

The owning app's task reads (and, once confirmed, imports) the workbook and
calls these to report progress and the outcome; the views call
``start_upload`` and ``confirm`` and enqueue the task when the transaction
commits (the task modules import this one, never the reverse).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction

from jilu.audit.chain import record
from jilu.org.models import Person, Unit, WorkbookUpload

State = WorkbookUpload.State


@transaction.atomic
def start_upload(
    *,
    actor: Person,
    kind: str,
    name: str,
    data: bytes,
    language: str,
    total_bytes: int,
    unit: Unit | None = None,
) -> WorkbookUpload:
    upload = WorkbookUpload.objects.create(
        kind=kind,
        person=actor,
        unit=unit,
        name=name[:200],
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        language=language[:10],
        total_bytes=total_bytes,
    )
    record(
        "org.workbook.upload",
        actor=actor,
        obj=upload,
        details={"kind": kind, "name": upload.name, "sha256": upload.sha256, "size": len(data)},
    )
    return upload


def note_progress(upload_id: int, done: int, total: int) -> None:
    """Progress of a running reading (not audited: it is not a decision)."""
    WorkbookUpload.objects.filter(pk=upload_id).update(done_bytes=done, total_bytes=total)


def begin_reading(upload: WorkbookUpload) -> None:
    WorkbookUpload.objects.filter(pk=upload.pk).update(state=State.READING, done_bytes=0)
    upload.state = State.READING


@transaction.atomic
def finish(
    upload: WorkbookUpload,
    state: str,
    *,
    actor: Any,
    result: dict | None = None,
    message: str = "",
) -> WorkbookUpload:
    """The outcome of reading or importing; a refusal or failure is audited
    (who sent which file and why it was refused)."""
    upload.state = state
    upload.result = result or {}
    upload.message = message
    upload.save(update_fields=["state", "result", "message", "updated_at"])
    if state in (State.REFUSED, State.FAILED):
        record(
            f"org.workbook.{state}",
            actor=actor,
            obj=upload,
            details={"kind": upload.kind, "sha256": upload.sha256, "reason": message[:500]},
        )
    return upload


@transaction.atomic
def confirm(*, actor: Person, upload: WorkbookUpload, digest: str) -> bool:
    """Confirm the previewed import; False when the preview shown is not the current one."""
    upload = WorkbookUpload.objects.select_for_update().get(pk=upload.pk)
    if upload.state != State.PREVIEW or upload.result.get("digest") != digest:
        return False
    upload.state = State.APPLYING
    upload.save(update_fields=["state", "updated_at"])
    record(
        "org.workbook.confirm",
        actor=actor,
        obj=upload,
        details={"kind": upload.kind, "sha256": upload.sha256, "digest": digest},
    )
    return True
