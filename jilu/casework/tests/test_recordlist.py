"""The case's AV record list, 行政执法音像记录事项清单 (Attachment 2, A2).

C5.4: every recording of a case is registered in its list. C5.5: the list is
printed and goes with the case file and the disc to the legal department,
whose reviewers check completeness against it. A2 rule 4: the recordings are
numbered and named in case order, and 序号 / 记录事项 agree with the names.
"""

from __future__ import annotations

import re
import struct
import subprocess
from datetime import timedelta
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from jilu.audit.models import AuditEntry
from jilu.audit.verify import verify_chain
from jilu.casework import actions, recordlist, recordlist_actions
from jilu.casework.models import Annotation
from jilu.casework.tests.documents_data import (
    CASE_NUMBER,
    SYSTEM,
    T0,
    activity,
    build_case,
    recording,
)

needs_poppler = pytest.mark.usefixtures("poppler")

EXPECTED_COLUMNS = (
    "序号",
    "执法类别",
    "执法事项",
    "记录事项",
    "执法部门",
    "记录人员",
    "记录地点",
    "开始记录时间",
    "结束记录时间",
    "记录保存情况",
)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def data(people, tree, recorders, party):
    return build_case(people, tree, recorders, party)


def names_agree(case) -> None:
    """A2 rule 4: numbers 1…n, each name starting with its number."""
    rows = list(Annotation.objects.filter(case=case).order_by("list_no"))
    assert [a.list_no for a in rows] == list(range(1, len(rows) + 1))
    for a in rows:
        assert a.standard_name.startswith(f"{a.list_no:02d}_"), a.standard_name


# --- rows ------------------------------------------------------------------


def test_rows_follow_case_order_with_the_attachment_columns(data):
    """A2 / C5.4: one row per recording, the attachment's ten columns, in case order."""
    built = recordlist.build(data["case"])
    assert recordlist.TITLE == "行政执法音像记录事项清单"
    assert recordlist.COLUMNS == EXPECTED_COLUMNS
    assert [r.no for r in built.rows] == [1, 2, 3, 4, 5]
    assert [r.step for r in built.rows] == ["现场勘验"] * 3 + ["询问笔录", "送达"]
    assert [r.officer for r in built.rows] == ["王五", "李四", "王五", "王五", "李四"]
    first = built.rows[0]
    assert first.cells() == [
        "1",
        "行政处罚",
        "未经批准占道经营",
        "现场勘验",
        "中华中队",
        "王五",
        "思明区中山路1号 某某餐厅",
        "2026-11-26 09:00:00",  # shown in Asia/Shanghai
        "2026-11-26 09:10:00",
        "完整",
    ]
    assert built.rows[4].place == "思明区中山路1号之2"
    assert all(r.state == "完整" and r.complete for r in built.rows)
    assert built.complete
    # A2 rule 4: the list's number and step agree with the file name.
    for r in built.rows:
        assert r.file_name.startswith(f"{r.no:02d}_"), r.file_name
        assert r.step in r.file_name


def test_state_names_each_kind_of_incompleteness(people, tree, recorders, party):
    """记录保存情况: 不完整 with the reason — gap (C4.3), truncated, missing segment;
    待检测 before probing."""
    case = actions.create_case(
        actor=SYSTEM, number="思城执罚〔2026〕13号", category="penalty", unit=tree["brigade"]
    )
    act = activity(people, tree, party, kind="S1", start=T0, case=case)
    a, o = recorders["officer"], people["officer"]
    b, ob = recorders["officer_b"], people["officer_b"]
    m = timedelta(minutes=1)
    s1 = recording(a, o, start=T0, minutes=10, seq=5)
    s2 = recording(a, o, start=T0 + 15 * m, minutes=10, seq=6)  # 5 minutes after s1 ended
    s3 = recording(
        a,
        o,
        start=T0 + 25 * m,
        minutes=10,
        seq=8,  # 0007 was never collected
        integrity="incomplete",
        reason="缺少moov索引，文件被截断",
    )
    s4 = recording(a, o, start=T0 + 35 * m, minutes=10, seq=9, integrity=None)  # not probed
    t1 = recording(b, ob, start=T0, minutes=10, seq=1)
    t2 = recording(b, ob, start=T0 + 10 * m, minutes=10, seq=2)  # collected, never annotated
    t3 = recording(b, ob, start=T0 + 20 * m, minutes=10, seq=3)
    actions.annotate_run(actor=o, recordings=[s1, s2, s3, s4], activity=act, step="site_check")
    actions.annotate_run(actor=ob, recordings=[t1, t3], activity=act, step="site_check")

    state = {r.recording_id: r for r in recordlist.build(case).rows}
    assert state[s1.pk].state == "完整"
    assert state[t1.pk].state == "完整"
    assert state[s2.pk].state == "不完整（中断：与上一分段间隔5分0秒）"
    assert not state[s2.pk].complete
    assert state[s3.pk].state == ("不完整（截断：缺少moov索引，文件被截断；缺少分段：0007未采集）")
    assert state[s4.pk].state == "待检测"
    assert not state[s4.pk].complete
    assert state[t3.pk].state == f"不完整（缺少分段：{t2}未登记入清单）"
    assert not recordlist.build(case).complete


