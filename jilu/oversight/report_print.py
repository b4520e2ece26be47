"""The periodic report (通报, C6.4) as a page's parts, a PDF and an XLSX.

The PDF is WeasyPrint's, from the same body as the page, A4 portrait, with the
charts (matplotlib SVG, ``report_charts``) inlined as data: addresses. The XLSX
has one sheet per part (概况, 各单位, 排名, 督察发现), real numbers in its
cells and openpyxl's own bar charts over them, so a reader can re-sort and
re-chart in a spreadsheet. Both are in Chinese.
"""

from __future__ import annotations

import base64
import io
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jilu.oversight import report_charts, report_sections
from jilu.oversight.periods import SHANGHAI
from jilu.oversight.report_models import Report

PRINT_LANGUAGE = "zh-hans"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SVG = "image/svg+xml"
CHARTS = ("rates", "drift", "findings")

UNIT_COLUMNS = (
    ("name", gettext_lazy("单位"), 28),
    ("activities", gettext_lazy("执法活动"), 9),
    ("activities_recorded", gettext_lazy("有记录的活动"), 11),
    ("coverage", gettext_lazy("有记录率（%）"), 11),
    ("recordings", gettext_lazy("声像记录"), 9),
    ("collected_24h", gettext_lazy("24小时内采集"), 11),
    ("collection", gettext_lazy("24小时采集率（%）"), 12),
    ("annotation_due", gettext_lazy("应已标注"), 9),
    ("annotated_48h", gettext_lazy("48小时内标注"), 11),
    ("annotation", gettext_lazy("48小时标注率（%）"), 12),
    ("dockings", gettext_lazy("对接次数"), 9),
    ("drift_over", gettext_lazy("时钟偏差超限"), 11),
    ("drift", gettext_lazy("超限比例（%）"), 11),
    ("worst_drift", gettext_lazy("最大偏差（秒）"), 11),
    ("recorders", gettext_lazy("记录仪"), 8),
    ("frontline", gettext_lazy("一线队员"), 8),
    ("recorders_per_frontline", gettext_lazy("人均记录仪"), 10),
    ("findings", gettext_lazy("督察发现"), 9),
    ("findings_confirmed", gettext_lazy("认定属实"), 9),
)


def rate_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary: each rate of the whole scope beside the bureau's goal."""
    total, goals = figures["total"], figures["goals"]
    labels = report_charts.rate_labels()
    detail = {
        "coverage": (total["activities_recorded"], total["activities"]),
        "collection": (total["collected_24h"], total["recordings"]),
        "annotation": (total["annotated_48h"], total["annotation_due"]),
        "drift": (total["drift_over"], total["dockings"]),
    }
    clause = {"coverage": "C2.1", "collection": "C5.1", "annotation": "C5.2", "drift": "C3.2"}
    return [
        {
            "key": key,
            "label": labels[key],
            "clause": clause[key],
            "value": total[key],
            "part": detail[key][0],
            "whole": detail[key][1],
            "goal": goals[key],
            "goal_text": (_("≤ %(g)s%%") if key == "drift" else _("≥ %(g)s%%")) % {"g": goals[key]},
            "meets": total["meets"][key],
        }
        for key in ("coverage", "collection", "annotation", "drift")
    ]


def chart(report: Report, name: str) -> bytes:
    figures = report.figures
    rows = [r for r in figures["units"] if r["depth"] == 1] or figures["units"][:1]
    if name == "rates":
        return report_charts.rates_by_unit(rows, figures["goals"])
    if name == "drift":
        return report_charts.drift_by_unit(
            rows, figures["goals"]["drift"], figures["clock_drift_seconds"]
        )
    return report_charts.findings_by_clause(figures["findings_by_clause"])


def context(report: Report) -> dict[str, Any]:
    figures = report.figures
    return {
        "report": report,
        "figures": figures,
        "rates": rate_rows(figures),
        "units": figures["units"],
        "ranking": figures["ranking"],
        "findings_by_clause": figures["findings_by_clause"],
        "state_labels": report_charts.state_labels(),
        "sections": report_sections.present(figures),
        "as_of": datetime.fromisoformat(figures["as_of"]).astimezone(SHANGHAI),
    }


def file_name(report: Report, ext: str) -> str:
    scope = report.unit.code if report.unit_id else "city"
    return f"通报_{scope}_{report.figures['period']['label']}.{ext}"


@translation.override(PRINT_LANGUAGE)
def render_pdf(report: Report) -> bytes:
    from weasyprint import HTML

    charts = {
        name: "data:image/svg+xml;base64," + base64.b64encode(chart(report, name)).decode()
        for name in CHARTS
    }
    html = render_to_string("oversight/report_print.html", {**context(report), "charts": charts})
    return HTML(string=html).write_pdf()


# --- XLSX ------------------------------------------------------------------------


def _header(ws, row: int, titles: list[str], widths: list[int]) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    for i, (title, width) in enumerate(zip(titles, widths, strict=True), 1):
        cell = ws.cell(row=row, column=i, value=title)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = width


