"""API: access requests (调用单, C6.3), their copy packages and the copy register.

Person tokens only. Every read goes through ``restrict()``; every change
through ``jilu.access.actions`` / ``jilu.access.register``, which check who
may act (403) before the request's state (400). Errors are ``{"detail": "…"}``
in Chinese. Every response an operation gives is declared, choices are enums
and integers are bounded.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError

from jilu.access import actions, register, scope
from jilu.access.models import AccessRequest, CopyPackage, IssuedCopy
from jilu.org.api_types import Error
from jilu.org.models import Person

router = Router(tags=["access"])

MAX_ID = 2**53  # database keys stay below this (and JSON numbers are exact to it)
MAX_PAGE = 200
MAX_OFFSET = 1_000_000
Id = Path(..., ge=1, le=MAX_ID)

StatusName = Literal[
    "pending", "approved", "refused", "provided", "withdrawn", "expired", "preparing"
]
UseName = Literal["evidence", "viewing"]
MediumName = Literal["disc", "usb", "hdd", "network"]
PackageState = Literal["queued", "building", "ready", "failed"]
CopyKind = Literal["original", "viewing"]
CopyState = Literal["issued", "returned", "destroyed"]


# What any operation may also answer: no or a bad token (401), a station's
# token (403), a body or a query that does not fit its schema (422).
COMMON = {401: Error, 403: Error, 422: Error}


class IssuedOut(Schema):
    copy_id: str = Field(..., description="副本编号 JC-XXXX-XXXX-XXXX")
    request_number: str
    recording_id: int = Field(..., ge=1, le=MAX_ID)
    kind: CopyKind
    path: str = Field(..., description="包内路径")
    size: int = Field(..., ge=0, le=2**63 - 1)
    sha256: str
    sm3: str
    recipient: str
    issued_by: str
    issued_at: datetime
    state: CopyState
    closed_at: datetime | None


class CopyPackageOut(Schema):
    id: int = Field(..., ge=1, le=MAX_ID)
    request_number: str
    state: PackageState
    percent: int = Field(..., ge=0, le=100)
    message: str
    error: str
    recipient: str
    medium: MediumName
    zip_size: int = Field(..., ge=0, le=2**63 - 1)
    zip_sha256: str = Field(..., description="压缩包的 SHA-256（完成后）")
    manifest_sha256: str = Field(..., description="包内 manifest-sha256.txt 的 SHA-256")
    created_at: datetime


class RequestOut(Schema):
    id: int = Field(..., ge=1, le=MAX_ID)
    number: str = Field(..., description="调用单号 DY<年>-<6 位序号>")
    status: StatusName = Field(..., description="当前状态（已批准而过了有效期的为 expired）")
    use: UseName
    purpose: str
    requester: str
    unit: str
    case_number: str
    recording_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]]
    created_at: datetime
    approver: str
    decided_at: datetime | None
    decision_note: str
    valid_until: datetime | None
    provided_by: str
    provided_at: datetime | None
    recipient: str
    medium: MediumName | Literal[""]
    packages: list[CopyPackageOut]
    copies: list[IssuedOut]


class RequestIn(Schema):
    purpose: str = Field(..., min_length=1, max_length=actions.MAX_PURPOSE)
    recording_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        ..., min_length=1, max_length=actions.MAX_ITEMS
    )
    use: UseName = "evidence"
    case_number: str = Field("", max_length=60)


class RequestNoteIn(Schema):
    note: str = Field("", max_length=actions.MAX_NOTE)


class FulfilIn(Schema):
    recipient: str = Field(..., min_length=1, max_length=actions.MAX_RECIPIENT)
    medium: MediumName
    recipient_note: str = Field("", max_length=actions.MAX_RECIPIENT_NOTE)


class CopyCloseIn(Schema):
    state: Literal["returned", "destroyed"]
    note: str = Field("", max_length=register.MAX_CLOSE_NOTE)


class IdentifyQuery(Schema):
    copy_id: str = Field("", max_length=40, description="副本编号")
    hash: str = Field("", max_length=64, description="SHA-256 或 SM3（64 位十六进制）")


class IdentifyOut(Schema):
    found: bool
    traced: bool = Field(..., description="只对应一张调用单：领取人确定")
    matches: list[IssuedOut]


def _person(request: HttpRequest) -> Person:
    user = getattr(request, "user", None)
    if getattr(request, "station", None) is not None or not isinstance(user, Person):
        raise HttpError(403, "此接口需要人员令牌，工作站令牌不可用")
    return user


def _get(user: Person, request_id: int) -> AccessRequest:
    req = (
        AccessRequest.objects.restrict(user, "view")
        .select_related("requester", "unit", "case", "approver", "provided_by")
        .filter(pk=request_id)
        .first()
    )
    if req is None:
        raise HttpError(404, "没有这张调用单，或它不在你的权限范围内")
    return req


def _copy_out(c: IssuedCopy) -> dict:
    return {
        "copy_id": c.copy_id,
        "request_number": c.request.number,
        "recording_id": c.recording_id,
        "kind": c.kind,
        "path": c.path,
        "size": c.size,
        "sha256": c.sha256,
        "sm3": c.sm3,
        "recipient": c.recipient,
        "issued_by": c.issued_by.name,
        "issued_at": c.issued_at,
        "state": c.state,
        "closed_at": c.closed_at,
    }


def _package_out(p: CopyPackage) -> dict:
    return {
        "id": p.pk,
        "request_number": p.request.number,
        "state": p.state,
        "percent": p.percent,
        "message": p.message_display,
        "error": p.error,
        "recipient": p.recipient,
        "medium": p.medium,
        "zip_size": p.zip_size,
        "zip_sha256": p.zip_sha256,
        "manifest_sha256": p.manifest_sha256,
        "created_at": p.created_at,
    }


def _out(req: AccessRequest) -> dict:
    return {
        "id": req.pk,
        "number": req.number,
        "status": req.current_status,
        "use": req.use,
        "purpose": req.purpose,
        "requester": req.requester.name,
        "unit": req.unit.name if req.unit_id else "",
        "case_number": req.case.number if req.case_id else "",
        "recording_ids": sorted(req.recordings.values_list("pk", flat=True)),
        "created_at": req.created_at,
        "approver": req.approver.name if req.approver_id else "",
        "decided_at": req.decided_at,
        "decision_note": req.decision_note,
        "valid_until": req.valid_until,
        "provided_by": req.provided_by.name if req.provided_by_id else "",
        "provided_at": req.provided_at,
        "recipient": req.recipient,
        "medium": req.medium,
        "packages": [_package_out(p) for p in req.packages.select_related("request")],
        "copies": [
            _copy_out(c) for c in req.issued.select_related("request", "issued_by").order_by("pk")
        ],
    }


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc) or "无权执行此操作") from None
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from None


@router.get(
    "/access-requests",
    response={200: list[RequestOut], **COMMON},
)
def list_requests(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """The requests the person may read, newest first (C6.3)."""
    user = _person(request)
    qs = AccessRequest.objects.restrict(user, "view").select_related(
        "requester", "unit", "case", "approver", "provided_by"
    )
    return [_out(r) for r in qs.order_by("-created_at", "-pk")[offset : offset + limit]]


@router.post("/access-requests", response={201: RequestOut, 400: Error, **COMMON})
def create_request(request: HttpRequest, body: RequestIn):
    """Apply for copies of recordings one can see (C6.3)."""
    user = _person(request)
    case = None
    if body.case_number.strip():
        from jilu.casework.models import Case

        case = Case.objects.restrict(user, "view").filter(number=body.case_number.strip()).first()
        if case is None:
            raise HttpError(400, "没有这个案件编号的案件，或它不在你的权限范围内")
    req = _call(
        actions.create_request,
        actor=user,
        purpose=body.purpose,
        recording_ids=body.recording_ids,
        case=case,
        use=body.use,
    )
    return Status(201, _out(_get(user, req.pk)))


@router.get("/access-requests/{request_id}", response={200: RequestOut, 404: Error, **COMMON})
def get_request(request: HttpRequest, request_id: int = Id):
    return _out(_get(_person(request), request_id))


@router.post(
    "/access-requests/{request_id}/approve",
    response={200: RequestOut, 400: Error, 403: Error, 404: Error, **COMMON},
)
def approve(request: HttpRequest, body: RequestNoteIn, request_id: int = Id):
    """A covering squad or brigade leader, never the requester, approves (C6.3)."""
    user = _person(request)
    req = _call(actions.approve, actor=user, request=_get(user, request_id), note=body.note)
    return _out(_get(user, req.pk))


@router.post(
    "/access-requests/{request_id}/refuse",
    response={200: RequestOut, 400: Error, 403: Error, 404: Error, **COMMON},
)
def refuse(request: HttpRequest, body: RequestNoteIn, request_id: int = Id):
    """Refuse with a reason (required)."""
    user = _person(request)
    req = _call(actions.refuse, actor=user, request=_get(user, request_id), note=body.note)
    return _out(_get(user, req.pk))


@router.post(
    "/access-requests/{request_id}/fulfil",
    response={202: CopyPackageOut, 400: Error, 403: Error, 404: Error, **COMMON},
)
def fulfil(request: HttpRequest, body: FulfilIn, request_id: int = Id):
    """The archivist's one step: queue the copy package (built in the background;
    poll ``/access-packages/{id}``); when ready the copies are registered and
    the request is provided."""
    user = _person(request)
    package = _call(
        actions.fulfil,
        actor=user,
        request=_get(user, request_id),
        recipient=body.recipient,
        medium=body.medium,
        recipient_note=body.recipient_note,
    )
    package.refresh_from_db()
    return Status(202, _package_out(package))


def _package(user: Person, package_id: int) -> CopyPackage:
    package = CopyPackage.objects.select_related("request").filter(pk=package_id).first()
    if (
        package is None
        or not AccessRequest.objects.restrict(user, "view").filter(pk=package.request_id).exists()
    ):
        raise HttpError(404, "没有这个复制件包，或它不在你的权限范围内")
    return package


@router.get("/access-packages/{package_id}", response={200: CopyPackageOut, 404: Error, **COMMON})
def get_package(request: HttpRequest, package_id: int = Id):
    """A copy package's state and progress."""
    return _package_out(_package(_person(request), package_id))


