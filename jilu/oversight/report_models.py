"""Periodic reports (通报, C6.4): a month or quarter over the city or one unit.

An inspector drafts a report: its figures are computed
(``report_metrics.city_report``) and kept as JSON; drafting again refreshes
them. Publishing freezes it: the PDF and XLSX are rendered once, their bytes
stored (``ReportFile``) with their SHA-256, which the audit entry repeats, and
the audit chain is checkpointed. A published report never changes; leaders
read the published reports that cover their unit, drafts only inspectors.
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

PUBLISH = "publish"


class Report(models.Model):
    class Kind(models.TextChoices):
        MONTH = "month", _("月度")
        QUARTER = "quarter", _("季度")

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")

    kind = models.CharField(_("周期"), max_length=8, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("年份"))
    number = models.PositiveSmallIntegerField(_("月份或季度"))
    # None: the whole city.
    unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("范围"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The scope as one string for the uniqueness of a period and scope ("" = city).
    scope_key = models.CharField(max_length=20, editable=False)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default="draft")
    figures = models.JSONField()
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drafted_at = models.DateTimeField(_("起草时间"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-number", "kind", "scope_key"]
        verbose_name = _("通报")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year", "number", "scope_key"], name="oversight_report_one"
            ),
            models.CheckConstraint(
                condition=Q(kind="month", number__gte=1, number__lte=12)
                | Q(kind="quarter", number__gte=1, number__lte=4),
                name="oversight_report_number_range",
            ),
            models.CheckConstraint(
                condition=Q(state="draft", published_at__isnull=True)
                | Q(state="published", published_at__isnull=False),
                name="oversight_report_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_label} {self.scope_name}"

    @property
    def period_label(self) -> str:
        if self.kind == self.Kind.QUARTER:
            return f"{self.year}年第{self.number}季度"
        return f"{self.year}年{self.number}月"

    @property
    def scope_name(self) -> str:
        return self.unit.name if self.unit_id else str(_("全市"))

    @property
    def published(self) -> bool:
        return self.state == self.State.PUBLISHED

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        """Inspectors read every report and draft and publish (C6.4); squad and
        brigade leaders read the published reports over their unit (the city's,
        their own unit's or an ancestor's) or over a unit of their subtree;
        nobody else reads any."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return None
        if user.is_superuser or access.is_inspector(user):
            return access.ALL
        if action != access.VIEW or not (user.has_role(*LEADERS) and user.unit_id):
            return None
        path = user.unit.path
        ancestors = [int(p) for p in path.strip("/").split("/") if p]
        return Q(state=cls.State.PUBLISHED) & (
            Q(unit__isnull=True) | Q(unit_id__in=ancestors) | Q(unit__path__startswith=path)
        )


class ReportFile(models.Model):
    """The frozen bytes of a published report's PDF or XLSX, with their SHA-256."""

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "XLSX"

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="files")
    fmt = models.CharField(max_length=4, choices=Format.choices)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "fmt"], name="oversight_report_file_one")
        ]

    def __str__(self) -> str:
        return f"{self.report_id}.{self.fmt}"