def _title(ws, text: str) -> None:
    from openpyxl.styles import Font

    ws.cell(row=1, column=1, value=text).font = Font(bold=True, size=14)


def _summary_sheet(wb, report: Report) -> None:
    from openpyxl.chart import BarChart, Reference

    ws = wb.create_sheet(_("概况"))
    figures = report.figures
    _title(ws, f"{report.scope_name}{report.period_label}{_('执法记录仪使用管理情况通报')}")
    _header(
        ws,
        3,
        [_("条款"), _("指标"), _("比率（%）"), _("分子"), _("分母"), _("目标（%）"), _("是否达标")],
        [8, 24, 10, 10, 10, 10, 10],
    )
    for n, r in enumerate(rate_rows(figures), 4):
        met = "—" if r["meets"] is None else (_("达标") if r["meets"] else _("未达标"))
        for col, value in enumerate(
            [r["clause"], str(r["label"]), r["value"], r["part"], r["whole"], r["goal"], met], 1
        ):
            ws.cell(row=n, column=col, value=value)
    total = figures["total"]
    ws.cell(row=9, column=2, value=_("记录仪（在用、维修中）"))
    ws.cell(row=9, column=3, value=total["recorders"])
    ws.cell(row=10, column=2, value=_("一线执法队员"))
    ws.cell(row=10, column=3, value=total["frontline"])
    ws.cell(row=11, column=2, value=_("人均记录仪"))
    ws.cell(row=11, column=3, value=total["recorders_per_frontline"])
    ws.cell(row=12, column=2, value=_("最大时钟偏差（秒）"))
    ws.cell(row=12, column=3, value=total["worst_drift"])
    ws.cell(row=13, column=2, value=_("督察发现"))
    ws.cell(row=13, column=3, value=total["findings"])
    chart = BarChart()
    chart.type = "bar"
    chart.title = _("各项比率（%）")
    chart.add_data(Reference(ws, min_col=3, min_row=3, max_row=7), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=2, min_row=4, max_row=7))
    chart.legend = None
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 100
    ws.add_chart(chart, "I3")


def _units_sheet(wb, report: Report) -> None:
    from openpyxl.chart import BarChart, Reference

    ws = wb.create_sheet(_("各单位"))
    _title(ws, f"{report.scope_name}{report.period_label}{_('各单位情况')}")
    _header(ws, 3, [str(c[1]) for c in UNIT_COLUMNS], [c[2] for c in UNIT_COLUMNS])
    rows = report.figures["units"]
    for n, r in enumerate(rows, 4):
        for col, (key, _label, _w) in enumerate(UNIT_COLUMNS, 1):
            value = ("　" * r["depth"] + r["name"]) if key == "name" else r[key]
            ws.cell(row=n, column=col, value=value)
    ws.freeze_panes = "B4"
    if rows:
        chart = BarChart()
        chart.title = _("各单位执法活动有记录率、24小时采集率、48小时标注率（%）")
        last = 3 + len(rows)
        for col in (4, 7, 10):
            chart.add_data(
                Reference(ws, min_col=col, min_row=3, max_row=last), titles_from_data=True
            )
        chart.set_categories(Reference(ws, min_col=1, min_row=4, max_row=last))
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 100
        chart.width, chart.height = 24, 9
        ws.add_chart(chart, f"A{last + 3}")


def _ranking_sheet(wb, report: Report) -> None:
    ws = wb.create_sheet(_("排名"))
    _title(ws, _("下级单位排名（按各项比率的平均，时钟偏差按 100 减超限比例计）"))
    _header(ws, 3, [_("名次"), _("单位"), _("单位编号"), _("综合得分")], [6, 30, 16, 10])
    for n, r in enumerate(report.figures["ranking"], 4):
        for col, value in enumerate([r["rank"], r["name"], r["code"], r["score"]], 1):
            ws.cell(row=n, column=col, value=value)


def _findings_sheet(wb, report: Report) -> None:
    from openpyxl.chart import BarChart, Reference

    ws = wb.create_sheet(_("督察发现"))
    _title(ws, _("督察发现：按条款和状态"))
    states = report_charts.state_labels()
    _header(ws, 3, [_("条款"), *states.values(), _("合计")], [10, 10, 10, 10, 10, 10])
    rows = report.figures["findings_by_clause"]
    for n, r in enumerate(rows, 4):
        for col, value in enumerate([r["clause"], *(r[s] for s in states), r["total"]], 1):
            ws.cell(row=n, column=col, value=value)
    if rows:
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.title = _("督察发现：按条款和状态")
        last = 3 + len(rows)
        chart.add_data(
            Reference(ws, min_col=2, max_col=5, min_row=3, max_row=last), titles_from_data=True
        )
        chart.set_categories(Reference(ws, min_col=1, min_row=4, max_row=last))
        ws.add_chart(chart, "H3")


@translation.override(PRINT_LANGUAGE)
def render_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    _summary_sheet(wb, report)
    _units_sheet(wb, report)
    _ranking_sheet(wb, report)
    _findings_sheet(wb, report)
    for section, data in report_sections.present(report.figures):
        if section.xlsx is not None:
            section.xlsx(wb, data)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
