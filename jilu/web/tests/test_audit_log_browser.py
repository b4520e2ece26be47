"""In a real browser: an inspector finds what one officer did on one day in the
audit log, reads it in words and exports exactly those entries (C6.4, C6.5.7)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import openpyxl
import pytest
from django.db import transaction
from freezegun import freeze_time
from playwright.sync_api import expect

from conftest import sign_in
from jilu.audit.chain import record
from jilu.audit.models import AuditEntry


def put(code, *, actor, at, **kwargs):
    with freeze_time(at), transaction.atomic():
        return record(code, actor=actor, **kwargs)


@pytest.mark.browser
def test_inspector_filters_by_person_and_date_and_exports(
    transactional_db, page, people, make_recording, tmp_path
):
    rec = make_recording("officer")
    day = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    wanted = [
        put("evidence.recording.view", actor=people["officer"], at=day, obj=rec),
        put(
            "evidence.recording.play",
            actor=people["officer"],
            at=day.replace(hour=3),
            obj=rec,
            details={"derived": True, "via": "web"},
        ),
    ]
    put("evidence.recording.view", actor=people["officer_b"], at=day, obj=rec)  # someone else
    put("evidence.recording.view", actor=people["officer"], at=day.replace(day=21), obj=rec)

    sign_in(page, "inspector")
    page.wait_for_url(page.base_url + "/")
    page.get_by_role("link", name="审计日志").first.click()
    expect(page.get_by_role("heading", name="审计日志")).to_be_visible()
    page.fill("input[name=date_from]", "2026-11-20")
    page.fill("input[name=date_to]", "2026-11-20")
    page.fill("input[name=person]", "王五")
    page.get_by_role("button", name="筛选").click()

    rows = page.locator("#audit-entries tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#audit-summary")).to_contain_text("操作人 王五")
    expect(page.locator("#audit-summary")).to_contain_text("共 2 条")
    first = rows.first
    expect(first).to_contain_text("2026-11-20 11:00:00")  # Beijing time
    expect(first).to_contain_text("播放")
    expect(first).to_contain_text("播放派生播放副本，经网页")
    expect(first.locator("td.object")).to_contain_text(rec.original_name)
    expect(first).not_to_contain_text("evidence.recording.play")  # no code as text
    expect(first.locator("td.action span")).to_have_attribute(  # but kept for tools
        "title", re.compile(r"evidence\.recording\.play$")
    )
    expect(rows.nth(1)).to_contain_text("查看")

    with page.expect_download() as download:
        page.locator("#audit-export").click()
    path = tmp_path / "audit.xlsx"
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).worksheets[0]
    exported = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in exported] == [e.seq for e in reversed(wanted)]
    assert exported[0][1] == datetime(2026, 11, 20, 11, 0)
    assert exported[0][6] == "播放派生播放副本，经网页"
    export = AuditEntry.objects.get(action="audit.log.export")
    assert export.actor_id == people["inspector"].pk and export.details["rows"] == 2

    # A date the log cannot read is said plainly; the page still works.
    page.goto(page.base_url + "/audit/?date_from=1999-01-01&person=王五")
    expect(page.locator("#filter-errors")).to_contain_text("日期应在 2000 年至 2099 年之间")
