"""Continuity in the AV record list (A2, C5.4): judged per recorder among video segments.

C4.3: from entering the scene to leaving it the recorder keeps filming; a
recorder's video segments follow each other with no gap (DESIGN contract 5).
Photos (JPG) and sound recordings (WAV) are registered in the list like any
recording (C5.4), but they are not segments of the filming: one taken
between two video segments neither breaks their run nor bridges a gap
between them. The printed list (PDF), the XLSX, the activity page (and the
disc's index.html, in ``jilu/transfer/tests``) state the same thing (C5.5:
the reviewers check the footage against the list).
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import expect

from conftest import sign_in
from jilu.casework import actions, recordlist
from jilu.casework.coverage import activity_coverage
from jilu.casework.tests.documents_data import SYSTEM, T0, activity, recording

M = timedelta(minutes=1)
S = timedelta(seconds=1)
DAY2 = T0 + timedelta(days=1)
GAP_STATE = "不完整（中断：与上一分段间隔40分0秒）"
EXPECTED_COLUMNS = tuple(recordlist.COLUMNS)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def footage(people, tree, recorders, party):
    """One case, two activities filmed by 王五's recorder A000001.

    Day 1 (09:00–10:00): two video segments back to back (09:00–09:30,
    09:30–10:00), with a sound recording (09:05–09:08) and a photo (09:22:30)
    taken while the first one ran.
    Day 2 (09:00–10:00): video 09:00–09:15, then nothing filmed for 40
    minutes, video 09:55–10:00; a sound recording (09:20–09:35) and a photo
    (09:42:30) were taken in the gap.
    """
    case = actions.create_case(
        actor=SYSTEM,
        number="思城执罚〔2026〕21号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
        party=party,
        matter_text="未经批准占道经营",
        title="厦门某某餐饮有限公司占道经营案",
    )
    day1 = activity(people, tree, party, kind="S1", start=T0, case=case)
    day2 = activity(people, tree, party, kind="S1", start=DAY2, case=case)
    a, o = recorders["officer"], people["officer"]
    recs = {
        "v1": recording(a, o, start=T0, minutes=30, seq=1),
        "w1": recording(a, o, start=T0 + 5 * M, minutes=3, seq=2, kind="audio"),
        "p1": recording(a, o, start=T0 + 22 * M + 30 * S, minutes=0, seq=3, kind="photo"),
        "v2": recording(a, o, start=T0 + 30 * M, minutes=30, seq=4),
        "g1": recording(a, o, start=DAY2, minutes=15, seq=5),
        "gw": recording(a, o, start=DAY2 + 20 * M, minutes=15, seq=6, kind="audio"),
        "gp": recording(a, o, start=DAY2 + 42 * M + 30 * S, minutes=0, seq=7, kind="photo"),
        "g2": recording(a, o, start=DAY2 + 55 * M, minutes=5, seq=8),
    }
    for key, rec in recs.items():
        act = day1 if key[0] in "vwp" else day2
        actions.annotate(actor=o, recording=rec, activity=act, step="site_check")
    case.refresh_from_db()
    return {"case": case, "day1": day1, "day2": day2, "recs": recs}


def expected_states(footage) -> dict[int, str]:
    """Recording id -> 记录保存情况: only day 2's second video segment is broken off."""
    return {rec.pk: GAP_STATE if key == "g2" else "完整" for key, rec in footage["recs"].items()}


def test_photos_and_sound_recordings_neither_break_nor_bridge_a_run(footage):
    """C4.3 / A2: day 1 reads 完整 throughout (the second video segment starts where
    the first ended; nothing is measured from the photo or the WAV); day 2's real
    40-minute gap is measured between the two video segments, not from the photo
    (12分30秒) and not bridged by the sound recording."""
    built = recordlist.build(footage["case"])
    assert len(built.rows) == 8  # C5.4: photos and sound recordings are listed
    states = {r.recording_id: r.state for r in built.rows}
    assert states == expected_states(footage)
    by_id = {r.recording_id: r for r in built.rows}
    assert by_id[footage["recs"]["g2"].pk].reasons == ["中断：与上一分段间隔40分0秒"]
    assert all(r.complete for r in built.rows if r.recording_id != footage["recs"]["g2"].pk)
    assert not built.complete


