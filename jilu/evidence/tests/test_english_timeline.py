"""Texts of the day timeline follow the interface language."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.utils import translation

from jilu.evidence import timeline


def test_durations_and_clock_offsets():
    dock = timeline.Docking(at=datetime(2026, 11, 26, 2, 0, tzinfo=UTC), offset_seconds=65)
    with translation.override("en"):
        assert timeline.duration_text(3725) == "1 h 2 min"
        assert timeline.duration_text(12) == "12 s"
        assert dock.offset_text == "Clock 1 min 5 s fast"
        assert timeline.Docking(at=dock.at).offset_text == "Clock offset not measured"
    with translation.override("zh-hans"):
        assert timeline.duration_text(3725) == "1小时2分"
        assert dock.offset_text == "时钟快1分5秒"


def test_empty_day_svg_in_english():
    day = timeline.build_day(date(2026, 11, 26), [], [])
    with translation.override("en"):
        svg = timeline.render_svg(day, title="x")
        assert "No recording that day" in svg
        assert all(g.label == "Unrecorded period" for g in day.gaps)
    with translation.override("zh-hans"):
        assert "当天没有录像" in timeline.render_svg(day, title="x")
