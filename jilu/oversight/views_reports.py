"""Pages for the periodic reports (通报, C6.4) and the dashboards.

Reports: inspectors list every report, draft one for a month or quarter over
the city or a unit, read it (figures and charts), download it as PDF or XLSX
and publish it. Squad and brigade leaders list and read the published reports
over their unit; a draft or another district's unit report does not exist for
them (404). Anyone else is refused (403).

Dashboards: a unit's rates now against the bureau's goals, each officer's
rates and the open findings (leaders over their subtree, inspectors over any
unit); the inspector's chart of findings per month. Charts are SVG images
served from here, so the pages keep the Content-Security-Policy.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jilu.org.models import Unit
from jilu.org.roles import LEADERS, Role
from jilu.oversight import queries, report_actions, report_charts, report_metrics, report_print
from jilu.oversight.finding_models import Finding
from jilu.oversight.history import audit_history
from jilu.oversight.report_models import Report, ReportFile
from jilu.oversight.views_ledgers import download

REPORT_READERS = (Role.INSPECTOR, *LEADERS)
DASHBOARD_READERS = (Role.INSPECTOR, *LEADERS)
PUBLISHED_CACHE = "private, max-age=3600"


def may_read_reports(user: Any) -> bool:
    return bool(user.is_superuser or user.has_role(*REPORT_READERS))


def _readable(request: HttpRequest):
    if not may_read_reports(request.user):
        raise PermissionDenied(_("督察、中队长和大队长可以查看通报"))
    return Report.objects.restrict(request.user, "view").select_related(
        "unit", "drafted_by", "published_by"
    )


def _report(request: HttpRequest, pk: int) -> Report:
    return get_object_or_404(_readable(request), pk=pk)


def report_units() -> list[Unit]:
    return list(Unit.objects.filter(active=True).order_by("path"))


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    reports = _readable(request)
    may_draft = report_actions.may_draft(request.user)
    last = report_metrics.previous_month()
    return render(
        request,
        "oversight/report_list.html",
        {
            "reports": reports.order_by("-year", "-number", "kind", "scope_key"),
            "may_draft": may_draft,
            "units": report_units() if may_draft else [],
            "default_year": last.year,
            "default_month": last.number,
            "months": range(1, 13),
            "quarters": range(1, 5),
        },
    )


def _int(value: str, default: int = 0) -> int:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 4 else default


@login_required
@require_POST
def report_draft(request: HttpRequest) -> HttpResponse:
    if not report_actions.may_draft(request.user):
        raise PermissionDenied(_("只有督察可以起草通报"))
    kind = request.POST.get("kind", "")
    year = _int(request.POST.get("year", ""))
    number = _int(request.POST.get("month" if kind == "month" else "quarter", ""))
    unit = None
    unit_id = request.POST.get("unit", "").strip()
    if unit_id:
        unit = Unit.objects.filter(pk=_int(unit_id, -1)).first()
        if unit is None:
            messages.error(request, _("没有这个单位；请从列表中选择，或留空起草全市通报"))
            return redirect("oversight:report_list")
    try:
        report = report_actions.draft_report(
            actor=request.user, kind=kind, year=year, number=number, unit=unit
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("oversight:report_list")
    messages.success(request, _("已起草通报，请核对后发布"))
    return redirect("oversight:report_detail", pk=report.pk)


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    charts = {
        name: reverse("oversight:report_chart", args=[report.pk, name])
        for name in report_print.CHARTS
    }
    files = {f.fmt: f for f in report.files.all()} if report.published else {}
    return render(
        request,
        "oversight/report_detail.html",
        {
            **report_print.context(report),
            "charts": charts,
            "files": files,
            "may_publish": report_actions.may_draft(request.user) and not report.published,
            "audit_history": audit_history(request.user, "oversight.report", report.pk),
        },
    )


@login_required
@require_POST
def report_publish(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    if not report_actions.may_draft(request.user):
        raise PermissionDenied(_("只有督察可以发布通报"))
    try:
        report_actions.publish_report(actor=request.user, report=report)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已发布；PDF 和 XLSX 已固定并记入审计日志"))
    return redirect("oversight:report_detail", pk=report.pk)


def report_bytes(report: Report, fmt: str) -> bytes:
    """A published report's frozen file; a draft's rendered now."""
    if report.published:
        return bytes(ReportFile.objects.get(report=report, fmt=fmt).content)
    if fmt == "pdf":
        return report_print.render_pdf(report)
    return report_print.render_xlsx(report)


@login_required
@require_GET
def report_file(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    report = _report(request, pk)
    if fmt not in ReportFile.Format.values:
        raise Http404(_("只有 PDF 和 XLSX"))
    content_type = report_print.PDF if fmt == "pdf" else report_print.XLSX
    return download(report_bytes(report, fmt), content_type, report_print.file_name(report, fmt))


def svg(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type=report_print.SVG)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def report_chart(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    report = _report(request, pk)
    if name not in report_print.CHARTS:
        raise Http404(_("没有这张图"))
    return svg(report_print.chart(report, name))


# --- dashboards ------------------------------------------------------------------


def dashboard_units(user: Any) -> list[Unit]:
    """The units whose dashboard ``user`` opens: every unit for inspectors, the
    leader's subtree for leaders, none for anyone else."""
    if user.is_superuser or user.has_role(Role.INSPECTOR):
        return list(Unit.objects.filter(active=True).order_by("path"))
    if user.has_role(*LEADERS) and user.unit_id:
        return list(
            Unit.objects.filter(active=True, path__startswith=user.unit.path).order_by("path")
        )
    return []


