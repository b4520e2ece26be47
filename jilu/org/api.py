"""API: tokens for people, who am I, units and people (restricted), the roster (XLSX)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.http import content_disposition_header
from ninja import File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from jilu.audit.chain import record
from jilu.org import actions, queries, roster, throttle
from jilu.org.api_auth import token_digest
from jilu.org.api_types import Error
from jilu.org.models import ApiToken, Person, Unit
from jilu.org.roles import Role

router = Router(tags=["org"])


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    expires_at: str
    token_type: str = "Bearer"


class UnitOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    level: str
    parent_code: str | None
    independently_housed: bool
    active: bool


class PersonOut(Schema):
    id: int
    username: str
    name: str
    cert_no: str | None
    user_no: str | None
    unit_code: str | None
    frontline: bool
    roles: list[str]
    is_active: bool


def person_out(p: Person) -> PersonOut:
    return PersonOut(
        id=p.pk,
        username=p.username,
        name=p.name,
        cert_no=p.cert_no,
        user_no=p.user_no,
        unit_code=p.unit.code if p.unit_id else None,
        frontline=p.frontline,
        roles=sorted(p.roles),
        is_active=p.is_active,
    )


def unit_out(u: Unit) -> UnitOut:
    return UnitOut(
        id=u.pk,
        code=u.code,
        name=u.name,
        short_name=u.short_name,
        level=u.level,
        parent_code=u.parent.code if u.parent_id else None,
        independently_housed=u.independently_housed,
        active=u.active,
    )


def require_person(request: HttpRequest) -> Person:
    user = getattr(request, "user", None)
    if getattr(request, "station", None) is not None or not isinstance(user, Person):
        raise HttpError(403, "此接口需要人员令牌，工作站令牌不可用")
    return user


def _throttled(stopped: throttle.Throttled) -> HttpResponse:
    """429 with Retry-After: too many failed sign-ins from this address."""
    until = timezone.localtime(stopped.until).strftime("%H:%M")
    response = JsonResponse(
        {
            "detail": f"从该网络地址登录失败的次数过多，已暂停登录，请在 {until}（北京时间，"
            f"{stopped.retry_after} 秒后）再试",
            "retry_after": stopped.retry_after,
        },
        status=429,
    )
    response["Retry-After"] = str(stopped.retry_after)
    return response


@router.post("/auth/token", auth=None, response={200: TokenOut, 401: Error, 423: Error, 429: Error})
def issue_token(request: HttpRequest, body: TokenIn):
    """Exchange a username and password for a bearer token (same lockout as the web).

    Failed attempts are also counted per client address, as on the sign-in
    page: past the limit the address is answered 429 with Retry-After."""
    ip = request.META.get("REMOTE_ADDR")
    stopped = throttle.check(ip)
    if stopped is not None:
        throttle.refused(ip, username=body.username, via="api")
        return _throttled(stopped)
    person = Person.objects.filter(username=body.username).first()
    if person is not None and actions.is_locked(person):
        actions.login_refused_locked(person=person, ip=ip, via="api")
        stopped = throttle.failed(ip, via="api")
        if stopped is not None:
            return _throttled(stopped)
        return Status(423, {"detail": "连续登录失败次数过多，账号已锁定，请稍后再试"})
    user = authenticate(request, username=body.username, password=body.password)
    if user is None:
        actions.login_failed(username=body.username, ip=ip)
        stopped = throttle.failed(ip, via="api")
        if stopped is not None:
            return _throttled(stopped)
        return Status(401, {"detail": "登录名或密码不正确"})
    raw = "jpt_" + secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    with transaction.atomic():
        token = ApiToken.objects.create(
            person=user, digest=token_digest(raw), prefix=raw[:8], expires_at=expires
        )
        record("auth.token_issued", actor=user, obj=user, details={"token": token.pk, "ip": ip})
    actions.login_succeeded(person=user, ip=ip, via="api")
    return Status(200, TokenOut(token=raw, expires_at=expires.isoformat()))


@router.get("/me", response={200: PersonOut, 403: Error})
def me(request: HttpRequest):
    return person_out(require_person(request))


@router.get("/units", response={200: list[UnitOut], 403: Error})
def list_units(request: HttpRequest):
    user = require_person(request)
    units = Unit.objects.restrict(user, "view").select_related("parent")
    return [unit_out(u) for u in units]


@router.get("/units/{code}", response={200: UnitOut, 403: Error, 404: Error})
def get_unit(request: HttpRequest, code: str):
    user = require_person(request)
    return unit_out(
        get_object_or_404(Unit.objects.restrict(user, "view").select_related("parent"), code=code)
    )


@router.get("/people", response={200: list[PersonOut], 403: Error})
def list_people(
    request: HttpRequest,
    unit: str | None = None,
    frontline: bool | None = None,
    active: bool | None = None,
    subtree: bool = False,
):
    """People in scope; ``unit`` by code (with ``subtree=true`` its units below too)."""
    user = require_person(request)
    qs = (
        Person.objects.restrict(user, "view").select_related("unit").prefetch_related("role_grants")
    )
    if unit:
        if subtree:
            base = Unit.objects.restrict(user, "view").filter(code=unit).first()
            qs = qs.filter(unit__path__startswith=base.path) if base else qs.none()
        else:
            qs = qs.filter(unit__code=unit)
    if frontline is not None:
        qs = qs.filter(frontline=frontline)
    if active is not None:
        qs = qs.filter(is_active=active)
    out = []
    for p in qs:
        p._roles_cache = frozenset(g.role for g in p.role_grants.all())
        out.append(person_out(p))
    return out


@router.get("/people/{username}", response={200: PersonOut, 403: Error, 404: Error})
def get_person(request: HttpRequest, username: str):
    """One person; 404 when outside the caller's scope (as for one that does not exist)."""
    user = require_person(request)
    person = get_object_or_404(
        Person.objects.restrict(user, "view").select_related("unit"), username=username
    )
    return person_out(person)


