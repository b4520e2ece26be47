"""Building a request's copy package in the background (django-tasks; C6.3).

``actions.fulfil`` creates the package row and calls ``enqueue_build``, which
queues ``build_copy_package_job`` once the transaction commits. As for the case
package (``jilu.transfer.tasks``): the job takes the ID, is idempotent (a
package that is ready or failed is left alone), reports progress on the row
(the request page polls it), retries named transient errors with back-off
and fails at once, with its message for people, on a package error. Each
attempt starts in a fresh directory and draws fresh copy IDs: only a finished
package is registered.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from jilu.access import build_actions as actions
from jilu.access.models import AccessRequest, CopyPackage
from jilu.transfer.tasks import enqueue_job, retry_or_fail, throttled_progress

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:access"
PROGRESS_EVERY_SECONDS = 0.5
ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read off a picture
TRANSIENT_ERROR = "暂时无法读取证据存储或等待超时，稍后自动重试。"
TRANSIENT_ERROR_FINAL = (
    "多次重试后仍无法读取证据存储，制作失败，未留下不完整的文件：请稍后重新制作复制件。"
)
INTERNAL_ERROR = (
    "制作复制件时发生系统内部错误，制作失败，未留下不完整的文件："
    "请稍后重新制作；如仍失败，请联系系统管理员查看日志。"
)


def packages_root() -> Path:
    return Path(
        getattr(settings, "ACCESS_PACKAGE_DIR", None) or settings.DATA_DIR / "access-packages"
    )


def new_copy_id() -> str:
    """``JC-XXXX-XXXX-XXXX``: 12 characters of a 30-letter alphabet (~59 bits)."""
    chars = "".join(secrets.choice(ID_ALPHABET) for _ in range(12))
    return f"JC-{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def _enqueue(package_id: int, *, run_after=None) -> None:
    enqueue_job(build_copy_package_job, package_id, run_after=run_after)


def enqueue_build(package_id: int) -> None:
    """Queue the build once the current transaction commits."""
    transaction.on_commit(partial(_enqueue, package_id), robust=True)


def _progress(package_id: int):
    return throttled_progress(actions.note_progress, package_id)


def wants_viewing_copy(recording) -> bool:
    """A video gets a viewing copy unless its probe found no picture in it (a
    file that is not media, or sound only); one not probed yet is tried."""
    if recording.kind != recording.Kind.VIDEO:
        return False
    media = getattr(recording, "media", None)
    if media is None or media.probed_at is None:
        return True
    return media.has_video and media.integrity != media.Integrity.UNPARSEABLE


def make_plan(package: CopyPackage):
    """What goes into the package: each recording under its standard name (C5.3)
    where it has one, else its original name; fresh copy IDs."""
    from jilu.access.package import Item, Plan, safe_name, unique_names
    from jilu.casework.models import Annotation

    req: AccessRequest = package.request
    recs = list(
        req.recordings.select_related("stored_object", "media").order_by("started_at", "pk")
    )
    standard = {
        a.recording_id: a.file_name
        for a in Annotation.objects.filter(recording__in=recs).select_related("recording")
    }
    names = unique_names([safe_name(standard.get(r.pk) or r.original_name) for r in recs])
    viewing = req.use == AccessRequest.Use.VIEWING
    items = [
        Item(
            recording=r,
            file_name=name,
            original_copy_id=new_copy_id(),
            viewing_copy_id=new_copy_id() if viewing and wants_viewing_copy(r) else "",
        )
        for r, name in zip(recs, names, strict=True)
    ]
    return Plan(
        number=req.number,
        recipient=package.recipient,
        unit=req.unit.name if req.unit_id else "",
        purpose=req.purpose,
        use=req.use,
        date_text=timezone.localdate().isoformat(),
        items=items,
    )


@task()
def build_copy_package_job(package_id: int) -> str:
    """Build one copy package (see the module docstring); returns what happened."""
    from jilu.access import package as builder
    from jilu.transfer.bag import PackageError

    package = (
        CopyPackage.objects.select_related("request", "request__unit").filter(pk=package_id).first()
    )
    if package is None:
        return "no such package"
    if package.finished:
        return f"already {package.state}"
    out_dir = packages_root() / f"request-{package.request_id}" / f"package-{package.pk}"
    if out_dir.exists():  # a previous attempt stopped part-way: start clean
        shutil.rmtree(out_dir)
    package = actions.start_build(actor=SYSTEM_ACTOR, package=package, out_dir=str(out_dir))
    try:
        result = builder.build(make_plan(package), out_dir, progress=_progress(package.pk))
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
            label=f"copy package {package.pk} ({package.request.number})",
        )
    actions.finish_build(actor=SYSTEM_ACTOR, package=package, result=result)
    return "ready"
