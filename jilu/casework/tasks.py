"""Importing a large list of powers in the background (django-tasks).

The import page hands a workbook whose members inflate past
``jilu.workbooks.INLINE_BYTES`` to ``import_powers_upload`` (the request
thread only checks the zip directory); the upload's page shows the progress
and then the counts, the row errors or the refusal. The task takes the
upload's ID and is idempotent: reading writes nothing but progress, and the
import and the upload's outcome are one transaction, so a task that stopped
part-way runs again from the start and a finished upload is left alone.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django_tasks import task

from jilu.casework import powers
from jilu.org import uploads
from jilu.org.models import WorkbookUpload
from jilu.org.tasks import internal_error, progress_reporter
from jilu.workbooks import BACKGROUND_SECONDS

logger = logging.getLogger(__name__)
State = WorkbookUpload.State
BACKGROUND_LIMITS = replace(powers.LIMITS, seconds=BACKGROUND_SECONDS)


@task()
def import_powers_upload(upload_id: int) -> str:
    upload = (
        WorkbookUpload.objects.select_related("person", "unit")
        .filter(
            pk=upload_id,
            kind=WorkbookUpload.Kind.POWERS,
            state__in=(State.QUEUED, State.READING),
        )
        .first()
    )
    if upload is None:
        return "nothing to import"
    uploads.begin_reading(upload)
    actor = upload.person
    with translation.override(upload.language):
        try:
            items = powers.read_powers(
                bytes(upload.data), limits=BACKGROUND_LIMITS, progress=progress_reporter(upload.pk)
            )
            with transaction.atomic():
                result = powers.apply_powers(actor=actor, unit=upload.unit, items=items)
                uploads.finish(upload, State.DONE, actor=actor, result=result)
        except ValidationError as exc:
            if getattr(exc, "code", None) == "refused":
                uploads.finish(upload, State.REFUSED, actor=actor, message=exc.messages[0])
                return "refused"
            uploads.finish(upload, State.INVALID, actor=actor, result={"errors": exc.messages})
            return "invalid"
        except Exception:
            logger.exception("importing powers upload %s failed", upload_id)
            uploads.finish(upload, State.FAILED, actor=actor, message=internal_error())
            return "failed"
    return "done"
