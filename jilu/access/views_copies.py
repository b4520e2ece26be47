"""Pages for the copies of a request (C6.3, C6.5.2): fulfil in one step, the
package's progress and download, the copy register's returned/destroyed, and
the inspector's "identify a copy" (识别副本).

Every change goes through ``jilu.access.actions`` or ``jilu.access.register``
(which check who may act and write the audit row).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from jilu.access import actions, register
from jilu.access.models import CopyPackage, IssuedCopy
from jilu.access.views import _get
from jilu.access.watermark import read_copy_id

# Largest file the identify page reads (bytes); larger: give its SHA-256 instead.
IDENTIFY_MAX_BYTES = 4 * 1024**3


def _say_errors(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, pgettext("message separator", "；").join(exc.messages))


@require_POST
@login_required
def request_fulfil(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get(request, pk)
    try:
        actions.fulfil(
            actor=request.user,
            request=req,
            recipient=request.POST.get("recipient", ""),
            medium=request.POST.get("medium", ""),
            recipient_note=request.POST.get("recipient_note", ""),
        )
    except ValidationError as exc:
        _say_errors(request, exc)
    else:
        messages.success(
            request,
            _("正在制作调用单 %(number)s 的复制件包，完成后可在本页下载。")
            % {"number": req.number},
        )
    return redirect("access:detail", pk=req.pk)


def _package(request: HttpRequest, pk: int) -> CopyPackage:
    package = CopyPackage.objects.select_related("request").filter(pk=pk).first()
    if package is None:
        raise Http404(_("没有这个复制件包"))
    _get(request, package.request_id)  # 404 unless the request is readable
    return package


@login_required
@require_GET
def package_progress(request: HttpRequest, pk: int) -> JsonResponse:
    package = _package(request, pk)
    return JsonResponse(
        {
            "state": package.state,
            "percent": package.percent,
            "message": package.message_display,
            "error": package.error,
            "finished": package.finished,
        }
    )


@login_required
@require_GET
def package_download(request: HttpRequest, pk: int) -> FileResponse:
    package = _package(request, pk)
    register.note_download(actor=request.user, package=package)
    path = Path(package.zip_path)
    if not path.is_file():
        raise Http404(_("复制件包文件已不在服务器上，请联系系统管理员。"))
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=package.file_name,
        content_type="application/zip",
    )


def _copy(request: HttpRequest, pk: int) -> IssuedCopy:
    copy = IssuedCopy.objects.select_related("request").filter(pk=pk).first()
    if copy is None:
        raise Http404(_("没有这份复制件"))
    _get(request, copy.request_id)
    return copy


@require_POST
@login_required
def copy_close(request: HttpRequest, pk: int, state: str) -> HttpResponse:
    copy = _copy(request, pk)
    note = request.POST.get("note", "")
    try:
        if state == IssuedCopy.State.RETURNED:
            register.mark_returned(actor=request.user, copy=copy, note=note)
            done = _("副本 %(id)s 已登记收回。")
        else:
            register.mark_destroyed(actor=request.user, copy=copy, note=note)
            done = _("副本 %(id)s 已登记销毁。")
    except ValidationError as exc:
        _say_errors(request, exc)
    else:
        messages.success(request, done % {"id": copy.copy_id})
    return redirect("access:detail", pk=copy.request_id)


class HashingUpload(TemporaryFileUploadHandler):
    """Streams the upload to a temporary file, hashing it on the way (SHA-256),
    and stops reading past ``IDENTIFY_MAX_BYTES``: nothing is held in memory and
    nothing is read twice."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = getattr(settings, "ACCESS_IDENTIFY_MAX_BYTES", IDENTIFY_MAX_BYTES)
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        self.size += len(raw_data)
        if self.size > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        self.sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)


def _too_large() -> str:
    limit = getattr(settings, "ACCESS_IDENTIFY_MAX_BYTES", IDENTIFY_MAX_BYTES)
    return _(
        "文件超过 %(gb).1f GB，不能上传识别：请在本机计算它的 SHA-256（如 sha256sum 文件名）"
        "后按哈希识别，或读出文件元数据中的副本编号（JC-…）按编号识别。"
    ) % {"gb": limit / 1e9}


@csrf_exempt
@login_required
def identify(request: HttpRequest) -> HttpResponse:
    """识别副本: a file, its hash or its copy ID names the request and recipient."""
    if not register.may_identify(request.user):
        raise PermissionDenied(_("只有督察和系统管理员可以识别副本。"))
    if request.method != "POST":
        return render(request, "access/identify.html", {})
    limit = getattr(settings, "ACCESS_IDENTIFY_MAX_BYTES", IDENTIFY_MAX_BYTES)
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 1024 * 1024:
        return render(request, "access/identify.html", {"errors": [_too_large()]}, status=413)
    handler = HashingUpload(request)
    request.upload_handlers = [handler]
    return _identify(request, handler)


@csrf_protect
def _identify(request: HttpRequest, handler: HashingUpload) -> HttpResponse:
    upload = request.FILES.get("file")
    if handler.too_large:
        return render(request, "access/identify.html", {"errors": [_too_large()]}, status=413)
    text_hash = request.POST.get("hash", "")
    text_id = request.POST.get("copy_id", "")
    errors = []
    if upload is not None:
        try:
            copy_id = read_copy_id(Path(upload.temporary_file_path()))
        finally:
            upload.close()
        asked, sha256, name = "file", handler.sha256.hexdigest(), upload.name
        found = register.identify(
            actor=request.user, asked=asked, copy_id=copy_id, sha256=sha256, name=name
        )
    elif text_id.strip():
        copy_id = register.clean_copy_id(text_id)
        if not copy_id:
            errors.append(_("副本编号的格式是 JC-XXXX-XXXX-XXXX（在查看副本的画面和元数据中）。"))
        found = (
            None
            if errors
            else register.identify(actor=request.user, asked="copy_id", copy_id=copy_id)
        )
    elif text_hash.strip():
        value = register.clean_hash(text_hash)
        if not value:
            errors.append(_("哈希应为 64 位十六进制（SHA-256 或 SM3）。"))
        found = (
            None
            if errors
            else register.identify(actor=request.user, asked="hash", sha256=value, sm3=value)
        )
    else:
        errors.append(_("请上传要识别的文件，或填写它的哈希或副本编号。"))
        found = None
    originals = []
    if found is not None and not found.found and found.sha256:
        from jilu.evidence.models import Recording

        originals = list(
            Recording.objects.restrict(request.user, "view").filter(sha256=found.sha256)
            | Recording.objects.restrict(request.user, "view").filter(sm3=found.sha256)
        )
    return render(
        request,
        "access/identify.html",
        {"errors": errors, "result": found, "originals": originals},
        status=400 if errors else 200,
    )
