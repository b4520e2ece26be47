"""The unit day view: each officer's activities, recordings and unrecorded parts on
one axis, for leaders and inspectors (C2.1, C4.3, C6.2, C6.4)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from jilu.casework.tests.conftest import T0
from jilu.web.unit_day import build_unit_day

DAY = "2026-11-26"  # T0 is 09:00 that day in Xiamen
URL = reverse("web:unit_day")


def client_for(person) -> Client:
    c = Client()
    c.force_login(person)
    return c


def lane(html: str, person) -> str:
    match = re.search(
        rf'<div class="lane[^"]*" data-officer="{person.pk}"[^>]*>.*?</div>\s*</div>', html, re.S
    )
    assert match, f"no lane for {person.name}"
    return match.group(0)


@pytest.fixture
def day_data(people, tree, make_activity, make_recording):
    """Activity A 09:00–10:00 (王五, 李四): 王五 recorded 09:00–09:30. Activity B
    14:00–14:20 (李四, 何中队): nobody recorded anything."""
    a = make_activity(start=T0, minutes=60)
    rec = make_recording("officer", start=T0, minutes=30)
    b = make_activity(
        officers=("officer_b", "squad_leader"), start=T0 + timedelta(hours=5), minutes=20
    )
    return a, b, rec


def test_lanes_show_unrecorded_activity_time_per_officer(people, tree, day_data):
    """C4.3: each officer's lane shows the activity time their own recorder did not
    record (王五 the second half hour of A, 李四 all of A and B); C2.1: activity B
    without any recording is counted for its two officers."""
    a, b, rec = day_data
    html = client_for(people["squad_leader"]).get(URL, {"day": DAY}).content.decode()
    wang, li, he = (lane(html, people[k]) for k in ("officer", "officer_b", "squad_leader"))
    assert 'data-unexplained="1800"' in wang and 'data-unrecorded-activities="0"' in wang
    assert 'data-unexplained="4800"' in li and 'data-unrecorded-activities="1"' in li
    assert 'data-unexplained="1200"' in he and 'data-unrecorded-activities="1"' in he
    # 王五's recording, coloured by integrity and linked; the activities linked.
    assert reverse("evidence:recording_detail", args=[rec.pk]) in wang
    assert "bar rec-" in wang and "bar rec-" not in li
    assert reverse("casework:activity_detail", args=[b.pk]) in li
    assert wang.count("bar gap-unexplained") == 1 and li.count("bar gap-unexplained") == 2
    # Each name opens the officer's own day.
    day_url = reverse("evidence:timeline_officer", args=[people["officer"].pk, DAY])
    assert day_url in wang
    assert 'id="flagged-count"' in html and "3 人需要核查" in html


def test_a_confirmed_duty_log_note_explains_the_gap(people, tree, day_data):
    """C6.2: a leader-confirmed note of the period turns the gap grey and it no
    longer counts as unexplained; a pending one stays counted."""
    from jilu.dutylog import actions as dutylog

    note = dutylog.create_note(
        actor=people["officer"],
        start=T0 + timedelta(minutes=30),
        end=T0 + timedelta(minutes=60),
        reason="device_fault",
        description="记录仪电池耗尽",
    )
    html = client_for(people["squad_leader"]).get(URL, {"day": DAY}).content.decode()
    assert "bar gap-pending" in lane(html, people["officer"])
    assert 'data-unexplained="1800"' in lane(html, people["officer"])
    dutylog.confirm_note(note, actor=people["squad_leader"])
    html = client_for(people["squad_leader"]).get(URL, {"day": DAY}).content.decode()
    wang = lane(html, people["officer"])
    assert "bar gap-confirmed" in wang and 'data-unexplained="0"' in wang


def test_who_may_open_it_and_which_units(people, tree, day_data):
    """Leaders see their own subtree, inspectors every unit; officers use their own
    day instead (C6.4)."""
    assert client_for(people["officer"]).get(URL).status_code == 403
    leader = client_for(people["squad_leader"])
    html = leader.get(URL, {"unit": tree["squad3"].pk, "day": DAY}).content.decode()
    assert "不在你的管辖范围内" in html
    assert f'data-officer="{people["officer_other"].pk}"' not in html
    assert f'data-officer="{people["officer"].pk}"' in html  # fell back to the own unit
    inspector = client_for(people["inspector"])
    html = inspector.get(URL, {"unit": tree["squad3"].pk, "day": DAY}).content.decode()
    assert f'data-officer="{people["officer_other"].pk}"' in html
    assert f'data-officer="{people["officer"].pk}"' not in html
    brigade = client_for(people["brigade_leader"]).get(URL, {"day": DAY}).content.decode()
    assert f'data-officer="{people["officer"].pk}"' in brigade


@pytest.mark.parametrize(
    "day, message",
    [("yesterday", "日期格式应为 YYYY-MM-DD"), ("9999-12-31", "日期超出范围"), ("0001-01-01", "")],
)
def test_bad_days_get_a_message_not_an_error(people, tree, day, message):
    response = client_for(people["squad_leader"]).get(URL, {"day": day, "unit": "x"})
    assert response.status_code == 200
    html = response.content.decode()
    assert (message or "日期超出范围") in html
    assert "所选单位不存在或不在你的管辖范围内" in html


def test_an_empty_day_shows_every_officer_and_a_working_day_axis(people, tree):
    """A day without anything still lists each officer: no recording is visible."""
    from datetime import date

    data = build_unit_day(people["squad_leader"], tree["squad1"], date(2026, 11, 20))
    names = {lane.person.name for lane in data.lanes}
    assert {"王五", "李四", "何中队"} <= names
    assert all(not lane.bars and not lane.flagged for lane in data.lanes)
    assert [text for _left, text in data.ticks][0] == "07:00"


def test_query_count_does_not_grow_with_officers(
    people, tree, day_data, django_assert_max_num_queries
):
    """No query per recording; a fixed few per activity (its coverage)."""
    from datetime import date

    with django_assert_max_num_queries(20):
        build_unit_day(people["squad_leader"], tree["squad1"], date(2026, 11, 26))


def test_coverage_costs_no_query_per_recording(people, make_activity, make_recording):
    """An activity's coverage reads its recordings with their annotations at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jilu.casework.coverage import activity_coverage

    act = make_activity(start=T0, minutes=120)
    make_recording("officer", start=T0, minutes=10)
    with CaptureQueriesContext(connection) as few:
        activity_coverage(act)
    for n in range(6):
        make_recording("officer", start=T0 + timedelta(minutes=15 * (n + 1)), minutes=10)
    with CaptureQueriesContext(connection) as many:
        activity_coverage(act)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_note_explains_only_its_own_officer_and_its_own_time(people, tree, day_data):
    """C6.2: a one-minute confirmed note explains one minute of its writer's gap,
    nothing of a colleague's; the leader who confirms a colleague's note clears
    nothing of his own."""
    from jilu.dutylog import actions as dutylog

    a, b, rec = day_data
    # 李四 notes one minute of activity B (14:10–14:11) and 何中队 confirms it.
    note = dutylog.create_note(
        actor=people["officer_b"],
        start=T0 + timedelta(hours=5, minutes=10),
        end=T0 + timedelta(hours=5, minutes=11),
        reason="weather",
        description="暴雨一分钟",
    )
    dutylog.confirm_note(note, actor=people["squad_leader"])
    html = client_for(people["squad_leader"]).get(URL, {"day": DAY}).content.decode()
    li, he = lane(html, people["officer_b"]), lane(html, people["squad_leader"])
    assert 'data-unexplained="4740"' in li  # 80 min less the confirmed minute
    assert li.count("bar gap-confirmed") == 1 and li.count("bar gap-unexplained") == 3
    assert 'data-unexplained="1200"' in he and "bar gap-confirmed" not in he


