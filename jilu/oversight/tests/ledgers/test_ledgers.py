"""The monthly ledgers (C6.1): what they hold, and the XLSX and PDF they print as."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from jilu.evidence.models import Recording
from jilu.evidence.timeline import SHANGHAI
from jilu.oversight import ledger, ledger_print
from jilu.oversight.tests.ledgers.conftest import MONTH


def test_month_bounds_are_beijing_calendar_months():
    start, end = ledger.month_bounds(2026, 12)
    assert start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    for bad in ((1999, 5), (2100, 1), (2026, 0), (2026, 13)):
        with pytest.raises(ledger.LedgerError):
            ledger.month_bounds(*bad)


def test_recordings_ledger_per_officer_per_day(november, tree):
    rows = ledger.build_rows(tree["squad1"], *MONTH)["recordings"]
    by = {(r["day"], r["officer"]): r for r in rows}
    assert list(by) == [
        ("2026-11-26", "李四"),
        ("2026-11-26", "王五"),
        ("2026-11-27", "李四"),
    ]
    wang = by[("2026-11-26", "王五")]
    assert (wang["count"], wang["seconds"]) == (3, 35 * 60)
    assert wang["late_collected"] == 1
    assert (wang["annotated_in_time"], wang["annotated_late"], wang["unannotated"]) == (1, 1, 1)
    activity = november["activity"]
    assert wang["activities"] == [f"#{activity.pk} 巡查检查、现场勘验、取证 某某餐厅"]
    assert wang["first_docked"] == "2026-11-26T12:00:00+08:00"
    assert wang["last_docked"] == "2026-11-27T16:00:00+08:00"
    li = by[("2026-11-27", "李四")]
    assert (li["count"], li["unannotated"], li["activities"]) == (1, 1, [])


def test_recorder_ledger_holdings_checks_incidents_dockings(november, tree):
    rows = {r["serial"]: r for r in ledger.build_rows(tree["squad1"], *MONTH)["recorders"]}
    assert list(rows) == ["A000001", "A000002"]  # A000003 is 湖里中队's
    a1, a2 = rows["A000001"], rows["A000002"]
    assert a1["holdings"] == [
        {
            "holder": "王五",
            "user_no": a1["holdings"][0]["user_no"],
            "issued_at": "2026-10-27T09:00:00+08:00",
            "returned_at": None,
        }
    ]
    # Two checks (one wrote battery and storage events), the last on 20 November.
    assert (a1["checks"], a1["last_check"]) == (2, "2026-11-20T10:00:00+08:00")
    # December's docking is not November's.
    assert (a1["dockings"], a1["last_docking"]) == (2, "2026-11-27T16:00:00+08:00")
    assert a1["recordings"] == 3
    assert [h["holder"] for h in a2["holdings"]] == ["李四", "何中队"]
    assert a2["holdings"][0]["returned_at"] == "2026-11-20T17:00:00+08:00"
    assert [(e["kind"], e["note"]) for e in a2["incidents"]] == [
        ("fault", "屏幕不亮"),
        ("repair", "更换屏幕"),
    ]


def test_a_return_after_the_month_is_not_a_return_within_it(november, tree, recorders):
    from jilu.devices.actions import return_recorder

    return_recorder(actor="system:test", recorder=recorders["officer"])  # now, in December
    rows = {r["serial"]: r for r in ledger.build_rows(tree["squad1"], *MONTH)["recorders"]}
    assert rows["A000001"]["holdings"][0]["returned_at"] is None


def test_only_squads_have_ledgers(tree):
    with pytest.raises(ledger.LedgerError):
        ledger.build_rows(tree["brigade"], *MONTH)


# --- XLSX ---------------------------------------------------------------------------


def _sheet_rows(ws, first: int) -> list[tuple]:
    return [
        row
        for row in ws.iter_rows(min_row=first, values_only=True)
        if any(v is not None for v in row)
    ]


def test_xlsx_matches_the_database(november, tree):
    """Read back with openpyxl and compared with counts taken here from the
    recordings themselves (not through the ledger's code)."""
    from openpyxl import load_workbook

    book = ledger.ledger(tree["squad1"], *MONTH)
    wb = load_workbook(io.BytesIO(ledger_print.render_xlsx(book)))
    assert wb.sheetnames == ["执法记录仪使用管理台账", "声像记录台账"]
    ws = wb["声像记录台账"]
    assert ws["A1"].value == "中华中队声像记录台账"
    assert "2026年11月" in ws["A2"].value and "中华中队" in ws["A2"].value
    assert ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    header = [c.value for c in ws[3]]
    assert header[:6] == ["序号", "日期", "执法人员", "警号", "条数", "总时长"]
    lines = _sheet_rows(ws, 4)
    data, total = lines[:-1], lines[-1]
    assert total[0] == "合计"

    start, end = datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC)
    mine = Recording.objects.filter(
        officer__unit=tree["squad1"], started_at__gte=start, started_at__lt=end
    )
    expected: dict[tuple, dict] = {}
    for rec in mine:
        day = rec.started_at.astimezone(SHANGHAI).date()
        e = expected.setdefault((day, rec.officer.name), {"n": 0, "s": 0.0, "docked": []})
        e["n"] += 1
        e["s"] += (rec.ended_at - rec.started_at).total_seconds()
        e["docked"].append(rec.docked_at.astimezone(SHANGHAI).replace(tzinfo=None))
    got = {}
    for row in data:
        assert isinstance(row[1], datetime)  # a real date cell (openpyxl reads it as midnight)
        assert isinstance(row[6], datetime) and isinstance(row[7], datetime)
        got[(row[1].date(), row[2])] = row
    assert set(got) == set(expected)
    for key, e in expected.items():
        row = got[key]
        assert row[4] == e["n"]
        assert row[5] == timedelta(seconds=e["s"])  # a duration cell, not text
        assert (row[6], row[7]) == (min(e["docked"]), max(e["docked"]))
    assert total[4] == mine.count() == 5
    late = mine.filter(collected_within_24h=False).count()
    assert total[8] == late == 1
    unannotated = mine.filter(annotation__isnull=True).count()
    assert total[11] == unannotated == 2
    for n in range(4, 4 + len(lines)):
        assert ws.row_dimensions[n].height and ws.row_dimensions[n].height >= 15


