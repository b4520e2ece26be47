"""Findings (C6.4, C6.5): a rule of the notice broken by one subject in one period.

A finding names its rule and clause, its subject (an officer, unit, recorder,
recording, activity or case), the period, the facts that triggered it
(``FindingFact``, each linking to its page), the unit it belongs to (its scope)
and the person who must explain it. Its state goes open → explained (by that
person or a leader over the unit) → confirmed or dismissed (by an inspector,
with a reason). ``key`` makes one finding per subject, rule and period: the
rules run again and again over new facts and add them to the same finding.

The rules keep a cursor per source of facts (``RuleCursor``): the last row they
read, or the end of the last time window they judged. Thresholds and grace
periods are ``RuleSetting`` rows: each change is a new row, the current value
is the newest (``jilu.oversight.thresholds``).
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

EXPLAIN = "explain"
DECIDE = "decide"
# Who reads the findings of their unit subtree and explains for it.
FINDING_LEADERS = frozenset({*LEADERS})
FINDING_UNIT_READERS = frozenset({*LEADERS, Role.ADMIN})


class Finding(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("待说明")
        EXPLAINED = "explained", _("已说明，待督察认定")
        CONFIRMED = "confirmed", _("督察认定属实")
        DISMISSED = "dismissed", _("督察认定不成立")

    class Subject(models.TextChoices):
        OFFICER = "officer", _("人员")
        UNIT = "unit", _("单位")
        RECORDER = "recorder", _("记录仪")
        RECORDING = "recording", _("声像记录")
        ACTIVITY = "activity", _("执法活动")
        CASE = "case", _("案件")

    rule = models.CharField(_("规则"), max_length=40)
    clause = models.CharField(_("条款"), max_length=20, db_index=True)
    key = models.CharField(max_length=200, unique=True)
    subject_kind = models.CharField(_("对象类型"), max_length=12, choices=Subject.choices)
    subject_id = models.PositiveBigIntegerField()
    subject_label = models.CharField(_("对象"), max_length=200)
    period_start = models.DateTimeField(_("期间开始"))
    period_end = models.DateTimeField(_("期间结束"))
    period_label = models.CharField(_("期间"), max_length=40)
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
    )
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.OPEN)
    fact_count = models.PositiveIntegerField(_("事实数"), default=0)
    created_at = models.DateTimeField(_("发现时间"))
    last_fact_at = models.DateTimeField(_("最近事实加入时间"))
    explanation = models.TextField(_("情况说明"), blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    explained_at = models.DateTimeField(null=True, blank=True)
    attachment = models.ForeignKey(
        "evidence.StoredObject", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("认定理由"), max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "-pk"]
        verbose_name = _("督察发现")
        indexes = [
            models.Index(fields=["state", "clause"], name="oversight_finding_state_idx"),
            models.Index(fields=["rule", "-period_start"], name="oversight_finding_rule_idx"),
            models.Index(fields=["person", "state"], name="oversight_finding_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.subject_label} {self.period_label}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def decided(self) -> bool:
        return self.state in (self.State.CONFIRMED, self.State.DISMISSED)

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        """Inspectors read all and decide (C6.4); leaders (and administrators, read
        only) their unit subtree's; everyone the findings they must explain.
        The responsible person and the leaders over the unit explain."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return None
        if user.is_superuser:
            return access.ALL
        own = Q(person_id=user.pk)
        if action == access.VIEW:
            if access.is_inspector(user):
                return access.ALL
            if user.has_role(*FINDING_UNIT_READERS) and user.unit_id:
                return own | access.unit_q(user, "unit")
            return own
        if action == EXPLAIN:
            if user.has_role(*FINDING_LEADERS) and user.unit_id:
                return own | access.unit_q(user, "unit")
            return own
        if action == DECIDE and access.is_inspector(user):
            return access.ALL
        return None


class FindingFact(models.Model):
    """One fact behind a finding: a recording, activity, docking, check, alarm,
    device event or audit entry (``kind`` and ``object_id``), when it happened,
    and the numbers that made it count (``detail``)."""

    class Kind(models.TextChoices):
        RECORDING = "recording", _("声像记录")
        ACTIVITY = "activity", _("执法活动")
        GAP = "gap", _("未录制时段")
        DOCKING = "docking", _("对接会话")
        DEVICE_EVENT = "device_event", _("记录仪事件")
        RECORDER = "recorder", _("记录仪")
        ALARM = "alarm", _("固定性告警")
        AUDIT = "audit", _("审计记录")
        PERSON = "person", _("人员")
        UNIT = "unit", _("单位")
        SPOT_ITEM = "spot_item", _("抽检项")

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="facts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.CharField(max_length=64)
    at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["finding", "kind", "object_id"], name="oversight_fact_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"


class RuleCursor(models.Model):
    """How far one source of facts has been read: the last row (``position``:
    a primary key or an audit sequence number) or the end of the last judged
    time window (``window_end``)."""

    source = models.CharField(max_length=40, unique=True)
    position = models.BigIntegerField(default=0)
    window_end = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.source}: {self.position} {self.window_end}"


class RuleSetting(models.Model):
    """One value given to one threshold or grace period; the newest row per key
    is the current value, the older ones its history."""

    key = models.CharField(max_length=40)
    value = models.CharField(max_length=40)
    note = models.CharField(max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["key", "-changed_at"], name="oversight_setting_key_idx")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
