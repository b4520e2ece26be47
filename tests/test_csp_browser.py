"""In Chromium, under the Content-Security-Policy, no page of the main flows
logs a violation, and the behaviour whose scripts moved into static files still
works: the player, the language picker, confirm and print buttons, the phone
folding of the recording filters, the unit day's bars, the live refresh of the
data-collection page, and the printable form's own styles.

Violations are caught two ways: the page's ``securitypolicyviolation`` events
(reported through a binding that the policy cannot block) and Chromium's
console messages ("Refused to …").
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import make_recording, recorder_for
from jilu.evidence.tests.test_browser import small_mp4

pytestmark = pytest.mark.browser

NINE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
DAY = date(2026, 11, 20).isoformat()

WATCH = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__jiluViolation(e.violatedDirective + " " + (e.blockedURI || "inline") + " at "
    + document.location.pathname + " (" + (e.sample || "") + ")");
});
window.print = function () { window.__jiluPrinted = true; };
"""


@pytest.fixture
def world(transactional_db, settings, tmp_path, people, tree):
    from jilu.access.actions import create_request
    from jilu.casework.actions import create_activity, create_case
    from jilu.dutylog.actions import create_note

    use_store(settings, tmp_path, "file")
    officer = people["officer"]
    recorder = recorder_for(officer, tree["squad1"], "A000001")
    played = make_recording(
        officer=officer,
        recorder=recorder,
        start=NINE,
        seconds=4,
        data=small_mp4(),
        integrity="complete",
        name="A000001_900001_20261120090000_0001.MP4",
    )
    make_recording(
        officer=officer, recorder=recorder, start=NINE + timedelta(minutes=100), seconds=600
    )
    activity = create_activity(
        actor="system:test",
        officers=[officer, people["officer_b"]],
        kind="S1",
        planned_start=NINE - timedelta(minutes=10),
        planned_end=NINE + timedelta(hours=3),
        unit=tree["squad1"],
        category="inspection",
        place_name="某某餐厅",
        address="思明区中山路1号",
    )
    case = create_case(
        actor="system:test", number="思城管罚〔2026〕7号", category="penalty", unit=tree["brigade"]
    )
    request = create_request(actor=officer, purpose="复核现场情况", recording_ids=[played.pk])
    note = create_note(
        actor=officer,
        start=NINE + timedelta(minutes=30),
        end=NINE + timedelta(minutes=60),
        reason="device_fault",
        description="按键失灵，无法开机",
    )
    return {
        "played": played,
        "activity": activity,
        "case": case,
        "request": request,
        "note": note,
        "officer": officer,
    }


@pytest.fixture
def watched(page):
    """The page, with every CSP violation and console error it reports collected."""
    found: list[str] = []
    page.expose_binding("__jiluViolation", lambda source, text: found.append(text))
    page.add_init_script(WATCH)

    def on_console(message):
        if re.search(r"Content Security Policy|Refused to", message.text):
            found.append(f"console: {message.text}")

    page.on("console", on_console)
    page.violations = found
    return page


def visit(page, path: str, status: int = 200) -> None:
    response = page.goto(page.base_url + path)
    assert response is not None and response.status == status, (path, response.status)
    assert response.headers.get("content-security-policy"), path
    page.wait_for_load_state("load")