def test_xlsx_recorder_sheet_has_a_line_per_holding(november, tree):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(ledger_print.render_xlsx(ledger.ledger(tree["squad1"], *MONTH))))
    ws = wb["执法记录仪使用管理台账"]
    assert ws["A1"].value == "中华中队执法记录仪使用管理台账"
    lines = _sheet_rows(ws, 4)
    assert [r[1] for r in lines] == ["A000001", "A000002", None]
    a1, a2, a2_next = lines
    assert a1[3].startswith("王五") and a1[4] == datetime(2026, 10, 27, 9, 0)
    assert a1[5] == "未归还"
    assert (a1[6], a1[7]) == (2, datetime(2026, 11, 20, 10, 0))
    assert (a1[9], a1[10], a1[11]) == (2, datetime(2026, 11, 27, 16, 0), 3)
    assert a2[3].startswith("李四") and a2[5] == datetime(2026, 11, 20, 17, 0)
    assert a2_next[3].startswith("何中队") and a2_next[4] == datetime(2026, 11, 21, 9, 0)
    assert "故障：屏幕不亮" in a2[8] and "维修：更换屏幕" in a2[8]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "B5:B6" in merged and "I5:I6" in merged  # the recorder's cells span its lines
    counted = (
        Recording.objects.filter(recorder__serial="A000001", started_at__year=2026)
        .filter(started_at__gte=datetime(2026, 10, 31, 16, tzinfo=UTC))
        .filter(started_at__lt=datetime(2026, 11, 30, 16, tzinfo=UTC))
        .count()
    )
    assert a1[11] == counted


# --- PDF ----------------------------------------------------------------------------


