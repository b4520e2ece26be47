"""The legal review loop seen from the home pages (C5.5, C5.2), through the test
client and in a real browser.

A legal reviewer's home counts the hand-overs waiting for review and opens the
oldest; a case handler's home names the cases returned for correction and
their cases with recordings past the 48-hour annotation deadline. In the
browser the whole loop runs: the reviewer returns the case with a note and a
reason on one row, the handler reads them on the home card, the case page and
the package page, corrects the row and hands a new version over again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from jilu.casework.tests.documents_data import activity, build_case, recording
from jilu.transfer import actions
from jilu.transfer.models import Package

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
NOTE = "请补正后重新移送"
REASON = "询问笔录开头未录制告知内容，请在标注中注明告知内容所在"


@pytest.fixture
def loop(people, tree, recorders, party, settings, tmp_path):
    """A case handed over once (version 1), and a second open case of the same
    handler with a recording past the 48-hour deadline (C5.2)."""
    settings.TASKS = IMMEDIATE
    settings.TRANSFER_PACKAGE_DIR = tmp_path / "packages"
    data = build_case(people, tree, recorders, party)
    from jilu.casework import actions as casework

    other = casework.create_case(
        actor="system:test",
        number="思城执罚〔2026〕31号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
        party=party,
    )
    start = timezone.now() - timedelta(days=3)
    act = activity(people, tree, party, kind="S1", start=start, case=other)
    recording(recorders["officer"], people["officer"], start=start, minutes=10, seq=9)
    listed = recording(recorders["officer_b"], people["officer_b"], start=start, minutes=60, seq=9)
    casework.annotate(actor="system:test", recording=listed, activity=act, step="site_survey")
    data["overdue_case"] = other
    return data


def _hand_over(people, case):
    """Build a package version (as the worker does) and hand it over."""
    from jilu.transfer.tasks import build_package_job

    package = actions.request_package(actor=people["case_handler"], case=case)
    package.refresh_from_db()
    if package.state != Package.State.READY:  # not yet built by an on-commit enqueue
        assert build_package_job.call(package.pk) == "ready"
        package.refresh_from_db()
    return actions.transfer_case(
        actor=people["case_handler"], package=package, coverage_acknowledged=True
    )


def _return(people, review):
    reviewer = people["legal_reviewer"]
    for no in (1, 2, 3, 5):
        actions.mark_row(actor=reviewer, review=review, list_no=no, verdict="ok")
    actions.mark_row(actor=reviewer, review=review, list_no=4, verdict="problem", reason=REASON)
    actions.decide(actor=reviewer, review=review, decision="returned", note=NOTE)


def _card(body: str, card_id: str) -> str:
    return body[body.index(f'id="{card_id}"') :].split("</section>")[0]


# --- through the test client ------------------------------------------------------


def test_reviewer_home_counts_the_hand_overs_waiting(loop, people, client):
    client.force_login(people["legal_reviewer"])
    card = _card(client.get("/").content.decode(), "reviews-waiting")
    assert 'data-count="0"' in card
    transfer = _hand_over(people, loop["case"])
    card = _card(client.get("/").content.decode(), "reviews-waiting")
    assert 'data-count="1"' in card and loop["case"].number in card
    assert reverse("transfer:review_detail", args=[transfer.review.pk]) in card
    assert reverse("transfer:review_queue") in card
    _return(people, transfer.review)
    assert 'data-count="0"' in _card(client.get("/").content.decode(), "reviews-waiting")


def test_handler_home_names_returned_and_overdue_cases(loop, people, client):
    transfer = _hand_over(people, loop["case"])
    client.force_login(people["case_handler"])
    body = client.get("/").content.decode()
    assert 'data-count="0"' in _card(body, "returned-cases")
    overdue = _card(body, "cases-overdue-annotation")
    assert 'data-count="1"' in overdue and loop["overdue_case"].number in overdue
    assert reverse("casework:case_detail", args=[loop["overdue_case"].pk]) in overdue
    assert "1 条未标注" in overdue
    _return(people, transfer.review)
    returned = _card(client.get("/").content.decode(), "returned-cases")
    assert 'data-count="1"' in returned
    assert reverse("casework:case_detail", args=[loop["case"].pk]) in returned
    # Others have none of these cards.
    client.force_login(people["officer"])
    body = client.get("/").content.decode()
    assert "returned-cases" not in body and "reviews-waiting" not in body
    client.force_login(people["legal_reviewer"])
    assert "returned-cases" not in client.get("/").content.decode()


# --- in a real browser ----------------------------------------------------------


def _no_sideways_scroll(page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.browser
def test_return_loop_in_the_browser(transactional_db, page, people, loop):
    """C5.5: returned with a note and a row mark → the handler reads them on the
    home card, the case page and the package page, corrects the row and re-submits."""
    case = loop["case"]
    page.set_viewport_size({"width": 1366, "height": 900})
    _hand_over(people, case)

    # The reviewer's home says one hand-over waits; it opens the review.
    sign_in(page, "legal_reviewer")
    waiting = page.locator("#reviews-waiting")
    expect(waiting).to_have_attribute("data-count", "1")
    waiting.get_by_role("link", name="审核这一件").click()
    expect(page.get_by_role("heading", name=f"法制审核：{case.number}")).to_be_visible()
    for no in (1, 2, 3, 5):
        page.get_by_label(f"序号 {no} 的结论").select_option("ok")
    page.get_by_label("序号 4 的结论").select_option("problem")
    page.get_by_label("序号 4 的问题原因").fill(REASON)
    page.get_by_role("button", name="保存逐项结论").click()
    expect(page.get_by_text("已保存 5 条逐项结论")).to_be_visible()
    decide = page.locator("#decide-form")
    decide.get_by_label("审核结论").select_option("returned")
    decide.get_by_label("审核意见").fill(NOTE)
    decide.get_by_role("button", name="提交审核结论").click()
    expect(page.get_by_text("审核结论已记录")).to_be_visible()
    page.goto(page.base_url + "/")
    expect(page.locator("#reviews-waiting")).to_have_attribute("data-count", "0")
    page.click("#sign-out")

    # The handler's home names the returned case; the case page has the reasons.
    sign_in(page, "case_handler")
    returned = page.locator("#returned-cases")
    expect(returned).to_have_attribute("data-count", "1")
    returned.get_by_role("link", name=case.number).click()
    card = page.locator("#review-returned")
    expect(card).to_contain_text("法制审核退回补正")
    expect(card.locator(".review-note")).to_have_text(NOTE)
    expect(card.locator('tr[data-no="4"]')).to_contain_text(REASON)

    # The package page has them too.
    card.get_by_role("link", name="光盘包与移送").click()
    expect(page.locator("#return-note")).to_have_text(NOTE)
    expect(page.locator("#return-reasons")).to_contain_text(REASON)

    # The handler corrects row 4 from the link beside its reason.
    page.locator('#return-reasons tr[data-no="4"] a').click()
    page.get_by_role("link", name="重新标注").click()
    form = page.locator("#annotate-form")
    form.get_by_label("说明").fill("告知内容见序号 3 的现场勘验记录")
    form.get_by_role("button", name="重新标注").click()
    expect(page.locator("#standard-name")).to_be_visible()
    expect(page.get_by_text("告知内容见序号 3 的现场勘验记录")).to_be_visible()

    # …then makes version 2 and hands it over, confirming the coverage warning.
    page.goto(f"{page.base_url}/transfer/cases/{case.pk}/")
    page.locator("#build-form").get_by_role("button", name="制作新版本").click()
    newest = page.locator("#packages tbody tr").first
    expect(newest).to_contain_text("v2")
    expect(newest).to_contain_text("已完成", timeout=60000)
    expect(page.locator("#coverage-warning")).to_be_visible()
    page.locator("#transfer-form").get_by_label("我已核对上列未全程录制的活动").check()
    page.get_by_role("button", name="移送第 2 版至法制审核").click()
    expect(page.locator("#case-status")).to_have_text("已移送法制审核")
    page.goto(page.base_url + "/")
    expect(page.locator("#returned-cases")).to_have_attribute("data-count", "0")
    page.click("#sign-out")

    # Version 2 waits for the reviewer.
    sign_in(page, "legal_reviewer")
    expect(page.locator("#reviews-waiting")).to_have_attribute("data-count", "1")
    expect(page.locator("#reviews-waiting")).to_contain_text(case.number)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1366, 390])
def test_home_cards_at_desk_and_phone_widths(transactional_db, page, people, loop, width):
    """The new cards read and work on a desk screen and on a phone, without sideways scrolling."""
    case = loop["case"]
    _return(people, _hand_over(people, case).review)
    page.set_viewport_size({"width": width, "height": 900})

    sign_in(page, "case_handler")
    returned = page.locator("#returned-cases")
    expect(returned).to_have_attribute("data-count", "1")
    expect(returned).to_be_visible()
    overdue = page.locator("#cases-overdue-annotation")
    expect(overdue).to_have_attribute("data-count", "1")
    expect(overdue).to_contain_text(loop["overdue_case"].number)
    _no_sideways_scroll(page)
    returned.get_by_role("link", name=case.number).click()
    expect(page.locator("#review-returned")).to_contain_text(REASON)
    _no_sideways_scroll(page)
    page.click("#sign-out")

    _hand_over(people, loop["overdue_case"])  # now waiting for review
    sign_in(page, "legal_reviewer")
    waiting = page.locator("#reviews-waiting")
    expect(waiting).to_have_attribute("data-count", "1")
    expect(waiting).to_contain_text(loop["overdue_case"].number)
    _no_sideways_scroll(page)
    waiting.get_by_role("link", name="查看待审核案件").click()
    expect(page.locator("#review-queue")).to_contain_text(loop["overdue_case"].number)
