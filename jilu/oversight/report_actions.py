"""The two changes a periodic report (通报, C6.4) knows: drafting and publishing.

Only inspectors do either. Drafting computes the figures for a period and a
scope (again, while the report is a draft); publishing renders the PDF and the
XLSX once, stores their bytes with their SHA-256, records both hashes in the
audit entry and, once that is committed, checkpoints the audit chain: from then
on the report is what it was when published.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.audit.chain import record
from jilu.audit.checkpoints import checkpoint
from jilu.org import access
from jilu.org.models import Unit
from jilu.oversight import report_metrics, report_print
from jilu.oversight.report_models import Report, ReportFile

log = logging.getLogger(__name__)


class AlreadyPublished(ValidationError):
    """A published report is never drafted again nor published twice."""


def may_draft(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_superuser or access.is_inspector(user))
    )


def _period(kind: str, year: int, number: int) -> report_metrics.ReportPeriod:
    try:
        return report_metrics.report_period(kind, year, number)
    except report_metrics.PeriodError:
        raise ValidationError(
            _("期间不正确：月度为 1–12 月，季度为第 1–4 季度，年份在 2000 至 2099 之间")
        ) from None


@transaction.atomic
def draft_report(
    *,
    actor: Any,
    kind: str,
    year: int,
    number: int,
    unit: Unit | None = None,
    now: datetime | None = None,
) -> Report:
    """Compute (or compute again) the report of a month or quarter over ``unit``'s
    subtree (the city when None). Refused before the period has ended, and for a
    period and scope whose report is already published."""
    if not may_draft(actor):
        raise PermissionDenied(_("只有督察可以起草通报"))
    period = _period(kind, year, number)
    now = now or timezone.now()
    if period.end > now:
        raise ValidationError(
            _("%(period)s 尚未结束，结束之后才能起草通报") % {"period": period.label}
        )
    scope_key = str(unit.pk) if unit is not None else ""
    existing = (
        Report.objects.select_for_update()
        .filter(kind=kind, year=year, number=number, scope_key=scope_key)
        .first()
    )
    if existing is not None and existing.published:
        raise AlreadyPublished(_("该期通报已经发布，不能再修改"))
    figures = report_metrics.city_report(period, unit, as_of=now)
    if existing is None:
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    kind=kind,
                    year=year,
                    number=number,
                    unit=unit,
                    scope_key=scope_key,
                    figures=figures,
                    drafted_by=actor,
                    drafted_at=now,
                )
        except IntegrityError:  # drafted at the same moment by someone else
            raise ValidationError(_("该期通报刚刚由他人起草，请刷新后再试")) from None
    else:
        report = existing
        report.figures = figures
        report.drafted_by = actor
        report.drafted_at = now
        report.save(update_fields=["figures", "drafted_by", "drafted_at"])
    record(
        "oversight.report.draft",
        actor=actor,
        obj=report,
        details={
            "period": period.label,
            "unit_code": unit.code if unit is not None else "",
            "unit_name": report.scope_name,
            "redrafted": existing is not None,
        },
    )
    return report


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checkpoint(report_id: int, label: str) -> None:
    try:
        checkpoint(reason=f"report {report_id} {label} published")
    except Exception:  # the publication stands; the periodic checkpoint will anchor it
        log.exception("audit checkpoint after publishing report %s failed", report_id)


@transaction.atomic
def publish_report(*, actor: Any, report: Report, now: datetime | None = None) -> Report:
    """Freeze ``report``: render its PDF and XLSX once, store their bytes and
    SHA-256, write both hashes into the audit entry; checkpoint the audit chain
    when the transaction commits. Refused to anyone but an inspector and for a
    report already published."""
    if not may_draft(actor):
        raise PermissionDenied(_("只有督察可以发布通报"))
    report = Report.objects.select_for_update(of=("self",)).select_related("unit").get(pk=report.pk)
    if report.published:
        raise AlreadyPublished(_("该期通报已经发布，不能重复发布"))
    now = now or timezone.now()
    report.state = Report.State.PUBLISHED
    report.published_by = actor
    report.published_at = now
    report.save(update_fields=["state", "published_by", "published_at"])
    hashes = {}
    for fmt, render in (
        (ReportFile.Format.PDF, report_print.render_pdf),
        (ReportFile.Format.XLSX, report_print.render_xlsx),
    ):
        data = render(report)
        hashes[fmt] = _sha256(data)
        ReportFile.objects.create(
            report=report,
            fmt=fmt,
            content=data,
            size=len(data),
            sha256=hashes[fmt],
            created_at=now,
        )
    record(
        "oversight.report.publish",
        actor=actor,
        obj=report,
        details={
            "period": report.figures["period"]["label"],
            "unit_code": report.unit.code if report.unit_id else "",
            "unit_name": report.scope_name,
            "pdf_sha256": hashes[ReportFile.Format.PDF],
            "xlsx_sha256": hashes[ReportFile.Format.XLSX],
        },
    )
    label = report.figures["period"]["label"]
    transaction.on_commit(lambda: _checkpoint(report.pk, label))
    return report
