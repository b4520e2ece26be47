"""Recorders, who holds them (C1.3), workstations (C1.2), checks and incidents (C1.4, C6.5)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jilu.org import access
from jilu.org.access import RestrictedQuerySet
from jilu.org.roles import LEADERS, UNIT_READERS, Role

serial_validator = RegexValidator(r"^[0-9A-Za-z]{7}$", _("产品序号必须是7位数字或字母"))

DEVICE_MANAGERS = frozenset({Role.ADMIN, *LEADERS})


def recorder_scope(user: Any, action: str, prefix: str = "") -> Q | None:
    """Rows whose recorder (``prefix`` leads to it) lies in the user's unit subtree.

    Readers of the unit read, administrators and squad/brigade leaders act;
    inspectors read everywhere (C6.4).
    """
    return access.role_scope(
        user, action, read_roles=UNIT_READERS, write_roles=DEVICE_MANAGERS, field=f"{prefix}unit"
    )


class Recorder(models.Model):
    class Status(models.TextChoices):
        IN_SERVICE = "in_service", _("在用")
        UNDER_REPAIR = "under_repair", _("维修中")
        LOST = "lost", _("遗失")
        RETIRED = "retired", _("报废")

    serial = models.CharField(
        _("产品序号"), max_length=7, unique=True, validators=[serial_validator]
    )
    vendor = models.CharField(_("厂商"), max_length=50, blank=True)
    model = models.CharField(_("型号"), max_length=50, blank=True)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="recorders")
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.IN_SERVICE
    )
    registered_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["serial"]
        verbose_name = _("执法记录仪")

    def __str__(self) -> str:
        return self.serial

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = recorder_scope(user, action)
        if q is None and action == access.VIEW and getattr(user, "is_authenticated", False):
            # An officer sees the recorders they hold or have held.
            q = Q(pk__in=Holding.objects.filter(person_id=user.pk).values("recorder_id"))
        return q


class Holding(models.Model):
    """One period during which one person was the responsible holder (C1.3).

    ``ended_at`` is null while the holding is current; a partial unique
    constraint keeps at most one current holding per recorder and per person
    is not limited (a person may hold a spare).
    """

    recorder = models.ForeignKey(Recorder, on_delete=models.PROTECT, related_name="holdings")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="holdings"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    returned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["recorder", "-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recorder"],
                condition=Q(ended_at__isnull=True),
                name="devices_one_current_holder",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="devices_holding_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["recorder", "started_at"], name="devices_holding_time_idx")]

    def __str__(self) -> str:
        return f"{self.recorder_id} → {self.person_id}"

    @property
    def current(self) -> bool:
        return self.ended_at is None

    def covers(self, at: Any) -> bool:
        """Whether this holding was running at ``at``: started_at <= at < ended_at."""
        return self.started_at <= at and (self.ended_at is None or at < self.ended_at)

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = recorder_scope(user, action, prefix="recorder__")
        if q is None and action == access.VIEW and getattr(user, "is_authenticated", False):
            # An officer sees their own holdings.
            q = Q(person_id=user.pk)
        return q


class Workstation(models.Model):
    """A squad's data-collection workstation (数据采集工作站, C1.2)."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="workstations")
    name = models.CharField(_("名称"), max_length=100)
    location = models.CharField(_("安放位置"), max_length=200, blank=True)
    # Only the SHA-256 of the bearer token is kept; the token is shown once.
    token_digest = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["unit__path", "name"]
        verbose_name = _("采集工作站")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "name"],
                condition=Q(revoked_at__isnull=True),
                name="devices_workstation_active_name",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        return access.role_scope(
            user,
            action,
            read_roles=frozenset({Role.ADMIN, *LEADERS}),
            write_roles=frozenset({Role.ADMIN}),
            field="unit",
        )


class DeviceEvent(models.Model):
    """A check or an incident on a recorder (C1.4 checks; C6.5.5–6 damage and loss)."""

    class Kind(models.TextChoices):
        BATTERY = "battery", _("电量检查")
        STORAGE = "storage", _("存储检查")
        CLOCK = "clock", _("时钟检查")
        FAULT = "fault", _("故障")
        REPAIR = "repair", _("维修")
        LOSS = "loss", _("遗失")
        DAMAGE = "damage", _("损坏")
        FOUND = "found", _("找回")

    recorder = models.ForeignKey(Recorder, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("时间"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    workstation = models.ForeignKey(
        Workstation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    battery_pct = models.PositiveSmallIntegerField(
        _("电量（%）"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    storage_free_bytes = models.BigIntegerField(
        _("剩余存储（字节）"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    storage_total_bytes = models.BigIntegerField(
        _("总存储（字节）"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    clock_offset_seconds = models.FloatField(null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["recorder", "-at"], name="devices_event_recent_idx")]
        constraints = [
            # C1.4: readings are what a device can report, never impossible values.
            models.CheckConstraint(
                condition=Q(battery_pct__isnull=True) | Q(battery_pct__lte=100),
                name="devices_event_battery_pct_range",
            ),
            models.CheckConstraint(
                condition=Q(storage_free_bytes__isnull=True) | Q(storage_free_bytes__gte=0),
                name="devices_event_storage_free_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(storage_free_bytes__isnull=True)
                | Q(storage_total_bytes__isnull=True)
                | Q(storage_free_bytes__lte=models.F("storage_total_bytes")),
                name="devices_event_storage_free_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recorder_id} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    CHECK_KINDS = ("battery", "storage", "clock")
    INCIDENT_KINDS = ("fault", "damage", "loss", "repair", "found")

    @property
    def is_check(self) -> bool:
        return self.kind in self.CHECK_KINDS

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = recorder_scope(user, action, prefix="recorder__")
        if q is None and action == access.VIEW and getattr(user, "is_authenticated", False):
            # An officer sees the events of the recorders they hold or have held.
            q = Q(recorder_id__in=Holding.objects.filter(person_id=user.pk).values("recorder_id"))
        return q
