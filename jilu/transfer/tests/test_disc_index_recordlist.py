"""The disc's index.html states the record list (A2) exactly as the PDF and XLSX do.

C5.5: the disc goes to the legal department with the printed list, and the
reviewers check the footage against it; the page on the disc must not tell
them something else. C4.3: continuity is judged per recorder among video
segments (photos and sound recordings neither break nor bridge a run).
"""

from __future__ import annotations

import html as html_lib
import re
import subprocess
from datetime import timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from jilu.casework import actions, recordlist
from jilu.casework.tests.documents_data import SYSTEM, T0, activity, recording
from jilu.evidence.store import get_store
from jilu.transfer.builder import LIST_STEM, build_package
from jilu.transfer.tests.package_data import make_recorders

M = timedelta(minutes=1)
S = timedelta(seconds=1)
GAP_STATE = "不完整（中断：与上一分段间隔40分0秒）"


@pytest.fixture(autouse=True)
def _file_store(settings, tmp_path):
    settings.STORE_ROOT = tmp_path / "store"
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    get_store.cache_clear()


@pytest.fixture
def party(tree):
    return actions.create_party(
        actor=SYSTEM, unit=tree["squad1"], kind="organisation", name="厦门某某餐饮有限公司"
    )


def index_cells(index_html: str) -> list[list[str]]:
    """The ten record-list cells of each row of the disc's index.html, as text."""
    out = []
    for body in re.findall(r'<tr id="row-[^"]*">(.*?)</tr>', index_html, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)[:10]
        out.append([html_lib.unescape(c.strip()) for c in cells])
    return out


def xlsx_cells(body: bytes) -> list[list[str]]:
    """The XLSX rows under the column headers, as the text the PDF prints."""
    ws = load_workbook(BytesIO(body))[recordlist.TITLE]
    rows = list(ws.iter_rows(values_only=True))
    header = rows.index(tuple(recordlist.COLUMNS))
    out = []
    for row in rows[header + 1 :]:
        out.append(
            [v.strftime(recordlist.TIME_FORMAT) if hasattr(v, "strftime") else str(v) for v in row]
        )
    return out


def pdf_text(path) -> str:
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.sub(r"\s+", "", text)


def documents(case, tmp_path) -> dict:
    """What the disc carries: index.html, the PDF text and the XLSX cells."""
    result = build_package(case, tmp_path / "out")
    root = result.discs[0].root
    return {
        "index": index_cells((root / "index.html").read_text(encoding="utf-8")),
        "pdf": pdf_text(root / "data" / f"{LIST_STEM}.pdf"),
        "xlsx": xlsx_cells((root / "data" / f"{LIST_STEM}.xlsx").read_bytes()),
        "index_html": (root / "index.html").read_text(encoding="utf-8"),
    }


@pytest.mark.usefixtures("poppler")
def test_index_html_judges_continuity_like_the_pdf_and_xlsx(tree, people, party, tmp_path):
    """C4.3 / A2: a photo and a sound recording between two back-to-back video
    segments leave them 完整; a real 40-minute gap (with a sound recording and a
    photo in it) reads 40分 on the disc page, in the PDF and in the XLSX alike."""
    recorders = make_recorders(tree, people)
    case = actions.create_case(
        actor=SYSTEM,
        number="思城执罚〔2026〕31号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
        party=party,
        matter_text="未经批准占道经营",
    )
    day2 = T0 + timedelta(days=1)
    first = activity(people, tree, party, kind="S1", start=T0, case=case)
    second = activity(people, tree, party, kind="S1", start=day2, case=case)
    a, o = recorders["officer"], people["officer"]
    plan = [
        (first, recording(a, o, start=T0, minutes=30, seq=1)),
        (first, recording(a, o, start=T0 + 5 * M, minutes=3, seq=2, kind="audio")),
        (first, recording(a, o, start=T0 + 22 * M + 30 * S, minutes=0, seq=3, kind="photo")),
        (first, recording(a, o, start=T0 + 30 * M, minutes=30, seq=4)),
        (second, recording(a, o, start=day2, minutes=15, seq=5)),
        (second, recording(a, o, start=day2 + 20 * M, minutes=15, seq=6, kind="audio")),
        (second, recording(a, o, start=day2 + 42 * M + 30 * S, minutes=0, seq=7, kind="photo")),
        (second, recording(a, o, start=day2 + 55 * M, minutes=5, seq=8)),
    ]
    for act, rec in plan:
        actions.annotate(actor=o, recording=rec, activity=act, step="site_check")
    case.refresh_from_db()

    built = recordlist.build(case)
    docs = documents(case, tmp_path)
    states = [row[-1] for row in docs["index"]]
    assert states == ["完整"] * 7 + [GAP_STATE]
    assert docs["index"] == [r.cells() for r in built.rows]
    assert docs["xlsx"] == docs["index"]
    assert GAP_STATE in docs["pdf"] and docs["pdf"].count("不完整") == 1
    assert "7分30秒" not in docs["pdf"] and "12分30秒" not in docs["pdf"]
    assert docs["index_html"].count('class="incomplete"') == 1
    # The photo and the sound recordings are on the disc and in the list (C5.4).
    assert "<audio controls" in docs["index_html"] and "<img" in docs["index_html"]


@pytest.mark.usefixtures("poppler")
def test_every_document_states_the_cases_category(tree, people, party, tmp_path):
    """A2 column 2 (执法类别), C5.4 / C5.5: in a 行政处罚 case, the rows of an activity
    registered as 行政检查 (the patrol that found the violation) read 行政处罚, as the
    attachment's example reads 行政处罚 for its 现场勘验; a 行政强制 activity of the
    same case (the example's 催告书送达) reads 行政强制. The disc page, the PDF and the
    XLSX say the same."""
    recorders = make_recorders(tree, people)
    case = actions.create_case(
        actor=SYSTEM,
        number="思城执罚〔2026〕32号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
        party=party,
        matter_text="未经批准占道经营",
    )
    patrol = activity(people, tree, party, kind="S1", start=T0, case=case, category="inspection")
    demand = activity(
        people,
        tree,
        party,
        kind="S4",
        start=T0 + timedelta(days=20),
        case=case,
        category="coercion",
    )
    a, o = recorders["officer"], people["officer"]
    first = recording(a, o, start=T0, minutes=10, seq=1)
    second = recording(a, o, start=T0 + 10 * M, minutes=10, seq=2)
    served = recording(a, o, start=T0 + timedelta(days=20), minutes=5, seq=3)
    actions.annotate(actor=o, recording=first, activity=patrol, step="site_check")
    actions.annotate(actor=o, recording=second, activity=patrol, step="site_check")
    actions.annotate(actor=o, recording=served, activity=demand, step="service")
    case.refresh_from_db()

    built = recordlist.build(case)
    expected = ["行政处罚", "行政处罚", "行政强制"]
    assert [r.category for r in built.rows] == expected
    docs = documents(case, tmp_path)
    assert [row[1] for row in docs["index"]] == expected
    assert [row[1] for row in docs["xlsx"]] == expected
    assert docs["index"] == docs["xlsx"] == [r.cells() for r in built.rows]
    for no, category in enumerate(expected, 1):
        assert f"{no}{category}" in docs["pdf"]
    for text in (docs["pdf"], docs["index_html"]):
        assert "行政检查" not in text
    assert "<dt>执法类别</dt><dd>行政处罚</dd>" in docs["index_html"]
