"""In a real browser (C6.4): the inspector draws a spot check from the
navigation, plays a sampled recording from it, reviews each item against the
C4 / A1 checklist, completes it (a failed item becomes a finding) and redraws
it from the stored seed; the squad leader reads it, read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.oversight.models import Finding, SpotCheck
from jilu.oversight.spotcheck_checklist import RECORDING_ITEMS
from jilu.oversight.tests.spotcheck_fixtures import WEEK48

pytestmark = pytest.mark.browser


def test_inspector_draws_reviews_completes_and_redraws(
    transactional_db, page, people, tree, make_recording
):
    for k in range(3):
        make_recording("officer", start=WEEK48 + timedelta(hours=k))
    make_recording("officer_other", start=WEEK48)

    sign_in(page, "inspector")
    page.wait_for_url(page.base_url + "/")
    page.locator("nav.mainnav").get_by_role("link", name="抽检").click()
    expect(page.locator("h1")).to_have_text("抽检")
    page.click("#new-spotcheck")
    page.fill("input[name=first_day]", "2026-11-29")  # after the last day: an empty period
    page.fill("input[name=last_day]", "2026-11-23")
    page.fill("input[name=per_stratum]", "2")
    page.check(f"#units input[value='{tree['squad1'].pk}']")
    page.click("#submit-draw")
    expect(page.locator("ul.messages")).to_contain_text("这个期间是空的")
    expect(page.locator(f"#units input[value='{tree['squad1'].pk}']")).to_be_checked()
    page.fill("input[name=first_day]", "2026-11-23")
    page.fill("input[name=last_day]", "2026-11-29")
    page.click("#submit-draw")
    expect(page.locator("#state")).to_have_attribute("data-state", "open")
    spot = SpotCheck.objects.get()
    expect(page.locator(".spot-item")).to_have_count(2)
    expect(page.locator("#seed")).to_have_text(spot.seed)

    # Play the first sampled recording from its page (access rules of the recording page).
    first = spot.items.get(position=1)
    page.click("#item-1 a.play")
    page.wait_for_url(f"**/{first.recording_id}/**")
    page.go_back()

    for position, failed in ((1, None), (2, "certificate")):
        section = page.locator(f"#item-{position}")
        for check in RECORDING_ITEMS:
            outcome = "fail" if check.code == failed else "pass"
            section.locator(f"input[name='mark-{check.code}'][value='{outcome}']").check()
        if failed:
            section.locator("textarea[name=note]").fill("未向当事人出示执法证件")
        section.locator("button.save-review").click()
        expect(page.locator(f"#item-{position}")).to_have_attribute("data-reviewed", "true")
    expect(page.locator("#reviewed")).to_have_text("2")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#complete")
    expect(page.locator("#state")).to_have_attribute("data-state", "completed")
    expect(page.locator("#score")).to_have_text(str(round(100 * 13 / 14, 1)))
    expect(page.locator("input[type=radio]")).to_have_count(0)

    page.click("#verify")
    expect(page.locator("#comparison")).to_have_attribute("data-same", "true")

    finding = Finding.objects.get()
    assert (finding.rule, finding.clause, finding.person) == (
        "spot_certificate",
        "C4.2",
        people["officer"],
    )
    page.goto(f"{page.base_url}/oversight/findings/{finding.pk}/")
    expect(page.locator("#clause")).to_contain_text("C4.2")
    expect(page.locator("#facts")).to_contain_text("未向当事人出示执法证件")

    page.context.clear_cookies()
    sign_in(page, "squad_leader")
    page.wait_for_url(page.base_url + "/")
    page.goto(f"{page.base_url}/oversight/spot-checks/{spot.pk}/")
    expect(page.locator(".spot-item")).to_have_count(2)
    expect(page.locator("input[type=radio]")).to_have_count(0)
    expect(page.locator("#complete")).to_have_count(0)
