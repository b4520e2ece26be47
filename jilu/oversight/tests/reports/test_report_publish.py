"""Drafting and publishing a report (C6.4): the PDF and XLSX hold the figures,
publishing freezes their bytes (SHA-256 in the audit entry, the chain
checkpointed), a published report never changes, and who reads which."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from jilu.audit.models import AuditEntry
from jilu.evidence.models import Recording
from jilu.oversight import report_actions
from jilu.oversight.report_models import Report, ReportFile
from jilu.oversight.tests.reports.conftest import AS_OF

SHANGHAI_OFFSET = timedelta(hours=8)


def _november_by_hand() -> dict[str, str]:
    """The city's 24 h and 48 h rates counted here, one recording at a time."""
    mine = [
        r
        for r in Recording.objects.select_related("annotation")
        if (r.started_at + SHANGHAI_OFFSET).strftime("%Y-%m") == "2026-11"
    ]
    in_24 = sum(
        1 for r in mine if r.docked_at - (r.ended_at or r.started_at) <= timedelta(hours=24)
    )
    in_48 = 0
    for r in mine:
        note = getattr(r, "annotation", None)
        if note is not None and note.first_annotated_at - r.docked_at <= timedelta(hours=48):
            in_48 += 1
    return {
        "collection": f"{100 * in_24 / len(mine):.1f}%",
        "annotation": f"{100 * in_48 / len(mine):.1f}%",
    }


def _draft(people, **kw) -> Report:
    return report_actions.draft_report(
        actor=people["inspector"], kind="month", year=2026, number=11, now=AS_OF, **kw
    )


def _pdf_text(body: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(body)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.usefixtures("poppler")
def test_pdf_holds_units_and_rates_and_its_pages_are_not_blank(november, people, tmp_path):
    from PIL import Image, ImageStat

    report = _draft(people)
    by_hand = _november_by_hand()
    assert by_hand == {"collection": "80.0%", "annotation": "40.0%"}
    report_actions.publish_report(actor=people["inspector"], report=report)
    body = bytes(ReportFile.objects.get(report=report, fmt="pdf").content)
    assert body.startswith(b"%PDF")
    text = _pdf_text(body, tmp_path)
    flat = re.sub(r"\s+", "", text)
    assert "全市2026年11月执法记录仪使用管理情况通报" in flat
    for name in (
        "中华中队",
        "鹭江中队",
        "湖里中队",
        "思明区城市管理行政执法局",
        "湖里区城市管理行政执法局",
    ):
        assert name in flat, name
    rates = re.search(r"C2\.1\s+\S+\s+([\d.]+%)\s+2\s*/\s*3", text)
    assert rates and rates[1] == "66.7%", text  # a1 and a3 of a1, a2, a3 (C2.1)
    assert re.search(r"C5\.1\s+\S+\s+" + re.escape(by_hand["collection"]) + r"\s+4\s*/\s*5", text)
    assert re.search(r"C5\.2\s+\S+\s+" + re.escape(by_hand["annotation"]) + r"\s+2\s*/\s*5", text)
    assert re.search(r"C3\.2\s+\S+\s+50\.0%\s+2\s*/\s*4", text)  # 61 s and −90 s of four
    # 思明区: coverage 1 of 2, 24 h 3 of 4, 48 h 1 of 4, drift 2 of 3.
    siming = next(line for line in text.splitlines() if "思明区城市管理行政执法局" in line)
    assert re.findall(r"[\d.]+%", siming) == ["50.0%", "75.0%", "25.0%", "66.7%"], siming
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(tmp_path / "report.pdf"), str(tmp_path / "page")],
        check=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    for png in pages:
        with Image.open(png) as im:
            stat = ImageStat.Stat(im.convert("L"))
            # Mostly white paper, with ink on it (text, tables, charts; the last
            # page may hold only the spot-check section's one sentence).
            assert 150 < stat.mean[0] < 254.9 and stat.extrema[0][0] < 60, (png, stat.mean)


