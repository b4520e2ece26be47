"""API: quarantined files (待处理文件) and their resolution, as the quarantine pages.

Person tokens only. Who may read: inspectors and the roles that read their unit
(the page's rule); the rows come from ``restrict(user, "view")`` (an item out of
scope is a 404). Resolving (attribute by hand, register the unknown recorder,
close) is an administrator's act within their subtree (403 otherwise), on an
open item (409 once resolved), with the same checks as the page's forms and
through the same actions. The bytes of an item are never discarded (C6.5.4).
"""

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from jilu.evidence.models import Recording
from jilu.ingest import actions, naming
from jilu.ingest.forms import AttributeForm, CloseForm, RegisterForm
from jilu.ingest.models import QuarantineItem
from jilu.ingest.views import QUARANTINE_READERS
from jilu.org.api_types import (
    Error,
    FieldErrors,
    Id,
    Moment,
    Paginated,
    codes,
    describe_codes,
)
from jilu.org.models import Person, Unit

router = Router(tags=["ingest"])


ReasonCode = codes(QuarantineItem.Reason)
ResolutionCode = codes(("", *QuarantineItem.Resolution.values))
KindCode = codes(Recording.Kind)

# --- schemas --------------------------------------------------------------------------


class QuarantineOut(Schema):
    id: int
    original_name: str
    sha256: str
    sm3: str
    size: int
    serial: str = Field(..., description="文件名或对接给出的序号（可能为空或未登记）")
    reason: ReasonCode
    reason_label: str
    reason_text: str
    unit_code: str = Field(..., description="负责处理的单位")
    station_name: str | None
    docking_id: int | None
    mtime: datetime | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None = Field(None, description="处理人姓名")
    resolution: ResolutionCode
    resolution_label: str
    resolution_note: str
    recording_id: int | None

    @staticmethod
    def resolve_reason_label(obj: QuarantineItem) -> str:
        return str(obj.get_reason_display())

    @staticmethod
    def resolve_unit_code(obj: QuarantineItem) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_station_name(obj: QuarantineItem) -> str | None:
        return obj.station.name if obj.station_id else None

    @staticmethod
    def resolve_resolved_by(obj: QuarantineItem) -> str | None:
        return obj.resolved_by.name if obj.resolved_by_id else None

    @staticmethod
    def resolve_resolution_label(obj: QuarantineItem) -> str:
        return str(obj.get_resolution_display()) if obj.resolution else ""


class QuarantineDetailOut(QuarantineOut):
    may_resolve: bool = Field(..., description="调用者可以处理（管辖的系统管理员、尚未处理）")

    @staticmethod
    def resolve_may_resolve(obj: QuarantineItem, context: dict) -> bool:
        return _may_resolve(context["request"].user, obj)


class AttributeIn(Schema):
    serial: str = Field(..., max_length=7, description="已登记、在你管辖范围内的记录仪产品序号")
    officer_user_no: str = Field(
        "", max_length=6, description="执法队员警号；不填按录制开始时的持有记录（C1.3）"
    )
    started_at: Moment | None = Field(
        None, description="录制开始时间（已校正）；不填取文件名中的时间并按时钟偏差校正"
    )
    kind: KindCode | None = Field(
        None, description=describe_codes(Recording.Kind) + "；不填按文件名判断"
    )
    note: str = Field("", max_length=2000)


class RegisterIn(Schema):
    unit_code: str = Field(..., description="记录仪所属单位的编号（你管辖的在用单位）")
    vendor: str = Field("", max_length=50)
    model: str = Field("", max_length=50)
    holder_user_no: str = Field(
        "", max_length=6, description="录制这些文件时的持有人警号；不填则暂不配发"
    )
    holder_since: Moment | None = Field(None, description="持有起始时间；不填取最早的录制时间")
    note: str = Field("", max_length=2000)


class CloseIn(Schema):
    note: str = Field(..., max_length=2000, description="核实情况（必填）；原始字节仍然保存")


class ResolvedOut(Schema):
    item: QuarantineDetailOut
    recording_ids: list[int] = Field(..., description="归属所得的声像记录")


# --- helpers --------------------------------------------------------------------------


def _reader(request: HttpRequest) -> Person:
    user = getattr(request, "user", None)
    if getattr(request, "station", None) is not None or not isinstance(user, Person):
        raise HttpError(403, _("此接口需要人员令牌，工作站令牌不可用"))
    if not user.has_role(*QUARANTINE_READERS):
        raise HttpError(403, _("你的角色不能查看待处理文件"))
    return user


