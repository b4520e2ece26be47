"""Day timelines: recordings on a time axis with gaps and dockings (C4.3, C2.1, C3.2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from jilu.evidence import timeline
from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import make_recording, recorder_for

DAY = date(2026, 11, 20)
# 09:00 Asia/Shanghai
NINE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def seg(n, start_min, end_min):
    return timeline.Segment(
        n, NINE + timedelta(minutes=start_min), NINE + timedelta(minutes=end_min), f"s{n}"
    )


def test_segments_without_gap_join_into_one_run():
    """C4.3: a recorder's file roll-over is one continuous recording, not a gap."""
    runs = timeline.join_runs([seg(2, 10, 20), seg(1, 0, 10), seg(3, 20, 30)])
    assert len(runs) == 1
    assert [s.recording_id for s in runs[0].segments] == [1, 2, 3]
    assert timeline.find_gaps(runs) == []


def test_a_second_of_roll_over_is_tolerated():
    a = timeline.Segment(1, NINE, NINE + timedelta(minutes=10))
    b = timeline.Segment(2, NINE + timedelta(minutes=10, seconds=1), NINE + timedelta(minutes=20))
    assert len(timeline.join_runs([a, b])) == 1


def test_gaps_are_measured_and_named():
    """C4.3 break within a recording vs C2.1 period without any recording."""
    runs = timeline.join_runs([seg(1, 0, 10), seg(2, 13, 20), seg(3, 80, 90)])
    gaps = timeline.find_gaps(runs)
    assert [(g.kind, g.seconds) for g in gaps] == [("break", 180.0), ("none", 3600.0)]
    assert gaps[0].length_text == "3分"
    assert gaps[1].length_text == "1小时"
    assert gaps[1].label == "无录像时段"


def test_overlapping_segments_make_no_negative_gap():
    runs = timeline.join_runs([seg(1, 0, 30), seg(2, 10, 20), seg(3, 25, 40)])
    assert len(runs) == 1 and runs[0].end == NINE + timedelta(minutes=40)


def test_no_gap_is_claimed_after_a_segment_whose_length_is_unknown():
    """Until media processing knows a recording's duration, the time after it is
    neither a gap nor covered: the timeline claims nothing there (and the bar is
    drawn as pending); once the end is known the gap appears."""
    a = timeline.Segment(1, NINE, None)
    b = timeline.Segment(2, NINE + timedelta(minutes=30), NINE + timedelta(minutes=40))
    assert timeline.build_day(DAY, [a, b], []).gaps == []
    a = timeline.Segment(1, NINE, NINE + timedelta(minutes=10))
    assert [g.seconds for g in timeline.build_day(DAY, [a, b], []).gaps] == [1200.0]


def test_day_is_clipped_to_shanghai_midnight():
    late = timeline.Segment(
        1, datetime(2026, 11, 20, 15, 50, tzinfo=UTC), datetime(2026, 11, 20, 16, 20, tzinfo=UTC)
    )
    day = timeline.build_day(DAY, [late], [])
    assert day.runs[0].end == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 24:00 in Shanghai
    assert timeline.build_day(date(2026, 11, 21), [late], []).runs[0].start == datetime(
        2026, 11, 20, 16, 0, tzinfo=UTC
    )


def test_svg_shows_the_gap_and_the_docking_offset():
    dock = timeline.Docking(NINE + timedelta(hours=3), "中华中队工作站", 95.0)
    day = timeline.build_day(DAY, [seg(1, 0, 10), seg(2, 70, 80)], [dock])
    svg = timeline.render_svg(day, title="王五")
    assert svg.startswith("<svg") and 'viewBox="0 0 1000 240"' in svg
    assert 'class="gap gap-none" data-seconds="3600"' in svg
    assert "无录像时段 1小时" in svg
    assert "时钟快1分35秒" in svg
    assert svg.count('class="run"') == 2


def test_offset_text():
    assert timeline.Docking(NINE, offset_seconds=-30).offset_text == "时钟慢30秒"
    assert timeline.Docking(NINE, offset_seconds=0.2).offset_text == "时钟准确"
    assert timeline.Docking(NINE).offset_text == "时钟偏差未测"


@pytest.fixture
def day_of_officer(settings, tmp_path, people, tree):
    use_store(settings, tmp_path, "file")
    officer = people["officer"]
    recorder = recorder_for(officer, tree["squad1"], "A000001")
    # 09:00–09:10 and 09:10–09:20 continuous, then nothing until 10:20–10:30.
    recs = [
        make_recording(officer=officer, recorder=recorder, start=NINE, seconds=600),
        make_recording(
            officer=officer, recorder=recorder, start=NINE + timedelta(minutes=10), seconds=600
        ),
        make_recording(
            officer=officer, recorder=recorder, start=NINE + timedelta(minutes=80), seconds=600
        ),
    ]
    return officer, recorder, recs


@pytest.mark.django_db
def test_officer_timeline_page_shows_the_gap(client, day_of_officer, people):
    """C2.1: the hour without recording is on the page, with its length."""
    officer, recorder, recs = day_of_officer
    for viewer in ("officer", "squad_leader", "brigade_leader", "inspector"):
        client.force_login(people[viewer])
        response = client.get(
            reverse("evidence:timeline_officer", args=[officer.pk, DAY.isoformat()])
        )
        assert response.status_code == 200, viewer
        html = response.content.decode()
        assert "无录像时段 1小时" in html
        assert html.count('class="run"') == 2
        assert "2026-11-19" in html and "2026-11-21" in html  # previous / next day
        assert reverse("evidence:recording_detail", args=[recs[0].pk]) in html


