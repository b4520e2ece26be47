"""The periodic report (通报, C6.4) as a page's parts, a PDF and an XLSX.

The PDF is WeasyPrint's, from the same body as the page, A4 portrait, with the
charts (matplotlib SVG, ``report_charts``) inlined as data: addresses; a chart
with nothing to draw says 本期没有数据 instead. The XLSX has one sheet per part
(概况, 各单位, 排名, 督察发现), real numbers in its cells and openpyxl's own bar
charts over them, so a reader can re-sort and re-chart in a spreadsheet; the
units' tree is a cell indent beside each unit's code and level, never spaces in
the name. Both files say on every sheet or page header whether they are a draft
or published (by whom and when) and as of when (``status_line``): a draft that
leaves the system cannot pass for the official report. Both are in Chinese.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jilu.org.models import Unit
from jilu.oversight import report_charts, report_sections
from jilu.oversight.periods import SHANGHAI
from jilu.oversight.report_models import Report

PRINT_LANGUAGE = "zh-hans"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SVG = "image/svg+xml"
CHARTS = ("rates", "drift", "findings")

UNIT_COLUMNS = (
    ("code", gettext_lazy("单位编号"), 15),
    ("name", gettext_lazy("单位"), 30),
    ("level", gettext_lazy("层级"), 9),
    ("depth", gettext_lazy("在范围内的层次（0 为范围本身）"), 10),
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


def no_data_text() -> str:
    return _("本期没有数据")


def _rows_for_charts(figures: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in figures["units"] if r["depth"] == 1] or figures["units"][:1]


def chart_has_data(figures: dict[str, Any], name: str) -> bool:
    """Whether a chart has anything to draw: a rate of a unit, a finding."""
    if name == "findings":
        return bool(figures["findings_by_clause"])
    keys = ("drift",) if name == "drift" else ("coverage", "collection", "annotation")
    return any(r[k] is not None for r in _rows_for_charts(figures) for k in keys)


def chart(report: Report, name: str) -> bytes:
    figures = report.figures
    rows = _rows_for_charts(figures)
    if not chart_has_data(figures, name):
        return report_charts.no_data(no_data_text())
    if name == "rates":
        return report_charts.rates_by_unit(rows, figures["goals"])
    if name == "drift":
        return report_charts.drift_by_unit(
            rows, figures["goals"]["drift"], figures["clock_drift_seconds"]
        )
    return report_charts.findings_by_clause(figures["findings_by_clause"])


def as_of(report: Report) -> datetime:
    return datetime.fromisoformat(report.figures["as_of"]).astimezone(SHANGHAI)


def status_line(report: Report) -> str:
    """草稿，未发布 or 陈督察 于 2026-12-05 13:04 发布, then the as-of time (Beijing)."""
    if report.published:
        at = report.published_at.astimezone(SHANGHAI)
        by = report.published_by.name if report.published_by_id else ""
        state = _("%(by)s 于 %(at)s 发布") % {"by": by, "at": f"{at:%Y-%m-%d %H:%M}"}
    else:
        state = _("草稿，未发布")
    data = _("数据截至 %(at)s（北京时间）") % {"at": f"{as_of(report):%Y-%m-%d %H:%M}"}
    return f"{state}　{data}"


def ranking_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The ranking: a unit without a score has no rank and comes after the
    ranked ones (also for figures computed before that was so)."""
    rows = figures["ranking"]
    ranked = [r for r in rows if r["score"] is not None]
    return ranked + [{**r, "rank": None} for r in rows if r["score"] is None]


def findings_distinct(figures: dict[str, Any]) -> dict[str, Any]:
    """The findings counted once each (by state when the figures hold it), and
    the note that the per-clause rows count a finding under each clause it cites."""
    states = report_charts.state_labels()
    by_state = figures.get("findings_by_state") or {}
    total = figures["total"]["findings"]
    return {
        "label": _("发现合计（不重复）"),
        **{s: by_state.get(s) for s in states},
        "total": total,
        "note": _("一项发现引用多个条款的，在每个条款下各计一次；发现共 %(n)s 项") % {"n": total},
    }