def test_without_a_day_it_opens_on_the_units_last_day_with_footage(people, tree, day_data):
    """Yesterday's footage is docked this morning: a leader opening the page sees
    the last day that has recordings, not an empty today (C2.1, C6.4)."""
    html = client_for(people["squad_leader"]).get(URL).content.decode()
    assert 'value="2026-11-26"' in html
    officer = people["officer"]
    assert f'data-officer="{officer.pk}"' in html and "rec" in lane(html, officer)


def test_without_footage_it_opens_on_today(people, tree):
    from django.utils import timezone

    today = timezone.localtime(timezone.now()).date().isoformat()
    html = client_for(people["squad_leader"]).get(URL).content.decode()
    assert f'value="{today}"' in html


def test_one_menu_entry_is_marked_for_a_page(people):
    """The squad's annotation queue lies under the officer's queue address; only
    the longer match is marked."""
    from jilu.web.context import nav_items

    leader = people["squad_leader"]
    marked = [i["name"] for i in nav_items(leader, reverse("casework:squad_queue")) if i["active"]]
    assert marked == ["casework:squad_queue"]
    marked = [
        i["name"]
        for i in nav_items(people["inspector"], "/recordings/fixity/alarms/")
        if i["active"]
    ]
    assert marked == ["evidence:alarm_list"]


def test_a_sound_recording_fills_no_gap_on_the_unit_day(
    people, tree, make_activity, make_recording
):
    """C4.3: as on the activity page and the record list, only video is recorded
    time; a sound recording inside the gap leaves it unrecorded."""
    make_activity(start=T0, minutes=60)
    make_recording("officer", start=T0, minutes=30)
    sound = make_recording("officer", start=T0 + timedelta(minutes=30), minutes=30)
    type(sound).objects.filter(pk=sound.pk).update(kind="audio")
    html = client_for(people["squad_leader"]).get(URL, {"day": DAY}).content.decode()
    assert "未录制 30分" in lane(html, people["officer"])
