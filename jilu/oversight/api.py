"""API of oversight: findings (C6.4, C6.5) and the rules' settings.

Person tokens only; every list goes through ``restrict()``, every change
through ``jilu.oversight.actions``. Errors are ``{"detail": "…"}``.
"""

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile

from jilu.org.api_auth import person_only
from jilu.org.api_types import Error, Id
from jilu.org.roles import Role
from jilu.oversight import actions, facts, rules, thresholds
from jilu.oversight.api_ledgers import router as ledgers_router
from jilu.oversight.api_reports import router as reports_router
from jilu.oversight.api_spotchecks import router as spotchecks_router
from jilu.oversight.finding_models import Finding, FindingFact
from jilu.oversight.queries import filter_findings
from jilu.oversight.subjects import subject_text

router = Router(tags=["oversight"])
router.add_router("", ledgers_router)
router.add_router("", spotchecks_router)

router.add_router("", reports_router)

RuleCode = Literal[rules.CODES]  # type: ignore[valid-type]
ClauseId = Literal[rules.CLAUSES]  # type: ignore[valid-type]
FindingState = Literal[tuple(Finding.State.values)]  # type: ignore[valid-type]
SubjectKind = Literal[tuple(Finding.Subject.values)]  # type: ignore[valid-type]
FactKind = Literal[tuple(FindingFact.Kind.values)]  # type: ignore[valid-type]
Outcome = Literal["confirmed", "dismissed"]
PageLimit = Annotated[int, Field(ge=1, le=500)]
PageOffset = Annotated[int, Field(ge=0, le=10**9)]


class FactOut(Schema):
    kind: FactKind
    object_id: str
    at: datetime
    text: str = Field(description="事实的文字说明")
    url: str = Field(description="事实所在页面的地址；空：当前用户无权打开")
    detail: dict


class FindingOut(Schema):
    id: int
    rule: RuleCode
    clause: ClauseId = Field(description="计数所依据的条款（规则引用的第一条）")
    clauses: list[ClauseId]
    rule_label: str
    subject_kind: SubjectKind
    subject_id: int
    subject_label: str = Field(description="对象的名称，按发现生成时的写法保存")
    subject_text: str = Field(description="对象的类型和名称，按当前语言显示")
    period: str = Field(description="期间：YYYY-MM-DD（一天）或 YYYY-MM（一个月），北京时间")
    period_start: datetime
    period_end: datetime
    unit_id: int
    unit_name: str
    person_id: int | None = Field(description="须作出说明的责任人；空：由单位领导说明")
    state: FindingState
    fact_count: int
    created_at: datetime
    explanation: str
    explained_by: str | None
    explained_at: datetime | None
    has_attachment: bool
    decision_reason: str
    decided_by: str | None
    decided_at: datetime | None

    @staticmethod
    def resolve_clauses(obj: Finding) -> list[str]:
        info = rules.RULES.get(obj.rule)
        return list(info.clauses) if info else [obj.clause]

    @staticmethod
    def resolve_rule_label(obj: Finding) -> str:
        return rules.label(obj.rule)

    @staticmethod
    def resolve_subject_text(obj: Finding) -> str:
        return subject_text(obj)

    @staticmethod
    def resolve_period(obj: Finding) -> str:
        return obj.period_label

    @staticmethod
    def resolve_unit_name(obj: Finding) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_explained_by(obj: Finding) -> str | None:
        return obj.explained_by.name if obj.explained_by_id else None

    @staticmethod
    def resolve_decided_by(obj: Finding) -> str | None:
        return obj.decided_by.name if obj.decided_by_id else None

    @staticmethod
    def resolve_has_attachment(obj: Finding) -> bool:
        return obj.attachment_id is not None


class FindingDetailOut(FindingOut):
    facts: list[FactOut]

    @staticmethod
    def resolve_facts(obj: Finding) -> list[dict]:
        return obj.described_facts


class FindingPage(Schema):
    count: int
    items: list[FindingOut]


class DecideIn(Schema):
    outcome: Outcome
    reason: str = Field(min_length=1, max_length=actions.MAX_REASON)


class SettingOut(Schema):
    key: str
    clause: str
    label: str
    value: str
    default: str


class FindingFilters(Schema):
    rule: RuleCode | None = None
    clause: ClauseId | None = None
    state: FindingState | None = None
    unit: Id | None = Field(
        None, description="单位 ID：含其下级单位；须是你可以查看的单位，否则答 400"
    )
    period: str | None = Field(
        None,
        pattern=r"^\d{4}-\d{2}(-\d{2})?$",
        description="YYYY-MM 或 YYYY-MM-DD（须是有效的月份或日期，否则答 400）",
    )
    person: Id | None = Field(None, description="须作出说明的责任人的人员 ID")


