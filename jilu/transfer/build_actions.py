"""The package build's own state changes, made by the build task: started,
progress, finished, failed. Apart from ``actions`` (which enqueues the build)
so that the task imports these and nothing here imports the task."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from jilu.audit.chain import record
from jilu.transfer.models import Package


def note_progress(package_id: int, done: int, total: int, message: str) -> None:
    """Progress of a running build (not audited: it is not a decision)."""
    Package.objects.filter(pk=package_id).update(
        done_bytes=done, total_bytes=total, message=message[:300]
    )


@transaction.atomic
def start_build(*, actor: Any, package: Package, out_dir: str) -> Package:
    package = Package.objects.select_for_update().get(pk=package.pk)
    package.state = Package.State.BUILDING
    package.started_at = timezone.now()
    package.out_dir = out_dir
    package.attempts += 1
    package.error = ""
    package.message = gettext_noop("开始制作")
    package.save()
    record(
        "transfer.package.start",
        actor=actor,
        obj=package,
        details={"attempt": package.attempts, "out_dir": out_dir},
    )
    return package


@transaction.atomic
def finish_build(
    *, actor: Any, package: Package, manifest_sha256: str, discs: list[dict[str, Any]]
) -> Package:
    """The build succeeded: the package is ready with its discs (each a dict of Disc fields)."""
    package = Package.objects.select_for_update().get(pk=package.pk)
    package.discs.all().delete()
    for d in discs:
        package.discs.create(**d)
    package.state = Package.State.READY
    package.manifest_sha256 = manifest_sha256
    package.file_count = sum(d.get("file_count", 0) for d in discs)
    package.finished_at = timezone.now()
    package.message = gettext_noop("制作完成")
    package.done_bytes = package.total_bytes or package.done_bytes
    package.save()
    record(
        "transfer.package.ready",
        actor=actor,
        obj=package,
        details={
            "manifest_sha256": manifest_sha256,
            "discs": [
                {"number": d["number"], "manifest_sha256": d.get("manifest_sha256", "")}
                for d in discs
            ],
        },
    )
    return package


@transaction.atomic
def fail_build(
    *, actor: Any, package: Package, error: str, detail: str = "", retry: bool = False
) -> Package:
    """``error`` is shown to people; ``detail`` (technical) goes only to the audit entry."""
    package = Package.objects.select_for_update().get(pk=package.pk)
    package.error = error[:2000]
    if retry:
        package.state = Package.State.QUEUED
        package.message = gettext_noop("制作中断，稍后自动重试")
    else:
        package.state = Package.State.FAILED
        package.message = gettext_noop("制作失败")
        package.finished_at = timezone.now()
    package.save()
    record(
        "transfer.package.failed",
        actor=actor,
        obj=package,
        details={
            "error": error[:500],
            "detail": detail[:500],
            "retry": retry,
            "attempt": package.attempts,
        },
    )
    return package
