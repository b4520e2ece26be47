"""In a real browser (C6.4): an inspector drafts November's city report,
reads it with its charts and publishes it; a squad leader then finds it on
their home page, opens it, and sees their unit's rates against the goals."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.audit.models import AuditEntry
from jilu.oversight.report_models import Report

pytestmark = pytest.mark.browser

LOADED = "img => img.complete && img.naturalWidth > 0"


def test_inspector_drafts_and_publishes_leader_sees_it_on_home(transactional_db, page, november):
    sign_in(page, "inspector")
    page.wait_for_url(page.base_url + "/")
    # The inspector's home: the findings trend as a chart.
    expect(page.locator("#findings-trend-card img")).to_be_visible()
    assert page.locator("#findings-trend-card img").evaluate(LOADED)
    page.locator("nav.mainnav").get_by_role("link", name="通报").click()
    expect(page.locator("h1")).to_have_text("通报")
    page.select_option("#draft-kind", "month")
    page.fill("input[name=year]", "2026")
    page.select_option("select[name=month]", "11")
    page.select_option("select[name=unit]", "")
    page.click("#draft-submit")
    expect(page.locator("#report-title")).to_have_text("全市2026年11月执法记录仪使用管理情况通报")
    expect(page.locator("#draft")).to_be_visible()
    expect(page.locator('#rates-table tr[data-rate="coverage"] .value')).to_have_text("66.7%")
    expect(page.locator('#rates-table tr[data-rate="collection"] .value')).to_have_text("80.0%")
    charts = page.locator("figure.chart img")
    expect(charts).to_have_count(3)
    for i in range(3):
        charts.nth(i).scroll_into_view_if_needed()
        page.wait_for_function(
            "el => el.complete && el.naturalWidth > 0", arg=charts.nth(i).element_handle()
        )
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publish")
    expect(page.locator("#published")).to_be_visible()
    expect(page.locator("#publish")).to_have_count(0)
    report = Report.objects.get()
    entry = AuditEntry.objects.get(action="oversight.report.publish")
    pdf = report.files.get(fmt="pdf")
    assert entry.details["pdf_sha256"] == pdf.sha256
    expect(page.locator("#frozen-files")).to_contain_text(pdf.sha256)

    page.context.clear_cookies()
    sign_in(page, "squad_leader")
    page.wait_for_url(page.base_url + "/")
    card = page.locator("#reports-card")
    expect(card.locator(f'li[data-report="{report.pk}"]')).to_contain_text("2026年11月 · 全市")
    # Their unit's rates against the goals (the last 30 days).
    expect(page.locator('#unit-rates-card tr[data-rate="coverage"]')).to_be_visible()
    card.get_by_role("link", name="2026年11月 · 全市").click()
    expect(page.locator("#published")).to_be_visible()
    expect(page.locator("#units-table tr", has_text="中华中队")).to_contain_text("75.0%")
    with page.expect_download() as info:
        page.click("#download-pdf")
    assert open(info.value.path(), "rb").read() == bytes(pdf.content)
