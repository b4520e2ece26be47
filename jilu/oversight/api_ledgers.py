"""API: a squad's monthly ledgers (台账, C6.1) as JSON, PDF or XLSX, and the
squad leader's confirmation of a month.

Person tokens only. Squad and brigade leaders and administrators read their
own subtree's squads, inspectors every squad; confirming is for the squad's
leader or a leader above it, once the month has ended, once. Errors are
``{"detail": "…"}`` in Chinese.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import HttpError

from jilu.devices.models import DeviceEvent
from jilu.org.api_auth import person_only
from jilu.org.api_types import Error
from jilu.org.models import Unit
from jilu.oversight import ledger, ledger_actions, ledger_print
from jilu.oversight.ledger_models import FIRST_YEAR, LAST_YEAR, LedgerConfirmation
from jilu.oversight.views_ledgers import download, may_read_ledgers

router = Router(tags=["oversight"])

UnitId = Annotated[int, Field(ge=1, le=2**63 - 1, description="中队的单位 ID")]
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR, description="年份（2000–2099）")]
Month = Annotated[int, Field(ge=1, le=12, description="月份（1–12）")]
FileFormat = Literal["pdf", "xlsx"]
IncidentKind = Literal[tuple(DeviceEvent.INCIDENT_KINDS)]  # type: ignore[valid-type]

BINARY = {"schema": {"type": "string", "format": "binary"}}
FILE_RESPONSES = {
    "responses": {
        "200": {
            "description": "台账文件：PDF（A4 横向）或 XLSX（每本台账一个工作表）",
            "content": {ledger_print.PDF: BINARY, ledger_print.XLSX: BINARY},
        }
    }
}


class InvalidOut(Schema):
    """422: a path value out of range (year 2000–2099, month 1–12, format pdf/xlsx)."""

    detail: str
    errors: list[dict]


# Answered by every operation: no or a bad token (401), values out of range (422).
COMMON = {401: Error, 422: InvalidOut}


class LedgerHoldingOut(Schema):
    holder: str
    user_no: str
    issued_at: datetime = Field(description="配发时间")
    returned_at: datetime | None = Field(description="归还时间；空：月末仍未归还")


class IncidentOut(Schema):
    at: datetime
    kind: IncidentKind
    note: str


class RecorderRowOut(Schema):
    serial: str
    model: str
    holdings: list[LedgerHoldingOut] = Field(description="本月内的持有记录（配发与归还）")
    checks: int = Field(description="本月检查次数（电量、存储、时钟；一次检查计一次）")
    last_check: datetime | None
    incidents: list[IncidentOut] = Field(description="本月故障、遗失、损坏、维修、找回")
    dockings: int = Field(description="本月对接采集次数")
    last_docking: datetime | None
    recordings: int = Field(description="本月该记录仪录制的声像记录条数")


class RecordingRowOut(Schema):
    day: date
    officer_id: int | None
    officer: str
    user_no: str
    count: int
    seconds: int = Field(description="总时长（秒）")
    first_docked: datetime | None = Field(description="首次采集（对接）时间")
    last_docked: datetime | None = Field(description="末次采集（对接）时间")
    late_collected: int = Field(description="超过 24 小时才采集的条数（C5.1）")
    annotated_in_time: int = Field(description="48 小时内标注的条数（C5.2）")
    annotated_late: int = Field(description="超过 48 小时才标注的条数")
    unannotated: int = Field(description="尚未标注的条数")
    activities: list[str] = Field(description="所属执法活动")


class TotalsOut(Schema):
    count: int
    seconds: int
    late_collected: int
    annotated_in_time: int
    annotated_late: int
    unannotated: int


class ChangeOut(Schema):
    field: str
    label: str
    before: str = Field(description="确认时的值；新增的行为“—”")
    after: str = Field(description="现在的值；不再列入的行为“—”")
    text: str


class AmendmentOut(Schema):
    ledger: Literal["recorders", "recordings"]
    kind: Literal["added", "removed", "changed"]
    key: str = Field(description="行：记录仪产品序号，或“日期/执法人员 ID”")
    label: str
    changes: list[ChangeOut]


class ConfirmationOut(Schema):
    unit_id: int
    unit_code: str
    year: int
    month: int
    confirmed_by: str
    confirmed_at: datetime
    sha256: str = Field(description="确认时台账各行规范 JSON 的 SHA-256（亦记入审计日志）")

    @staticmethod
    def resolve_unit_code(obj: LedgerConfirmation) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_confirmed_by(obj: LedgerConfirmation) -> str:
        return obj.confirmed_by.name


class LedgerOut(Schema):
    unit_id: int
    unit_code: str
    unit_name: str
    year: int
    month: int
    state: Literal["open", "ended", "confirmed"] = Field(
        description="open：本月未结束；ended：已结束待确认；confirmed：已确认（各行为确认时的台账）"
    )
    confirmation: ConfirmationOut | None
    recorders: list[RecorderRowOut]
    recordings: list[RecordingRowOut]
    totals: TotalsOut
    amendments: list[AmendmentOut] = Field(description="确认后依据记录的变化；未确认时为空")


def _person(request: HttpRequest):
    if not person_only(request):
        raise HttpError(403, "工作站令牌不能使用此接口")
    user = request.user
    if not may_read_ledgers(user):
        raise HttpError(403, "中队长、大队长、督察和系统管理员可以查看台账")
    return user


def _squad(user, unit_id: int) -> Unit:
    for unit in ledger.ledger_units(user):
        if unit.pk == unit_id:
            return unit
    raise HttpError(404, "没有这个中队，或它不在你的管辖范围内")


def _book(request: HttpRequest, unit_id: int, year: int, month: int) -> ledger.Ledger:
    squad = _squad(_person(request), unit_id)
    try:
        return ledger.ledger(squad, year, month)
    except ledger.MonthNotStarted as exc:
        raise HttpError(400, str(exc)) from None


@router.get(
    "/ledgers/{unit_id}/{year}/{month}",
    response={200: LedgerOut, 400: Error, 403: Error, 404: Error, **COMMON},
    summary="中队月度台账（执法记录仪使用管理台账、声像记录台账，C6.1）",
    description="尚未开始的月份（北京时间）没有台账，答 400；本月（进行中）可以查看。",
)
def get_ledger(request: HttpRequest, unit_id: Path[UnitId], year: Path[Year], month: Path[Month]):
    book = _book(request, unit_id, year, month)
    state = "confirmed" if book.confirmed else ("ended" if book.ended else "open")
    return {
        "unit_id": book.unit.pk,
        "unit_code": book.unit.code,
        "unit_name": book.unit.name,
        "year": year,
        "month": month,
        "state": state,
        "confirmation": book.confirmation,
        "recorders": book.rows["recorders"],
        "recordings": book.rows["recordings"],
        "totals": book.totals,
        "amendments": [
            {
                "ledger": a.ledger,
                "kind": a.kind,
                "key": a.key,
                "label": a.label,
                "changes": a.changes,
            }
            for a in book.amendments
        ],
    }


@router.get(
    "/ledgers/{unit_id}/{year}/{month}/download/{fmt}",
    response={400: Error, 403: Error, 404: Error, **COMMON},
    summary="下载中队月度台账（PDF 或 XLSX）",
    description="尚未开始的月份（北京时间）没有台账，答 400。",
    openapi_extra=FILE_RESPONSES,
)
def download_ledger(
    request: HttpRequest,
    unit_id: Path[UnitId],
    year: Path[Year],
    month: Path[Month],
    fmt: Path[FileFormat],
):
    book = _book(request, unit_id, year, month)
    if fmt == "pdf":
        body, content_type = ledger_print.render_pdf(book), ledger_print.PDF
    else:
        body, content_type = ledger_print.render_xlsx(book), ledger_print.XLSX
    return download(body, content_type, ledger_print.file_name(book, fmt))


@router.post(
    "/ledgers/{unit_id}/{year}/{month}/confirm",
    response={201: ConfirmationOut, 400: Error, 403: Error, 404: Error, 409: Error, **COMMON},
    summary="中队长确认月度台账（月末之后，仅一次；保存确认时的各行及其 SHA-256）",
    description="尚未开始或尚未结束的月份（北京时间）不能确认，答 400。",
)
def confirm_ledger(
    request: HttpRequest, unit_id: Path[UnitId], year: Path[Year], month: Path[Month]
):
    user = _person(request)
    squad = _squad(user, unit_id)
    try:
        confirmation = ledger_actions.confirm_month(actor=user, unit=squad, year=year, month=month)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    except ledger_actions.AlreadyConfirmed as exc:
        raise HttpError(409, "；".join(exc.messages)) from None
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from None
    return Status(201, confirmation)