def test_a_gap_covered_only_by_another_video_segment_of_the_recorder_stays_closed(
    people, tree, recorders, party
):
    """C4.3: an unlisted video segment filling the time is a missing segment, not a gap;
    an unlisted sound recording in a gap neither closes it nor is a missing segment."""
    case = actions.create_case(
        actor=SYSTEM, number="思城执罚〔2026〕22号", category="penalty", unit=tree["brigade"]
    )
    act = activity(people, tree, party, kind="S1", start=T0, case=case)
    a, o = recorders["officer"], people["officer"]
    v1 = recording(a, o, start=T0, minutes=10, seq=1)
    unlisted_video = recording(a, o, start=T0 + 10 * M, minutes=10, seq=2)
    v3 = recording(a, o, start=T0 + 20 * M, minutes=10, seq=3)
    recording(a, o, start=T0 + 30 * M, minutes=10, seq=4, kind="audio")  # not listed
    v5 = recording(a, o, start=T0 + 40 * M, minutes=10, seq=5)
    for rec in (v1, v3, v5):
        actions.annotate(actor=o, recording=rec, activity=act, step="site_check")
    states = {r.recording_id: r.state for r in recordlist.build(case).rows}
    assert states[v1.pk] == "完整"
    assert states[v3.pk] == f"不完整（缺少分段：{unlisted_video}未登记入清单）"
    assert states[v5.pk] == "不完整（中断：与上一分段间隔10分0秒）"


def _pdf_text(case, tmp_path) -> str:
    path = tmp_path / "list.pdf"
    path.write_bytes(recordlist.render_pdf(recordlist.build(case)))
    return subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.usefixtures("poppler")
def test_the_printed_list_says_the_same(footage, tmp_path):
    """C5.5: the PDF reviewers check against shows one break, of 40 minutes."""
    flat = squash(_pdf_text(footage["case"], tmp_path))
    assert squash(GAP_STATE) in flat
    assert flat.count("不完整") == 1
    assert flat.count("中断") == 1
    assert "7分30秒" not in flat and "12分30秒" not in flat


def xlsx_table(body: bytes) -> list[tuple]:
    """The data rows of the XLSX list (the rows under the column headers)."""
    ws = load_workbook(BytesIO(body))[recordlist.TITLE]
    rows = list(ws.iter_rows(values_only=True))
    header = rows.index(EXPECTED_COLUMNS)
    return rows[header + 1 :]


def test_the_xlsx_says_the_same(footage):
    """A2: the XLSX carries the same 记录保存情况 in the same rows, with date-time
    cells for the times (the gap is there to compute: 09:15 to 09:55) and a height
    on every row, so the wrapped 不完整 text prints whole."""
    built = recordlist.build(footage["case"])
    body = recordlist.render_xlsx(built)
    table = xlsx_table(body)
    assert [row[-1] for row in table] == [r.state for r in built.rows]
    assert [row[-1] for row in table].count(GAP_STATE) == 1
    assert sum(1 for row in table if str(row[-1]).startswith("不完整")) == 1

    by_time = {row[7]: row for row in table}
    assert all(isinstance(row[7], datetime) and isinstance(row[8], datetime) for row in table)
    gap_row = by_time[datetime(2026, 11, 27, 9, 55)]
    assert gap_row[-1] == GAP_STATE
    previous_video = by_time[datetime(2026, 11, 27, 9, 0)]
    assert gap_row[7] - previous_video[8] == timedelta(minutes=40)  # it ended 09:15

    ws = load_workbook(BytesIO(body)).active
    heights = [ws.row_dimensions[n].height for n in range(1, ws.max_row + 1)]
    assert all(heights), heights
    gap_line = recordlist.XLSX_HEADER_ROW + 1 + [r.state for r in built.rows].index(GAP_STATE)
    # 20 characters, 17 of them Chinese, in a column 30 wide: two lines at least.
    assert ws.row_dimensions[gap_line].height >= 2 * 11 * 1.2


