"""Building a case's disc package in the background (django-tasks; C5.5).

``actions.request_package`` creates the package row and calls
``enqueue_build(package_id)``, which queues ``build_package_job`` once the
transaction commits. The job takes the ID, is idempotent (a package that is
ready or failed is left alone) and reports progress on the row, which the
case's package page polls. Named transient errors (the evidence store
unreachable, a timeout) are retried with exponential back-off by enqueueing
itself again with ``run_after`` (django-tasks has no retry of its own); a
package error (a stored copy that no longer matches its ingest hashes, a
full disk) fails the package at once with its message for people. Any
other error fails it with a plain Chinese message on the page while the
exception and its traceback go to the log (and its class and text to the
audit entry). A retry starts in a fresh output directory: the builder never
overwrites files and removes what a failed build wrote.
"""

from __future__ import annotations

import logging
import shutil
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from jilu.evidence.tasks import _transient
from jilu.transfer import build_actions as actions
from jilu.transfer.models import Package

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:transfer"
MAX_ATTEMPTS = 4
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 3600
# Progress is written to the database at most this often.
PROGRESS_EVERY_SECONDS = 0.5
# What the handler reads on the package page when the cause is not a
# PackageError (whose message is already written for people).
TRANSIENT_ERROR = "暂时无法读取证据存储或等待超时，稍后自动重试。"
TRANSIENT_ERROR_FINAL = (
    "多次重试后仍无法读取证据存储，制作失败，未留下不完整的文件："
    "请稍后重新制作；如仍失败，请联系系统管理员。"
)
INTERNAL_ERROR = (
    "制作光盘包时发生系统内部错误，制作失败，未留下不完整的文件："
    "请稍后重新制作；如仍失败，请联系系统管理员查看日志。"
)


def packages_root() -> Path:
    return Path(getattr(settings, "TRANSFER_PACKAGE_DIR", None) or settings.DATA_DIR / "packages")


def backoff(attempt: int) -> timedelta:
    base = getattr(settings, "TRANSFER_RETRY_BASE_SECONDS", BACKOFF_BASE_SECONDS)
    return timedelta(seconds=min(base * 2 ** max(attempt - 1, 0), BACKOFF_MAX_SECONDS))


def retry_or_fail(
    exc: Exception, *, package, fail, enqueue, messages: tuple[str, str, str], label: str
) -> str:
    """After a build raised ``exc`` (not a PackageError): a transient cause is retried
    later with backoff, up to MAX_ATTEMPTS, and said so; anything else fails the
    package with ``messages`` (transient, transient at the last attempt, internal)
    and is raised again for the task's own record."""
    transient_text, final_text, internal_text = messages
    detail = f"{type(exc).__name__}: {exc}"
    if _transient(exc) and package.attempts < MAX_ATTEMPTS:
        retry_at = timezone.now() + backoff(package.attempts)
        fail(package=package, error=transient_text, detail=detail, retry=True)
        enqueue(package.pk, run_after=retry_at)
        logger.warning("%s: %s; retry at %s", label, detail, retry_at)
        return f"retry at {retry_at.isoformat()}"
    logger.exception("%s failed", label)
    error = final_text if _transient(exc) else internal_text
    fail(package=package, error=error, detail=detail)
    raise exc


def enqueue_job(job, package_id: int, *, run_after=None) -> None:
    """Enqueue ``job`` for one package, deferred when the backend can (a retry)."""
    if run_after is not None and job.get_backend().supports_defer:
        job = job.using(run_after=run_after)
    job.enqueue(package_id)


def _enqueue(package_id: int, *, run_after=None) -> None:
    enqueue_job(build_package_job, package_id, run_after=run_after)


def enqueue_build(package_id: int) -> None:
    """Queue the build once the current transaction commits."""
    transaction.on_commit(partial(_enqueue, package_id), robust=True)


def throttled_progress(note, package_id: int):
    """A build's progress callback that writes ``note(id, done, total, message)``
    at most every PROGRESS_EVERY_SECONDS, and always the last step."""
    last = [0.0]

    def report(done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_SECONDS and done < total:
            return
        last[0] = now
        note(package_id, done, total, message)

    return report


def _progress(package_id: int):
    return throttled_progress(actions.note_progress, package_id)


def _discs(result) -> list[dict]:
    return [
        {
            "number": d.number,
            "count": d.count,
            "bag_dir": str(d.root),
            "iso_path": str(d.iso_path),
            "iso_size": d.iso_size,
            "manifest_sha256": d.manifest_sha256,
            "file_count": len(d.files),
            "payload_bytes": d.payload_bytes,
            "label_text": d.label,
        }
        for d in result.discs
    ]


@task()
def build_package_job(package_id: int) -> str:
    """Build one package version (see the module docstring); returns what happened."""
    from jilu.transfer.builder import PackageError, build_package

    package = Package.objects.select_related("case").filter(pk=package_id).first()
    if package is None:
        return "no such package"
    if package.finished:
        return f"already {package.state}"
    out_dir = packages_root() / f"case-{package.case_id}" / f"v{package.version}"
    if out_dir.exists():  # a previous attempt stopped part-way: start clean
        shutil.rmtree(out_dir)
    package = actions.start_build(actor=SYSTEM_ACTOR, package=package, out_dir=str(out_dir))
    try:
        result = build_package(
            package.case, out_dir, disc=package.disc, progress=_progress(package.pk)
        )
    except PackageError as exc:
        actions.fail_build(actor=SYSTEM_ACTOR, package=package, error=str(exc))
        return f"failed: {exc}"
    except Exception as exc:
        return retry_or_fail(
            exc,
            package=package,
            fail=partial(actions.fail_build, actor=SYSTEM_ACTOR),
            enqueue=_enqueue,
            messages=(TRANSIENT_ERROR, TRANSIENT_ERROR_FINAL, INTERNAL_ERROR),
            label=f"package {package.pk} (case {package.case.number})",
        )
    actions.finish_build(
        actor=SYSTEM_ACTOR,
        package=package,
        manifest_sha256=result.manifest_sha256,
        discs=_discs(result),
    )
    return "ready"
