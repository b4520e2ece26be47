"""In a real browser: the rules find a late collection (C5.1), the officer
explains it with an attachment, the squad leader sees the explanation, and the
inspector confirms it and dismisses another (C6.4, C6.5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.casework.tests.conftest import T0
from jilu.oversight.models import Finding
from jilu.oversight.tasks import run_all

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_officer_explains_leader_sees_inspector_decides(
    page, transactional_db, people, tree, make_recording
):
    make_recording(start=T0, docked_at=T0 + timedelta(hours=30))
    make_recording(start=T0 + timedelta(days=2), docked_at=T0 + timedelta(days=3, hours=6))
    run_all()
    first, second = Finding.objects.filter(rule="late_collection").order_by("period_start")
    # The same recordings were not annotated within 48 hours either (C5.2).
    waiting = Finding.objects.filter(person=people["officer"], state="open").count()
    assert waiting == 4

    sign_in(page, "officer")
    expect(page.locator("#findings-waiting")).to_have_attribute("data-count", str(waiting))
    page.click("#findings-waiting a")
    page.click(f"tr[data-finding='{first.pk}'] a")
    expect(page.locator("#clause")).to_contain_text("C5.1")
    page.fill("textarea[name=text]", "记录仪电量耗尽，次日充电后才采集")
    page.set_input_files(
        "input[name=attachment]",
        {"name": "说明.pdf", "mimeType": "application/pdf", "buffer": PDF},
    )
    page.click("#submit-explanation")
    expect(page.locator("#state")).to_have_attribute("data-state", "explained")
    expect(page.locator("#explanation-text")).to_contain_text("电量耗尽")
    expect(page.locator("#explain")).to_have_count(0)

    page.context.clear_cookies()
    sign_in(page, "squad_leader")
    unit_open = Finding.objects.restrict(people["squad_leader"]).filter(state="open").count()
    expect(page.locator("#findings-unit")).to_have_attribute("data-count", str(unit_open))
    page.click("#findings-unit a.findings-all")
    expect(page.locator(f"tr[data-finding='{second.pk}']")).to_be_visible()
    page.goto(f"{page.base_url}/oversight/findings/{first.pk}/")
    expect(page.locator("#explanation-text")).to_contain_text("电量耗尽")
    expect(page.locator("#attachment")).to_contain_text("说明.pdf")
    expect(page.locator("#decide")).to_have_count(0)  # leaders do not decide

    page.context.clear_cookies()
    sign_in(page, "inspector")
    all_open = Finding.objects.filter(state="open").count()
    expect(page.locator("#findings-open")).to_have_attribute("data-count", str(all_open))
    expect(page.locator("#findings-by-clause li[data-clause='C5.1'] strong")).to_have_text("1")
    page.click("#findings-by-clause li[data-clause='C5.1'] a")
    expect(page.locator(f"tr[data-finding='{first.pk}']")).to_have_count(0)  # explained: not open
    page.goto(f"{page.base_url}/oversight/findings/?clause=C5.1")
    page.click(f"tr[data-finding='{first.pk}'] a")
    page.fill("textarea[name=reason]", "核实：电量不足属实，但未按规定及时充电")
    page.click("#confirm")
    expect(page.locator("#state")).to_have_attribute("data-state", "confirmed")
    expect(page.locator("#decision-reason")).to_contain_text("未按规定")
    page.goto(f"{page.base_url}/oversight/findings/{second.pk}/")
    page.fill("textarea[name=reason]", "当日工作站停电，已另行登记")
    page.click("#dismiss")
    expect(page.locator("#state")).to_have_attribute("data-state", "dismissed")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == "confirmed" and first.decided_by == people["inspector"]
    assert first.attachment_name == "说明.pdf"
    assert second.state == "dismissed"
