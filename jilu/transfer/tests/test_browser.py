"""In a real browser (C5.5, C5.4, A2, C6.5.3): a case handler builds the disc
package and transfers it to legal; a legal reviewer opens it from the queue,
sees the record-list rows, verifies the package against the stored
originals, marks a row with a problem and returns the case; the handler sees
the reason on the case's package page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.casework.models import Case
from jilu.casework.tests.conftest import _file_store, party, recorders  # noqa: F401
from jilu.casework.tests.documents_data import build_case
from jilu.transfer.models import Review

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.mark.browser
def test_handler_transfers_reviewer_returns_handler_sees_reason(
    transactional_db,
    page,
    people,
    tree,
    recorders,  # noqa: F811
    party,  # noqa: F811
    settings,
    tmp_path,
):
    settings.TASKS = IMMEDIATE
    settings.TRANSFER_PACKAGE_DIR = tmp_path / "packages"
    data = build_case(people, tree, recorders, party)
    case = data["case"]
    packages_url = f"{page.base_url}/transfer/cases/{case.pk}/"

    # The handler builds the package (background job with progress) and transfers it.
    sign_in(page, "case_handler")
    page.goto(packages_url)
    expect(page.get_by_role("heading", name="光盘包与移送法制审核")).to_be_visible()
    build = page.locator("#build-form")
    build.get_by_label("光盘类型").select_option("dvd")
    build.get_by_role("button", name="制作光盘包").click()
    row = page.locator("#packages tbody tr").first
    expect(row).to_contain_text("已完成", timeout=60000)
    expect(row).to_contain_text("第 1 张 共 1 张")
    page.locator("#transfer-form").get_by_label("移送说明").fill("请审核")
    # Activity 1 has an unrecorded stretch (C4.3): the handler confirms having seen it.
    expect(page.locator("#coverage-warning")).to_contain_text("09:20:00–10:00:00")
    page.locator("#transfer-form").get_by_label("我已核对上列未全程录制的活动").check()
    page.get_by_role("button", name="移送第 1 版至法制审核").click()
    expect(page.locator("#case-status")).to_have_text("已移送法制审核")
    expect(page.locator("#locked-note")).to_be_visible()
    page.click("#sign-out")

    # The reviewer opens it from the queue and sees every row of the record list.
    sign_in(page, "legal_reviewer")
    page.goto(page.base_url + "/transfer/reviews/")
    page.locator("#review-queue").get_by_role("link", name=case.number).click()
    rows = page.locator("#review-rows tbody tr")
    expect(rows).to_have_count(5)
    first = data["recordings"][0]
    expect(rows.first.locator(f'a[href="/recordings/{first.pk}/"]')).to_be_visible()
    expect(rows.first).to_contain_text("完整")

    # Verify against the stored originals: every file re-hashed, all consistent.
    page.get_by_role("button", name="对照存储原件核验").click()
    expect(page.locator("#check-result")).to_have_attribute("data-ok", "1")
    expect(page.locator("#check-result")).to_contain_text("7 个文件")
    expect(rows.first.locator(".row-check")).to_have_text("一致")

    # Mark the rows and return the case with a reason for row 4.
    for no in (1, 2, 3, 5):
        page.get_by_label(f"序号 {no} 的结论").select_option("ok")
    page.get_by_label("序号 4 的结论").select_option("problem")
    page.get_by_label("序号 4 的问题原因").fill("询问笔录开头未录制告知内容")
    page.get_by_role("button", name="保存逐项结论").click()
    expect(page.get_by_text("已保存 5 条逐项结论")).to_be_visible()
    decide = page.locator("#decide-form")
    decide.get_by_label("审核结论").select_option("returned")
    decide.get_by_label("审核意见").fill("请补正后重新移送")
    decide.get_by_role("button", name="提交审核结论").click()
    expect(page.get_by_text("审核结论已记录")).to_be_visible()
    page.click("#sign-out")

    # The handler sees the reasons; the case is open again for correction.
    sign_in(page, "case_handler")
    page.goto(packages_url)
    returned = page.locator("#returned")
    expect(returned).to_contain_text("法制审核退回补正")
    expect(page.locator("#return-reasons")).to_contain_text("询问笔录开头未录制告知内容")
    expect(page.locator("#return-note")).to_have_text("请补正后重新移送")
    expect(page.locator("#case-status")).to_have_text("办理中")
    review = Review.objects.get(transfer__case=case)
    assert review.decision == Review.Decision.RETURNED
    assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN


@pytest.mark.browser
def test_package_page_polls_the_progress_of_the_background_build(
    transactional_db,
    page,
    people,
    tree,
    recorders,  # noqa: F811
    party,  # noqa: F811
    settings,
    tmp_path,
):
    """C5.5: the build runs in the worker; the page shows its progress and then the result."""
    from jilu.transfer.models import Package
    from jilu.transfer.tasks import build_package_job

    settings.TRANSFER_PACKAGE_DIR = tmp_path / "packages"
    case = build_case(people, tree, recorders, party)["case"]
    sign_in(page, "case_handler")
    page.goto(f"{page.base_url}/transfer/cases/{case.pk}/")
    page.locator("#build-form").get_by_role("button", name="制作光盘包").click()
    row = page.locator("#packages tbody tr").first
    expect(row.locator("progress")).to_be_visible()  # queued for the worker
    expect(row).to_contain_text("排队等待制作")
    package = Package.objects.get(case=case)
    assert build_package_job.call(package.pk) == "ready"  # what the worker runs
    expect(row).to_contain_text("已完成", timeout=15000)  # the page polled and reloaded
    expect(page.locator("#transfer-form")).to_be_visible()
