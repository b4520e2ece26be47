"""In a real browser: a refused attachment keeps the explanation typed, with the
error beside the file; on a phone the findings list fits the screen (C6.5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.casework.tests.conftest import T0
from jilu.oversight.models import Finding
from jilu.oversight.tasks import run_all

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def late(transactional_db, people, tree, make_recording, make_activity):
    make_activity(start=T0 - timedelta(days=1), officers=("officer", "officer_b"))
    make_recording(start=T0, docked_at=T0 + timedelta(hours=30))
    run_all()
    return Finding.objects.filter(rule="late_collection").get()


def test_a_refused_attachment_keeps_the_text(page, late):
    sign_in(page, "officer")
    page.goto(f"{page.base_url}/oversight/findings/{late.pk}/")
    page.fill("textarea[name=text]", "记录仪电量耗尽，次日充电后才采集")
    page.set_input_files(
        "input[name=attachment]",
        {"name": "照片.png", "mimeType": "image/png", "buffer": b"GIF89a not a png"},
    )
    page.click("#submit-explanation")
    error = page.locator("#explain [data-error=attachment]")
    expect(error).to_contain_text("附件只能是 PDF、JPEG 或 PNG 文件")
    expect(page.locator("textarea[name=text]")).to_have_value("记录仪电量耗尽，次日充电后才采集")
    # The error sits right after the file field, not at the top of the page.
    assert page.evaluate(
        "document.querySelector('#explain [data-error=attachment]').previousElementSibling"
        ".querySelector('input[type=file]') !== null"
    )
    expect(page.locator("#state")).to_have_attribute("data-state", "open")


@pytest.mark.parametrize("username", ["officer", "inspector"])
def test_the_findings_list_fits_a_phone(page, late, username):
    page.set_viewport_size(PHONE)
    sign_in(page, username)
    page.goto(f"{page.base_url}/oversight/findings/")
    expect(page.locator(f"tr[data-finding='{late.pk}']")).to_be_visible()
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], width
    # Each finding's state is on screen, not past its right edge.
    box = page.locator(f"tr[data-finding='{late.pk}'] .badge").bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