def context(report: Report) -> dict[str, Any]:
    figures = report.figures
    return {
        "report": report,
        "figures": figures,
        "rates": rate_rows(figures),
        "units": figures["units"],
        "ranking": ranking_rows(figures),
        "findings_by_clause": figures["findings_by_clause"],
        "findings_distinct": findings_distinct(figures),
        "unranked": any(r["score"] is None for r in figures["ranking"]),
        "state_labels": report_charts.state_labels(),
        "sections": report_sections.numbered(figures),
        "as_of": as_of(report),
        "status_line": status_line(report),
        "chart_data": {name: chart_has_data(figures, name) for name in CHARTS},
        "no_data": no_data_text(),
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
    mark = "" if report.published else _("草稿，未发布")  # in every page's corner
    html = render_to_string(
        "oversight/report_print.html", {**context(report), "charts": charts, "report_mark": mark}
    )
    return HTML(string=html).write_pdf()


# --- XLSX ------------------------------------------------------------------------

HEADER_ROW = 3  # every sheet: title (1), status (2), the table's header (3)


def _header(ws, row: int, titles: list[str], widths: list[int]) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    for i, (title, width) in enumerate(zip(titles, widths, strict=True), 1):
        cell = ws.cell(row=row, column=i, value=title)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = width
    # Tall enough for the wrapped titles (a CJK character is about two widths).
    lines = max(-(-2 * len(t) // max(w - 1, 1)) for t, w in zip(titles, widths, strict=True))
    ws.row_dimensions[row].height = 15 * max(lines, 1)


def _title(ws, text: str) -> None:
    from openpyxl.styles import Font

    ws.cell(row=1, column=1, value=text).font = Font(bold=True, size=14)


def _note(ws, row: int, text: str) -> None:
    from openpyxl.styles import Font

    ws.cell(row=row, column=1, value=text).font = Font(size=9, italic=True)


def _summary_sheet(wb, report: Report) -> None:
    from openpyxl.chart import BarChart, Reference

    ws = wb.create_sheet(_("概况"))
    figures = report.figures
    _title(ws, f"{report.scope_name}{report.period_label}{_('执法记录仪使用管理情况通报')}")
    _header(
        ws,
        HEADER_ROW,
        [_("条款"), _("指标"), _("比率（%）"), _("分子"), _("分母"), _("目标（%）"), _("是否达标")],
        [8, 24, 10, 10, 10, 10, 10],
    )
    rates = rate_rows(figures)
    for n, r in enumerate(rates, 4):
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
    if all(r["value"] is None for r in rates):
        _note(ws, 15, no_data_text())
        return
    chart = BarChart()
    chart.type = "bar"
    chart.title = _("各项比率（%）")
    chart.add_data(Reference(ws, min_col=3, min_row=3, max_row=7), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=2, min_row=4, max_row=7))
    chart.legend = None
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 100
    chart.width, chart.height = 16, 7
    ws.add_chart(chart, "A15")


def _units_sheet(wb, report: Report) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment

    ws = wb.create_sheet(_("各单位"))
    _title(ws, f"{report.scope_name}{report.period_label}{_('各单位情况')}")
    _header(ws, HEADER_ROW, [str(c[1]) for c in UNIT_COLUMNS], [c[2] for c in UNIT_COLUMNS])
    rows = report.figures["units"]
    levels = dict(Unit.Level.choices)
    keys = [c[0] for c in UNIT_COLUMNS]
    for n, r in enumerate(rows, HEADER_ROW + 1):
        for col, key in enumerate(keys, 1):
            if key == "level":
                value = str(levels.get(r["level"], r["level"]))
            else:
                value = r[key]
            cell = ws.cell(row=n, column=col, value=value)
            if key == "name":  # the tree as the cell's indent, the name as it is
                cell.alignment = Alignment(indent=r["depth"])
    ws.freeze_panes = f"C{HEADER_ROW + 1}"
    if not rows:
        return
    last = HEADER_ROW + len(rows)
    if all(r[k] is None for r in rows for k in ("coverage", "collection", "annotation")):
        _note(ws, last + 2, no_data_text())
        return
    chart = BarChart()
    chart.title = _("各单位执法活动有记录率、24小时采集率、48小时标注率（%）")
    for key in ("coverage", "collection", "annotation"):
        col = keys.index(key) + 1
        chart.add_data(
            Reference(ws, min_col=col, min_row=HEADER_ROW, max_row=last), titles_from_data=True
        )
    name_col = keys.index("name") + 1
    chart.set_categories(Reference(ws, min_col=name_col, min_row=HEADER_ROW + 1, max_row=last))
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 100
    chart.width, chart.height = 24, 9
    ws.add_chart(chart, f"A{last + 3}")


def _ranking_sheet(wb, report: Report) -> None:
    ws = wb.create_sheet(_("排名"))
    _title(ws, _("下级单位排名（按各项比率的平均，时钟偏差按 100 减超限比例计）"))
    _header(ws, HEADER_ROW, [_("名次"), _("单位"), _("单位编号"), _("综合得分")], [6, 30, 16, 10])
    ranking = ranking_rows(report.figures)
    for n, r in enumerate(ranking, HEADER_ROW + 1):
        rank = "—" if r["rank"] is None else r["rank"]
        score = "—" if r["score"] is None else r["score"]
        for col, value in enumerate([rank, r["name"], r["code"], score], 1):
            ws.cell(row=n, column=col, value=value)
    if any(r["rank"] is None for r in ranking):
        _note(ws, HEADER_ROW + len(ranking) + 2, _("没有综合得分的单位不排名次，列在最后。"))


def _findings_sheet(wb, report: Report) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    ws = wb.create_sheet(_("督察发现"))
    _title(ws, _("督察发现：按条款和状态"))
    states = report_charts.state_labels()
    _header(ws, HEADER_ROW, [_("条款"), *states.values(), _("合计")], [18, 10, 10, 10, 10, 10])
    rows = report.figures["findings_by_clause"]
    for n, r in enumerate(rows, HEADER_ROW + 1):
        for col, value in enumerate([r["clause"], *(r[s] for s in states), r["total"]], 1):
            ws.cell(row=n, column=col, value=value)
    last = HEADER_ROW + len(rows)
    if not rows:
        _note(ws, last + 1, _("本期没有督察发现。"))
        return
    distinct = findings_distinct(report.figures)
    values = [distinct["label"], *(distinct[s] for s in states), distinct["total"]]
    for col, value in enumerate(values, 1):
        ws.cell(row=last + 1, column=col, value=value).font = Font(bold=True)
    _note(ws, last + 2, distinct["note"])
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = _("督察发现：按条款和状态")
    chart.add_data(
        Reference(ws, min_col=2, max_col=5, min_row=HEADER_ROW, max_row=last),
        titles_from_data=True,
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=HEADER_ROW + 1, max_row=last))
    chart.width, chart.height = 16, 8
    ws.add_chart(chart, f"A{last + 4}")


def _finish(wb, report: Report) -> None:
    """On every sheet: the status line under the title (draft or published by
    whom and when, the as-of time), the same in the printed page header, A4 fit
    to the page's width with the table's header repeated; the workbook's
    properties say the same."""
    from openpyxl.styles import Font

    status = status_line(report)
    title = f"{report.scope_name}{report.period_label}{_('执法记录仪使用管理情况通报')}"
    for ws in wb.worksheets:
        cell = ws.cell(row=2, column=1, value=status)
        cell.font = Font(bold=not report.published, color=None if report.published else "C00000")
        wide = ws.max_column > 8
        ws.page_setup.orientation = "landscape" if wide else "portrait"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        ws.print_options.horizontalCentered = True
        ws.oddHeader.center.text = f"{title}　{ws.title}"
        ws.oddHeader.right.text = "" if report.published else str(_("草稿，未发布"))
        ws.oddFooter.left.text = status
        ws.oddFooter.right.text = "第 &P 页 共 &N 页"
    props = wb.properties
    props.title = title
    props.creator = "Jilu"
    props.lastModifiedBy = "Jilu"
    props.subject = status
    props.description = status
    props.keywords = "published" if report.published else "draft"
    props.created = (report.published_at or report.drafted_at).astimezone(UTC).replace(tzinfo=None)


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
    _finish(wb, report)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
