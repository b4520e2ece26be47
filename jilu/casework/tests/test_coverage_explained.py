"""Coverage gaps explained by the duty log (C4.3 gaps, C2.1, C6.2 duty log).

A gap stays a gap and the percentage does not change; a confirmed note of one
of the activity's officers overlapping it is shown beside it, a pending note as
pending, anything else as 未说明.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jilu.casework.coverage import activity_coverage
from jilu.dutylog.models import UnrecordedNote

from .conftest import T0


def _note(people, holder="officer", *, start, minutes, state="confirmed", leader="squad_leader"):
    officer = people[holder]
    fields = {}
    if state == "confirmed":
        fields = {"confirmed_by": people[leader], "confirmed_at": timezone.now()}
    elif state == "returned":
        fields = {
            "returned_by": people[leader],
            "returned_at": timezone.now(),
            "return_reason": "请写明",
        }
    return UnrecordedNote.objects.create(
        officer=officer,
        unit=officer.unit,
        start=start,
        end=start + timedelta(minutes=minutes),
        reason="device_fault",
        description="记录仪无法开机",
        state=state,
        **fields,
    )


def _one_gap(make_activity, make_recording):
    """An hour with 15 minutes not recorded: 09:15–09:30 local."""
    act = make_activity(minutes=60)
    make_recording(start=T0, minutes=15)
    make_recording(start=T0 + timedelta(minutes=30), minutes=30)
    return act


def _html(cov, user=None):
    context = {"coverage": cov, "show_gaps": True}
    if user is not None:
        context["user"] = user
    return render_to_string("casework/_coverage.html", context)


def test_confirmed_overlapping_note_explains_the_gap(make_activity, make_recording, people):
    act = _one_gap(make_activity, make_recording)
    before = activity_coverage(act)
    note = _note(people, start=T0 + timedelta(minutes=10), minutes=30)
    cov = activity_coverage(act)
    # C4.3: the gap and the percentage are unchanged; the gap is only explained.
    assert cov.gaps == before.gaps == [(T0 + timedelta(minutes=15), T0 + timedelta(minutes=30))]
    assert cov.percent == before.percent == 75 and cov.status == "gaps"
    assert cov.label == before.label
    [g] = cov.explained_gaps
    assert g.state == "confirmed" and g.note == note
    assert g.text == "已说明：设备故障（执勤日志，已由何中队确认）"
    html = _html(cov, people["squad_leader"])
    assert "已说明：设备故障（执勤日志，已由何中队确认）" in html and "未说明" not in html
    assert "覆盖 75%" in html
    assert reverse("dutylog:detail", args=[note.pk]) in html


def test_link_only_for_people_who_may_see_the_note(make_activity, make_recording, people):
    act = _one_gap(make_activity, make_recording)
    note = _note(people, start=T0 + timedelta(minutes=15), minutes=15)
    cov = activity_coverage(act)
    link = reverse("dutylog:detail", args=[note.pk])
    for key in ("officer", "squad_leader", "brigade_leader", "inspector"):
        assert link in _html(cov, people[key]), key
    for key in ("officer_b", "case_handler", "legal_reviewer", "squad_admin"):
        html = _html(cov, people[key])
        assert link not in html, key
        assert "已由何中队确认" in html, key  # the explanation itself is still shown
    assert link not in _html(cov)  # no user at all


def test_pending_note_shows_pending(make_activity, make_recording, people):
    act = _one_gap(make_activity, make_recording)
    _note(people, "officer_b", start=T0 + timedelta(minutes=15), minutes=15, state="pending")
    cov = activity_coverage(act)
    assert [g.state for g in cov.explained_gaps] == ["pending"]
    html = _html(cov, people["squad_leader"])
    assert "已记入执勤日志，待确认" in html and "未说明" not in html
    assert cov.percent == 75


def test_confirmed_wins_over_pending(make_activity, make_recording, people):
    act = _one_gap(make_activity, make_recording)
    _note(people, "officer_b", start=T0 + timedelta(minutes=15), minutes=5, state="pending")
    note = _note(people, start=T0 + timedelta(minutes=15), minutes=15)
    [g] = activity_coverage(act).explained_gaps
    assert g.state == "confirmed" and g.note == note


def test_a_note_over_part_of_a_gap_explains_only_that_part(make_activity, make_recording, people):
    """A one-minute confirmed note does not explain a fifteen-minute gap (C6.2)."""
    act = _one_gap(make_activity, make_recording)
    _note(people, start=T0 + timedelta(minutes=20), minutes=1)
    [g] = activity_coverage(act).explained_gaps
    assert g.state == "partial" and not g.explained
    assert g.text == "仅部分时段记入执勤日志，其余未说明"
    html = _html(cov := activity_coverage(act), people["squad_leader"])
    assert 'data-state="partial"' in html and cov.percent == 75


def test_returned_other_officer_or_not_overlapping_leaves_it_unexplained(
    make_activity, make_recording, people
):
    act = _one_gap(make_activity, make_recording)
    _note(people, start=T0 + timedelta(minutes=15), minutes=15, state="returned")
    # officer_other is not one of the activity's officers.
    _note(people, "officer_other", start=T0 + timedelta(minutes=15), minutes=15)
    # Ends exactly where the gap starts, and starts exactly where it ends: no overlap.
    _note(people, start=T0 - timedelta(minutes=30), minutes=45)
    _note(people, "officer_b", start=T0 + timedelta(minutes=30), minutes=60)
    cov = activity_coverage(act)
    assert [g.state for g in cov.explained_gaps] == ["unexplained"]
    html = _html(cov, people["squad_leader"])
    assert "未说明" in html and "已说明" not in html and "待确认" not in html
    assert 'class="badge warn gap-explanation" data-state="unexplained"' in html
    assert cov.percent == 75 and len(cov.gaps) == 1


def test_no_gaps_nothing_to_explain(make_activity, make_recording, people):
    act = make_activity(minutes=30)
    make_recording(start=T0, minutes=30)
    _note(people, start=T0, minutes=30)
    cov = activity_coverage(act)
    assert cov.complete and cov.percent == 100 and cov.explained_gaps == []


def _count(act) -> int:
    with CaptureQueriesContext(connection) as ctx:
        cov = activity_coverage(act)
        _html(cov)
    notes = [q for q in ctx.captured_queries if "dutylog_unrecordednote" in q["sql"]]
    assert len(notes) == 1  # all the notes of the span in one query
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_gaps(make_activity, make_recording, people):
    """One query for the notes, however many gaps and notes (same recordings)."""
    one = _one_gap(make_activity, make_recording)  # two recordings, one gap
    _note(people, start=T0 + timedelta(minutes=15), minutes=15)

    start = T0 + timedelta(days=1)
    many = make_activity(start=start, minutes=60)  # two recordings, three gaps
    make_recording(start=start + timedelta(minutes=10), minutes=10)
    make_recording("officer_b", start=start + timedelta(minutes=30), minutes=10)
    _note(people, start=start, minutes=5)
    _note(people, start=start + timedelta(minutes=5), minutes=5)
    _note(people, "officer_b", start=start + timedelta(minutes=25), minutes=5, state="pending")

    assert len(activity_coverage(one).gaps) == 1
    cov = activity_coverage(many)
    assert len(cov.gaps) == 3
    # 20–30 is noted only from 25: partly explained (C6.2: a note explains its own time).
    assert [g.state for g in cov.explained_gaps] == ["confirmed", "partial", "unexplained"]
    assert _count(one) == _count(many)


def test_activity_page_shows_the_explanation(make_activity, make_recording, people):
    from django.test import Client

    act = _one_gap(make_activity, make_recording)
    note = _note(people, start=T0 + timedelta(minutes=15), minutes=15)
    client = Client()
    client.force_login(people["squad_leader"])
    response = client.get(reverse("casework:activity_detail", args=[act.pk]))
    if response.status_code != 200:
        client.force_login(people["brigade_leader"])
        response = client.get(reverse("casework:activity_detail", args=[act.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "已说明：设备故障（执勤日志，已由何中队确认）" in html
    assert reverse("dutylog:detail", args=[note.pk]) in html
