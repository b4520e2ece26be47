"""Pages for the monthly ledgers (台账, C6.1): pick a squad and a month, read
both ledgers, download them as PDF or XLSX, and (the squad's leader, once the
month has ended) confirm the month.

Who reads: squad and brigade leaders and administrators their own subtree's
squads, inspectors every squad (C6.4), read-only. Anyone else is refused
(403); a squad outside the reader's subtree does not exist for them (404).
Confirming goes through ``ledger_actions.confirm_month``, which checks again.
"""

from __future__ import annotations

import re
import time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jilu.org.models import Unit
from jilu.org.roles import Role
from jilu.oversight import ledger, ledger_actions, ledger_print
from jilu.oversight.ledger_models import LEDGER_READERS
from jilu.oversight.subjects import activity_text

MONTH_INPUT = re.compile(r"^(\d{4})-(\d{1,2})$")


def may_read_ledgers(user: Any) -> bool:
    return bool(user.is_superuser or user.has_role(Role.INSPECTOR, *LEDGER_READERS))


def _readable_units(request: HttpRequest) -> list[Unit]:
    if not may_read_ledgers(request.user):
        raise PermissionDenied(_("中队长、大队长、督察和系统管理员可以查看台账"))
    return ledger.ledger_units(request.user)


def _unit(request: HttpRequest, pk: int) -> Unit:
    for unit in _readable_units(request):
        if unit.pk == pk:
            return unit
    raise Http404(_("没有这个中队，或它不在你的管辖范围内"))


def _month(year: int, month: int) -> tuple[int, int]:
    """A month in range (else 404: the address names no month)."""
    try:
        ledger.month_bounds(year, month)
    except ledger.LedgerError as exc:
        raise Http404(str(exc)) from None
    return year, month


def _not_started(request: HttpRequest, squad: Unit, exc: ledger.LedgerError) -> HttpResponse:
    """A month that has not begun: said so on a page (400), with the way back."""
    return render(
        request,
        "oversight/ledger_refused.html",
        {"message": str(exc), "back": ledger_url(squad, *ledger.previous_month())},
        status=400,
    )


def ledger_url(unit: Unit, year: int, month: int) -> str:
    return f"{reverse('oversight:ledgers')}?unit={unit.pk}&month={year}-{month:02d}"


@login_required
@require_GET
def ledger_page(request: HttpRequest) -> HttpResponse:
    units = _readable_units(request)
    errors: list[str] = []
    if not units:
        raise PermissionDenied(_("你的管辖范围内没有中队，无法查看台账"))
    unit = next((u for u in units if u.pk == request.user.unit_id), units[0])
    asked = request.GET.get("unit", "").strip()
    if asked:
        found = next((u for u in units if str(u.pk) == asked), None)
        if found is None:
            raise Http404(_("没有这个中队，或它不在你的管辖范围内"))
        unit = found
    year, month = ledger.previous_month()
    asked_month = request.GET.get("month", "").strip()
    if asked_month:
        match = MONTH_INPUT.match(asked_month)
        y, m = (int(match[1]), int(match[2])) if match else (0, 0)
        try:
            ledger.require_started(y, m)
            year, month = y, m
        except ledger.MonthNotStarted as exc:
            errors.append(_("%(reason)s；已显示上个月") % {"reason": exc})
        except ledger.LedgerError:
            errors.append(_("月份应为 2000-01 至 2099-12 之间的 YYYY-MM，已显示上个月"))
    book = ledger.ledger(unit, year, month)
    recordings = ledger_print.recording_lines(book.rows["recordings"])
    for line in recordings:
        # The ledger keeps its activities in Chinese (the printed ledger's words);
        # the page names their kinds in the reader's language.
        line.activities = [activity_text(a) for a in line.row["activities"]]
    return render(
        request,
        "oversight/ledger.html",
        {
            "book": book,
            "units": units,
            "unit": unit,
            "month_value": f"{year}-{month:02d}",
            "errors": errors,
            "may_confirm": ledger_actions.may_confirm(request.user, unit),
            "status_text": ledger_print.status_text(book),
            "unit_text": ledger_print.unit_text(book),
            "recorders": ledger_print.recorder_lines(book.rows["recorders"]),
            "recordings": recordings,
            "totals": book.totals,
            "total_duration": ledger.duration_text(book.totals["seconds"]),
            "recorder_columns": ledger_print.RECORDER_COLUMNS,
            "recordings_columns": ledger_print.RECORDINGS_COLUMNS,
        },
        status=400 if errors else 200,
    )


def download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Content-Length"] = str(len(body))
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def ledger_pdf(request: HttpRequest, unit: int, year: int, month: int) -> HttpResponse:
    squad = _unit(request, unit)
    try:
        book = ledger.ledger(squad, *_month(year, month))
    except ledger.MonthNotStarted as exc:
        return _not_started(request, squad, exc)
    started = time.perf_counter()
    response = download(
        ledger_print.render_pdf(book), ledger_print.PDF, ledger_print.file_name(book, "pdf")
    )
    response["Server-Timing"] = f"pdf;dur={(time.perf_counter() - started) * 1000:.0f}"
    return response


@login_required
@require_GET
def ledger_xlsx(request: HttpRequest, unit: int, year: int, month: int) -> HttpResponse:
    squad = _unit(request, unit)
    try:
        book = ledger.ledger(squad, *_month(year, month))
    except ledger.MonthNotStarted as exc:
        return _not_started(request, squad, exc)
    return download(
        ledger_print.render_xlsx(book), ledger_print.XLSX, ledger_print.file_name(book, "xlsx")
    )


@login_required
@require_POST
def ledger_confirm(request: HttpRequest, unit: int, year: int, month: int) -> HttpResponse:
    squad = _unit(request, unit)
    year, month = _month(year, month)
    if not ledger_actions.may_confirm(request.user, squad):
        raise PermissionDenied(_("只有本中队的中队长或上级领导可以确认台账；督察只能查看"))
    try:
        confirmation = ledger_actions.confirm_month(
            actor=request.user, unit=squad, year=year, month=month
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("已确认 %(unit)s %(year)d年%(month)d月台账（SHA-256 %(sha)s）")
            % {"unit": squad.name, "year": year, "month": month, "sha": confirmation.sha256},
        )
    return redirect(ledger_url(squad, year, month))
