"""Coverage of an activity's span by its officers' recordings (C4.3 gaps, C2.1 none)."""

from __future__ import annotations

from datetime import timedelta

from jilu.casework.coverage import activity_coverage

from .conftest import T0


def test_no_recording_at_all_is_shown(make_activity):
    cov = activity_coverage(make_activity())
    assert cov.none_at_all and cov.status == "none"  # C2.1
    assert "C2.1" in cov.label


def test_continuous_segments_cover_the_span(make_activity, make_recording):
    act = make_activity(minutes=30)
    make_recording(start=T0, minutes=10)
    make_recording("officer_b", start=T0 + timedelta(minutes=10), minutes=20)
    cov = activity_coverage(act)
    assert cov.complete and cov.percent == 100 and cov.gaps == []


def test_gaps_are_listed(make_activity, make_recording):
    # C4.3: continuous from entering the scene to leaving it.
    act = make_activity(minutes=60)
    make_recording(start=T0 - timedelta(minutes=5), minutes=20)
    make_recording(start=T0 + timedelta(minutes=30), minutes=10)
    cov = activity_coverage(act)
    assert cov.gaps == [
        (T0 + timedelta(minutes=15), T0 + timedelta(minutes=30)),
        (T0 + timedelta(minutes=40), T0 + timedelta(minutes=60)),
    ]
    # 25 of 60 minutes: rounded down, never up (C4.3).
    assert cov.percent == 41 and cov.status == "gaps"


def test_a_short_gap_never_shows_100_percent(make_activity, make_recording):
    """C4.3 / C2.1: a 3 s gap at the start of an hour is a gap; the percentage is
    rounded down so it never reads 100 % beside "有 1 处未录制的时段"."""
    act = make_activity(minutes=60)
    make_recording(start=T0 + timedelta(seconds=3), minutes=60)
    cov = activity_coverage(act)
    assert cov.gaps == [(T0, T0 + timedelta(seconds=3))]
    assert cov.status == "gaps" and cov.percent == 99
    assert "1" in cov.label and "C4.3" in cov.label


def test_coverage_page_text_with_a_short_gap(make_activity, make_recording):
    from django.template.loader import render_to_string

    act = make_activity(minutes=60)
    make_recording(start=T0 + timedelta(seconds=3), minutes=60)
    html = render_to_string(
        "casework/_coverage.html", {"coverage": activity_coverage(act), "show_gaps": True}
    )
    assert "覆盖 99%" in html and "100%" not in html  # C4.3


def test_other_officers_recordings_do_not_count(make_activity, make_recording):
    act = make_activity(officers=("officer", "officer_b"))
    make_recording("officer_other", start=T0, minutes=60)
    assert activity_coverage(act).none_at_all


def test_recording_of_unknown_length_counts_as_present(make_activity, make_recording):
    act = make_activity(minutes=30)
    make_recording(start=T0 + timedelta(minutes=1), minutes=None)
    cov = activity_coverage(act)
    assert not cov.none_at_all and cov.unknown_length and cov.gaps
