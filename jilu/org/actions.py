"""Every state change of units and people: one function each, atomic, audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jilu.audit.chain import record
from jilu.org.models import Person, RoleGrant, Unit
from jilu.org.roles import Role

UNIT_FIELDS = ("code", "name", "short_name", "level", "independently_housed", "active")
PERSON_FIELDS = (
    "username",
    "name",
    "cert_no",
    "user_no",
    "unit",
    "frontline",
    "phone",
    "is_active",
)

# C5.3: the short name starts every standard file name, so it must be a valid
# file-name part on Windows workstations, Linux servers and ISO/UDF discs.
FILE_NAME_FORBIDDEN = set('\\/:*?"<>|')


def check_short_name(short_name: str) -> None:
    bad = sorted({c for c in short_name if c in FILE_NAME_FORBIDDEN or ord(c) < 32})
    if bad:
        shown = " ".join(repr(c)[1:-1] for c in bad)
        raise ValidationError(
            {"short_name": f"简称用于文件命名（C5.3），不能含有这些字符：{shown}"}
        )
    if short_name != short_name.strip():
        raise ValidationError({"short_name": "简称首尾不能有空格（C5.3 文件命名用）"})


def grantable_roles(actor: Any) -> frozenset[str]:
    """The roles ``actor`` may give to someone.

    Inspectors read everything in the bureau (C6.4), so only an administrator
    of the top unit (or a superuser, or the system itself) may make one; every
    other role an administrator may grant within their own subtree.
    """
    if not isinstance(actor, Person) or actor.is_superuser:
        return frozenset(Role.values)
    if not actor.has_role(Role.ADMIN):
        return frozenset()
    if actor.unit_id is not None and actor.unit.parent_id is None:
        return frozenset(Role.values)
    return frozenset(Role.values) - {Role.INSPECTOR.value}


def check_grant(actor: Any, before: frozenset[str], after: frozenset[str]) -> None:
    refused = sorted(set(after) - set(before) - grantable_roles(actor))
    if refused:
        labels = "、".join(Role(r).label for r in refused if r in Role.values)
        raise ValidationError({"roles": f"你不能授予“{labels}”角色（只有市局系统管理员可以授予）"})


def _check_self(actor: Any, person: Person, *, is_active: bool, roles: frozenset[str]) -> None:
    """An administrator cannot lock themselves out by mistake."""
    if not isinstance(actor, Person) or actor.pk != person.pk:
        return
    if not is_active:
        raise ValidationError({"is_active": "不能停用你自己的账号，请由其他系统管理员操作"})
    if Role.ADMIN in person.roles and Role.ADMIN not in roles and not actor.is_superuser:
        raise ValidationError({"roles": "不能取消你自己的系统管理员角色，请由其他系统管理员操作"})


def _check_level(level: str, parent: Unit | None) -> None:
    order = Unit.LEVEL_ORDER
    if level not in order:
        raise ValidationError({"level": f"未知层级：{level}"})
    if parent is None:
        if level != Unit.Level.CITY:
            raise ValidationError({"parent": "只有市局可以没有上级单位"})
        return
    if order.index(level) <= order.index(parent.level):
        raise ValidationError(
            {"level": f"{Unit.Level(level).label}不能隶属于{Unit.Level(parent.level).label}"}
        )


@transaction.atomic
def create_unit(*, actor: Any, parent: Unit | None, **fields: Any) -> Unit:
    _check_level(fields.get("level", ""), parent)
    check_short_name(fields.get("short_name", ""))
    unit = Unit(parent=parent, path="/pending/", **fields)
    unit.full_clean(exclude=["path"])
    unit.save()
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    record("org.unit.create", actor=actor, obj=unit, details=_unit_details(unit))
    return unit


@transaction.atomic
def update_unit(*, actor: Any, unit: Unit, parent: Unit | None = None, **fields: Any) -> Unit:
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    before = _unit_details(unit)
    was_active = unit.active
    for key, value in fields.items():
        if key not in UNIT_FIELDS:
            raise ValidationError({key: "不可修改的字段"})
        setattr(unit, key, value)
    check_short_name(unit.short_name)
    if parent is not None:
        parent = Unit.objects.get(pk=parent.pk)  # the caller's copy may have a stale path
    new_parent = parent if parent is not None else unit.parent
    if new_parent is not None and new_parent.path.startswith(unit.path):
        raise ValidationError({"parent": "不能把单位移到它自己的下级单位之下"})
    _check_level(unit.level, new_parent)
    for child in Unit.objects.filter(parent=unit):
        if Unit.LEVEL_ORDER.index(child.level) <= Unit.LEVEL_ORDER.index(unit.level):
            raise ValidationError(
                {
                    "level": f"下级单位 {child.name}（{child.get_level_display()}）"
                    f"不能隶属于{Unit.Level(unit.level).label}"
                }
            )
    if was_active and not unit.active:
        if Unit.objects.filter(parent=unit, active=True).exists():
            raise ValidationError({"active": "还有在用的下级单位，请先停用或移走下级单位"})
        if Person.objects.filter(unit=unit, is_active=True).exists():
            raise ValidationError({"active": "单位中还有在岗人员，请先调走或停用这些人员"})
    unit.full_clean(exclude=["path"])
    old_path = unit.path
    unit.parent = new_parent
    unit.path = f"{new_parent.path if new_parent else '/'}{unit.pk}/"
    unit.save()
    if unit.path != old_path:
        for child in Unit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk):
            child.path = unit.path + child.path[len(old_path) :]
            child.save(update_fields=["path"])
    after = _unit_details(unit)
    changed = {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}
    record("org.unit.update", actor=actor, obj=unit, details={"changed": changed})
    return unit


def _unit_details(unit: Unit) -> dict:
    return {
        "code": unit.code,
        "name": unit.name,
        "short_name": unit.short_name,
        "level": unit.level,
        "parent": unit.parent.code if unit.parent_id else None,
        "independently_housed": unit.independently_housed,
        "active": unit.active,
    }


def _person_details(person: Person) -> dict:
    return {
        "username": person.username,
        "name": person.name,
        "cert_no": person.cert_no,
        "user_no": person.user_no,
        "unit": person.unit.code if person.unit_id else None,
        "frontline": person.frontline,
        "is_active": person.is_active,
        "roles": sorted(person.roles),
    }


def _check_no_blank_name(fields: dict) -> None:
    for key in ("name", "username"):
        if key in fields and isinstance(fields[key], str) and not fields[key].strip():
            label = "姓名" if key == "name" else "登录名"
            raise ValidationError({key: f"{label}不能为空"})


def _set_roles(person: Person, roles: list[str] | set[str] | frozenset[str]) -> None:
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValidationError({"roles": f"未知角色：{'、'.join(sorted(unknown))}"})
    RoleGrant.objects.filter(person=person).exclude(role__in=roles).delete()
    existing = set(RoleGrant.objects.filter(person=person).values_list("role", flat=True))
    RoleGrant.objects.bulk_create(
        [RoleGrant(person=person, role=r) for r in sorted(set(roles) - existing)]
    )
    person._roles_cache = frozenset(roles)


@transaction.atomic
def create_person(
    *, actor: Any, roles: list[str] | None = None, password: str | None = None, **fields: Any
) -> Person:
    for key in ("cert_no", "user_no"):
        if fields.get(key) == "":
            fields[key] = None
    _check_no_blank_name(fields)
    check_grant(actor, frozenset(), frozenset(roles or []))
    person = Person(**fields)
    if password:
        person.set_password(password)
    else:
        person.set_unusable_password()
    person.full_clean(exclude=["password"])
    person.save()
    _set_roles(person, roles or [])
    record("org.person.create", actor=actor, obj=person, details=_person_details(person))
    return person


@transaction.atomic
def update_person(
    *, actor: Any, person: Person, roles: list[str] | None = None, **fields: Any
) -> Person:
    person = Person.objects.select_for_update().get(pk=person.pk)
    before = _person_details(person)
    old_roles = person.roles
    _check_no_blank_name(fields)
    for key, value in fields.items():
        if key not in PERSON_FIELDS:
            raise ValidationError({key: "不可修改的字段"})
        if key in ("cert_no", "user_no") and value == "":
            value = None
        setattr(person, key, value)
    new_roles = frozenset(roles) if roles is not None else old_roles
    check_grant(actor, old_roles, new_roles)
    _check_self(actor, person, is_active=person.is_active, roles=new_roles)
    person.full_clean(exclude=["password"])
    person.save()
    if roles is not None:
        _set_roles(person, roles)
    after = _person_details(person)
    changed = {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}
    record("org.person.update", actor=actor, obj=person, details={"changed": changed})
    return person


@transaction.atomic
def set_password(*, actor: Any, person: Person, password: str) -> None:
    person = Person.objects.select_for_update().get(pk=person.pk)
    person.set_password(password)
    person.failed_logins = 0
    person.locked_until = None
    person.save(update_fields=["password", "failed_logins", "locked_until"])
    own = getattr(actor, "pk", None) == person.pk
    record(
        "org.person.password_change" if own else "org.person.password_reset",
        actor=actor,
        obj=person,
    )


# --- sign-in ---------------------------------------------------------------


def is_locked(person: Person) -> bool:
    return person.locked_until is not None and person.locked_until > timezone.now()


@transaction.atomic
def login_refused_locked(*, person: Person, ip: str | None, via: str = "web") -> None:
    """A sign-in attempt on a locked account: refused, and on the record."""
    record(
        "auth.login_locked",
        actor=person,
        obj=person,
        details={"ip": ip, "via": via, "locked_until": person.locked_until.isoformat()},
    )


@transaction.atomic
def login_failed(*, username: str, ip: str | None) -> Person | None:
    """Count a failed sign-in; lock the account after too many in a row."""
    person = Person.objects.select_for_update().filter(username=username).order_by("pk").first()
    details = {"username": username, "ip": ip}
    if person is None:
        record("auth.login_failed", actor=f"anonymous:{username}"[:200], details=details)
        return None
    person.failed_logins += 1
    if person.failed_logins >= settings.LOGIN_MAX_FAILURES:
        person.locked_until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        person.failed_logins = 0
        details["locked_until"] = person.locked_until.isoformat()
        person.save(update_fields=["failed_logins", "locked_until"])
        record("auth.locked_out", actor=person, obj=person, details=details)
    else:
        person.save(update_fields=["failed_logins"])
        details["failures"] = person.failed_logins
        record("auth.login_failed", actor=person, obj=person, details=details)
    return person


@transaction.atomic
def login_succeeded(*, person: Person, ip: str | None, via: str = "web") -> None:
    Person.objects.filter(pk=person.pk).update(
        failed_logins=0, locked_until=None, last_login=timezone.now()
    )
    record("auth.login", actor=person, obj=person, details={"ip": ip, "via": via})


@transaction.atomic
def logged_out(*, person: Person, ip: str | None) -> None:
    record("auth.logout", actor=person, obj=person, details={"ip": ip})