def _get(user: Person, pk: int) -> QuarantineItem:
    item = (
        QuarantineItem.objects.restrict(user, "view")
        .select_related("station", "unit", "docking", "resolved_by", "recording")
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise HttpError(404, _("没有这个待处理文件，或它不在你的管辖范围内"))
    return item


def _may_resolve(user: Person, item: QuarantineItem) -> bool:
    return item.is_open and (
        QuarantineItem.objects.restrict(user, "change").filter(pk=item.pk).exists()
    )


def _resolvable(user: Person, pk: int) -> QuarantineItem:
    item = _get(user, pk)
    if not QuarantineItem.objects.restrict(user, "change").filter(pk=pk).exists():
        raise HttpError(403, _("只有管辖该工作站的系统管理员可以处理待处理文件"))
    if not item.is_open:
        raise HttpError(409, _("该文件已经处理"))
    return item


def _field_errors(fields: dict[str, list[str]]) -> Status:
    detail = "；".join(m for messages in fields.values() for m in messages)
    return Status(400, {"detail": detail, "fields": fields})


def _form_fields(form: Any) -> dict[str, list[str]]:
    return {
        name: [e["message"] for e in errs] for name, errs in form.errors.get_json_data().items()
    }


def _resolved(user: Person, pk: int, recordings: list[Recording]) -> dict:
    return {"item": _get(user, pk), "recording_ids": [r.pk for r in recordings]}


def _attempt(call: Any) -> Any:
    try:
        return call()
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from None


# --- operations ------------------------------------------------------------------------


REASON_FILTER = Query(None, description=describe_codes(QuarantineItem.Reason))


@router.get("/quarantine", response={200: list[QuarantineOut], 403: Error})
@paginate(Paginated)
def list_quarantine(
    request: HttpRequest,
    show: Literal["open", "resolved", "all"] = Query(  # noqa: B008
        "open", description="open 待处理；resolved 已处理；all 全部"
    ),
    reason: ReasonCode | None = REASON_FILTER,
):
    """Files that could not be attributed, newest first (C6.5.4: never discarded)."""
    user = _reader(request)
    qs = QuarantineItem.objects.restrict(user, "view").select_related(
        "station", "unit", "resolved_by"
    )
    if show == "open":
        qs = qs.filter(resolved_at__isnull=True)
    elif show == "resolved":
        qs = qs.filter(resolved_at__isnull=False)
    if reason:
        qs = qs.filter(reason=reason)
    return qs.order_by("-created_at", "-pk")


@router.get("/quarantine/{item_id}", response={200: QuarantineDetailOut, 403: Error, 404: Error})
def get_quarantined(request: HttpRequest, item_id: Id):
    return _get(_reader(request), item_id)


@router.post(
    "/quarantine/{item_id}/attribute",
    response={200: ResolvedOut, 400: FieldErrors, 403: Error, 404: Error, 409: Error},
)
def attribute(request: HttpRequest, item_id: Id, body: AttributeIn):
    """Attribute the file by hand to a recorder (and officer) in the caller's scope (C1.3)."""
    user = _reader(request)
    item = _resolvable(user, item_id)
    parsed = naming.parse(item.original_name)
    kind = body.kind or (parsed.kind if parsed else naming.kind_for(item.original_name))
    form = AttributeForm(
        {
            "serial": body.serial,
            "officer_user_no": body.officer_user_no,
            "started_at": body.started_at,
            "kind": kind,
            "note": body.note,
        },
        user=user,
    )
    if not form.is_valid():
        return _field_errors(_form_fields(form))
    data = form.cleaned_data
    recording = _attempt(
        lambda: actions.attribute_quarantined(
            actor=user,
            item=item,
            recorder=data["serial"],
            officer=data["officer_user_no"],
            started_at=data["started_at"],
            kind=data["kind"],
            note=data["note"],
        )
    )
    return _resolved(user, item_id, [recording])


@router.post(
    "/quarantine/{item_id}/register",
    response={200: ResolvedOut, 400: FieldErrors, 403: Error, 404: Error, 409: Error},
)
def register(request: HttpRequest, item_id: Id, body: RegisterIn):
    """Register the unknown recorder the file names and attribute every open file of it (C1.3)."""
    user = _reader(request)
    item = _resolvable(user, item_id)
    unit = Unit.objects.restrict(user, "change").filter(active=True, code=body.unit_code).first()
    form = RegisterForm(
        {
            "unit": unit.pk if unit else "",
            "vendor": body.vendor,
            "model": body.model,
            "holder_user_no": body.holder_user_no,
            "holder_since": body.holder_since,
            "note": body.note,
        },
        user=user,
    )
    if unit is None or not form.is_valid():
        fields = _form_fields(form)
        if unit is None:
            fields.pop("unit", None)
            fields["unit_code"] = [
                _("单位编号 %(code)s 不存在、已停用或不在你的管辖范围内") % {"code": body.unit_code}
            ]
        return _field_errors(fields)
    data = form.cleaned_data
    recordings = _attempt(
        lambda: actions.register_and_attribute(
            actor=user,
            item=item,
            unit=data["unit"],
            vendor=data["vendor"],
            model=data["model"],
            holder=data["holder_user_no"],
            holder_since=data["holder_since"],
            note=data["note"],
        )
    )
    return _resolved(user, item_id, recordings)


@router.post(
    "/quarantine/{item_id}/close",
    response={200: QuarantineDetailOut, 400: FieldErrors, 403: Error, 404: Error, 409: Error},
)
def close(request: HttpRequest, item_id: Id, body: CloseIn):
    """Close the item without making it a recording (e.g. a zero-byte file); the bytes stay."""
    user = _reader(request)
    item = _resolvable(user, item_id)
    form = CloseForm({"note": body.note})
    if not form.is_valid():
        return _field_errors(_form_fields(form))
    _attempt(
        lambda: actions.close_quarantined(actor=user, item=item, note=form.cleaned_data["note"])
    )
    return _get(user, item_id)