@router.get(
    "/access-packages/{package_id}/download",
    response={404: Error, 409: Error, **COMMON},
    openapi_extra={
        "responses": {
            200: {
                "description": "The package (zip of a BagIt bag)",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_package(request: HttpRequest, package_id: int = Id):
    """Download the zip (archivists who may provide the request's copies; audited)."""
    user = _person(request)
    package = _package(user, package_id)
    if package.state != CopyPackage.State.READY:
        if not scope.may_fulfil(user, package.request):
            raise HttpError(403, "只有能提供这张调用单复制件的档案管理员可以下载复制件包（C6.3）")
        raise HttpError(409, "复制件包尚未制作完成")
    _call(register.note_download, actor=user, package=package, via="api")
    path = FilePath(package.zip_path)
    if not path.is_file():
        raise HttpError(404, "复制件包文件已不在服务器上，请联系系统管理员")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=package.file_name,
        content_type="application/zip",
    )


@router.post(
    "/access-copies/{copy_id}/close",
    response={200: IssuedOut, 400: Error, 403: Error, 404: Error, **COMMON},
)
def close_copy(request: HttpRequest, body: CopyCloseIn, copy_id: str = Path(..., max_length=40)):
    """Record a copy returned or destroyed (destroyed: say how and who witnessed)."""
    user = _person(request)
    copy = (
        IssuedCopy.objects.select_related("request", "issued_by")
        .filter(copy_id=register.clean_copy_id(copy_id) or "-")
        .first()
    )
    if (
        copy is None
        or not AccessRequest.objects.restrict(user, "view").filter(pk=copy.request_id).exists()
    ):
        raise HttpError(404, "没有这份复制件，或它不在你的权限范围内")
    if body.state == "returned":
        copy = _call(register.mark_returned, actor=user, copy=copy, note=body.note)
    else:
        copy = _call(register.mark_destroyed, actor=user, copy=copy, note=body.note)
    return _copy_out(copy)


@router.get(
    "/access-copies/identify",
    response={200: IdentifyOut, 400: Error, **COMMON},
)
def identify(request: HttpRequest, query: Query[IdentifyQuery]):
    """识别副本 by copy ID or hash (inspectors and administrators; audited)."""
    user = _person(request)
    if not register.may_identify(user):
        raise HttpError(403, "只有督察和系统管理员可以识别副本")
    copy_id = register.clean_copy_id(query.copy_id)
    digest = register.clean_hash(query.hash)
    if not copy_id and not digest:
        raise HttpError(400, "请给出副本编号（JC-XXXX-XXXX-XXXX）或 64 位十六进制哈希")
    found = register.identify(
        actor=user,
        asked="copy_id" if copy_id else "hash",
        copy_id=copy_id,
        sha256=digest,
        sm3=digest,
    )
    return {
        "found": found.found,
        "traced": found.found and found.traced,
        "matches": [_copy_out(m) for m in found.matches],
    }