def test_photos_between_segments_are_not_missing_segments(people, tree, recorders, party):
    """A photo taken between two segments uses a file number: it is not a missing segment."""
    case = actions.create_case(
        actor=SYSTEM, number="思城执罚〔2026〕14号", category="penalty", unit=tree["brigade"]
    )
    act = activity(people, tree, party, kind="S1", start=T0, case=case)
    a, o = recorders["officer"], people["officer"]
    v1 = recording(a, o, start=T0, minutes=10, seq=1)
    recording(a, o, start=T0 + timedelta(minutes=5), minutes=0, seq=2, kind="photo")
    v2 = recording(a, o, start=T0 + timedelta(minutes=10), minutes=10, seq=3)
    actions.annotate_run(actor=o, recordings=[v1, v2], activity=act, step="site_check")
    assert [r.state for r in recordlist.build(case).rows] == ["完整", "完整"]


def test_category_is_the_cases_unless_the_activity_is_coercion(
    client, people, tree, recorders, party
):
    """A2 column 2 (执法类别): the list of a case file states the case's category
    (the attachment's example: 现场勘验 of a 行政处罚 case reads 行政处罚), so an
    activity registered as 行政检查 does not print 行政检查; a 行政强制 activity of the
    case keeps 行政强制 (the example's 催告书送达 row). C5.4, C5.5."""
    case = actions.create_case(
        actor=SYSTEM, number="思城执罚〔2026〕17号", category="penalty", unit=tree["brigade"]
    )
    patrol = activity(people, tree, party, kind="S1", start=T0, case=case, category="inspection")
    seizure = activity(
        people,
        tree,
        party,
        kind="S5",
        start=T0 + timedelta(days=1),
        case=case,
        category="coercion",
    )
    a, o = recorders["officer"], people["officer"]
    found = recording(a, o, start=T0, minutes=10, seq=1)
    sealed = recording(a, o, start=T0 + timedelta(days=1), minutes=10, seq=2)
    actions.annotate(actor=o, recording=found, activity=patrol, step="site_check")
    actions.annotate(actor=o, recording=sealed, activity=seizure, step="preservation")

    built = recordlist.build(case)
    assert [r.category for r in built.rows] == ["行政处罚", "行政强制"]
    assert [r["cells"][1] for r in recordlist.to_json(built)["rows"]] == ["行政处罚", "行政强制"]
    table = list(load_workbook(BytesIO(recordlist.render_xlsx(built))).active.values)
    assert [row[1] for row in table if row[0] in (1, 2)] == ["行政处罚", "行政强制"]

    # The activity page keeps the activity's own category and says what the list states.
    client.force_login(people["officer"])
    page = client.get(reverse("casework:activity_detail", args=[patrol.pk])).content.decode()
    assert "行政检查" in page
    assert re.search(r'id="list-category">[^<]*“行政处罚”', page), page
    page = client.get(reverse("casework:activity_detail", args=[seizure.pk])).content.decode()
    assert 'id="list-category"' not in page


# --- PDF (A4 landscape, title, columns, CJK fonts embedded, page numbers) -----


