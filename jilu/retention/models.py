"""Retention (C5.6): how long each recording must be kept, holds that stop any
disposal, and disposals that two people approved.

``KeepUntil`` is stored per recording and recomputed by the actions that change
what it depends on (``jilu.retention.actions.recompute``); a disposal never
trusts the stored value alone and recomputes every item before anything goes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jilu.org import access
from jilu.org.access import RestrictedQuerySet
from jilu.org.roles import LEADERS, Role

# Who places holds: inspectors (inspection hold), legal reviewers (legal hold),
# leaders and archivists (litigation hold) of their unit subtree; administrators.
HOLD_PLACERS = frozenset(
    {Role.INSPECTOR, Role.LEGAL_REVIEWER, Role.ARCHIVIST, Role.ADMIN, *LEADERS}
)
# Who approves a hold's release (never the person who asked for it).
HOLD_RELEASERS = frozenset({Role.INSPECTOR, Role.ADMIN, *LEADERS})
DISPOSAL_READERS = frozenset({Role.ARCHIVIST, Role.INSPECTOR, Role.ADMIN, *LEADERS})


class KeepUntil(models.Model):
    """The date until which a recording must be kept, and why (the rules of
    ``jilu.retention.rules``). ``until`` empty: kept with no end in sight (an
    open case, a hold, a permanent case file, an open access request)."""

    recording = models.OneToOneField(
        "evidence.Recording", on_delete=models.CASCADE, primary_key=True, related_name="keep"
    )
    until = models.DateField(_("保存至"), null=True, blank=True, db_index=True)
    rule = models.CharField(_("决定期限的规则"), max_length=40)
    reasons = models.JSONField(default=list)  # [{"rule", "clause", "until", "text"}]
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("保存期限")


class Hold(models.Model):
    """保全: while active, nothing it covers is disposable."""

    class Kind(models.TextChoices):
        INSPECTION = "inspection", _("督察保全")
        LEGAL = "legal", _("法制保全")
        LITIGATION = "litigation", _("诉讼保全")

    class State(models.TextChoices):
        ACTIVE = "active", _("保全中")
        RELEASE_REQUESTED = "release_requested", _("待批准解除")
        RELEASED = "released", _("已解除")

    kind = models.CharField(_("保全类型"), max_length=12, choices=Kind.choices)
    recording = models.ForeignKey(
        "evidence.Recording", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    activity = models.ForeignKey(
        "casework.Activity", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        "casework.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("保全理由"), max_length=300)
    state = models.CharField(max_length=20, choices=State.choices, default=State.ACTIVE)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("保全时间"))
    release_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    release_requested_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(_("解除理由"), max_length=300, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="retention_hold_one_target",
                condition=(
                    Q(recording__isnull=False, activity__isnull=True, case__isnull=True)
                    | Q(recording__isnull=True, activity__isnull=False, case__isnull=True)
                    | Q(recording__isnull=True, activity__isnull=True, case__isnull=False)
                ),
            )
        ]

    @property
    def is_active(self) -> bool:
        return self.state != self.State.RELEASED

    def target_label(self) -> str:
        if self.recording_id:
            return str(self.recording)
        if self.activity_id:
            return str(self.activity)
        return str(self.case)

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        """Inspectors and administrators read all (C6.4); leaders, archivists and
        legal reviewers those of their unit subtree and those they placed."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return None
        if user.is_superuser or user.has_role(Role.INSPECTOR, Role.ADMIN):
            return access.ALL
        if action == access.VIEW and user.has_role(*HOLD_PLACERS):
            q = Q(placed_by_id=user.pk)
            if user.unit_id:
                q |= Q(unit__path__startswith=user.unit.path)
            return q
        return None


class Disposal(models.Model):
    """A unit's list of recordings past their keep-until (销毁清单): proposed by the
    weekly task, reviewed by an archivist, approved by the unit's leader (two
    different people), then carried out."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("待档案管理员审核")
        REVIEWED = "reviewed", _("待领导批准")
        APPROVED = "approved", _("已批准，待执行")
        EXECUTED = "executed", _("已销毁")
        REFUSED = "refused", _("已驳回")

    number = models.CharField(_("处置单号"), max_length=40, unique=True)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    cutoff = models.DateField(_("保存期满日"))
    proposed_at = models.DateTimeField(_("生成时间"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    refused_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at", "-pk"]

    def __str__(self) -> str:
        return self.number

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return None
        if user.is_superuser or (action == access.VIEW and user.has_role(Role.INSPECTOR)):
            return access.ALL
        if user.has_role(Role.ADMIN) and action == access.VIEW:
            return access.ALL
        if user.has_role(Role.ARCHIVIST, *LEADERS) and user.unit_id:
            return Q(unit__path__startswith=user.unit.path)
        return None


class DisposalItem(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", _("待处置")
        EXCLUDED = "excluded", _("审核时排除")
        KEPT = "kept", _("执行时仍须保存")
        DISPOSED = "disposed", _("已销毁")

    disposal = models.ForeignKey(Disposal, on_delete=models.CASCADE, related_name="items")
    recording = models.ForeignKey("evidence.Recording", on_delete=models.PROTECT, related_name="+")
    keep_until = models.DateField(_("保存至"))
    rule = models.CharField(max_length=40)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["recording__started_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["disposal", "recording"], name="retention_item_once")
        ]
