"""Units (the bureau's tree) and people (the accounts that sign in)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jilu.org import access
from jilu.org.access import RestrictedQuerySet
from jilu.org.roles import ROLE_CHOICES, UNIT_READERS, Role

unit_code_validator = RegexValidator(r"^[0-9A-Za-z]{12}$", _("单位编号必须是12位数字或字母"))
user_no_validator = RegexValidator(r"^[0-9A-Za-z]{6}$", _("警号必须是6位数字或字母"))


class Unit(models.Model):
    class Level(models.TextChoices):
        CITY = "city", _("市局")
        DISTRICT = "district", _("区局/支队")
        BRIGADE = "brigade", _("大队")
        SQUAD = "squad", _("中队")

    LEVEL_ORDER = [Level.CITY, Level.DISTRICT, Level.BRIGADE, Level.SQUAD]

    code = models.CharField(
        _("单位编号"), max_length=12, unique=True, validators=[unit_code_validator]
    )
    name = models.CharField(_("单位全称"), max_length=100)
    # The name used in standard file names (C5.3), e.g. 思明区城管执法大队.
    short_name = models.CharField(_("文件命名用简称"), max_length=40)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # C1.2: an independently housed brigade needs its own workstation.
    independently_housed = models.BooleanField(_("独立驻点"), default=False)
    # Materialised path of ancestor ids, "/1/4/9/": subtree queries are one prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    active = models.BooleanField(_("在用"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("单位")

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def ancestors(self) -> list[Unit]:
        ids = [int(p) for p in self.path.strip("/").split("/")[:-1]]
        by_id = {u.pk: u for u in Unit.objects.filter(pk__in=ids)}
        return [by_id[i] for i in ids if i in by_id]

    def subtree(self) -> models.QuerySet[Unit]:
        return Unit.objects.filter(path__startswith=self.path)

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        # Units are not secret: every signed-in person may read the tree (pickers,
        # names); only administrators change their own subtree.
        if action == access.VIEW and getattr(user, "is_authenticated", False) and user.is_active:
            return access.ALL
        return access.role_scope(
            user, action, read_roles=frozenset(), write_roles=frozenset({Role.ADMIN}), field=""
        )

    def needs_workstation(self) -> bool:
        """C1.2: every squad and every independently housed brigade."""
        return self.level == self.Level.SQUAD or (
            self.level == self.Level.BRIGADE and self.independently_housed
        )


class PersonManager(UserManager.from_queryset(RestrictedQuerySet)):
    """People have no e-mail address; accounts for the shell and ``createsuperuser``."""

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> Person:
        extra.setdefault("name", username)
        person = self.model(username=username, **extra)
        if password:
            person.set_password(password)
        else:
            person.set_unusable_password()
        person.save(using=self._db)
        return person

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> Person:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(username, password, **extra)


class Person(AbstractBaseUser, PermissionsMixin):
    username = models.CharField(_("登录名"), max_length=50, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    cert_no = models.CharField(_("执法证号"), max_length=30, unique=True, null=True, blank=True)
    user_no = models.CharField(
        _("警号"), max_length=6, unique=True, null=True, blank=True, validators=[user_no_validator]
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="people", null=True)
    frontline = models.BooleanField(_("一线执法"), default=False)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("在岗"), default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(auto_now_add=True)
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    objects = PersonManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["unit__path", "name"]
        verbose_name = _("人员")

    def __str__(self) -> str:
        return f"{self.name}（{self.user_no}）" if self.user_no else self.name

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = access.role_scope(
            user, action, read_roles=UNIT_READERS, write_roles=frozenset({Role.ADMIN}), field="unit"
        )
        if (
            q is None
            and action == access.VIEW
            and getattr(user, "is_authenticated", False)
            and user.is_active
        ):
            # Officers see themselves and the colleagues of their own unit
            # (to name the second officer of an activity, C4.1).
            q = Q(pk=user.pk) | (Q(unit_id=user.unit_id) if user.unit_id else Q(pk=user.pk))
        return q

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    @property
    def roles(self) -> frozenset[str]:
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            cached = (
                frozenset(self.role_grants.values_list("role", flat=True))
                if self.pk
                else frozenset()
            )
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.roles.intersection(roles))

    def role_labels(self) -> list[str]:
        return [Role(r).label for r in Role.values if r in self.roles]


class RoleGrant(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "role"], name="org_rolegrant_unique")
        ]


class ApiToken(models.Model):
    """A person's bearer token for the API; only its SHA-256 is stored."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class WorkbookUpload(models.Model):
    """A workbook too large to read on the request thread (``jilu.workbooks``):
    a background task reads it, and imports it when confirmed, while its page
    shows the progress and then the preview, the errors, the refusal or the
    result. The roster and the list of powers (casework) use it."""

    class Kind(models.TextChoices):
        ROSTER = "roster", _("名册")
        POWERS = "powers", _("权责清单")

    class State(models.TextChoices):
        QUEUED = "queued", _("排队等待读取")
        READING = "reading", _("正在读取")
        PREVIEW = "preview", _("待确认导入")
        APPLYING = "applying", _("正在导入")
        DONE = "done", _("已完成")
        INVALID = "invalid", _("有错误，未导入")
        REFUSED = "refused", _("文件被拒绝，未导入")
        FAILED = "failed", _("读取失败，未导入")

    RUNNING = (State.QUEUED, State.READING, State.APPLYING)

    kind = models.CharField(max_length=10, choices=Kind.choices)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="workbook_uploads")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, related_name="+")
    name = models.CharField(max_length=200)
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    language = models.CharField(max_length=10)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    done_bytes = models.PositiveBigIntegerField(default=0)
    total_bytes = models.PositiveBigIntegerField(default=0)
    # The outcome for the page: the preview or the row errors (roster), the counts
    # or the messages (powers); ``message`` is a refusal or a failure.
    result = models.JSONField(default=dict)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    @property
    def running(self) -> bool:
        return self.state in self.RUNNING

    @property
    def percent(self) -> int:
        if self.state not in self.RUNNING:
            return 100
        return int(100 * self.done_bytes / self.total_bytes) if self.total_bytes else 0
