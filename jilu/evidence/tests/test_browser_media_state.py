"""In a real browser: the recording page shows its thumbnail strip, and when the
original is missing from the store the player says so instead of staying blank
(C6.5.4); a play is never a whole copy (C6.3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conftest import sign_in
from jilu.evidence.models import FixityAlarm
from jilu.evidence.tests.conftest import Behind, use_store
from jilu.evidence.tests.recordings import make_recording, recorder_for
from jilu.evidence.tests.test_browser import small_mp4

pytestmark = pytest.mark.browser

NINE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def processed(transactional_db, settings, tmp_path, people, tree):
    """The officer's H.264 recording, processed for real (poster, strip)."""
    from jilu.evidence.tasks import process_recording

    store = use_store(settings, tmp_path, "file")
    officer = people["officer"]
    rec = make_recording(
        officer=officer,
        recorder=recorder_for(officer, tree["squad1"], "A000001"),
        start=NINE,
        seconds=4,
        data=small_mp4(),
        name="A000001_900001_20261120090000_0001.MP4",
    )
    assert process_recording.call(rec.pk) == "complete"
    return store, rec


def test_strip_is_shown_and_plays_work(page, processed):
    store, rec = processed
    sign_in(page, "officer")
    page.wait_for_url(page.base_url + "/")
    page.goto(f"{page.base_url}/recordings/{rec.pk}/")
    strip = page.locator("#strip img")
    strip.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('#strip img'); return i.complete && i.naturalWidth > 0; }"
    )
    assert page.locator("#has-audio").text_content().startswith("有")
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; v.play(); }")
    page.wait_for_function("() => document.querySelector('video').readyState >= 3")
    assert page.locator("#play-problem").is_hidden()


def test_c6_5_4_missing_original_is_said_under_the_player(page, processed):
    store, rec = processed
    Behind(store).remove(rec.sha256)
    sign_in(page, "officer")
    page.wait_for_url(page.base_url + "/")
    page.goto(f"{page.base_url}/recordings/{rec.pk}/")
    problem = page.locator("#play-problem")
    problem.wait_for(state="visible")
    assert "原始文件在证据存储中缺失" in problem.text_content()
    assert "固定性告警" in problem.text_content()
    assert FixityAlarm.objects.filter(stored_object_id=rec.sha256).count() == 1


def test_c6_3_opening_the_play_address_directly_is_refused(page, processed):
    """Typing the play address (the browser sends no Range for a page) gives the
    refusal page, not the file."""
    store, rec = processed
    sign_in(page, "officer")
    page.wait_for_url(page.base_url + "/")
    response = page.goto(f"{page.base_url}/recordings/{rec.pk}/play/")
    assert response.status == 403
    assert "调用单" in page.locator("#copy-refused").text_content()
    assert page.locator("#request-copy").is_visible()
