"""The squad leader confirms a month's ledgers (C6.1): the one change ledgers know."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.audit.chain import record
from jilu.org.models import Unit
from jilu.oversight import ledger
from jilu.oversight.ledger_models import LEDGER_CONFIRMERS, LedgerConfirmation


def may_confirm(user: Any, unit: Unit) -> bool:
    """The squad's own leader or a leader above it (never an inspector, who only reads)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(
        user.has_role(*LEDGER_CONFIRMERS) and user.unit_id and unit.path.startswith(user.unit.path)
    )


class AlreadyConfirmed(ValidationError):
    """The month was confirmed before: a confirmed ledger is never confirmed again."""


@transaction.atomic
def confirm_month(
    *, actor: Any, unit: Unit, year: int, month: int, now: datetime | None = None
) -> LedgerConfirmation:
    """Freeze ``unit``'s ledgers for the month: the rows as they stand now, their
    SHA-256 in the confirmation and in the audit entry.

    Refused to anyone but the squad's leader or a leader above it, for a month
    that has not begun or has not ended yet (Beijing time), for a unit that is
    not a squad, and when the month is already confirmed.
    """
    if not may_confirm(actor, unit):
        raise PermissionDenied(_("只有本中队的中队长或上级领导可以确认台账"))
    now = now or timezone.now()
    try:
        ledger.require_started(year, month, now)
        rows = ledger.build_rows(unit, year, month)
    except ledger.LedgerError as exc:
        raise ValidationError(str(exc)) from None
    if not ledger.month_ended(year, month, now):
        raise ValidationError(
            _("%(year)d年%(month)d月尚未结束，月末之后才能确认台账")
            % {
                "year": year,
                "month": month,
            }
        )
    if LedgerConfirmation.objects.filter(unit=unit, year=year, month=month).exists():
        raise AlreadyConfirmed(_("该月台账已经确认，不能重复确认"))
    sha256 = ledger.digest(rows)
    try:
        with transaction.atomic():
            confirmation = LedgerConfirmation.objects.create(
                unit=unit,
                year=year,
                month=month,
                confirmed_by=actor,
                confirmed_at=now,
                snapshot=rows,
                sha256=sha256,
            )
    except IntegrityError:  # confirmed at the same moment by someone else
        raise AlreadyConfirmed(_("该月台账已经确认，不能重复确认")) from None
    record(
        "oversight.ledger.confirm",
        actor=actor,
        obj=confirmation,
        details={
            "unit": unit.code,
            "unit_name": unit.name,
            "year": year,
            "month": month,
            "sha256": sha256,
            "recorders": len(rows["recorders"]),
            "recording_rows": len(rows["recordings"]),
            "recordings": sum(r["count"] for r in rows["recordings"]),
        },
    )
    return confirmation