@needs_poppler
def test_pdf_gives_back_every_chinese_cell(data, tmp_path):
    """C5.5: the printed list is what reviewers check against; every cell survives."""
    built = recordlist.build(data["case"])
    pdf = recordlist.render_pdf(built)
    path = tmp_path / "list.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = squash(text)
    assert "行政执法音像记录事项清单" in flat
    assert squash("".join(EXPECTED_COLUMNS)) in flat
    for row in built.rows:
        for cell in row.cells():
            assert squash(cell) in flat, cell
    assert CASE_NUMBER in flat
    assert "第1页共1页" in flat

    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+841\.89 x 595\.27\d* pts \(A4\)", info), info
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes yes " in line for line in cjk), fonts  # embedded, subset


@needs_poppler
def test_pdf_renders_landscape_and_numbers_every_page(people, tree, recorders, party, tmp_path):
    """A long list breaks over pages, repeating the column headers, numbered 第 n 页 共 N 页."""
    case = actions.create_case(
        actor=SYSTEM, number="思城执罚〔2026〕15号", category="penalty", unit=tree["brigade"]
    )
    act = activity(people, tree, party, kind="S1", start=T0, case=case)
    a, o = recorders["officer"], people["officer"]
    recs = [
        recording(a, o, start=T0 + timedelta(minutes=10 * i), minutes=10, seq=i + 1)
        for i in range(24)
    ]
    actions.annotate_run(actor=o, recordings=recs, activity=act, step="site_check")
    path = tmp_path / "long.pdf"
    path.write_bytes(recordlist.render_pdf(recordlist.build(case)))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2
    flat = squash(
        subprocess.run(
            ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    )
    for n in range(1, pages + 1):
        assert f"第{n}页共{pages}页" in flat
    assert flat.count("开始记录时间") == pages  # header row on every page
    assert "24行政检查" in flat or "24行政处罚" in flat

    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
        check=True,
    )
    png = next(tmp_path.glob("p-*.png")).read_bytes()
    width, height = struct.unpack(">II", png[16:24])
    assert width > height  # landscape
    assert abs(width - 702) <= 2 and abs(height - 496) <= 2  # A4 at 60 dpi


def test_pdf_embeds_font_subsets_not_whole_fonts(data):
    """The Chinese fonts are subset (libharfbuzz-subset0), which is also what keeps
    rendering well under a second; whole Noto CJK fonts would be ~16 MB each."""
    built = recordlist.build(data["case"])
    pdf = recordlist.render_pdf(built)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) < 1_500_000


# --- XLSX -------------------------------------------------------------------


def test_xlsx_has_exactly_the_attachment_columns(data):
    """A2: the title and the case above the attachment's columns, one row per recording."""
    built = recordlist.build(data["case"])
    wb = load_workbook(BytesIO(recordlist.render_xlsx(built)))
    ws = wb["行政执法音像记录事项清单"]
    rows = list(ws.iter_rows(values_only=True))
    header = recordlist.XLSX_HEADER_ROW
    assert header == 4
    assert rows[header - 1] == EXPECTED_COLUMNS
    assert len(rows) == header + len(built.rows)
    for got, row in zip(rows[header:], built.rows, strict=True):
        assert got[0] == row.no
        assert [c.strftime("%Y-%m-%d %H:%M:%S") for c in got[7:9]] == row.cells()[7:9]
        assert list(got[1:7]) + [got[9]] == row.cells()[1:7] + [row.cells()[9]]
    # The case number is in the sheet itself, not only in the printed page header.
    assert ws["A1"].value == "行政执法音像记录事项清单"
    assert ws["A2"].value == f"案件编号：{CASE_NUMBER}　案由：厦门某某餐饮有限公司占道经营案"
    assert "承办单位：思明区城市管理行政执法大队" in ws["A3"].value
    assert "当事人：厦门某某餐饮有限公司" in ws["A3"].value
    assert {"A1:J1", "A2:J2", "A3:J3"} <= {str(r) for r in ws.merged_cells.ranges}
    assert CASE_NUMBER in ws.oddHeader.center.text
    assert ws.print_title_rows == "$4:$4"  # the columns repeat on every printed page
    assert ws.freeze_panes == "A5"
    assert ws.page_setup.orientation == "landscape"


