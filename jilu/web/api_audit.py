"""API: the audit log as an inspector reads it (C6.4): ``GET /api/v1/audit``.

The same filters as the page (``jilu.web.audit_filters``), the same words
(``jilu.web.audit_text``), paginated by a bounded ``limit``/``offset``. Only
administrators and inspectors read it; everyone else gets 403. Each entry keeps
its codes, raw details and hashes for tools beside the words for people.

It lives in web, not in audit, because it names recordings, people and cases:
the audit app knows no domain.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from jilu.audit import labels
from jilu.org.api_auth import person_only
from jilu.org.api_types import Error
from jilu.org.audit_scope import visible_entries
from jilu.org.roles import Role
from jilu.web import audit_filters
from jilu.web.audit_details import UNIT_BY_CODE
from jilu.web.audit_text import OBJECT_KINDS, Row, describe

router = Router(tags=["audit"])

READERS = (Role.ADMIN, Role.INSPECTOR)
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Family = Literal[tuple(labels.FAMILIES)]  # type: ignore[valid-type]
ObjectType = Literal[tuple(k for k in OBJECT_KINDS if k != UNIT_BY_CODE)]  # type: ignore[valid-type]
Text = Annotated[str, Field(max_length=100)]


class Invalid(Schema):
    detail: str
    errors: list[dict[str, Any]] = Field(description="每个不正确的参数及原因")


class Filters(Schema):
    date_from: date | None = Field(None, description="起始日期（北京时间，含当日），2000–2099 年")
    date_to: date | None = Field(None, description="截止日期（北京时间，含当日），2000–2099 年")
    person: Text | None = Field(None, description="操作人：姓名（部分）、登录名或警号")
    actor: Id | None = Field(None, description="操作人编号")
    unit: Id | None = Field(None, description="操作人所在单位编号（含下级单位）")
    family: Family | None = Field(None, description="操作类别")
    action: Text | None = Field(None, description="操作代码前缀，例如 evidence.recording")
    object_type: ObjectType | None = Field(None, description="对象类型")
    object_id: Text | None = Field(None, description="对象编号（与对象类型一起使用）")
    q: Text | None = Field(None, description="对象名称（部分）：文件名、案件编号、调用单号等")
    limit: int = Field(50, ge=1, le=500, description="每页条数，1–500")
    offset: int = Field(0, ge=0, le=10**9, description="跳过的条数")


class EntryOut(Schema):
    seq: int = Field(description="序号（哈希链中的位置）")
    at: datetime = Field(description="时间（北京时间）")
    action: str = Field(description="操作代码")
    action_text: str = Field(description="操作（文字）")
    family: str = Field(description="操作类别代码")
    family_text: str = Field(description="操作类别（文字）")
    actor_id: int | None = Field(description="操作人编号；工作站或系统为空")
    actor_label: str = Field(description="记录时的操作人标识")
    actor_text: str = Field(description="操作人（文字）")
    object_type: str
    object_id: str
    object_text: str = Field(description="对象（名称）")
    detail_text: str = Field(description="详情（文字）")
    details: dict[str, Any] = Field(description="记录的原始详情，供工具使用")
    hash: str = Field(description="本条哈希（SHA-256）")
    prev_hash: str = Field(description="上一条哈希")


class PageOut(Schema):
    count: int = Field(description="符合筛选条件的总条数")
    limit: int
    offset: int
    filters: str = Field(description="生效的筛选条件（文字）")
    entries: list[EntryOut]


def _out(row: Row) -> dict[str, Any]:
    out = dict(row.__dict__)
    out["at"] = timezone.localtime(row.at)
    return out


@router.get(
    "/audit",
    response={200: PageOut, 400: Error, 401: Error, 403: Error, 422: Invalid},
    summary="审计日志（系统管理员、督察）：按日期、操作人、单位、操作类别、对象筛选，新的在前",
)
def audit_log(request: HttpRequest, filters: Query[Filters]):
    if not person_only(request):
        raise HttpError(403, "工作站令牌不能使用此接口")
    user = request.user
    if not (user.is_superuser or user.has_role(*READERS)):
        raise HttpError(403, "只有系统管理员和督察可以查看审计日志")
    data = {
        k: v.isoformat() if isinstance(v, date) else str(v)
        for k, v in filters.dict().items()
        if v is not None and k not in ("limit", "offset")
    }
    filtered = audit_filters.apply(visible_entries(user), data)
    if filtered.errors:
        raise HttpError(400, "筛选条件有误：" + "；".join(filtered.errors))
    entries = filtered.entries.order_by("-seq")
    page = list(entries[filters.offset : filters.offset + filters.limit])
    return Status(
        200,
        {
            "count": entries.count(),
            "limit": filters.limit,
            "offset": filters.offset,
            "filters": filtered.description,
            "entries": [_out(r) for r in describe(page)],
        },
    )