@pytest.mark.django_db
def test_recorder_timeline_page(client, day_of_officer, people):
    officer, recorder, recs = day_of_officer
    client.force_login(people["squad_leader"])
    url = reverse("evidence:timeline_recorder", args=[recorder.serial, DAY.isoformat()])
    response = client.get(url)
    assert response.status_code == 200
    assert "无录像时段 1小时" in response.content.decode()


@pytest.mark.django_db
def test_timelines_outside_scope_are_404(client, day_of_officer, people):
    officer, recorder, recs = day_of_officer
    officer_url = reverse("evidence:timeline_officer", args=[officer.pk, DAY.isoformat()])
    recorder_url = reverse("evidence:timeline_recorder", args=[recorder.serial, DAY.isoformat()])
    for viewer in ("officer_b", "officer_other", "squad_admin"):
        client.force_login(people[viewer])
        assert client.get(officer_url).status_code == 404, viewer
        assert client.get(recorder_url).status_code == 404, viewer
    client.force_login(people["officer"])
    bad = reverse("evidence:timeline_officer", args=[officer.pk, "2026-13-45"])
    assert client.get(bad).status_code == 404
    client.logout()
    assert client.get(officer_url).status_code == 302


def test_damaged_files_are_not_drawn_as_sound_recordings():
    """C6.5.3, C6.5.4: a truncated or unreadable file is coloured as such on the axis."""
    ok = timeline.Segment(1, NINE, NINE + timedelta(minutes=10), "a", integrity="complete")
    cut = timeline.Segment(
        2, NINE + timedelta(minutes=10), NINE + timedelta(minutes=20), "b", integrity="incomplete"
    )
    svg = timeline.render_svg(timeline.build_day(DAY, [ok, cut], []))
    assert 'class="segment integrity-complete"' in svg
    assert 'class="segment integrity-incomplete"' in svg and timeline.FILL["incomplete"] in svg


def test_gap_labels_never_overlap_and_end_hours_stay_inside():
    """Many short breaks: each label that is drawn has room; the rest are left to
    the tooltip and the table. The first and last hours are not cut off."""
    segments = [seg(n, n * 6, n * 6 + 5) for n in range(12)]  # a 1-minute break every 6
    day = timeline.build_day(DAY, segments, [])
    assert len(day.gaps) == 11
    placed = timeline._place_labels(
        [((timeline._x(day, g.start) + timeline._x(day, g.end)) / 2, g.label) for g in day.gaps],
        rows=2,
        font=20,
    )
    for row in (0, 1):
        spans = sorted(
            (x - timeline.text_width(t, 20) / 2, x + timeline.text_width(t, 20) / 2)
            for x, t, r in filter(None, placed)
            if r == row
        )
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert None in placed  # not all of them fit, and that is said in the table
    svg = timeline.render_svg(day)
    assert 'text-anchor="start" fill="#333">09:00' in svg
    assert 'text-anchor="end" fill="#333">13:00' in svg


@pytest.mark.django_db
def test_officer_day_draws_activities_and_lists_next_day_docking(
    client, day_of_officer, people, tree
):
    """C2.1: the officer's activities lie under the recordings; C3.2: the docking the
    next morning that took in the day's footage is listed with its offset."""
    from jilu.casework.actions import create_activity, create_party
    from jilu.devices.actions import create_workstation
    from jilu.evidence.models import Recording
    from jilu.ingest.docking import open_docking
    from jilu.ingest.models import DockingSession

    officer, recorder, recs = day_of_officer
    party = create_party(actor="system:test", unit=tree["squad1"], kind="person", name="张三")
    act = create_activity(
        actor="system:test",
        officers=[officer, people["officer_b"]],
        kind="S1",
        category="inspection",
        unit=tree["squad1"],
        party=party,
        place_name="某某餐厅",
        planned_start=NINE + timedelta(minutes=30),
        planned_end=NINE + timedelta(minutes=70),
    )
    station, _token = create_workstation(actor="system:test", unit=tree["squad1"], name="一号站")
    dock = open_docking(
        actor="system:test", station=station, serial=recorder.serial, clock_offset_seconds=42.0
    )
    DockingSession.objects.filter(pk=dock.pk).update(started_at=NINE + timedelta(days=1))
    Recording.objects.filter(pk__in=[r.pk for r in recs]).update(docking=dock)
    client.force_login(people["squad_leader"])
    html = client.get(
        reverse("evidence:timeline_officer", args=[officer.pk, DAY.isoformat()])
    ).content.decode()
    assert html.count('class="activity"') == 1
    assert reverse("casework:activity_detail", args=[act.pk]) in html
    assert 'id="day-activities"' in html and "某某餐厅" in html
    assert "11-21 09:00:00" in html and "时钟快42秒" in html


@pytest.mark.django_db
def test_recording_page_says_the_offset_as_the_timeline_does(client, day_of_officer, people):
    """C3.2: one way of saying the clock offset everywhere."""
    from jilu.evidence.models import Recording

    officer, recorder, recs = day_of_officer
    Recording.objects.filter(pk=recs[0].pk).update(clock_offset_seconds=-27.6)
    client.force_login(people["officer"])
    html = client.get(reverse("evidence:recording_detail", args=[recs[0].pk])).content.decode()
    assert 'id="clock-offset">时钟慢28秒' in html
