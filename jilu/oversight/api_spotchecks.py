"""API: spot checks (抽检, C6.4): list, draw, read, redraw and compare, review
an item, complete.

Person tokens only. Inspectors draw, review and complete; squad and brigade
leaders read the spot checks covering their unit subtree (their subtree's
items only); others are refused. Errors are ``{"detail": "…"}`` in Chinese.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import HttpError

from jilu.org.api_auth import person_only
from jilu.org.api_types import Day, Error, Id, Limit, Offset
from jilu.org.roles import LEADERS
from jilu.oversight import spotcheck_actions as actions
from jilu.oversight import spotcheck_pages as pages
from jilu.oversight import spotcheck_sample as sampling
from jilu.oversight.spotcheck_checklist import ITEMS, OUTCOMES
from jilu.oversight.spotcheck_models import SpotCheck, SpotCheckItem

router = Router(tags=["oversight"])

SpotKind = Literal[tuple(SpotCheck.Kind.values)]  # type: ignore[valid-type]
SpotPer = Literal[tuple(SpotCheck.Per.values)]  # type: ignore[valid-type]
SpotState = Literal[tuple(SpotCheck.State.values)]  # type: ignore[valid-type]
CheckCode = Literal[tuple(ITEMS)]  # type: ignore[valid-type]
MarkOutcome = Literal[OUTCOMES]  # type: ignore[valid-type]
PerStratum = Annotated[
    int,
    Field(ge=1, le=sampling.MAX_PER_STRATUM, description="每层抽取数（1 至 50）"),
]
Position = Annotated[int, Field(ge=1, le=sampling.MAX_SAMPLE, description="抽检项序号")]
COMMON = {401: Error, 403: Error, 422: Error}


class SpotMarkOut(Schema):
    code: CheckCode
    clauses: list[str]
    label: str
    outcome: MarkOutcome | None = Field(description="空：尚未检查")
    suggested: MarkOutcome | None = Field(description="台账抽检：与声像记录比对得出的建议")


class SpotItemOut(Schema):
    position: int
    unit_id: int
    unit_name: str
    stratum: str = Field(description="分层：单位编号/期间（YYYY-Www 或 YYYY-MM）")
    period: str
    recording_id: int | None
    officer_id: int | None
    officer_name: str
    day: date | None = Field(description="台账抽检：该行的日期（北京时间）")
    ledger_row: dict | None = Field(description="台账抽检：抽取时台账中的该行")
    ledger_confirmed: bool
    current_row: dict | None = Field(description="台账抽检：按现在的声像记录计算的该行")
    reviewed_at: datetime | None
    reviewed_by: str | None
    note: str
    score: float | None
    marks: list[SpotMarkOut]


class SpotCheckOut(Schema):
    id: int
    kind: SpotKind
    first_day: date
    last_day: date
    per: SpotPer
    per_stratum: int
    unit_ids: list[int]
    seed: str
    sample_sha256: str
    population: int
    state: SpotState
    created_by: str
    created_at: datetime
    completed_at: datetime | None
    passed: int
    failed: int
    score: float | None = Field(description="符合项 ÷（符合项 + 不符合项）× 100；不适用不计")


class SpotCheckDetailOut(SpotCheckOut):
    rule_text: str = Field(
        description="抽取规则（文字，按请求的语言）：如何分层、每层的总体、如何排序和抽取"
    )
    query: dict = Field(
        description=(
            "抽取查询（机器可读的记录，可复核）：参数、分层、排序和排名规则，可据此重新抽取；"
            "其中 population、ordering、rank 是保存时写下的原文，不随语言变化"
        )
    )
    items: list[SpotItemOut]


class SpotCheckPage(Schema):
    count: int
    items: list[SpotCheckOut]


class SpotCheckIn(Schema):
    kind: SpotKind = "recordings"
    first_day: Day
    last_day: Day
    per: SpotPer = "week"
    per_stratum: PerStratum
    units: list[Id] = Field(min_length=1, max_length=200, description="单位 ID（含其下级中队）")
    seed: str | None = Field(
        None, pattern=r"^[0-9a-fA-F]{8,64}$", description="十六进制；空：随机生成"
    )


class SpotMarkIn(Schema):
    code: CheckCode
    outcome: MarkOutcome


class SpotReviewIn(Schema):
    marks: list[SpotMarkIn] = Field(min_length=1, max_length=len(ITEMS))
    note: str = Field("", max_length=actions.MAX_NOTE)


class SpotDifferenceOut(Schema):
    stratum: str
    member: str = Field(description="声像记录 ID，或台账行 YYYY-MM-DD/人员 ID")


class SpotPopulationChangeOut(Schema):
    stratum: str
    before: int
    now: int


class SpotComparisonOut(Schema):
    same: bool = Field(description="true：重新抽取得到完全相同的样本")
    sample_sha256: str
    redrawn_sha256: str
    missing: list[SpotDifferenceOut] = Field(description="保存的样本中有、重新抽取没有的")
    extra: list[SpotDifferenceOut] = Field(description="重新抽取有、保存的样本中没有的")
    population_changed: list[SpotPopulationChangeOut]


def _person(request: HttpRequest):
    if not person_only(request):
        raise HttpError(403, "工作站令牌不能使用此接口")
    user = request.user
    if not (actions.may_draw(user) or user.has_role(*LEADERS)):
        raise HttpError(403, "督察、中队长和大队长可以查看抽检")
    return user


def _get(user, spot_id: int) -> SpotCheck:
    found = (
        SpotCheck.objects.restrict(user, "view")
        .select_related("created_by")
        .filter(pk=spot_id)
        .first()
    )
    if found is None:
        raise HttpError(404, "没有这次抽检，或它不在你的权限范围内")
    return found


def _summary(spot: SpotCheck) -> dict:
    return {
        "id": spot.pk,
        "kind": spot.kind,
        "first_day": spot.first_day,
        "last_day": spot.last_day,
        "per": spot.per,
        "per_stratum": spot.per_stratum,
        "unit_ids": sorted(u.pk for u in spot.units.all()),
        "seed": spot.seed,
        "sample_sha256": spot.sample_sha256,
        "population": spot.population,
        "state": spot.state,
        "created_by": spot.created_by.name,
        "created_at": spot.created_at,
        "completed_at": spot.completed_at,
        "passed": spot.passed,
        "failed": spot.failed,
        "score": spot.score,
    }


def _item(row: pages.Row) -> dict:
    item: SpotCheckItem = row.item
    return {
        "position": item.position,
        "unit_id": item.unit_id,
        "unit_name": item.unit.name,
        "stratum": item.stratum,
        "period": item.period_label,
        "recording_id": item.recording_id,
        "officer_id": item.officer_id,
        "officer_name": item.officer.name if item.officer_id else "",
        "day": item.day,
        "ledger_row": item.ledger_row,
        "ledger_confirmed": item.ledger_confirmed,
        "current_row": row.now_row,
        "reviewed_at": item.reviewed_at,
        "reviewed_by": item.reviewed_by.name if item.reviewed_by_id else None,
        "note": item.note,
        "score": item.score,
        "marks": [
            {
                "code": line.check.code,
                "clauses": list(line.check.clauses),
                "label": str(line.check.label),
                "outcome": line.outcome or None,
                "suggested": line.suggested or None,
            }
            for line in row.lines
        ],
    }


def _detail(spot: SpotCheck, user) -> dict:
    return {
        **_summary(spot),
        "rule_text": sampling.rule_text(spot.query),
        "query": spot.query,
        "items": [_item(r) for r in pages.rows(spot, user)],
    }


def _refusal(exc: Exception) -> HttpError:
    if isinstance(exc, PermissionDenied):
        return HttpError(403, str(exc))
    return HttpError(400, "；".join(exc.messages))  # type: ignore[attr-defined]


@router.get(
    "/spot-checks",
    response={200: SpotCheckPage, **COMMON},
    summary="抽检列表（督察全部；中队长、大队长涉及本单位及下级的）",
)
def list_spot_checks(request: HttpRequest, limit: Limit = 50, offset: Offset = 0):
    user = _person(request)
    qs = SpotCheck.objects.restrict(user, "view").select_related("created_by")
    items = qs.prefetch_related("units")[offset : offset + limit]
    return {"count": qs.count(), "items": [_summary(s) for s in items]}


@router.post(
    "/spot-checks",
    response={201: SpotCheckDetailOut, 400: Error, **COMMON},
    summary="抽取样本（督察）：按单位下的中队和每周/每月分层随机抽取，保存种子和条件",
)
def draw_spot_check(request: HttpRequest, body: SpotCheckIn):
    user = _person(request)
    try:
        spot = actions.draw_spot_check(
            actor=user,
            kind=body.kind,
            first_day=body.first_day,
            last_day=body.last_day,
            per=body.per,
            per_stratum=body.per_stratum,
            unit_ids=list(body.units),
            seed=body.seed or "",
        )
    except (ValidationError, PermissionDenied) as exc:
        raise _refusal(exc) from None
    return Status(201, _detail(spot, user))


@router.get(
    "/spot-checks/{spot_check_id}",
    response={200: SpotCheckDetailOut, 404: Error, **COMMON},
    summary="一次抽检：抽样条件、样本和每项的检查结果",
)
def get_spot_check(request: HttpRequest, spot_check_id: Path[Id]):
    user = _person(request)
    return _detail(_get(user, spot_check_id), user)


@router.post(
    "/spot-checks/{spot_check_id}/verify",
    response={200: SpotComparisonOut, 404: Error, **COMMON},
    summary="按保存的种子和条件重新抽取，并与保存的样本比对",
)
def verify_spot_check(request: HttpRequest, spot_check_id: Path[Id]):
    user = _person(request)
    result = actions.verify_spot_check(_get(user, spot_check_id), actor=user)
    return {
        "same": result.same,
        "sample_sha256": result.sample_sha256,
        "redrawn_sha256": result.redrawn_sha256,
        "missing": [{"stratum": s, "member": m} for s, m in result.missing],
        "extra": [{"stratum": s, "member": m} for s, m in result.extra],
        "population_changed": result.population_changed,
    }


@router.post(
    "/spot-checks/{spot_check_id}/items/{position}/review",
    response={200: SpotItemOut, 400: Error, 404: Error, **COMMON},
    summary="检查一个抽检项（督察）：每个检查项符合、不符合或不适用",
)
def review_item(
    request: HttpRequest, spot_check_id: Path[Id], position: Path[Position], body: SpotReviewIn
):
    user = _person(request)
    spot = _get(user, spot_check_id)
    item = SpotCheckItem.objects.filter(spot_check=spot, position=position).first()
    if item is None:
        raise HttpError(404, "这次抽检没有这一项")
    try:
        actions.review_item(
            item, actor=user, marks={m.code: m.outcome for m in body.marks}, note=body.note
        )
    except (ValidationError, PermissionDenied) as exc:
        raise _refusal(exc) from None
    row = next(r for r in pages.rows(spot, user) if r.item.pk == item.pk)
    return _item(row)


@router.post(
    "/spot-checks/{spot_check_id}/complete",
    response={200: SpotCheckDetailOut, 400: Error, 404: Error, **COMMON},
    summary="完成抽检（督察）：计算得分，不符合的检查项生成督察发现",
)
def complete_spot_check(request: HttpRequest, spot_check_id: Path[Id]):
    user = _person(request)
    spot = _get(user, spot_check_id)
    try:
        spot = actions.complete_spot_check(spot, actor=user)
    except (ValidationError, PermissionDenied) as exc:
        raise _refusal(exc) from None
    return _detail(_get(user, spot.pk), user)