def test_xlsx_times_are_date_times_in_beijing_time(data):
    """A2 开始/结束记录时间: real date-time cells (sortable, computable) showing
    Beijing wall-clock time, naive as spreadsheets have no time zones; 待检测 stays text."""
    from datetime import datetime

    case = data["case"]
    rec = recording(
        data["recordings"][0].recorder,
        data["recordings"][0].officer,
        start=T0 + timedelta(minutes=40),
        minutes=1,
        seq=9,
        integrity=None,
    )
    rec.ended_at = None  # not probed, end not known yet
    rec.save(update_fields=["ended_at"])
    actions.annotate(
        actor=rec.officer, recording=rec, activity=data["activities"][0], step="site_survey"
    )
    ws = load_workbook(BytesIO(recordlist.render_xlsx(recordlist.build(case)))).active
    header = recordlist.XLSX_HEADER_ROW
    first = ws.cell(row=header + 1, column=8)
    assert isinstance(first.value, datetime) and first.value.tzinfo is None
    assert first.value == datetime(2026, 11, 26, 9, 0, 0)  # 01:00 UTC
    assert first.number_format == "yyyy-mm-dd hh:mm:ss"
    end = ws.cell(row=header + 1, column=9)
    assert end.value == datetime(2026, 11, 26, 9, 10, 0)
    assert end.number_format == "yyyy-mm-dd hh:mm:ss"
    unprobed = header + Annotation.objects.get(recording=rec).list_no
    assert ws.cell(row=unprobed, column=8).value == datetime(2026, 11, 26, 9, 40, 0)
    assert ws.cell(row=unprobed, column=9).value == "待检测"