def nav_links(page) -> list[str]:
    hrefs = page.locator(".mainnav a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert len(hrefs) >= 5
    return hrefs


def signed_in(page, username: str) -> None:
    sign_in(page, username)
    page.wait_for_url(page.base_url + "/")


def sign_out(page) -> None:
    page.click("#sign-out")
    page.wait_for_url(page.base_url + "/login/")


def test_no_page_of_the_main_flows_violates_the_policy(watched, world, people, tree):
    page = watched
    w = world
    visit(page, "/login/")
    visit(page, "/no-such-page/", 404)

    signed_in(page, "officer")
    for path in nav_links(page):
        visit(page, path)
    for path in (
        f"/recordings/{w['played'].pk}/",
        f"/recordings/timeline/officer/{w['officer'].pk}/{DAY}/",
        f"/recordings/timeline/recorder/A000001/{DAY}/",
        f"/casework/activities/{w['activity'].pk}/",
        f"/casework/docs/activities/{w['activity'].pk}/script/",
        f"/casework/docs/activities/{w['activity'].pk}/script/card/",
        f"/access/{w['request'].pk}/",
        f"/access/{w['request'].pk}/print/",
        f"/dutylog/{w['note'].pk}/",
        "/password/",
    ):
        visit(page, path)
    visit(page, "/org/people/", 403)
    visit(page, "/logout/", 405)
    sign_out(page)

    for username in ("squad_leader", "case_handler", "archivist", "legal_reviewer", "inspector"):
        signed_in(page, username)
        for path in nav_links(page):
            visit(page, path)
        sign_out(page)

    signed_in(page, "admin")
    for path in nav_links(page):
        visit(page, path)
    for path in (
        f"/casework/day/?unit={tree['squad1'].pk}&day={DAY}",
        f"/casework/cases/{w['case'].pk}/",
        f"/casework/docs/cases/{w['case'].pk}/recordlist/",
        f"/org/people/{people['officer'].pk}/",
        "/devices/recorders/A000001/",
    ):
        visit(page, path)
    assert page.violations == []


def test_moved_scripts_still_work(watched, world, people, tree):
    page = watched
    w = world

    # The footer's language picker submits as soon as it changes.
    signed_in(page, "officer")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    # The player plays; when its address fails it asks the play address again.
    visit(page, f"/recordings/{w['played'].pk}/")
    page.evaluate(
        "() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }"
    )
    page.wait_for_function("() => document.querySelector('video').readyState >= 3")
    page.evaluate("() => { document.querySelector('video').src = '/static/jilu/app.css'; }")
    page.wait_for_function("() => document.querySelector('video').src.includes('?renew=')")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    expect(page.locator("#play-problem")).to_be_hidden()

    # On a phone the recording filters fold away; on a desktop they stay open.
    assert page.evaluate("document.getElementById('filter-panel') === null")
    visit(page, "/recordings/")
    assert page.locator("#filter-panel").evaluate("d => d.open")
    page.set_viewport_size({"width": 375, "height": 740})
    visit(page, "/recordings/")
    assert not page.locator("#filter-panel").evaluate("d => d.open")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The print button of the script card prints; the card's own styles apply.
    visit(page, f"/casework/docs/activities/{w['activity'].pk}/script/card/")
    page.click("button[data-print]")
    assert page.evaluate("window.__jiluPrinted === true")
    assert page.locator("h1").evaluate("h => getComputedStyle(h).textAlign") == "center"

    # The data-collection page refreshes its live part by itself.
    visit(page, "/ingest/")
    page.wait_for_function("() => document.getElementById('live').dataset.updated !== undefined")
    sign_out(page)

    # The unit day's bars sit where the server placed them.
    signed_in(page, "squad_leader")
    visit(page, f"/casework/day/?unit={tree['squad1'].pk}&day={DAY}")
    bars = page.locator(f'.lane[data-officer="{w["officer"].pk}"] .track .bar')
    assert bars.count() >= 2
    for i in range(bars.count()):
        placed = bars.nth(i).evaluate(
            "b => [parseFloat(b.style.left), parseFloat(b.dataset.left),"
            " b.style.left.endsWith('%')]"
        )
        assert placed[0] == placed[1] and placed[2], placed
    activity_bar = page.locator(f'.lane[data-officer="{w["officer"].pk}"] .bar.activity').first
    assert activity_bar.bounding_box()["width"] > 20
    sign_out(page)

    # Deactivating an account asks first: dismissed, nothing happens; accepted, done.
    signed_in(page, "admin")
    visit(page, f"/org/people/{people['officer_b'].pk}/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button[data-confirm]")
    expect(page.locator("button[data-confirm]")).to_be_visible()
    assert page.url.endswith(f"/org/people/{people['officer_b'].pk}/")
    people["officer_b"].refresh_from_db()
    assert people["officer_b"].is_active
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("button[data-confirm]")
    people["officer_b"].refresh_from_db()
    assert not people["officer_b"].is_active

    # The printed 调用单 keeps its own (nonce-carrying) styles.
    visit(page, f"/access/{w['request'].pk}/print/")
    assert page.locator("h1").evaluate("h => getComputedStyle(h).textAlign") == "center"
    assert page.violations == []
