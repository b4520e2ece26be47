"""In a real browser: an officer asks for a copy, the squad leader approves, the
archivist downloads the original and records the hand-over (C6.3, C6.5.7)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.access.models import AccessRequest
from jilu.access.tests.conftest import DATA, START
from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import officers_recording

pytestmark = pytest.mark.browser


@pytest.fixture
def rec(transactional_db, settings, tmp_path, people, tree):
    from django.core.cache import cache

    cache.clear()
    use_store(settings, tmp_path, "file")
    return officers_recording(
        people, tree, start=START, data=DATA, name="A000001_900001_20261120090000_0001.MP4"
    )


def test_request_approve_copy_and_provide_in_the_browser(page, rec, browser, live_server):
    # The officer sees no download, only the request button (C6.3).
    sign_in(page, "officer")
    page.goto(f"{page.base_url}/recordings/{rec.pk}/")
    expect(page.locator("#download")).to_have_count(0)
    page.click("#request-copy")
    page.click("#submit-request")  # no purpose yet: a clear error, nothing saved
    expect(page.locator("#form-errors")).to_contain_text("请写明调用事由")
    page.fill("textarea[name=purpose]", "违法建设案件复核，需提交法制部门")
    expect(page.locator(f"#rec-{rec.pk}")).to_be_checked()
    page.click("#submit-request")
    expect(page.locator("#status")).to_have_text("待审批")
    number = page.locator("#number").inner_text()
    page.click(".mainnav a:has-text('调用申请')")
    expect(page.locator("#requests")).to_contain_text(number)

    leader = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    leader.base_url = page.base_url
    sign_in(leader, "squad_leader")
    expect(leader.locator("#access-approve")).to_have_attribute("data-count", "1")
    leader.click("#access-approve a")
    leader.click(f"#requests a:has-text('{number}')")
    leader.fill("textarea[name=note]", "同意复制一份")
    leader.click("#approve")
    expect(leader.locator("#status")).to_have_text("已批准")
    expect(leader.locator("#decision-note")).to_have_text("同意复制一份")
    leader.context.close()

    archivist = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True
    ).new_page()
    archivist.base_url = page.base_url
    sign_in(archivist, "archivist")
    archivist.click("#access-provide a")
    archivist.click(f"#requests a:has-text('{number}')")
    with archivist.expect_download() as info:
        archivist.click(f"[data-download='{rec.pk}']")
    download = info.value
    assert download.suggested_filename == "A000001_900001_20261120090000_0001.MP4"
    with open(download.path(), "rb") as fh:
        assert fh.read() == DATA
    archivist.reload()
    expect(archivist.locator("#items")).to_contain_text("archivist")
    archivist.select_option("select[name=medium]", "disc")
    archivist.fill("input[name=recipient_note]", "王五本人领取")
    archivist.click("#mark-provided")
    expect(archivist.locator("#status")).to_have_text("已提供")
    expect(archivist.locator("#mark-provided")).to_have_count(0)
    archivist.context.close()

    req = AccessRequest.objects.get(number=number)
    assert req.status == "provided" and req.copies.count() == 1
    page.goto(f"{page.base_url}/access/{req.pk}/print/")
    expect(page.locator("body")).to_contain_text(rec.sha256)
    expect(page.locator("body")).to_contain_text("领取人签名")


def test_print_page_fits_a_phone(page, rec, people):
    """The screen view of the printed 调用单 fits a 375 px phone (the A4 print
    layout is unchanged)."""
    from jilu.access.testing import grant_copy

    req = grant_copy(people["archivist"], [rec])
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, "officer")
    page.goto(f"{page.base_url}/access/{req.pk}/print/")
    expect(page.locator("body")).to_contain_text(rec.sha256[:16])
    expect(page.locator("#decision")).to_contain_text("批准：同意")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