def _lines_needed(text: str, width: float) -> int:
    """How many lines ``text`` takes in a column ``width`` wide (a "0" is one unit,
    a Chinese character two), at the least."""
    units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    return max(1, -(-units // int(width)))


def test_xlsx_rows_have_heights_for_their_wrapped_text(people, tree, recorders, party):
    """A2 rule 5: the list is printed. LibreOffice and Gnumeric print a row with no
    height as one line of each wrapped cell, so every row says how tall it is, and
    a row whose 记录保存情况 wraps to three lines is at least three lines tall."""
    case = actions.create_case(
        actor=SYSTEM, number="思城执罚〔2026〕18号", category="penalty", unit=tree["brigade"]
    )
    act = activity(people, tree, party, kind="S1", start=T0, case=case)
    a, o = recorders["officer"], people["officer"]
    ok = recording(a, o, start=T0, minutes=10, seq=1)
    broken = recording(
        a,
        o,
        start=T0 + timedelta(minutes=15),
        minutes=10,
        seq=3,
        integrity="incomplete",
        reason="缺少moov索引，文件被截断",
    )
    actions.annotate_run(actor=o, recordings=[ok, broken], activity=act, step="site_check")
    built = recordlist.build(case)
    ws = load_workbook(BytesIO(recordlist.render_xlsx(built))).active
    widths = [ws.column_dimensions[chr(ord("A") + i)].width for i in range(10)]
    assert widths == list(recordlist.XLSX_WIDTHS)
    line_pt = 11 * 1.2  # the least a line of 11 pt text takes
    for n in range(1, ws.max_row + 1):
        height = ws.row_dimensions[n].height
        assert height, f"row {n} has no height"
        if n <= recordlist.XLSX_HEADER_ROW:
            continue
        for i, cell in enumerate(ws[n]):
            if isinstance(cell.value, str):
                assert height >= _lines_needed(cell.value, widths[i]) * line_pt, (n, cell.value)
    long_state = ws.cell(row=recordlist.XLSX_HEADER_ROW + 2, column=10).value
    assert long_state == built.rows[1].state and long_state.startswith("不完整（截断")
    assert _lines_needed(long_state, widths[9]) >= 3
    one_line = ws.row_dimensions[recordlist.XLSX_HEADER_ROW + 1].height
    assert ws.row_dimensions[recordlist.XLSX_HEADER_ROW + 2].height >= 3 * line_pt > one_line


def test_json_has_the_same_cells(data):
    built = recordlist.build(data["case"])
    out = recordlist.to_json(built)
    assert out["columns"] == list(EXPECTED_COLUMNS)
    assert [r["cells"] for r in out["rows"]] == [r.cells() for r in built.rows]
    assert out["complete"] is True


# --- editable order (A2 rule 4) -------------------------------------------------


def test_moving_a_row_renumbers_and_renames_consistently(data, people):
    case = data["case"]
    before = {a.pk: a.standard_name for a in Annotation.objects.filter(case=case)}
    order = recordlist_actions.current_order(case)
    last = order[-1]  # 05_…送达
    recordlist_actions.move(
        actor=people["case_handler"], case=case, annotation_id=last, to=1, expected=order
    )
    names_agree(case)
    moved = Annotation.objects.get(pk=last)
    assert moved.list_no == 1
    assert moved.standard_name == "01_" + before[last].split("_", 1)[1]
    assert recordlist_actions.current_order(case) == [last, *order[:-1]]
    built = recordlist.build(case)
    assert [r.step for r in built.rows] == ["送达", "现场勘验", "现场勘验", "现场勘验", "询问笔录"]
    assert all(r.file_name.startswith(f"{r.no:02d}_") for r in built.rows)
    entry = AuditEntry.objects.filter(action="casework.recordlist.move").get()
    assert entry.actor_id == people["case_handler"].pk
    assert entry.details["order"] == [last, *order[:-1]]
    assert {c["annotation"] for c in entry.details["changed"]} == set(order)
    assert verify_chain().ok

    # A recording annotated later is appended; the hand order stays (A2 rule 4).
    a, o = data["recordings"][0].recorder, people["officer"]
    extra = recording(a, o, start=T0 + timedelta(minutes=20), minutes=5, seq=4)
    actions.annotate(actor=o, recording=extra, activity=data["activities"][0], step="site_survey")
    names_agree(case)
    assert recordlist_actions.current_order(case)[:5] == [last, *order[:-1]]
    assert Annotation.objects.get(recording=extra).list_no == 6


def test_a_stale_or_incomplete_order_is_refused(data, people):
    case = data["case"]
    order = recordlist_actions.current_order(case)
    names = dict(Annotation.objects.filter(case=case).values_list("pk", "standard_name"))
    with pytest.raises(ValidationError, match="清单已被他人修改"):
        recordlist_actions.move(
            actor=people["case_handler"],
            case=case,
            annotation_id=order[0],
            to=3,
            expected=list(reversed(order)),
        )
    with pytest.raises(ValidationError, match="每一条记录各一次"):
        recordlist_actions.reorder(actor=people["case_handler"], case=case, order=order[:-1])
    with pytest.raises(ValidationError, match="每一条记录各一次"):
        recordlist_actions.reorder(
            actor=people["case_handler"], case=case, order=[*order[:-1], order[0]]
        )
    assert dict(Annotation.objects.filter(case=case).values_list("pk", "standard_name")) == names
    assert not AuditEntry.objects.filter(action="casework.recordlist.move").exists()


def test_the_order_is_fixed_once_the_case_is_transferred(data, people):
    """C5.5: the list sent to the legal department no longer changes."""
    case = actions.set_case_status(actor=SYSTEM, case=data["case"], status="transferred")
    order = recordlist_actions.current_order(case)
    with pytest.raises(ValidationError):
        recordlist_actions.move(
            actor=people["case_handler"], case=case, annotation_id=order[0], to=2, expected=order
        )
    assert recordlist_actions.current_order(case) == order


# --- pages and permissions -------------------------------------------------------


def _urls(case):
    base = f"/casework/docs/cases/{case.pk}"
    return [f"{base}/recordlist/", f"{base}/recordlist.pdf", f"{base}/recordlist.xlsx"]


@pytest.mark.parametrize(
    "username", ["case_handler", "officer", "brigade_leader", "legal_reviewer", "inspector"]
)
def test_people_in_scope_open_the_list_and_its_files(client, data, people, username):
    client.force_login(people[username])
    page, pdf, xlsx = _urls(data["case"])
    r = client.get(page)
    assert r.status_code == 200
    body = r.content.decode()
    assert "行政执法音像记录事项清单" in body
    assert body.count('data-testid="standard-name"') == 5
    r = client.get(pdf)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert "filename*=utf-8''" in r["Content-Disposition"]
    r = client.get(xlsx)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.parametrize("username", ["officer_other", "squad_admin"])
def test_the_list_is_404_outside_scope(client, data, people, username):
    """Another district's people cannot tell the case exists."""
    client.force_login(people[username])
    for url in _urls(data["case"]):
        assert client.get(url).status_code == 404, url
    order = recordlist_actions.current_order(data["case"])
    r = client.post(
        f"/casework/docs/cases/{data['case'].pk}/recordlist/move/",
        {"annotation": order[0], "to": 2, "expected": ",".join(map(str, order))},
    )
    assert r.status_code == 404
    assert recordlist_actions.current_order(data["case"]) == order


def test_signed_out_visitors_are_sent_to_sign_in(client, data):
    for url in _urls(data["case"]):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/")


@pytest.mark.parametrize("username", ["officer", "inspector", "legal_reviewer"])
def test_readers_cannot_reorder(client, data, people, username):
    client.force_login(people[username])
    case = data["case"]
    order = recordlist_actions.current_order(case)
    page = client.get(f"/casework/docs/cases/{case.pk}/recordlist/").content.decode()
    assert "recordlist/move/" not in page
    r = client.post(
        f"/casework/docs/cases/{case.pk}/recordlist/move/",
        {"annotation": order[0], "to": 2, "expected": ",".join(map(str, order))},
    )
    assert r.status_code == 403
    assert recordlist_actions.current_order(case) == order


def test_the_handler_moves_a_row_from_the_page(client, data, people):
    client.force_login(people["case_handler"])
    case = data["case"]
    order = recordlist_actions.current_order(case)
    url = f"/casework/docs/cases/{case.pk}/recordlist/move/"
    expected = ",".join(map(str, order))
    r = client.post(url, {"annotation": order[0], "to": 2, "expected": expected}, follow=True)
    assert r.status_code == 200
    assert "清单顺序已更新" in r.content.decode()
    assert recordlist_actions.current_order(case) == [order[1], order[0], *order[2:]]
    names_agree(case)
    # The same (now stale) form again: refused with a clear message, nothing changes.
    r = client.post(url, {"annotation": order[0], "to": 2, "expected": expected}, follow=True)
    assert "清单已被他人修改" in r.content.decode()
    r = client.post(url, {"annotation": order[0], "to": "二", "expected": expected}, follow=True)
    assert "新的序号无效" in r.content.decode()
    assert recordlist_actions.current_order(case) == [order[1], order[0], *order[2:]]


def test_a_transferred_case_shows_its_list_fixed(client, data, people):
    """C5.5: once sent to the legal department the page offers no reordering."""
    case = actions.set_case_status(actor=SYSTEM, case=data["case"], status="transferred")
    client.force_login(people["case_handler"])
    page = client.get(f"/casework/docs/cases/{case.pk}/recordlist/").content.decode()
    assert "recordlist/move/" not in page
    assert "案件已移送，清单顺序已固定" in page
    order = recordlist_actions.current_order(case)
    r = client.post(
        f"/casework/docs/cases/{case.pk}/recordlist/move/",
        {"annotation": order[0], "to": 2, "expected": ",".join(map(str, order))},
        follow=True,
    )
    assert "清单顺序不能再调整" in r.content.decode()
    assert recordlist_actions.current_order(case) == order


@needs_poppler
def test_an_empty_list_still_prints(tree, tmp_path):
    case = actions.create_case(
        actor=SYSTEM, number="思城执罚〔2026〕16号", category="penalty", unit=tree["brigade"]
    )
    path = tmp_path / "empty.pdf"
    path.write_bytes(recordlist.render_pdf(recordlist.build(case)))
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "本案尚无登记的音像记录" in squash(text)
    assert squash("".join(EXPECTED_COLUMNS)) in squash(text)


# --- API (issue item 8) -----------------------------------------------------------


def test_api_gives_the_record_list_as_json_pdf_and_xlsx(client, data):
    """C5.4 / A2: other systems fetch the same list that is printed into the case file."""
    from conftest import PASSWORD

    token = client.post(
        "/api/v1/auth/token",
        {"username": "case_handler", "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    base = f"/api/v1/cases/{data['case'].pk}/record-list"
    body = client.get(base, **auth).json()
    assert body["columns"] == list(EXPECTED_COLUMNS)
    assert len(body["rows"]) == len(recordlist.build(data["case"]).rows)
    pdf = client.get(base + ".pdf", **auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Type"] == "application/pdf"
    xlsx = client.get(base + ".xlsx", **auth)
    rows = list(load_workbook(BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[recordlist.XLSX_HEADER_ROW - 1] == EXPECTED_COLUMNS
    outsider = client.post(
        "/api/v1/auth/token",
        {"username": "squad_admin", "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    assert client.get(base, HTTP_AUTHORIZATION=f"Bearer {outsider}").status_code == 404
