"""API: case disc packages, hand-over to legal and the review queue (C5.5).

Person tokens only. Every list goes through ``restrict()``; every change
through ``jilu.transfer.actions``. Errors are ``{"detail": "…"}`` in Chinese.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from jilu.casework.models import Case
from jilu.org.api_types import Error, Id, codes, describe_codes
from jilu.org.models import Person
from jilu.transfer import actions, queries
from jilu.transfer.models import DiscType, Package

router = Router(tags=["transfer"])


class DiscOut(Schema):
    number: int
    count: int
    iso_size: int
    manifest_sha256: str
    file_count: int
    payload_bytes: int
    label_text: str


class PackageOut(Schema):
    id: int
    case_number: str
    version: int
    disc: str
    state: str
    done_bytes: int
    total_bytes: int
    percent: int
    message: str
    error: str
    manifest_sha256: str
    created_at: datetime
    discs: list[DiscOut]


class PackageIn(Schema):
    disc: codes(DiscType) = Field(DiscType.DVD.value, description=describe_codes(DiscType))  # type: ignore[valid-type]


class TransferIn(Schema):
    note: str = ""


class TransferOut(Schema):
    id: int
    case_number: str
    version: int
    manifest_sha256: str
    transferred_by: str
    transferred_at: datetime
    review_id: int
    decision: str


def _person(request: HttpRequest) -> Person:
    user = getattr(request, "user", None)
    if getattr(request, "station", None) is not None or not isinstance(user, Person):
        raise HttpError(403, "此接口需要人员令牌，工作站令牌不可用")
    return user


def _package_out(p: Package) -> dict:
    return {
        "id": p.pk,
        "case_number": p.case.number,
        "version": p.version,
        "disc": p.disc,
        "state": p.state,
        "done_bytes": p.done_bytes,
        "total_bytes": p.total_bytes,
        "percent": p.percent,
        "message": p.message,
        "error": p.error,
        "manifest_sha256": p.manifest_sha256,
        "created_at": p.created_at,
        "discs": list(p.discs.all()),
    }


def _transfer_out(t) -> dict:
    return {
        "id": t.pk,
        "case_number": t.case.number,
        "version": t.package.version,
        "manifest_sha256": t.manifest_sha256,
        "transferred_by": t.transferred_by.name,
        "transferred_at": t.transferred_at,
        "review_id": t.review.pk,
        "decision": t.review.decision,
    }


def _case(user: Person, case_id: int, action: str = "view") -> Case:
    case = Case.objects.restrict(user, "view").filter(pk=case_id).first()
    if case is None:
        raise HttpError(404, "没有这个案件，或它不在你的管辖范围内")
    if action != "view" and not Case.objects.restrict(user, action).filter(pk=case_id).exists():
        raise HttpError(403, "你可以查看这个案件，但不能为它制作或移送光盘包")
    return case


@router.get("/cases/{case_id}/packages", response={200: list[PackageOut], 403: Error, 404: Error})
def list_packages(request: HttpRequest, case_id: Id):
    """The case's package versions, newest first, with build progress."""
    case = _case(_person(request), case_id)
    return [_package_out(p) for p in queries.packages_of(case).select_related("case")]


@router.post(
    "/cases/{case_id}/packages", response={202: PackageOut, 400: Error, 403: Error, 404: Error}
)
def create_package(request: HttpRequest, case_id: Id, body: PackageIn):
    """Queue a new package version (built in the background; poll it for progress)."""
    user = _person(request)
    case = _case(user, case_id, "change")
    try:
        package = actions.request_package(actor=user, case=case, disc=body.disc)
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from None
    package.refresh_from_db()
    return Status(202, _package_out(package))


@router.get("/packages/{package_id}", response={200: PackageOut, 403: Error, 404: Error})
def get_package(request: HttpRequest, package_id: Id):
    user = _person(request)
    package = (
        Package.objects.restrict(user, "view").select_related("case").filter(pk=package_id).first()
    )
    if package is None:
        raise HttpError(404, "没有这个光盘包，或它不在你的管辖范围内")
    return _package_out(package)


@router.post(
    "/packages/{package_id}/transfer",
    response={201: TransferOut, 400: Error, 403: Error, 404: Error},
)
def transfer_package(request: HttpRequest, package_id: Id, body: TransferIn):
    """Hand the package to legal (C5.5); the case is read-only until it is returned."""
    user = _person(request)
    package = (
        Package.objects.restrict(user, "view").select_related("case").filter(pk=package_id).first()
    )
    if package is None:
        raise HttpError(404, "没有这个光盘包，或它不在你的管辖范围内")
    _case(user, package.case_id, "change")
    try:
        transfer = actions.transfer_case(actor=user, package=package, note=body.note)
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from None
    return Status(201, _transfer_out(transfer))


@router.get("/reviews", response={200: list[TransferOut], 403: Error})
def review_queue(request: HttpRequest):
    """The legal reviewer's queue of transferred cases awaiting review."""
    user = _person(request)
    if not queries.is_reviewer(user):
        raise HttpError(403, "只有法制审核员可以查看待审核案件")
    return [_transfer_out(r.transfer) for r in queries.review_queue(user)]
