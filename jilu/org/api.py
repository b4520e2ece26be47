"""API: tokens for people, who am I, units and people (restricted)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError

from jilu.api_auth import token_digest
from jilu.audit.chain import record
from jilu.org import actions
from jilu.org.models import ApiToken, Person, Unit

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


class PersonOut(Schema):
    id: int
    username: str
    name: str
    cert_no: str | None
    user_no: str | None
    unit_code: str | None
    frontline: bool
    roles: list[str]


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
    )


def require_person(request: HttpRequest) -> Person:
    user = getattr(request, "user", None)
    if getattr(request, "station", None) is not None or not isinstance(user, Person):
        raise HttpError(403, "此接口需要人员令牌，工作站令牌不可用")
    return user


@router.post("/auth/token", auth=None, response={200: TokenOut, 401: dict, 423: dict})
def issue_token(request: HttpRequest, body: TokenIn):
    """Exchange a username and password for a bearer token (same lockout as the web)."""
    ip = request.META.get("REMOTE_ADDR")
    person = Person.objects.filter(username=body.username).first()
    if person is not None and actions.is_locked(person):
        return 423, {"detail": "连续登录失败次数过多，账号已锁定，请稍后再试"}
    user = authenticate(request, username=body.username, password=body.password)
    if user is None:
        actions.login_failed(username=body.username, ip=ip)
        return 401, {"detail": "登录名或密码不正确"}
    raw = "jpt_" + secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    with transaction.atomic():
        token = ApiToken.objects.create(
            person=user, digest=token_digest(raw), prefix=raw[:8], expires_at=expires
        )
        record("auth.token_issued", actor=user, obj=user, details={"token": token.pk, "ip": ip})
    actions.login_succeeded(person=user, ip=ip, via="api")
    return 200, TokenOut(token=raw, expires_at=expires.isoformat())


@router.get("/me", response=PersonOut)
def me(request: HttpRequest):
    return person_out(require_person(request))


@router.get("/units", response=list[UnitOut])
def list_units(request: HttpRequest):
    user = require_person(request)
    units = Unit.objects.restrict(user, "view").select_related("parent")
    return [
        UnitOut(
            id=u.pk,
            code=u.code,
            name=u.name,
            short_name=u.short_name,
            level=u.level,
            parent_code=u.parent.code if u.parent_id else None,
            independently_housed=u.independently_housed,
        )
        for u in units
    ]


@router.get("/people", response=list[PersonOut])
def list_people(request: HttpRequest, unit: str | None = None, frontline: bool | None = None):
    user = require_person(request)
    qs = Person.objects.restrict(user, "view").select_related("unit").prefetch_related("role_grants")
    if unit:
        qs = qs.filter(unit__code=unit)
    if frontline is not None:
        qs = qs.filter(frontline=frontline)
    out = []
    for p in qs:
        p._roles_cache = frozenset(g.role for g in p.role_grants.all())
        out.append(person_out(p))
    return out
