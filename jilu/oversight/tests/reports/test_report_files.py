"""The report's files as their receivers read them (C6.4): openpyxl for the
XLSX, ``pdftotext -layout`` for the PDF. A draft says so on every sheet and in
the workbook's properties, the published file says by whom and when; the
findings by clause reconcile with the number of findings; the units sheet is
data (code, level, the tree as a cell indent); the sections are numbered; a
period without data says so instead of drawing empty charts; units without a
score get no rank; every sheet prints fitted to the page's width."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from jilu.oversight import report_actions, report_metrics, report_print
from jilu.oversight.report_models import Report, ReportFile
from jilu.oversight.tests.reports.conftest import AS_OF

SHEETS = ["概况", "各单位", "排名", "督察发现", "抽检"]
AS_OF_TEXT = "数据截至 2026-12-04 08:00（北京时间）"
PUBLISHED_AT = datetime(2026, 12, 5, 5, 4, tzinfo=UTC)  # 13:04 in Beijing


def _draft(people, number: int = 11, **kw) -> Report:
    return report_actions.draft_report(
        actor=people["inspector"], kind="month", year=2026, number=number, now=AS_OF, **kw
    )


def _publish(people, report: Report) -> Report:
    return report_actions.publish_report(actor=people["inspector"], report=report, now=PUBLISHED_AT)


def _stored(report: Report, fmt: str) -> bytes:
    return bytes(ReportFile.objects.get(report=report, fmt=fmt).content)


def _workbook(body: bytes):
    return load_workbook(io.BytesIO(body))


def _pdf_text(body: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(body)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _cells(ws) -> list[str]:
    return [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]


@pytest.mark.usefixtures("poppler")
def test_draft_and_published_files_say_which_they_are(november, people, tmp_path):
    report = _draft(people)
    draft = _workbook(report_print.render_xlsx(report))
    assert draft.sheetnames == SHEETS
    for ws in draft.worksheets:
        assert ws["A1"].value, ws.title
        assert ws["A2"].value == f"草稿，未发布　{AS_OF_TEXT}", ws.title
    props = draft.properties
    assert props.creator == "Jilu"
    assert props.title == "全市2026年11月执法记录仪使用管理情况通报"
    assert props.subject.startswith("草稿，未发布") and "草稿" in props.description
    assert "草稿，未发布" in _pdf_text(report_print.render_pdf(report), tmp_path)

    _publish(people, report)
    name = people["inspector"].name
    line = f"{name} 于 2026-12-05 13:04 发布　{AS_OF_TEXT}"
    published = _workbook(_stored(report, "xlsx"))
    assert published.sheetnames == SHEETS
    for ws in published.worksheets:
        assert ws["A2"].value == line, ws.title
        assert not any("草稿" in text for text in _cells(ws)), ws.title
        assert "草稿" not in (ws.oddHeader.right.text or "")
    assert published.properties.subject == line and published.properties.creator == "Jilu"
    text = _pdf_text(_stored(report, "pdf"), tmp_path)
    assert f"{name} 于 2026-12-05 13:04 发布" in text and "草稿" not in text
    assert "数据截至 2026-12-04 08:00" in text


@pytest.mark.usefixtures("poppler")
def test_findings_by_clause_reconcile_with_the_findings(november, people, client, tmp_path):
    """The brigade's finding (no recording) cites C2.1 and C6.5.1: four under
    the clauses, three findings (C6.5)."""
    report = _draft(people)
    ws = _workbook(report_print.render_xlsx(report))["督察发现"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    by_clause = [r for r in rows if r[0] and re.fullmatch(r"C[\d.]+", r[0])]
    assert {r[0] for r in by_clause} == {"C2.1", "C3.2", "C5.1", "C6.5.1"}
    assert sum(r[5] for r in by_clause) == 4
    distinct = next(r for r in rows if r[0] == "发现合计（不重复）")
    assert distinct[:6] == ("发现合计（不重复）", 2, 0, 1, 0, 3)
    assert "一项发现引用多个条款的，在每个条款下各计一次；发现共 3 项" in _cells(ws)

    text = _pdf_text(report_print.render_pdf(report), tmp_path)
    total = next(line for line in text.splitlines() if "发现合计（不重复）" in line)
    assert re.findall(r"\d+", total) == ["2", "0", "1", "0", "3"], total
    assert "一项发现引用多个条款的，在每个条款下各计一次；发现共3项" in re.sub(r"\s+", "", text)

    client.force_login(people["inspector"])
    page = client.get("/oversight/findings/").content.decode()
    assert "一项发现引用多个条款的，在每个条款下各计一次；发现共 3 项" in page
    page = client.get("/oversight/findings/?state=open").content.decode()
    assert "发现共 2 项" in page


def test_units_sheet_has_codes_levels_and_the_tree_as_indent(november, people):
    report = _draft(people)
    ws = _workbook(report_print.render_xlsx(report))["各单位"]
    header = [c.value for c in ws[3]]
    assert header[:4] == ["单位编号", "单位", "层级", "在范围内的层次（0 为范围本身）"]
    rows = {row[0].value: row for row in ws.iter_rows(min_row=4) if row[0].value}
    squad = rows["350203000101"]
    assert [c.value for c in squad[:4]] == ["350203000101", "中华中队", "中队", 3]
    assert squad[1].alignment.indent == 3
    assert [c.value for c in rows["350200000000"][:4]] == [
        "350200000000",
        "厦门市城市管理行政执法局",
        "市局",
        0,
    ]
    for row in rows.values():
        assert not row[1].value.startswith(("\u3000", " ")), row[1].value
    # The figures are beside the names: 中华中队 recordings, in 24 h, rate.
    column = {name: i for i, name in enumerate(header)}
    values = [c.value for c in squad]
    assert values[column["声像记录"]] == 4 and values[column["24小时采集率（%）"]] == 75.0
    assert len(ws._charts) == 1


@pytest.mark.usefixtures("poppler")
def test_sections_after_the_four_parts_are_numbered(november, people, tmp_path):
    text = re.sub(r"[ \t]+", "", _pdf_text(report_print.render_pdf(_draft(people)), tmp_path))
    heads = re.findall(r"^([一二三四五六七八九十]+)、", text, flags=re.M)
    assert heads == ["一", "二", "三", "四", "五"], heads
    assert "五、抽检得分（C6.4）" in text


@pytest.mark.usefixtures("poppler")
def test_a_period_without_data_says_so_instead_of_empty_charts(tree, people, tmp_path):
    report = _draft(people, number=9)
    assert report.figures["total"]["activities"] == 0
    text = re.sub(r"\s+", "", _pdf_text(report_print.render_pdf(report), tmp_path))
    assert text.count("本期没有数据") == 2  # the rates' chart and the drift chart
    assert "本期没有督察发现" in text
    wb = _workbook(report_print.render_xlsx(report))
    for sheet in ("概况", "各单位"):
        assert not wb[sheet]._charts, sheet
        assert "本期没有数据" in _cells(wb[sheet]), sheet
    assert not wb["督察发现"]._charts and "本期没有督察发现。" in _cells(wb["督察发现"])
    # No unit has a score: none has a rank.
    ranking = [r for r in wb["排名"].iter_rows(min_row=4, values_only=True) if r[2]]
    assert ranking and all(r[0] == "—" and r[3] == "—" for r in ranking), ranking


@pytest.mark.usefixtures("poppler")
def test_units_without_a_score_get_no_rank_and_come_last(november, people, tree, tmp_path):
    from jilu.org import actions

    actions.create_unit(
        actor="system:test",
        parent=tree["city"],
        code="350211000000",
        name="海沧区城市管理行政执法局",
        short_name="海沧区城管执法局",
        level="district",
    )
    period = report_metrics.report_period("month", 2026, 11)
    figures = report_metrics.city_report(period, as_of=AS_OF)
    assert [(r["rank"], r["code"], r["score"]) for r in figures["ranking"]] == [
        (1, "350206000000", 100.0),
        (2, "350203000000", 45.8),
        (None, "350211000000", None),
    ]
    report = _draft(people)
    ranking = list(_workbook(report_print.render_xlsx(report))["排名"].iter_rows(min_row=4))
    values = [tuple(c.value for c in row[:4]) for row in ranking if row[2].value]
    assert values[-1] == ("—", "海沧区城市管理行政执法局", "350211000000", "—")
    text = _pdf_text(report_print.render_pdf(report), tmp_path)
    ranked = re.search(r"^\s*2\s+思明区城市管理行政执法局\s+45\.8\s*$", text, flags=re.M)
    unranked = re.search(r"^\s*—\s+海沧区城市管理行政执法局\s+—\s*$", text, flags=re.M)
    assert ranked and unranked and ranked.start() < unranked.start(), text


def test_every_sheet_prints_fitted_to_the_width_with_its_header_repeated(november, people):
    wb = _workbook(report_print.render_xlsx(_draft(people)))
    for ws in wb.worksheets:
        assert ws.print_title_rows in ("$3:$3", "3:3"), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
        assert int(ws.page_setup.paperSize) == 9  # A4
        wide = ws.title == "各单位"
        assert ws.page_setup.orientation == ("landscape" if wide else "portrait"), ws.title
