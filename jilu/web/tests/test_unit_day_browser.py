"""In a real browser on a phone: a squad leader opens yesterday's unit day from the
home page and sees who recorded and where an activity went unrecorded (C2.1, C4.3)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from jilu.evidence.timeline import SHANGHAI


@pytest.mark.browser
def test_squad_leader_reads_the_unit_day_on_a_phone(
    transactional_db, page, people, tree, make_recording, make_activity
):
    yesterday = timezone.localtime(timezone.now()).date() - timedelta(days=1)
    nine = datetime.combine(yesterday, time(9), tzinfo=SHANGHAI).astimezone(UTC)
    make_activity(start=nine, minutes=60)  # 王五 and 李四
    make_recording("officer", start=nine, minutes=30)  # the second half hour is missing

    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, "squad_leader")
    page.wait_for_url(page.base_url + "/")
    page.locator("#unit-day-card").get_by_role("link", name="昨天").click()
    expect(page.get_by_role("heading", name="单位执勤时间轴")).to_be_visible()
    expect(page.locator("#flagged-count")).to_contain_text("2 人需要核查")
    wang = page.locator(f'.lane[data-officer="{people["officer"].pk}"]')
    expect(wang).to_contain_text("王五")
    expect(wang).to_contain_text("未录制 30分")
    expect(wang.locator(".bar.rec-pending, .bar.rec-complete").first).to_be_visible()
    expect(wang.locator(".bar.gap-unexplained")).to_have_count(1)
    # The lanes fit the phone: names above their bars, nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    box = wang.locator(".track").bounding_box()
    assert box is not None and box["width"] > 250
    # The name opens the officer's own day.
    wang.get_by_role("link", name="王五").click()
    expect(page.locator("h1")).to_contain_text("王五")