def _dashboard_unit(request: HttpRequest, asked: str | int | None) -> tuple[Unit, list[Unit]]:
    if not (request.user.is_superuser or request.user.has_role(*DASHBOARD_READERS)):
        raise PermissionDenied(_("督察、中队长和大队长可以查看单位工作台"))
    units = dashboard_units(request.user)
    if not units:
        raise PermissionDenied(_("你的管辖范围内没有单位"))
    if asked in (None, ""):
        own = next((u for u in units if u.pk == request.user.unit_id), None)
        return own or units[0], units
    found = next((u for u in units if str(u.pk) == str(asked)), None)
    if found is None:
        raise Http404(_("没有这个单位，或它不在你的管辖范围内"))
    return found, units


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    unit, units = _dashboard_unit(request, request.GET.get("unit", "").strip())
    figures = report_metrics.unit_dashboard(unit, timezone.now())
    labels = report_charts.rate_labels()
    # Undecided findings, waiting for an explanation and explained (waiting for
    # the inspector) apart: an explained finding is not settled yet.
    undecided = queries.undecided_by_person([o["id"] for o in figures["officers"]])
    return render(
        request,
        "oversight/dashboard.html",
        {
            "unit": unit,
            "units": units,
            "figures": figures,
            "rates": [
                {
                    "key": k,
                    "label": labels[k],
                    "value": figures["total"][k],
                    "goal": figures["goals"][k],
                    "meets": figures["total"]["meets"][k],
                }
                for k in report_metrics.RATES
            ],  # fmt: skip
            "officers": [{**o, "undecided": undecided[o["id"]]} for o in figures["officers"]],
            "unit_undecided": queries.undecided_counts(
                Finding.objects.filter(unit__path__startswith=unit.path)
            ),
            "state_labels": report_charts.state_labels(),
        },
    )


@login_required
@require_GET
def dashboard_chart(request: HttpRequest, unit: int) -> HttpResponse:
    found, _units = _dashboard_unit(request, unit)
    figures = report_metrics.unit_dashboard(found, timezone.now())
    return svg(report_charts.unit_rates(figures["total"], figures["goals"]))


@login_required
@require_GET
def trend_chart(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_superuser or request.user.has_role(Role.INSPECTOR)):
        raise PermissionDenied(_("只有督察可以查看全市督察发现趋势"))
    return svg(report_charts.findings_trend(report_metrics.findings_trend()))
