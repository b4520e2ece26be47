"""The copy package build's own state changes, made by the build task: started,
progress, finished (every copy registered, the request provided), failed (the
request open again for another try). Apart from ``actions`` (which enqueues
the build) so that the task imports these and nothing here imports the task."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from jilu.access.models import AccessRequest, CopyPackage, IssuedCopy
from jilu.audit.chain import record


def _audit(action: str, *, actor: Any, package: CopyPackage, **details: Any) -> None:
    record(
        f"access.package.{action}",
        actor=actor,
        object_type="access.request",
        object_id=str(package.request_id),
        details={"number": package.request.number, "package": package.pk, **details},
    )


def note_progress(package_id: int, done: int, total: int, message: str) -> None:
    """Progress of a running build (not audited: it is not a decision)."""
    CopyPackage.objects.filter(pk=package_id).update(
        done_bytes=done, total_bytes=total, message=message[:300]
    )


@transaction.atomic
def start_build(*, actor: Any, package: CopyPackage, out_dir: str) -> CopyPackage:
    package = CopyPackage.objects.select_for_update().select_related("request").get(pk=package.pk)
    package.state = CopyPackage.State.BUILDING
    package.started_at = timezone.now()
    package.out_dir = out_dir
    package.attempts += 1
    package.error = ""
    package.message = gettext_noop("开始制作")
    package.save()
    _audit("start", actor=actor, package=package, attempt=package.attempts)
    return package


@transaction.atomic
def finish_build(*, actor: Any, package: CopyPackage, result: Any) -> CopyPackage:
    """The package is ready: every file in it goes into the copy register, and
    the request is provided (C6.3) by the archivist who fulfilled it."""
    package = CopyPackage.objects.select_for_update().select_related("request").get(pk=package.pk)
    req = AccessRequest.objects.select_for_update().get(pk=package.request_id)
    now = timezone.now()
    for built in result.files:
        IssuedCopy.objects.create(
            copy_id=built.copy_id,
            request=req,
            package=package,
            recording_id=built.recording_id,
            kind=built.kind,
            path=built.entry.path,
            size=built.entry.size,
            sha256=built.entry.sha256,
            sm3=built.entry.sm3,
            recipient=package.recipient,
            issued_by=package.created_by,
            issued_at=now,
        )
    package.state = CopyPackage.State.READY
    package.zip_path = str(result.zip_path)
    package.zip_size = result.zip_size
    package.zip_sha256 = result.zip_sha256
    package.manifest_sha256 = result.manifest_sha256
    package.finished_at = now
    package.done_bytes = package.total_bytes
    package.message = gettext_noop("制作完成")
    package.save()
    req.status = AccessRequest.Status.PROVIDED
    req.provided_by = package.created_by
    req.provided_at = now
    req.save(update_fields=["status", "provided_by", "provided_at"])
    _audit(
        "ready",
        actor=actor,
        package=package,
        zip_sha256=result.zip_sha256,
        manifest_sha256=result.manifest_sha256,
        copies=[
            {"copy_id": b.copy_id, "kind": b.kind, "sha256": b.entry.sha256} for b in result.files
        ],
    )
    record(
        "access.request.provide",
        actor=package.created_by,
        object_type="access.request",
        object_id=str(req.pk),
        details={
            "number": req.number,
            "recipient": package.recipient,
            "medium": package.medium,
            "copies": len(result.files),
            "zip_sha256": result.zip_sha256,
        },
    )
    return package


@transaction.atomic
def fail_build(
    *, actor: Any, package: CopyPackage, error: str, detail: str = "", retry: bool = False
) -> CopyPackage:
    """``error`` is shown to people; ``detail`` (technical) goes only to the audit
    entry. A final failure opens the request again, so the archivist may try
    again while the approval lasts."""
    package = CopyPackage.objects.select_for_update().select_related("request").get(pk=package.pk)
    package.error = error[:2000]
    if retry:
        package.state = CopyPackage.State.QUEUED
        package.message = gettext_noop("制作中断，稍后自动重试")
    else:
        package.state = CopyPackage.State.FAILED
        package.message = gettext_noop("制作失败")
        package.finished_at = timezone.now()
        AccessRequest.objects.filter(
            pk=package.request_id, status=AccessRequest.Status.PREPARING
        ).update(status=AccessRequest.Status.APPROVED)
    package.save()
    _audit(
        "failed",
        actor=actor,
        package=package,
        error=error[:500],
        detail=detail[:500],
        retry=retry,
        attempt=package.attempts,
    )
    return package
