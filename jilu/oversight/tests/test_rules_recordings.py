"""Rules on recordings and activities, each with its clause and a case that
must not make a finding: C5.1, C5.2, C1.3, C2.1/C6.5.1, C4.3, C2.2/C6.5.8."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from jilu.casework.tests.conftest import T0
from jilu.evidence.models import Recording
from jilu.oversight.tests.findings_fixtures import *  # noqa: F401,F403
from jilu.oversight.tests.findings_fixtures import fact_ids, findings

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_c5_1_collected_later_than_24_hours(db, make_recording, clock, run_rules, people, tree):
    late = make_recording(start=T0, minutes=10, docked_at=T0 + 10 * M + 25 * H)
    make_recording(start=T0 + H, minutes=10, docked_at=T0 + H + 10 * M + 23 * H)  # in time
    run_rules()
    [finding] = findings("late_collection")
    assert finding.clause == "C5.1"
    assert finding.subject_kind == "officer" and finding.subject_id == people["officer"].pk
    assert finding.person == people["officer"] and finding.unit == tree["squad1"]
    assert fact_ids(finding) == {str(late.pk)}
    assert finding.period_label == "2026-11-27"  # the local day of the docking
    assert finding.state == "open"


def test_c5_1_grace_is_a_setting(db, make_recording, clock, run_rules, people):
    from jilu.oversight.actions import change_setting

    change_setting(actor=people["admin"], key="collection_grace_minutes", value="120")
    make_recording(start=T0, minutes=10, docked_at=T0 + 10 * M + 25 * H)  # 1 h late: in grace
    run_rules()
    assert findings("late_collection") == []


def _annotate(recording, activity, at):
    from jilu.casework.actions import annotate

    return annotate(
        actor="system:test", recording=recording, activity=activity, step="site_check", at=at
    )


def test_c5_2_annotated_later_than_48_hours_or_never(
    db, make_recording, make_activity, clock, run_rules, people
):
    activity = make_activity(officers=("officer",), kind="S2")
    docked = T0 + 3 * H
    in_time = make_recording(start=T0, docked_at=docked)
    late = make_recording(start=T0 + 10 * M, docked_at=docked)
    never = make_recording(start=T0 + 20 * M, docked_at=docked)
    _annotate(in_time, activity, docked + 47 * H)
    _annotate(late, activity, docked + 49 * H)
    clock.set(docked + 47 * H)  # before the deadline: nothing is judged yet
    run_rules()
    assert findings("late_annotation") == []
    clock.set(docked + 50 * H)
    run_rules()
    [finding] = findings("late_annotation")
    assert finding.clause == "C5.2" and finding.person == people["officer"]
    assert fact_ids(finding) == {str(late.pk), str(never.pk)}
    states = dict(finding.facts.values_list("object_id", "detail__state"))
    assert states == {str(late.pk): "late", str(never.pk): "missing"}


def test_c1_3_user_number_in_name_is_not_the_holders(
    db, make_recording, clock, run_rules, recorders
):
    wrong = make_recording(start=T0)
    Recording.objects.filter(pk=wrong.pk).update(user_no_mismatch=True, user_no_in_name="123456")
    make_recording(start=T0 + H)  # the holder's number
    run_rules()
    [finding] = findings("user_no_mismatch")
    assert finding.clause == "C1.3"
    assert finding.subject_kind == "recorder" and finding.subject_id == recorders["officer"].pk
    assert fact_ids(finding) == {str(wrong.pk)}
    assert finding.facts.get().detail["user_no_in_name"] == "123456"


def test_c2_1_activity_with_no_recording(db, make_activity, clock, run_rules, people, tree):
    activity = make_activity(officers=("officer",), kind="S2", start=T0, minutes=60)
    clock.set(T0 + 2 * H)  # within the grace period: not judged yet
    run_rules()
    assert findings("no_recording") == []
    clock.set(timezone.now() + 49 * H)  # 48 h after it ended and was written down
    run_rules()
    [finding] = findings("no_recording")
    assert finding.clause == "C2.1"
    assert finding.subject_kind == "activity" and finding.subject_id == activity.pk
    assert finding.unit == tree["brigade"] and finding.person == people["officer"]
    assert fact_ids(finding, "activity") == {str(activity.pk)}
    assert findings("unrecorded_time") == []


def _confirmed_note(people, start, end):
    from jilu.dutylog.actions import confirm_note, create_note

    note = create_note(
        actor=people["officer"],
        start=start,
        end=end,
        reason="device_fault",
        description="记录仪故障",
    )
    return confirm_note(note, actor=people["squad_leader"])


def test_c2_1_a_confirmed_duty_log_note_clears_it(db, make_activity, clock, run_rules, people):
    make_activity(officers=("officer",), kind="S2", start=T0, minutes=60)
    _confirmed_note(people, T0 - 5 * M, T0 + 65 * M)
    clock.set(timezone.now() + 49 * H)
    run_rules()
    assert findings("no_recording") == []


def test_c2_1_a_pending_note_does_not(db, make_activity, clock, run_rules, people):
    from jilu.dutylog.actions import create_note

    make_activity(officers=("officer",), kind="S2", start=T0, minutes=60)
    create_note(actor=people["officer"], start=T0, end=T0 + H, reason="weather", description="暴雨")
    clock.set(timezone.now() + 49 * H)
    run_rules()
    assert len(findings("no_recording")) == 1


def test_c4_3_time_inside_an_activity_not_recorded(
    db, make_activity, make_recording, clock, run_rules, people
):
    gappy = make_activity(officers=("officer",), kind="S2", start=T0, minutes=60)
    make_recording(start=T0, minutes=20)  # 20 minutes of 60: 40 unrecorded
    whole = make_activity(officers=("officer_b",), kind="S2", start=T0, minutes=30)
    make_recording("officer_b", start=T0, minutes=30)
    clock.set(timezone.now() + 49 * H)
    run_rules()
    [finding] = findings("unrecorded_time")
    assert finding.clause == "C4.3" and finding.subject_id == gappy.pk
    [gap] = finding.facts.filter(kind="gap")
    assert gap.detail["seconds"] == 40 * 60
    assert not any(f.subject_id == whole.pk for f in findings("unrecorded_time"))
    assert findings("no_recording") == []


def test_c4_3_gap_explained_by_a_confirmed_note_is_no_finding(
    db, make_activity, make_recording, clock, run_rules, people
):
    make_activity(officers=("officer",), kind="S2", start=T0, minutes=60)
    make_recording(start=T0, minutes=20)
    _confirmed_note(people, T0 + 20 * M, T0 + 60 * M)
    clock.set(timezone.now() + 49 * H)
    run_rules()
    assert findings("unrecorded_time") == []


def test_c2_2_recording_outside_duty_hours_without_activity(
    db, make_recording, make_activity, clock, run_rules, people
):
    night = T0 + 14 * H + 30 * M  # 23:30 in Xiamen
    alone = make_recording(start=night, minutes=5)
    make_activity(officers=("officer_b",), kind="S2", start=night - 10 * M, minutes=30)
    in_activity = make_recording("officer_b", start=night, minutes=5)  # at night, on an activity
    make_recording(start=T0 + H, minutes=5)  # 10:00: on duty
    clock.set(night + 3 * H + 49 * H)
    run_rules()
    [finding] = findings("off_duty_recording")
    assert finding.clause == "C2.2"
    assert finding.person == people["officer"]
    assert fact_ids(finding) == {str(alone.pk)}
    assert str(in_activity.pk) not in fact_ids(finding)
    # Worded as a candidate, never as a verdict.
    from jilu.oversight.rules import RULES

    assert "疑似" in str(RULES["off_duty_recording"].label)


def test_c2_2_duty_hours_are_a_setting(db, make_recording, clock, run_rules, people):
    from jilu.oversight.actions import change_setting

    change_setting(actor=people["admin"], key="duty_end", value="23:59")
    make_recording(start=T0 + 14 * H + 30 * M, minutes=5)  # 23:30: now on duty
    clock.set(T0 + 60 * H)
    run_rules()
    assert findings("off_duty_recording") == []


# --- idempotence and incrementality -------------------------------------------


def test_running_twice_makes_no_second_finding_and_new_facts_join(
    db, make_recording, clock, run_rules
):
    from jilu.audit.models import AuditEntry

    first = make_recording(start=T0, minutes=10, docked_at=T0 + 26 * H)
    run_rules()
    entries = AuditEntry.objects.filter(action__startswith="oversight.finding").count()
    run_rules()
    [finding] = findings("late_collection")
    assert finding.fact_count == 1
    assert AuditEntry.objects.filter(action__startswith="oversight.finding").count() == entries
    # A new late recording of the same officer docked the same day joins it.
    second = make_recording(start=T0 + H, minutes=10, docked_at=T0 + 26 * H)
    run_rules()
    [finding] = findings("late_collection")
    assert fact_ids(finding) == {str(first.pk), str(second.pk)}
    assert finding.fact_count == 2
    assert AuditEntry.objects.filter(action="oversight.finding.facts").count() == 1
    # Another day is another period: another finding.
    make_recording(start=T0 + 30 * H, minutes=10, docked_at=T0 + 56 * H)
    run_rules()
    assert len(findings("late_collection")) == 2


def test_second_run_reads_only_rows_after_the_cursor(db, make_recording, clock, run_rules):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jilu.oversight.models import RuleCursor

    old = make_recording(start=T0, minutes=10)  # in time
    late = make_recording(start=T0, minutes=10, docked_at=T0 + 30 * H)
    run_rules()
    assert RuleCursor.objects.get(source="recordings").position == late.pk
    # An old row changed behind the rules' back is not read again ...
    Recording.objects.filter(pk=old.pk).update(collected_within_24h=False)
    with CaptureQueriesContext(connection) as queries:
        run_rules()
    [read] = [
        q["sql"]
        for q in queries.captured_queries
        if 'WHERE ((NOT "evidence_recording"."collected' in q["sql"]
    ]
    assert f'"evidence_recording"."id" > {late.pk}' in read
    [finding] = findings("late_collection")
    assert fact_ids(finding) == {str(late.pk)}
    # ... while a new one is.
    newer = make_recording(start=T0 + H, minutes=10, docked_at=T0 + 30 * H)
    run_rules()
    [finding] = findings("late_collection")
    assert fact_ids(finding) == {str(late.pk), str(newer.pk)}


def test_deadline_rules_judge_each_window_once(db, make_recording, clock, run_rules):
    from jilu.oversight.models import RuleCursor

    never = make_recording(start=T0, docked_at=T0 + 3 * H)
    clock.set(T0 + 3 * H + 50 * H)
    run_rules()
    window = RuleCursor.objects.get(source="annotation").window_end
    assert window == T0 + 3 * H + 50 * H - timedelta(hours=48)
    # A second run over the same time judges nothing again: a recording put
    # into the judged window afterwards is not read.
    slipped = make_recording(start=T0, docked_at=T0 + 4 * H + 50 * H)
    Recording.objects.filter(pk=slipped.pk).update(docked_at=T0 + 4 * H)
    run_rules()
    [finding] = findings("late_annotation")
    assert fact_ids(finding) == {str(never.pk)}
    assert RuleCursor.objects.get(source="annotation").window_end == window


def test_an_undecided_finding_keeps_its_recordings(
    db, make_recording, clock, run_rules, people, tree
):
    """C5.6 with C6.4: a recording named by a finding not yet decided is never
    disposable; once the inspector has decided, only its own keep-until counts."""
    from jilu.oversight.actions import decide_finding
    from jilu.retention.models import KeepUntil

    late = make_recording(start=T0, minutes=10, docked_at=T0 + 10 * M + 25 * H)
    run_rules()
    [finding] = findings("late_collection")
    keep = KeepUntil.objects.get(pk=late.pk)
    assert keep.until is None and "finding" in {r["rule"] for r in keep.reasons}
    from jilu.oversight.finding_models import Finding

    naming = Finding.objects.filter(facts__kind="recording", facts__object_id=str(late.pk))
    assert finding in naming
    for each in naming.distinct():  # the late collection, and any other rule on it
        decide_finding(each, actor=people["inspector"], outcome="dismissed", reason="设备原因")
    keep = KeepUntil.objects.get(pk=late.pk)
    assert keep.until is not None and "finding" not in {r["rule"] for r in keep.reasons}