def _list_states(html: str) -> dict[int, str]:
    """Recording id -> the 记录保存情况 cell of the activity page's linked recordings."""
    return {
        int(pk): text.strip()
        for pk, text in re.findall(
            r'<tr data-recording="(\d+)">.*?<td class="list-state"[^>]*>(.*?)</td>', html, re.S
        )
    }


def test_the_activity_page_says_the_same(client, footage, people):
    """C4.3 on the activity page: each linked recording's 记录保存情况 is the list's, and
    the activity's unrecorded time is the same 40 minutes (the WAV covers none of it)."""
    client.force_login(people["officer"])
    built = {r.recording_id: r.state for r in recordlist.build(footage["case"]).rows}
    pages = {}
    for key in ("day1", "day2"):
        act = footage[key]
        html = client.get(reverse("casework:activity_detail", args=[act.pk])).content.decode()
        pages[key] = html
        ids = {a.recording_id for a in act.annotations.all()}
        assert len(ids) == 4
        assert _list_states(html) == {pk: built[pk] for pk in ids}
    assert "中断" not in pages["day1"] and "全程录制" in pages["day1"]
    assert pages["day2"].count(GAP_STATE) == 1
    assert "09:15:00–09:55:00" in pages["day2"]  # the coverage gap: the same 40 minutes

    day1 = activity_coverage(footage["day1"])
    assert day1.status == "complete" and day1.percent == 100
    day2 = activity_coverage(footage["day2"])
    assert day2.gaps == [(DAY2 + 15 * M, DAY2 + 55 * M)]
    # Photos and sound recordings are still the activity's recordings.
    assert footage["recs"]["gw"] in day2.recordings


def test_an_activity_of_no_case_judges_continuity_the_same_way(people, tree, recorders, party):
    """C4.3 before a case exists: the activity page shows the same judgement."""
    act = activity(people, tree, party, kind="S1", start=T0, category="inspection")
    a, o = recorders["officer"], people["officer"]
    v1 = recording(a, o, start=T0, minutes=15, seq=1)
    photo = recording(a, o, start=T0 + 50 * M, minutes=0, seq=2, kind="photo")
    v2 = recording(a, o, start=T0 + 55 * M, minutes=5, seq=3)
    for rec in (v1, photo, v2):
        actions.annotate(actor=o, recording=rec, activity=act, step="site_check")
    by_annotation = recordlist.activity_states(act)
    states = {a.recording_id: by_annotation[a.pk].text for a in act.annotations.all()}
    assert states == {
        v1.pk: "完整",
        photo.pk: "完整",
        v2.pk: "不完整（中断：与上一分段间隔40分0秒）",
    }


@pytest.mark.browser
def test_the_activity_page_and_the_list_page_agree_in_a_browser(
    transactional_db, page, people, footage
):
    """C4.3 / A2 in a real browser: the officer sees day 2's 40-minute break on the
    activity page, and the case handler sees the same words in the record list."""
    g2 = footage["recs"]["g2"]
    sign_in(page, "officer")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    page.goto(f"{page.base_url}{reverse('casework:activity_detail', args=[footage['day2'].pk])}")
    expect(page.locator(f'tr[data-recording="{g2.pk}"] td.list-state')).to_have_text(GAP_STATE)
    expect(page.locator("td.list-state", has_text="不完整")).to_have_count(1)
    expect(page.locator(".coverage")).to_contain_text("09:15:00–09:55:00")

    page.context.clear_cookies()
    sign_in(page, "case_handler")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    page.goto(f"{page.base_url}/casework/docs/cases/{footage['case'].pk}/recordlist/")
    table = page.get_by_test_id("recordlist")
    expect(table.locator("tbody tr")).to_have_count(8)
    expect(table.locator(f"#row-{g2.annotation.pk} td.state")).to_have_text(GAP_STATE)
    expect(table.locator("td.state", has_text="不完整")).to_have_count(1)
