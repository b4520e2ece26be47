"""Spot checks (抽检, C6.4): a random sample of recordings or ledger rows,
stratified by unit and period, reviewed against a checklist.

A spot check stores its seed and the selection query (``query``: the exact
parameters, the strata, the ordering and the ranking rule) so that anyone can
draw the same sample again (``jilu.oversight.spotcheck_sample``) and see it was
not hand-picked. Each sampled recording or ledger row is an item; each item's
checklist marks (pass, fail, not applicable) give its score, and once the
inspector completes the spot check its failed marks become findings.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jilu.org import access
from jilu.org.access import RestrictedQuerySet
from jilu.org.roles import LEADERS
from jilu.oversight.spotcheck_checklist import OUTCOME_LABELS

DRAW = "draw"
REVIEW = "review"


class SpotCheck(models.Model):
    class Kind(models.TextChoices):
        RECORDINGS = "recordings", _("声像记录")
        LEDGERS = "ledgers", _("声像记录台账")

    class Per(models.TextChoices):
        WEEK = "week", _("每周")
        MONTH = "month", _("每月")

    class State(models.TextChoices):
        OPEN = "open", _("检查中")
        COMPLETED = "completed", _("已完成")

    kind = models.CharField(_("抽检对象"), max_length=12, choices=Kind.choices)
    first_day = models.DateField(_("期间起"))
    last_day = models.DateField(_("期间止"))
    per = models.CharField(_("分层期间"), max_length=8, choices=Per.choices)
    per_stratum = models.PositiveSmallIntegerField(_("每层抽取数"))
    # The units the inspector chose; the strata are the squads under them.
    units = models.ManyToManyField("org.Unit", related_name="+", verbose_name=_("单位"))
    strata_units = models.ManyToManyField("org.Unit", related_name="+")
    seed = models.CharField(_("随机种子"), max_length=64)
    query = models.JSONField(_("抽样条件"))
    sample_sha256 = models.CharField(max_length=64)
    population = models.PositiveIntegerField(_("总体数量"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("抽取时间"))
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    score = models.FloatField(_("得分"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("抽检")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=models.F("first_day")), name="oversight_spot_period"
            ),
            models.CheckConstraint(
                condition=Q(per_stratum__gte=1), name="oversight_spot_per_stratum"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.first_day}–{self.last_day}"

    @property
    def completed(self) -> bool:
        return self.state == self.State.COMPLETED

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        """Inspectors draw, review and read every spot check (C6.4); squad and
        brigade leaders read those with a stratum in their unit subtree."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return None
        if user.is_superuser or access.is_inspector(user):
            return access.ALL
        if action == access.VIEW and user.has_role(*LEADERS) and user.unit_id:
            through = cls.strata_units.through
            return Q(
                pk__in=through.objects.filter(unit__path__startswith=user.unit.path).values(
                    "spotcheck_id"
                )
            )
        return None


class SpotCheckItem(models.Model):
    """One sampled recording (or ledger row: one officer's day) of a stratum."""

    spot_check = models.ForeignKey(SpotCheck, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    stratum = models.CharField(_("分层"), max_length=60)
    period_label = models.CharField(_("期间"), max_length=10)
    recording = models.ForeignKey(
        "evidence.Recording", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    day = models.DateField(null=True, blank=True)
    # What the ledger said when drawn (the confirmed row once the month is confirmed).
    ledger_row = models.JSONField(null=True, blank=True)
    ledger_confirmed = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("检查意见"), max_length=500, blank=True)
    score = models.FloatField(_("得分"), null=True, blank=True)

    class Meta:
        ordering = ["spot_check", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["spot_check", "position"], name="oversight_spot_item_position"
            )
        ]
        indexes = [models.Index(fields=["unit", "period_label"], name="oversight_spot_item_unit")]

    def __str__(self) -> str:
        return f"{self.spot_check_id}#{self.position}"

    @property
    def sample_key(self) -> str:
        """What the sample names: the recording's id, or ``day/officer`` of a ledger row."""
        if self.recording_id is not None:
            return str(self.recording_id)
        return f"{self.day.isoformat()}/{self.officer_id or '-'}"


class SpotCheckMark(models.Model):
    """One checklist item of one sampled item: pass, fail or not applicable."""

    class Outcome(models.TextChoices):
        PASS = "pass", OUTCOME_LABELS["pass"]
        FAIL = "fail", OUTCOME_LABELS["fail"]
        NA = "na", OUTCOME_LABELS["na"]

    item = models.ForeignKey(SpotCheckItem, on_delete=models.CASCADE, related_name="marks")
    code = models.CharField(max_length=40)
    outcome = models.CharField(max_length=4, choices=Outcome.choices)

    class Meta:
        ordering = ["item", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "code"], name="oversight_spot_mark_unique")
        ]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.code}={self.outcome}"