class RowErrorOut(Schema):
    sheet: str
    row: int
    message: str


class RosterResultOut(Schema):
    ok: bool
    applied: bool
    summary: str
    units: dict[str, int]
    people: dict[str, int]
    errors: list[RowErrorOut]


def _roster_result(plan: roster.Plan, *, applied: bool) -> RosterResultOut:
    return RosterResultOut(
        ok=plan.ok,
        applied=applied,
        summary=plan.summary(),
        units=plan.counts("units"),
        people=plan.counts("people"),
        errors=[RowErrorOut(sheet=e.sheet, row=e.row, message=e.message) for e in plan.errors],
    )


@router.get(
    "/roster.xlsx",
    response={200: None, 403: Error, 404: Error},
    openapi_extra={
        "responses": {
            200: {
                "description": "名册 XLSX",
                "content": {roster.XLSX_MIME: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def export_roster(request: HttpRequest, unit: str | None = None):
    """The roster of the caller's scope (sheets 单位 and 人员), the import format."""
    user = require_person(request)
    if not user.has_role(*queries.PEOPLE_READERS):
        raise HttpError(403, "你的角色不能导出名册")
    base = get_object_or_404(Unit.objects.restrict(user, "view"), code=unit) if unit else None
    response = HttpResponse(roster.export_roster(user, unit=base), content_type=roster.XLSX_MIME)
    response["Content-Disposition"] = content_disposition_header(True, "roster.xlsx")
    return response


@router.post(
    "/roster", response={200: RosterResultOut, 400: Error, 403: Error, 422: RosterResultOut}
)
def import_roster(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008 (django-ninja declares uploads this way)
    dry_run: bool = False,
):
    """Import a roster XLSX: every row checked, all or nothing (422 lists the bad rows)."""
    user = require_person(request)
    if not user.has_role(Role.ADMIN):
        raise HttpError(403, "只有系统管理员可以导入名册")
    data = file.read(roster.MAX_BYTES + 1)
    try:
        if dry_run:
            plan = roster.plan_import(data, user=user)
            return Status(200 if plan.ok else 422, _roster_result(plan, applied=False))
        plan = roster.apply_import(data, user=user, actor=user)
    except roster.RosterFileError as exc:
        return Status(400, {"detail": str(exc)})
    except roster.RosterInvalid as exc:
        return Status(422, _roster_result(exc.plan, applied=False))
    return Status(200, _roster_result(plan, applied=True))
