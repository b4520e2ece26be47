"""API: periodic reports (通报, C6.4) and the dashboards' figures.

Person tokens only. Inspectors list, draft, read, download and publish every
report; squad and brigade leaders list, read and download the published
reports over their unit (a draft is 404 for them); anyone else is refused
(403). The dashboards: a unit's rates against the goals with each officer's
(leaders over their subtree, inspectors any unit), and the findings per month
(inspectors). Errors are ``{"detail": "…"}`` in Chinese.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import HttpError

from jilu.org.api_auth import person_only
from jilu.org.api_types import Error, Id, InvalidRequest, Limit, Offset
from jilu.org.models import Unit
from jilu.org.roles import LEADERS, Role
from jilu.oversight import report_actions, report_metrics, report_print
from jilu.oversight.report_models import Report
from jilu.oversight.views_ledgers import download
from jilu.oversight.views_reports import dashboard_units, may_read_reports, report_bytes

router = Router(tags=["oversight"])

Year = Field(ge=report_metrics.FIRST_YEAR, le=report_metrics.LAST_YEAR, description="年份")
BINARY = {"schema": {"type": "string", "format": "binary"}}
FILE_RESPONSES = {
    "responses": {
        "200": {
            "description": "通报文件：PDF（A4）或 XLSX（概况、各单位、排名、督察发现，含图表）；"
            "已发布的通报为发布时固定的字节",
            "content": {report_print.PDF: BINARY, report_print.XLSX: BINARY},
        }
    }
}
COMMON = {401: Error, 403: Error, 422: InvalidRequest}
Rate = float | None
Months = Annotated[int, Field(ge=1, le=36, description="月数（1–36）")]


class RatesOut(Schema):
    """Counters and rates (percent, one decimal; null when nothing was counted)."""

    activities: int = Field(description="期间内开始并已结束的执法活动（C2.1）")
    activities_recorded: int = Field(description="其中有声像记录的")
    coverage: Rate = Field(description="执法活动有记录率（%）")
    recordings: int = Field(description="期间内开始的声像记录")
    collected_24h: int = Field(description="其中 24 小时内采集的（C5.1）")
    collection: Rate = Field(description="24 小时采集率（%）")
    annotation_due: int = Field(description="48 小时期限已到或已按时标注的声像记录（C5.2）")
    annotated_48h: int = Field(description="其中 48 小时内标注的")
    annotation: Rate = Field(description="48 小时标注率（%）")
    dockings: int = Field(description="有时钟读数的对接（C3.2）")
    drift_over: int = Field(description="时钟偏差超过阈值的对接")
    drift: Rate = Field(description="时钟偏差超限比例（%）")
    worst_drift: float | None = Field(description="最大时钟偏差（秒，绝对值）")
    findings: int = Field(description="期间内的督察发现")
    findings_open: int
    findings_confirmed: int


class ReportRatesOut(RatesOut):
    """The counters and rates of a unit (or the whole scope), with its equipment."""

    recorders: int = Field(description="在用和维修中的记录仪（C1.1）")
    frontline: int = Field(description="在职一线执法队员")
    recorders_per_frontline: float | None = Field(description="人均记录仪")


class MeetsOut(Schema):
    coverage: bool | None
    collection: bool | None
    annotation: bool | None
    drift: bool | None


class GoalsOut(Schema):
    coverage: int = Field(description="执法活动有记录率目标（%，不低于）")
    collection: int = Field(description="24 小时采集率目标（%，不低于）")
    annotation: int = Field(description="48 小时标注率目标（%，不低于）")
    drift: int = Field(description="时钟偏差超限比例目标（%，不高于）")


class ReportTotalOut(ReportRatesOut):
    meets: MeetsOut


class ReportUnitOut(ReportRatesOut):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    depth: int = Field(description="在范围内的层级（0 为范围本身）")
    meets: MeetsOut


class RankingOut(Schema):
    rank: int | None = Field(description="名次；没有综合得分的单位没有名次（null），排在最后")
    id: int
    name: str
    code: str
    score: float | None = Field(description="综合得分：各项比率的平均（时钟偏差按 100 减超限比例）")


class ClauseStatesOut(Schema):
    clause: str
    open: int
    explained: int
    confirmed: int
    dismissed: int
    total: int


class StatesOut(Schema):
    open: int
    explained: int
    confirmed: int
    dismissed: int


class ReportPeriodOut(Schema):
    kind: Literal["month", "quarter"]
    year: int
    number: int
    label: str
    start: datetime
    end: datetime


class ReportScopeOut(Schema):
    id: int | None = Field(description="单位 ID；null 为全市")
    code: str
    name: str


class ReportFiguresOut(Schema):
    period: ReportPeriodOut
    scope: ReportScopeOut
    as_of: datetime = Field(description="数据截至")
    goals: GoalsOut
    clock_drift_seconds: int
    total: ReportTotalOut
    units: list[ReportUnitOut]
    ranking: list[RankingOut]
    findings_by_clause: list[ClauseStatesOut] = Field(
        description="按条款和状态；引用多个条款的发现在每个条款下各计一次"
    )
    findings_by_state: StatesOut | None = Field(
        default=None, description="按状态，每项发现只计一次（较早起草的通报没有）"
    )
    sections: dict[str, object] = Field(description="其他部分（如抽查），按注册的键")


class ReportFileOut(Schema):
    fmt: Literal["pdf", "xlsx"]
    size: int
    sha256: str = Field(description="发布时固定的字节的 SHA-256（亦记入审计日志）")


class ReportOut(Schema):
    id: int
    kind: Literal["month", "quarter"]
    year: int
    number: int
    period_label: str
    unit_id: int | None = Field(description="范围单位 ID；null 为全市")
    scope_name: str
    state: Literal["draft", "published"]
    drafted_at: datetime
    drafted_by: str
    published_at: datetime | None
    published_by: str | None

    @staticmethod
    def resolve_drafted_by(obj: Report) -> str:
        return obj.drafted_by.name

    @staticmethod
    def resolve_published_by(obj: Report) -> str | None:
        return obj.published_by.name if obj.published_by_id else None


class ReportDetailOut(ReportOut):
    figures: ReportFiguresOut
    files: list[ReportFileOut]

    @staticmethod
    def resolve_files(obj: Report) -> list:
        return list(obj.files.order_by("fmt")) if obj.published else []


class ReportListOut(Schema):
    count: int
    items: list[ReportOut]


class DraftIn(Schema):
    kind: Literal["month", "quarter"]
    year: int = Year
    number: int = Field(ge=1, le=12, description="月份（1–12）或季度（1–4）")
    unit_id: Id | None = Field(default=None, description="范围单位 ID；不填为全市")


class OfficerRatesOut(RatesOut):
    id: int
    name: str
    user_no: str
    unit_id: int | None
    unit_name: str
    open_findings: int
    meets: MeetsOut


class DashboardUnitOut(Schema):
    id: int
    code: str
    name: str


class UnitDashboardOut(Schema):
    unit: DashboardUnitOut
    as_of: datetime
    start: datetime
    days: int
    goals: GoalsOut
    clock_drift_seconds: int
    total: ReportTotalOut
    officers: list[OfficerRatesOut]
    open_findings: int
    open_by_clause: list[ClauseStatesOut]


class TrendMonthOut(Schema):
    month: str = Field(description="YYYY-MM")
    open: int
    explained: int
    confirmed: int
    dismissed: int
    total: int


def _person(request: HttpRequest):
    if not person_only(request):
        raise HttpError(403, "工作站令牌不能使用此接口")
    return request.user


def _readable(request: HttpRequest):
    user = _person(request)
    if not may_read_reports(user):
        raise HttpError(403, "督察、中队长和大队长可以查看通报")
    return Report.objects.restrict(user, "view").select_related(
        "unit", "drafted_by", "published_by"
    )


def _report(request: HttpRequest, report_id: int) -> Report:
    report = _readable(request).filter(pk=report_id).first()
    if report is None:
        raise HttpError(404, "没有这份通报，或你无权查看")
    return report


@router.get(
    "/reports",
    response={200: ReportListOut, **COMMON},
    summary="通报列表（督察：全部；中队长、大队长：本单位的已发布通报，C6.4）",
)
def list_reports(
    request: HttpRequest,
    state: Literal["draft", "published"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
):
    qs = _readable(request).order_by("-year", "-number", "kind", "scope_key")
    if state:
        qs = qs.filter(state=state)
    return {"count": qs.count(), "items": list(qs[offset : offset + limit])}


@router.post(
    "/reports",
    response={201: ReportDetailOut, 400: Error, 404: Error, 409: Error, **COMMON},
    summary="督察起草（或重新起草）某月或某季度的通报：全市或某单位",
)
def draft_report(request: HttpRequest, body: DraftIn):
    user = _person(request)
    unit = None
    if body.unit_id is not None:
        unit = Unit.objects.filter(pk=body.unit_id).first()
        if unit is None:
            raise HttpError(404, "没有这个单位")
    try:
        report = report_actions.draft_report(
            actor=user, kind=body.kind, year=body.year, number=body.number, unit=unit
        )
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    except report_actions.AlreadyPublished as exc:
        raise HttpError(409, "；".join(exc.messages)) from None
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from None
    return Status(201, report)


@router.get(
    "/reports/{report_id}",
    response={200: ReportDetailOut, 404: Error, **COMMON},
    summary="一份通报及其全部数据",
)
def get_report(request: HttpRequest, report_id: Path[Id]):
    return _report(request, report_id)


@router.get(
    "/reports/{report_id}/download/{fmt}",
    response={404: Error, **COMMON},
    summary="下载通报（PDF 或 XLSX；已发布的为发布时固定的文件）",
    openapi_extra=FILE_RESPONSES,
)
def download_report(request: HttpRequest, report_id: Path[Id], fmt: Path[Literal["pdf", "xlsx"]]):
    report = _report(request, report_id)
    content_type = report_print.PDF if fmt == "pdf" else report_print.XLSX
    return download(report_bytes(report, fmt), content_type, report_print.file_name(report, fmt))


@router.post(
    "/reports/{report_id}/publish",
    response={200: ReportDetailOut, 404: Error, 409: Error, **COMMON},
    summary="督察发布通报：固定 PDF 和 XLSX，SHA-256 记入审计日志并为审计链加检查点；仅一次",
)
def publish_report(request: HttpRequest, report_id: Path[Id]):
    user = _person(request)
    report = _report(request, report_id)
    try:
        return report_actions.publish_report(actor=user, report=report)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    except report_actions.AlreadyPublished as exc:
        raise HttpError(409, "；".join(exc.messages)) from None


@router.get(
    "/dashboard/units/{unit_id}",
    response={200: UnitDashboardOut, 404: Error, **COMMON},
    summary="单位工作台数据：最近若干天的各项比率、目标、逐人比率和未处理的督察发现",
)
def unit_dashboard(request: HttpRequest, unit_id: Path[Id]):
    user = _person(request)
    if not (user.is_superuser or user.has_role(Role.INSPECTOR, *LEADERS)):
        raise HttpError(403, "督察、中队长和大队长可以查看单位工作台")
    unit = next((u for u in dashboard_units(user) if u.pk == unit_id), None)
    if unit is None:
        raise HttpError(404, "没有这个单位，或它不在你的管辖范围内")
    return report_metrics.unit_dashboard(unit, timezone.now())


@router.get(
    "/dashboard/findings-trend",
    response={200: list[TrendMonthOut], **COMMON},
    summary="近几个月的督察发现（按所属月份和状态，督察）",
)
def findings_trend(request: HttpRequest, months: Months = 6):
    user = _person(request)
    if not (user.is_superuser or user.has_role(Role.INSPECTOR)):
        raise HttpError(403, "只有督察可以查看全市督察发现趋势")
    return report_metrics.findings_trend(months)
