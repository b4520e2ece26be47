"""In a real browser: an officer asks for a copy, the squad leader approves, the
archivist downloads the original and records the hand-over (C6.3, C6.5.7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.access.models import AccessRequest
from jilu.access.tests.conftest import DATA, START
from jilu.access.tests.copies_data import extract, video_recording
from jilu.access.watermark import read_copy_id
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


def test_request_approve_package_and_identify_in_the_browser(
    page, rec, browser, live_server, people, tmp_path, settings
):
    """C6.3: request for viewing → approval → the archivist's one step makes the
    package; C6.5.2: the inspector drops the viewing copy found outside on the
    identify page, and the copy ID read from the file names the request and the
    recipient."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.ACCESS_PACKAGE_DIR = tmp_path / "access-packages"
    video = video_recording(people, rec.recorder, tmp_path)
    # The officer sees no download, only the request button (C6.3).
    sign_in(page, "officer")
    page.goto(f"{page.base_url}/recordings/{video.pk}/")
    expect(page.locator("#download")).to_have_count(0)
    page.click("#request-copy")
    page.click("#submit-request")  # no purpose yet: a clear error, nothing saved
    expect(page.locator("#form-errors")).to_contain_text("请写明调用事由")
    page.fill("textarea[name=purpose]", "市民投诉复核，仅供查看")
    page.check("#use-viewing")
    expect(page.locator(f"#rec-{video.pk}")).to_be_checked()
    page.click("#submit-request")
    expect(page.locator("#status")).to_have_text("待审批")
    expect(page.locator("#use")).to_have_attribute("data-use", "viewing")
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
    archivist.fill("input[name=recipient]", "赵六")
    archivist.select_option("select[name=medium]", "usb")
    archivist.click("#fulfil")
    expect(archivist.locator("#status")).to_have_text("已提供", timeout=60000)
    expect(archivist.locator("#recipient")).to_have_text("赵六")
    expect(archivist.locator("#register")).to_contain_text("带水印的查看副本")
    with archivist.expect_download() as info:
        archivist.click(".package-download")
    download = info.value
    assert download.suggested_filename == f"{number}.zip"
    root = extract(Path(download.path()), tmp_path / "received")
    leaked = next((root / "data" / "查看副本").iterdir())
    archivist.context.close()

    req = AccessRequest.objects.get(number=number)
    viewing = req.issued.get(kind="viewing")
    copy_id = read_copy_id(leaked)
    assert copy_id == viewing.copy_id

    inspector = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    inspector.base_url = page.base_url
    sign_in(inspector, "inspector")
    inspector.goto(f"{page.base_url}/access/")
    inspector.click("#identify-link")
    inspector.set_input_files("#file", str(leaked))
    inspector.click("#identify-upload")
    expect(inspector.locator("#result")).to_have_attribute("data-found", "1")
    expect(inspector.locator("#read-copy-id")).to_have_text(copy_id)
    expect(inspector.locator("#verdict")).to_contain_text(f"这是调用单 {number} 提供给 赵六")
    # The ID alone, as read from the file, names the same request.
    inspector.fill("#copy-id", copy_id)
    inspector.click("#identify-lookup")
    expect(inspector.locator("#matches .request-number")).to_have_text(number)
    expect(inspector.locator("#matches .recipient")).to_have_text("赵六")
    inspector.click(f"#matches a:has-text('{number}')")
    expect(inspector.locator("#status")).to_have_text("已提供")
    inspector.context.close()

    page.goto(f"{page.base_url}/access/{req.pk}/print/")
    expect(page.locator("body")).to_contain_text(video.sha256)
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


def test_package_page_polls_the_background_build(page, rec, people, tmp_path, settings):
    """C6.3: the build runs in the worker; the request page shows its progress
    and then the provided request with the package to download."""
    from jilu.access import actions
    from jilu.access.models import CopyPackage
    from jilu.access.tasks import build_copy_package_job

    settings.ACCESS_PACKAGE_DIR = tmp_path / "access-packages"
    req = actions.create_request(
        actor=people["officer"], purpose="移送复核", recording_ids=[rec.pk], use="evidence"
    )
    actions.approve(actor=people["squad_leader"], request=req)
    sign_in(page, "archivist")
    page.goto(f"{page.base_url}/access/{req.pk}/")
    page.fill("input[name=recipient]", "王五")
    page.select_option("select[name=medium]", "disc")
    page.click("#fulfil")
    expect(page.locator("#status")).to_have_text("正在制作复制件")
    row = page.locator("#packages tbody tr").first
    expect(row.locator("progress")).to_be_visible()  # queued for the worker
    package = CopyPackage.objects.get(request=req)
    assert build_copy_package_job.call(package.pk) == "ready"  # what the worker runs
    expect(page.locator("#status")).to_have_text("已提供")  # the page reloads itself
    expect(page.locator(".package-download")).to_be_visible()
    expect(page.locator("#register")).to_contain_text("原始文件")
