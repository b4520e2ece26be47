"""Pages of a roster read in the background: its progress, then the preview,
the row errors, the refusal or the result (``WorkbookUpload``, ``org.tasks``).

Only the person who uploaded the workbook sees it (anyone else: 404).
"""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jilu.org import tasks, uploads
from jilu.org.models import Person, WorkbookUpload
from jilu.org.roles import Role
from jilu.org.roster.stored import StoredPlan
from jilu.workbooks import ArchiveInfo

State = WorkbookUpload.State


def start_roster_upload(request: HttpRequest, name: str, data: bytes, info: ArchiveInfo):
    """Keep the workbook and read it in the background; the page follows it."""
    upload = uploads.start_upload(
        actor=request.user,
        kind=WorkbookUpload.Kind.ROSTER,
        name=name,
        data=data,
        language=get_language() or "zh-hans",
        total_bytes=info.uncompressed,
    )
    transaction.on_commit(partial(tasks.read_roster_upload.enqueue, upload.pk), robust=True)
    return redirect("org:roster_upload", pk=upload.pk)


def _own_upload(request: HttpRequest, pk: int) -> WorkbookUpload:
    if not request.user.has_role(Role.ADMIN):
        raise Http404
    upload = WorkbookUpload.objects.filter(
        pk=pk, person=request.user, kind=WorkbookUpload.Kind.ROSTER
    ).first()
    if upload is None:
        raise Http404
    return upload


@login_required
def roster_upload(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _own_upload(request, pk)
    plan = StoredPlan(upload.result) if upload.result else None
    context = {"upload": upload, "plan": plan, "filename": upload.name}
    if upload.state == State.DONE and upload.result.get("applied"):
        created = [c.key for c in plan.changed_people if c.op == "create"]
        context["new_people"] = Person.objects.restrict(request.user, "view").filter(
            username__in=created
        )
    context["changed_since_preview"] = upload.result.get("changed_since_preview", False)
    return render(request, "org/roster_upload.html", context)


@login_required
@require_POST
def roster_upload_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _own_upload(request, pk)
    if uploads.confirm(actor=request.user, upload=upload, digest=request.POST.get("digest", "")):
        transaction.on_commit(partial(tasks.apply_roster_upload.enqueue, upload.pk), robust=True)
    else:
        messages.error(request, _("这份预览已不是最新的，请核对本页的内容后再确认"))
    return redirect("org:roster_upload", pk=upload.pk)