def _pdf_text(body: bytes, tmp_path) -> str:
    path = tmp_path / "ledger.pdf"
    path.write_bytes(body)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.usefixtures("poppler")
def test_pdf_holds_the_unit_month_and_figures(november, tree, tmp_path):
    body = ledger_print.render_pdf(ledger.ledger(tree["squad1"], *MONTH))
    assert body.startswith(b"%PDF")
    text = _pdf_text(body, tmp_path)
    flat = re.sub(r"\s+", "", text)
    assert "中华中队执法记录仪使用管理台账" in flat and "中华中队声像记录台账" in flat
    assert "2026年11月" in flat and "思明区城市管理行政执法大队中华中队" in flat
    assert "A000001" in flat and "屏幕不亮" in flat and "何中队" in flat
    totals = re.search(r"合计\s+(\d+)\s+(\d+:\d\d:\d\d)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", text)
    assert totals, text
    assert totals.groups() == ("5", "0:57:00", "1", "2", "1", "2")
    assert "湖里" not in flat
    pages = subprocess.run(
        ["pdfinfo", str(tmp_path / "ledger.pdf")], capture_output=True, text=True, check=True
    ).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", pages).groups())
    assert width > height  # landscape


@pytest.mark.usefixtures("poppler")
def test_a_long_month_repeats_the_header_on_every_page(tree, make_recording, tmp_path):
    """Sixty days' worth of rows run over pages; each page starts with the columns."""
    t = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    for d in range(29):
        for who in ("officer", "officer_b"):
            make_recording(who, start=t + timedelta(days=d), minutes=1)
    text = _pdf_text(ledger_print.render_pdf(ledger.ledger(tree["squad1"], *MONTH)), tmp_path)
    pages = text.split("\f")
    recording_pages = [p for p in pages if "首次采集" in p]
    assert len(recording_pages) >= 2
    for p in recording_pages:
        assert re.search(r"序号\s+日期\s+执法人员", p)


@pytest.mark.usefixtures("poppler")
def test_an_empty_month_prints_its_empty_ledgers(tree, tmp_path):
    book = ledger.ledger(tree["squad2"], *MONTH)
    assert (book.rows["recorders"], book.rows["recordings"]) == ([], [])
    flat = re.sub(r"\s+", "", _pdf_text(ledger_print.render_pdf(book), tmp_path))
    assert "鹭江中队" in flat and "本中队本月没有声像记录" in flat


def test_amendments_name_rows_added_removed_and_changed():
    row = {
        "day": "2026-11-02",
        "officer_id": 7,
        "officer": "王五",
        "user_no": "900001",
        "count": 2,
        "seconds": 600,
        "first_docked": "2026-11-02T12:00:00+08:00",
        "last_docked": "2026-11-02T12:00:00+08:00",
        "late_collected": 0,
        "annotated_in_time": 2,
        "annotated_late": 0,
        "unannotated": 0,
        "activities": ["#3 其他 某地"],
    }
    moved = {**row, "day": "2026-11-03"}
    changed = {**row, "seconds": 660, "activities": ["#3 其他 某地", "#4 其他 某处"]}
    confirmed = {"recorders": [], "recordings": [row, moved]}
    current = {"recorders": [], "recordings": [changed, {**row, "day": "2026-11-04"}]}
    found = {(a.kind, a.key): a for a in ledger.amendments(confirmed, current)}
    assert set(found) == {
        ("changed", "2026-11-02/7"),
        ("removed", "2026-11-03/7"),
        ("added", "2026-11-04/7"),
    }
    assert found[("changed", "2026-11-02/7")].text == (
        "总时长：0:10:00 → 0:11:00；所属执法活动：#3 其他 某地 → #3 其他 某地、#4 其他 某处"
    )
    assert "条数：2" in found[("removed", "2026-11-03/7")].text
    assert found[("added", "2026-11-04/7")].changes[0]["before"] == "—"
    assert ledger.amendments(confirmed, confirmed) == []
