"""In a real browser: an officer plays their recording and seeks; a day's timeline
shows its gap (C4.3, C2.1)."""

from __future__ import annotations

import array
import math
import os
import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest

from conftest import sign_in
from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import make_recording, recorder_for

pytestmark = pytest.mark.browser

NINE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def small_mp4(seconds: int = 4) -> bytes:
    """160x120 H.264 + AAC, fast-start, made with PyAV."""
    import av

    folder = tempfile.mkdtemp()
    out = os.path.join(folder, "clip.mp4")
    with av.open(out, "w", format="mp4", options={"movflags": "faststart"}) as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        video.options = {"preset": "ultrafast", "g": "25"}
        audio = container.add_stream("aac", rate=44100)
        audio.layout = "mono"
        for i in range(seconds * 25):
            frame = av.VideoFrame(160, 120, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(i * 9) % 256]) * (plane.line_size * plane.height))
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        samples = 1024
        for n in range(seconds * 44100 // samples):
            tone = array.array(
                "f",
                (
                    0.2 * math.sin(2 * math.pi * 440 * (k + n * samples) / 44100)
                    for k in range(samples)
                ),
            )
            frame = av.AudioFrame(format="fltp", layout="mono", samples=samples)
            frame.planes[0].update(tone.tobytes())
            frame.sample_rate = 44100
            frame.pts = n * samples
            frame.time_base = Fraction(1, 44100)
            for packet in audio.encode(frame):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)
    with open(out, "rb") as fh:
        data = fh.read()
    shutil.rmtree(folder)
    return data


@pytest.fixture
def officer_day(transactional_db, settings, tmp_path, people, tree):
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
    # Continuous with the first, then an hour and a half without recording.
    make_recording(
        officer=officer, recorder=recorder, start=NINE + timedelta(seconds=4), seconds=600
    )
    make_recording(
        officer=officer, recorder=recorder, start=NINE + timedelta(minutes=100), seconds=600
    )
    return officer, played


def test_officer_plays_and_seeks_their_recording(page, officer_day):
    officer, rec = officer_day
    sign_in(page, "officer")
    page.wait_for_url(page.base_url + "/")
    page.goto(f"{page.base_url}/recordings/")
    page.click(f"text={rec}")
    page.wait_for_selector("video#video")
    page.evaluate(
        "() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }"
    )
    page.wait_for_function("() => document.querySelector('video').readyState >= 3", timeout=15000)
    page.evaluate("() => { document.querySelector('video').currentTime = 2.0; }")
    page.wait_for_function(
        "() => { const v = document.querySelector('video');"
        " return !v.seeking && v.readyState >= 3 && v.currentTime > 2.05; }",
        timeout=15000,
    )
    state = page.evaluate(
        "() => { const v = document.querySelector('video');"
        " return {t: v.currentTime, d: v.duration, err: v.error && v.error.code}; }"
    )
    assert state["err"] is None and 3.5 < state["d"] < 4.6
    assert rec.sha256 in page.content()


def test_day_timeline_shows_the_gap(page, officer_day):
    officer, rec = officer_day
    sign_in(page, "officer")
    page.wait_for_url(page.base_url + "/")
    day = date(2026, 11, 20).isoformat()
    page.goto(f"{page.base_url}/recordings/timeline/officer/{officer.pk}/{day}/")
    svg = page.locator("svg.timeline")
    assert svg.is_visible()
    assert page.locator("svg.timeline g.run").count() == 2  # the two segments joined
    gap = page.locator("svg.timeline g.gap-none")
    assert gap.count() == 1
    assert "无录像时段 1小时29分" in gap.text_content()
    assert page.locator("#gaps").text_content().count("1小时29分") == 1
    # Readable on a phone: the drawing keeps a legible size and scrolls sideways
    # inside its card; the page itself never gets wider than the screen.
    page.set_viewport_size({"width": 375, "height": 700})
    box = svg.bounding_box()
    assert box["width"] >= 600
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    scroller = page.locator("#timeline .tl-scroll")
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")
    # The right part is there, a swipe away, and the page says so.
    assert page.locator("#tl-hint").is_visible()
    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    end = svg.bounding_box()
    assert end["x"] + end["width"] <= 375 + 1  # the day's end is now on the screen
    page.click("#next-day")
    page.wait_for_url("**/2026-11-21/")
    assert "当天没有录像" in page.content()
