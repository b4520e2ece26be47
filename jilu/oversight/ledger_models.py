"""Monthly ledgers (台账, C6.1): the squad leader's confirmation of a month.

The ledgers themselves are computed from the records below (holdings, device
events, dockings, recordings, annotations: ``jilu.oversight.ledger``). What is
stored is the confirmation: who confirmed which squad's month, when, and the
ledger rows as they stood then (``snapshot``, with its SHA-256, which the
audit entry repeats). From then on the confirmed rows are what the month
shows; later changes to the records appear beside them as amendments.
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

# Who reads a squad's ledgers (their own subtree; inspectors everywhere, C6.4).
LEDGER_READERS = frozenset({Role.ADMIN, *LEADERS})
# Who confirms a month: the squad's leader, or a leader above it.
LEDGER_CONFIRMERS = LEADERS

FIRST_YEAR, LAST_YEAR = 2000, 2099


class LedgerConfirmation(models.Model):
    """One squad's month, confirmed by its leader: the frozen ledger rows."""

    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="ledger_confirmations"
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    month = models.PositiveSmallIntegerField(_("月份"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("确认时间"))
    # The ledger rows at confirmation (``ledger.snapshot``) and the SHA-256 of
    # their canonical JSON (``ledger.digest``).
    snapshot = models.JSONField()
    sha256 = models.CharField(max_length=64)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["unit__path", "-year", "-month"]
        verbose_name = _("台账确认")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year", "month"], name="oversight_ledger_one_confirmation"
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="oversight_ledger_month_range"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_YEAR, year__lte=LAST_YEAR),
                name="oversight_ledger_year_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.year}-{self.month:02d}"

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        return access.role_scope(
            user,
            action,
            read_roles=LEDGER_READERS,
            write_roles=LEDGER_CONFIRMERS,
            field="unit",
        )