def test_xlsx_reads_back_the_figures(november, people):
    report = _draft(people)
    report_actions.publish_report(actor=people["inspector"], report=report)
    wb = load_workbook(io.BytesIO(bytes(ReportFile.objects.get(report=report, fmt="xlsx").content)))
    assert wb.sheetnames == ["概况", "各单位", "排名", "督察发现", "抽检"]
    summary = wb["概况"]
    rows = {r[0]: r for r in summary.iter_rows(min_row=4, max_row=7, values_only=True)}
    assert rows["C2.1"][2:5] == (66.7, 2, 3)
    assert rows["C5.1"][2:5] == (80.0, 4, 5)
    assert rows["C5.2"][2:5] == (40.0, 2, 5)
    assert rows["C3.2"][2:5] == (50.0, 2, 4)
    assert rows["C2.1"][5:] == (95, "未达标")
    assert len(summary._charts) == 1  # openpyxl's own bar chart, over the cells
    units = {r[1]: r for r in wb["各单位"].iter_rows(min_row=4, values_only=True) if r[1]}
    assert units["中华中队"][7:10] == (4, 3, 75.0)  # recordings, in 24 h, rate
    assert units["湖里中队"][4:7] == (1, 1, 100.0)
    assert len(wb["各单位"]._charts) == 1
    ranking = list(wb["排名"].iter_rows(min_row=4, values_only=True))
    assert ranking == [
        (1, "湖里区城市管理行政执法局", "350206000000", 100.0),
        (2, "思明区城市管理行政执法局", "350203000000", 45.8),
    ]
    findings = {r[0]: r for r in wb["督察发现"].iter_rows(min_row=4, values_only=True)}
    assert findings["C5.1"] == ("C5.1", 0, 0, 1, 0, 1)


@pytest.mark.db_sensitive
def test_publishing_freezes_the_files_audits_their_hashes_and_checkpoints(
    november, people, django_capture_on_commit_callbacks, settings
):
    from jilu.audit import seal
    from jilu.audit.checkpoints import log_path, read_log

    report = _draft(people)
    with django_capture_on_commit_callbacks(execute=True):
        report_actions.publish_report(actor=people["inspector"], report=report)
    report.refresh_from_db()
    assert report.published and report.published_by == people["inspector"]
    entry = AuditEntry.objects.filter(action="oversight.report.publish").get()
    files = {f.fmt: f for f in report.files.all()}
    for fmt in ("pdf", "xlsx"):
        stored = bytes(files[fmt].content)
        assert hashlib.sha256(stored).hexdigest() == files[fmt].sha256
        assert entry.details[f"{fmt}_sha256"] == files[fmt].sha256
    log = read_log(log_path(), seal.current_key())
    last = log.checkpoints[-1]
    assert last.reason == f"report {report.pk} 2026-11 published"
    assert last.seq >= entry.seq

    # Publishing twice is refused, and so is drafting the month again.
    with pytest.raises(report_actions.AlreadyPublished):
        report_actions.publish_report(actor=people["inspector"], report=report)
    with pytest.raises(report_actions.AlreadyPublished):
        _draft(people)
    # Later facts change nothing of the published report.
    Recording.objects.update(collected_within_24h=True)
    report.refresh_from_db()
    assert report.figures["total"]["collection"] == 80.0
    assert bytes(report.files.get(fmt="pdf").content) == bytes(files["pdf"].content)
    assert AuditEntry.objects.filter(action="oversight.report.publish").count() == 1


def test_redrafting_a_draft_refreshes_it(november, people):
    first = _draft(people)
    Recording.objects.update(collected_within_24h=True)
    again = _draft(people)
    assert again.pk == first.pk and again.figures["total"]["collection"] == 100.0
    assert AuditEntry.objects.filter(action="oversight.report.draft").count() == 2


def test_only_inspectors_draft_and_publish_and_only_ended_periods(november, people):
    with pytest.raises(PermissionDenied):
        report_actions.draft_report(
            actor=people["squad_leader"], kind="month", year=2026, number=11, now=AS_OF
        )
    report = _draft(people)
    with pytest.raises(PermissionDenied):
        report_actions.publish_report(actor=people["brigade_leader"], report=report)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="尚未结束"):
        report_actions.draft_report(
            actor=people["inspector"], kind="month", year=2026, number=12, now=AS_OF
        )
    with pytest.raises(ValidationError, match="期间不正确"):
        report_actions.draft_report(
            actor=people["inspector"], kind="quarter", year=2026, number=5, now=AS_OF
        )
    assert datetime(2026, 12, 1, tzinfo=UTC) < AS_OF
