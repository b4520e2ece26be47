"""Reading and importing a large roster in the background (django-tasks).

The roster page hands a workbook whose members inflate past
``jilu.workbooks.INLINE_BYTES`` to ``read_roster_upload`` (the request thread
only checks the zip directory); the page then shows the progress and the
preview, the row errors or the refusal. Confirming enqueues
``apply_roster_upload``, which imports everything or nothing in one
transaction with the upload's outcome. Both take the upload's ID and are
idempotent: a reading repeats harmlessly (it writes nothing but progress), an
import that stopped part-way was rolled back and runs again, a finished upload
is left alone. Messages are written in the uploader's language.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from jilu.org import roster, uploads
from jilu.org.models import WorkbookUpload
from jilu.org.roster.reading import LIMITS
from jilu.org.roster.stored import plan_json
from jilu.workbooks import BACKGROUND_SECONDS

logger = logging.getLogger(__name__)
State = WorkbookUpload.State
BACKGROUND_LIMITS = replace(LIMITS, seconds=BACKGROUND_SECONDS)
# Progress is written to the database at most this often.
PROGRESS_EVERY_SECONDS = 0.5


def progress_reporter(upload_id: int):
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_SECONDS and done < total:
            return
        last[0] = now
        uploads.note_progress(upload_id, done, total)

    return report


def internal_error() -> str:
    return _(
        "读取工作簿时发生系统内部错误，未导入任何数据。请稍后重新上传；如仍失败，请联系系统管理员查看日志"
    )


def _upload(upload_id: int, *states: str) -> WorkbookUpload | None:
    return (
        WorkbookUpload.objects.select_related("person")
        .filter(pk=upload_id, kind=WorkbookUpload.Kind.ROSTER, state__in=states)
        .first()
    )


@task()
def read_roster_upload(upload_id: int) -> str:
    upload = _upload(upload_id, State.QUEUED, State.READING)
    if upload is None:
        return "nothing to read"
    uploads.begin_reading(upload)
    actor = upload.person
    with translation.override(upload.language):
        try:
            plan = roster.plan_import(
                bytes(upload.data),
                user=upload.person,
                limits=BACKGROUND_LIMITS,
                progress=progress_reporter(upload.pk),
            )
        except roster.RosterFileError as exc:
            uploads.finish(upload, State.REFUSED, actor=actor, message=str(exc))
            return "refused"
        except Exception:
            logger.exception("reading roster upload %s failed", upload_id)
            uploads.finish(upload, State.FAILED, actor=actor, message=internal_error())
            return "failed"
    if not plan.ok:
        state = State.INVALID
    elif plan.has_changes:
        state = State.PREVIEW
    else:
        state = State.DONE
    uploads.finish(upload, state, actor=actor, result=plan_json(plan))
    return state


@task()
def apply_roster_upload(upload_id: int) -> str:
    upload = _upload(upload_id, State.APPLYING)
    if upload is None:
        return "nothing to import"
    actor = upload.person
    with translation.override(upload.language):
        try:
            with transaction.atomic():
                plan = roster.apply_import(
                    bytes(upload.data),
                    user=upload.person,
                    actor=actor,
                    expected_digest=upload.result.get("digest"),
                    limits=BACKGROUND_LIMITS,
                )
                uploads.finish(
                    upload, State.DONE, actor=actor, result=plan_json(plan, applied=True)
                )
        except roster.RosterChanged as exc:
            result = plan_json(exc.plan, changed_since_preview=True)
            uploads.finish(upload, State.PREVIEW, actor=actor, result=result)
            return "changed"
        except roster.RosterInvalid as exc:
            uploads.finish(upload, State.INVALID, actor=actor, result=plan_json(exc.plan))
            return "invalid"
        except roster.RosterFileError as exc:
            uploads.finish(upload, State.REFUSED, actor=actor, message=str(exc))
            return "refused"
        except Exception:
            logger.exception("importing roster upload %s failed", upload_id)
            uploads.finish(upload, State.FAILED, actor=actor, message=internal_error())
            return "failed"
    return "done"
