"""Annotation within 48 hours (C5.2): the deadline, suggestions, bulk links, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from jilu.audit.models import AuditEntry
from jilu.casework import actions, queries
from jilu.casework.models import Annotation

from .conftest import T0


def test_docked_47_hours_ago_has_one_hour_left(make_recording, people):
    # C5.2: counted from docking.
    rec = make_recording(docked_at=T0)
    d = queries.deadline(rec, now=T0 + timedelta(hours=47))
    assert d.hours_left == 1 and not d.overdue
    assert d.label == "剩余 1 小时 0 分"
    assert rec in queries.annotation_queue(people["officer"])
    assert rec not in queries.overdue_for_leader(
        people["squad_leader"], now=T0 + timedelta(hours=47)
    )


def test_docked_49_hours_ago_is_overdue_for_officer_and_leader(make_recording, people):
    rec = make_recording(docked_at=T0)
    now = T0 + timedelta(hours=49)
    d = queries.deadline(rec, now=now)
    assert d.overdue and d.label.startswith("已超期 1 小时")
    assert rec in queries.overdue_for_leader(people["squad_leader"], now=now)
    # A leader of another squad does not see it.
    assert rec not in queries.overdue_for_leader(people["squad_admin"], now=now)
    # Officers are not leaders: nothing of others.
    assert rec not in queries.overdue_for_leader(people["officer_b"], now=now)


def test_annotated_recordings_leave_the_queue(make_recording, make_activity, people):
    rec = make_recording()
    act = make_activity()
    actions.annotate(actor=people["officer"], recording=rec, activity=act, step="site_survey")
    assert rec not in queries.annotation_queue(people["officer"])


def test_suggestions_match_officer_and_time(make_recording, make_activity, people):
    rec = make_recording(start=T0 + timedelta(minutes=10), minutes=20)
    match = make_activity(start=T0, minutes=60)
    make_activity(start=T0 + timedelta(hours=5), minutes=60)  # later the same day
    make_activity(officers=("officer_b", "squad_leader"), start=T0)  # not their activity
    assert queries.suggestions(rec, people["officer"]) == [match]


def test_suggestions_allow_switching_on_early(make_recording, make_activity, people):
    # C3.3: switched on a little before the activity began.
    rec = make_recording(start=T0 - timedelta(minutes=15), minutes=10)
    act = make_activity(start=T0, minutes=60)
    assert queries.suggestions(rec, people["officer"]) == [act]


def test_annotation_gives_the_standard_name(make_recording, make_activity, people):
    rec = make_recording()
    act = make_activity()
    ann = actions.annotate(actor=people["officer"], recording=rec, activity=act, step="site_survey")
    # C5.3: 单位名称+行政执法相对人+检查日期+检查内容
    assert ann.standard_name == "思明区城管执法大队_厦门某某餐饮有限公司_20261126_现场勘验"
    assert ann.file_name.endswith("_现场勘验.mp4")
    assert rec.annotation == ann


def test_annotation_never_changes_the_recording(make_recording, make_activity, people):
    # C6.5.3: a recording's bytes and facts never change.
    from jilu.evidence.models import Recording

    rec = make_recording()
    before = Recording.objects.filter(pk=rec.pk).values().get()
    act = make_activity()
    actions.annotate(actor=people["officer"], recording=rec, activity=act, step="site_check")
    actions.annotate(actor=people["officer"], recording=rec, activity=act, step="evidence")
    assert Recording.objects.filter(pk=rec.pk).values().get() == before


def test_annotate_and_reannotate_are_audited(make_recording, make_activity, people):
    rec = make_recording()
    act = make_activity()
    other = make_activity(start=T0 + timedelta(hours=2))
    actions.annotate(actor=people["officer"], recording=rec, activity=act, step="site_check")
    actions.annotate(actor=people["officer"], recording=rec, activity=other, step="evidence")
    entries = list(
        AuditEntry.objects.filter(action__in=["casework.annotate", "casework.reannotate"])
    )
    assert [e.action for e in entries] == ["casework.annotate", "casework.reannotate"]
    assert entries[1].details["before"]["activity"] == act.pk
    assert entries[1].details["activity"] == other.pk
    assert entries[1].actor_id == people["officer"].pk


def test_bulk_link_a_run_of_consecutive_segments(make_recording, make_activity, people):
    a = make_recording(start=T0, minutes=10)
    b = make_recording(start=T0 + timedelta(minutes=10), minutes=10)
    c = make_recording(start=T0 + timedelta(minutes=20), minutes=5)
    lone = make_recording(start=T0 + timedelta(minutes=40), minutes=5)  # a gap before it
    run = queries.segment_run(b)
    assert run == [a, b, c]
    assert lone not in run
    act = make_activity()
    anns = actions.annotate_run(
        actor=people["officer"], recordings=run, activity=act, step="site_survey"
    )
    names = [x.standard_name for x in anns]
    assert len(set(names)) == 3
    assert names[0] == "思明区城管执法大队_厦门某某餐饮有限公司_20261126_现场勘验"
    assert names[1].endswith("-2") and names[2].endswith("-3")
    assert AuditEntry.objects.filter(action="casework.annotate").count() == 3


def test_in_a_case_names_carry_the_list_number(make_recording, make_activity, people, tree):
    case = actions.create_case(
        actor=people["case_handler"],
        number="思城执罚〔2026〕1号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
    )
    first = make_activity()
    second = make_activity(start=T0 + timedelta(hours=3))
    actions.add_activity_to_case(actor=people["case_handler"], case=case, activity=second)
    actions.add_activity_to_case(actor=people["case_handler"], case=case, activity=first)
    r1 = make_recording(start=T0)
    r2 = make_recording(start=T0 + timedelta(hours=3))
    actions.annotate(actor=people["officer"], recording=r1, activity=first, step="site_survey")
    actions.annotate(actor=people["officer"], recording=r2, activity=second, step="inquiry")
    rows = queries.case_recordings(case)
    # A2 rule 4: numbering follows the case order (second was added first).
    assert [(r.list_no, r.recording) for r in rows] == [(1, r2), (2, r1)]
    assert rows[0].standard_name.startswith("01_思明区城管执法大队_")
    assert rows[0].step == "询问笔录"
    assert rows[1].standard_name.startswith("02_")
    # Reordering the list renames to agree.
    actions.reorder_record_list(
        actor=people["case_handler"],
        case=case,
        annotation_ids=[rows[1].annotation.pk, rows[0].annotation.pk],
    )
    rows = queries.case_recordings(case)
    assert [(r.list_no, r.recording) for r in rows] == [(1, r1), (2, r2)]
    assert rows[0].standard_name.startswith("01_") and rows[0].step == "现场勘验"
    assert rows[0].end == r1.ended_at and rows[0].integrity == "pending"


def test_closed_case_refuses_annotation(make_recording, make_activity, people, tree):
    case = actions.create_case(
        actor="system:test", number="X-1", category="penalty", unit=tree["brigade"]
    )
    act = make_activity(case=case)
    # C5.5: closed without legal review, with the reason written down.
    actions.set_case_status(
        actor="system:test", case=case, status="closed", reason="revoked", note="重复立案"
    )
    with pytest.raises(ValidationError, match="已移送或结案"):
        actions.annotate(
            actor=people["officer"], recording=make_recording(), activity=act, step="other"
        )
    assert not Annotation.objects.exists()


def test_create_activity_on_the_spot(make_recording, people, tree, party):
    rec = make_recording(start=T0, minutes=25)
    act, anns = actions.create_activity_for_recording(
        actor=people["officer"],
        recording=rec,
        step="site_survey",
        officers=[people["officer_b"]],
        kind="S1",
        category="inspection",
        unit=tree["squad1"],
        party=party,
        place_name="某某餐厅",
    )
    assert set(act.officers.all()) == {people["officer"], people["officer_b"]}
    assert act.actual_start == rec.started_at and act.actual_end == rec.ended_at
    assert anns[0].standard_name.startswith("中华中队_厦门某某餐饮有限公司_20261126")


def test_late_annotation_is_marked(make_recording, make_activity, people):
    # C5.2: annotating after the deadline is allowed but stays visible.
    act = make_activity()
    late = make_recording(docked_at=T0)
    ann = actions.annotate(
        actor=people["officer"],
        recording=late,
        activity=act,
        step="site_check",
        at=T0 + timedelta(hours=49),
    )
    assert ann.late
    on_time = make_recording(docked_at=T0, start=T0 + timedelta(minutes=30))
    actions.annotate(
        actor=people["officer"],
        recording=on_time,
        activity=act,
        step="site_check",
        at=T0 + timedelta(hours=47),
    )
    # A correction after the deadline does not make an on-time annotation late.
    ann = actions.annotate(
        actor=people["officer"],
        recording=on_time,
        activity=act,
        step="evidence",
        at=T0 + timedelta(hours=60),
    )
    assert not ann.late and ann.annotated_at == T0 + timedelta(hours=60)


def test_a_photo_taken_during_a_video_does_not_break_its_run(make_recording):
    """A recorder takes a photo while a video segment rolls over: the run offered
    for annotation (C5.2) still holds every video segment."""
    from jilu.evidence.models import Recording

    a = make_recording(start=T0, minutes=10)
    photo = make_recording(start=T0 + timedelta(minutes=5), minutes=0)
    Recording.objects.filter(pk=photo.pk).update(kind="photo", ended_at=photo.started_at)
    b = make_recording(start=T0 + timedelta(minutes=10), minutes=10)
    assert queries.segment_run(a) == [a, b]