def _person(request: HttpRequest):
    if not person_only(request):
        raise HttpError(403, "工作站令牌不能使用此接口")
    return request.user


def _get(user, finding_id: int) -> Finding:
    found = (
        Finding.objects.restrict(user, "view")
        .select_related("unit", "explained_by", "decided_by")
        .filter(pk=finding_id)
        .first()
    )
    if found is None:
        raise HttpError(404, "没有这项发现，或它不在你的权限范围内")
    return found


def _detail(finding: Finding, user) -> Finding:
    finding.described_facts = [
        {
            "kind": d["fact"].kind,
            "object_id": d["fact"].object_id,
            "at": d["fact"].at,
            "text": d["text"],
            "url": d["url"],
            "detail": d["fact"].detail,
        }
        for d in facts.described(finding, user)
    ]
    return finding


@router.get(
    "/findings",
    response={200: FindingPage, 400: Error, 403: Error, 401: Error, 422: Error},
    summary="督察发现列表（督察全部；领导本单位及下级；其他人本人须说明的）",
    description=(
        "筛选条件有误时答 400，detail 说明哪个条件错在哪里：没有这个单位或它不在你的权限"
        "范围内（单位只能是你可以查看的单位）、期间不是有效的月份或日期。"
    ),
)
def list_findings(
    request: HttpRequest,
    filters: Query[FindingFilters],
    limit: PageLimit = 50,
    offset: PageOffset = 0,
):
    user = _person(request)
    filtered = filter_findings(
        Finding.objects.restrict(user, "view"),
        {k: ("" if v is None else str(v)) for k, v in filters.dict().items()},
        user,
    )
    if filtered.errors:
        raise HttpError(400, _("筛选条件有误：") + "；".join(filtered.errors))
    qs = filtered.findings.select_related("unit", "explained_by", "decided_by").order_by(
        "-period_start", "-pk"
    )
    return {"count": qs.count(), "items": list(qs[offset : offset + limit])}


@router.get(
    "/findings/{finding_id}",
    response={200: FindingDetailOut, 403: Error, 404: Error, 401: Error, 422: Error},
    summary="一项督察发现及其事实",
)
def get_finding(request: HttpRequest, finding_id: Path[Id]):
    user = _person(request)
    return _detail(_get(user, finding_id), user)


@router.post(
    "/findings/{finding_id}/explain",
    response={200: FindingDetailOut, 400: Error, 403: Error, 404: Error, 401: Error, 422: Error},
    summary="说明发现（责任人或其所在单位的中队长、大队长；可附 PDF/JPEG/PNG，不超过 10 MB）",
)
def explain_finding(
    request: HttpRequest,
    finding_id: Path[Id],
    text: Form[Annotated[str, Field(min_length=1, max_length=actions.MAX_EXPLANATION)]],
    attachment: File[UploadedFile | None] = None,
):
    user = _person(request)
    finding = _get(user, finding_id)
    try:
        read = actions.read_attachment(attachment) if attachment is not None else None
        finding = actions.explain_finding(finding, actor=user, text=text, attachment=read)
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from None
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return _detail(_get(user, finding.pk), user)


@router.post(
    "/findings/{finding_id}/decide",
    response={200: FindingDetailOut, 400: Error, 403: Error, 404: Error, 401: Error, 422: Error},
    summary="督察认定发现属实或不成立（须写明理由）",
)
def decide_finding(request: HttpRequest, finding_id: Path[Id], body: DecideIn):
    user = _person(request)
    finding = _get(user, finding_id)
    try:
        finding = actions.decide_finding(
            finding, actor=user, outcome=body.outcome, reason=body.reason
        )
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from None
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return _detail(_get(user, finding.pk), user)


@router.get(
    "/findings-settings",
    response={200: list[SettingOut], 403: Error, 401: Error, 422: Error},
    summary="督察规则的阈值和宽限期（当前值）",
)
def list_settings(request: HttpRequest):
    user = _person(request)
    if not (user.is_superuser or user.has_role(Role.ADMIN, Role.INSPECTOR)):
        raise HttpError(403, "只有系统管理员和督察可以查看督察规则的阈值")
    values = thresholds.current()
    return [
        {
            "key": t.key,
            "clause": t.clause,
            "label": str(t.label),
            "value": t.text(values[t.key]),
            "default": t.default,
        }
        for t in thresholds.THRESHOLDS.values()
    ]
