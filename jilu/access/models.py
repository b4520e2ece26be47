"""Access requests (调用单, C6.3): who asked for copies of which recordings, who
approved, which archivist copied them, and when the copy was handed over.

A copy of an original leaves the system only through an approved request
(C6.3, C6.5.7). Stored times are UTC; pages show Asia/Shanghai. Approval lapses
at ``valid_until``: the request then reads as 已过期 (computed on read, so no
scheduled job is needed for the gate to close on time).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jilu.org import access
from jilu.org.access import RestrictedQuerySet
from jilu.org.roles import Role


class AccessRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("已拒绝")
        PROVIDED = "provided", _("已提供")
        WITHDRAWN = "withdrawn", _("已撤回")
        EXPIRED = "expired", _("已过期")

    class Medium(models.TextChoices):
        DISC = "disc", _("光盘")
        USB = "usb", _("U盘")
        HDD = "hdd", _("移动硬盘")
        NETWORK = "network", _("网络传输")

    number = models.CharField(_("调用单号"), max_length=20, unique=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests"
    )
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="access_requests", null=True
    )
    purpose = models.TextField(_("调用事由"))
    case = models.ForeignKey(
        "casework.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_requests",
    )
    recordings = models.ManyToManyField("evidence.Recording", related_name="access_requests")
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_decisions",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    valid_until = models.DateTimeField(_("有效期至"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    provided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_provided",
    )
    provided_at = models.DateTimeField(_("提供时间"), null=True, blank=True)
    medium = models.CharField(_("介质"), max_length=10, choices=Medium.choices, blank=True)
    recipient_note = models.CharField(_("领取情况"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("调用申请")
        indexes = [models.Index(fields=["status", "valid_until"], name="access_req_status_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def current_status(self) -> str:
        """The status as of now: an approval past ``valid_until`` reads as expired."""
        if (
            self.status == self.Status.APPROVED
            and self.valid_until is not None
            and self.valid_until <= timezone.now()
        ):
            return self.Status.EXPIRED.value
        return self.status

    @property
    def current_status_label(self) -> str:
        return str(self.Status(self.current_status).label)

    @property
    def decision(self) -> str:
        """The leader's decision as taken ("approved" or "refused"; "" before
        one), whatever happened to the request afterwards (provided, expired)."""
        if self.decided_at is None or self.approver_id is None:
            return ""
        return "refused" if self.status == self.Status.REFUSED else "approved"

    @property
    def decision_label(self) -> str:
        if not self.decision:
            return ""
        if self.decision == "refused":
            return str(pgettext_lazy("decision", "拒绝"))
        return str(pgettext_lazy("decision", "批准"))

    @property
    def open_for_copy(self) -> bool:
        return self.current_status == self.Status.APPROVED

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        """Requesters read their own; inspectors and administrators read all (C6.4);
        leaders and archivists read those of their unit subtree or touching its
        recordings. Changes go through ``jilu.access.actions`` only."""
        if action != access.VIEW:
            return None
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return None
        if user.is_superuser or user.has_role(Role.INSPECTOR, Role.ADMIN):
            return access.ALL
        q = Q(requester_id=user.pk)
        if user.unit_id and user.has_role(Role.SQUAD_LEADER, Role.BRIGADE_LEADER, Role.ARCHIVIST):
            from jilu.evidence.scope import recordings_of_unit

            links = cls.recordings.through.objects.filter(
                recording_id__in=recordings_of_unit(user.unit).values("pk")
            )
            q |= Q(unit__path__startswith=user.unit.path) | Q(
                pk__in=links.values("accessrequest_id")
            )
        return q


class AccessCopy(models.Model):
    """One download of an original made under a request (who, which, when)."""

    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="copies")
    recording = models.ForeignKey(
        "evidence.Recording", on_delete=models.PROTECT, related_name="access_copies"
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_copies"
    )
    made_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=10, default="web")

    class Meta:
        ordering = ["made_at", "pk"]
        verbose_name = _("调用复制记录")
