"""The recording list on a phone (375 px), in a real browser: one readable card per
recording with its integrity (C6.5.3/C6.5.4, reason as text), officer, start and
the late (C5.1) / overdue (C5.2) flags, no sideways scrolling, filters folded
behind "筛选"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import make_recording, recorder_for

pytestmark = pytest.mark.browser

NINE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
LONG_NAME = "DCIM/20261117/" + "A000001_900001_20261117090000_0002_长文件名" * 3 + ".MP4"


@pytest.fixture
def listed(transactional_db, settings, tmp_path, people, tree):
    use_store(settings, tmp_path, "file")
    recorder = recorder_for(people["officer"], tree["squad1"], "A000001")
    late = make_recording(
        officer=people["officer"],
        recorder=recorder,
        start=NINE - timedelta(days=3),
        docked_at=NINE,
        integrity="incomplete",
        name=LONG_NAME,
    )
    for i in range(3):
        make_recording(
            officer=people["officer"],
            recorder=recorder,
            start=NINE + timedelta(minutes=i),
            integrity="complete",
        )
    return late


def _inside(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375


def test_list_on_a_phone_shows_cards_without_sideways_scrolling(page, listed):
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, "officer")
    page.wait_for_url(page.base_url + "/")
    page.goto(page.base_url + "/recordings/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.evaluate("document.querySelector('.rec-table').scrollWidth") <= 375

    # The filters are folded: the recordings come first.
    form = page.locator("#recording-filters")
    assert not form.is_visible()
    toggle = page.locator("#filter-panel > summary")
    assert toggle.is_visible() and "筛选" in toggle.text_content()

    card = page.locator(f'tr[data-recording="{listed.pk}"]')
    for part, text in (
        (".rc-name", "长文件名"),
        (".rc-integrity .badge", "不完整"),
        (".rc-integrity .integrity-reason", "缺少索引（moov）"),
        (".rc-officer", "王五"),
        (".rc-start", "2026-11-17 09:00:00"),
        (".flag-late", "超过24小时"),
        (".flag-overdue", "超过48小时未标注"),
    ):
        cell = card.locator(part)
        assert cell.is_visible(), part
        assert text in cell.text_content(), part
        assert _inside(page, cell), part
    # A card stays short enough to see several at a glance.
    assert card.bounding_box()["height"] < 260
    assert page.locator("#recordings thead").is_hidden()

    # Unfolding the filters shows the form, every field within the screen.
    toggle.click()
    expect(form).to_be_visible()
    assert _inside(page, page.locator("#recording-filters select[name=officer]"))
    page.select_option("#recording-filters select[name=integrity]", "incomplete")
    page.click("#recording-filters button[type=submit]")
    page.wait_for_url("**/recordings/?*")
    assert page.locator("tr[data-recording]").count() == 1
    assert "已用 1 项" in page.locator("#filter-panel > summary").text_content()


def test_refused_filter_is_named_and_keeps_the_form_open_on_a_phone(page, listed):
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, "officer")
    page.wait_for_url(page.base_url + "/")
    page.goto(page.base_url + "/recordings/?late=1&integrity=incomplete")
    message = page.locator("#filter-errors")
    assert message.is_visible() and "超过24小时采集" in message.text_content()
    assert page.locator("#recording-filters").is_visible()
    assert page.locator("tr[data-recording]").count() == 1  # integrity still applies


def test_list_on_a_wide_screen_keeps_the_table_and_open_filters(page, listed):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "officer")
    page.wait_for_url(page.base_url + "/")
    page.goto(page.base_url + "/recordings/")
    assert page.locator("#recording-filters").is_visible()
    assert page.locator("#recordings thead").is_visible()
    assert page.locator(f'tr[data-recording="{listed.pk}"] .integrity-reason').is_visible()
