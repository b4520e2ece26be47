"""C1.3 谁使用、谁保管、谁负责: one responsible holder at any moment, with history
that answers "who held recorder X at time T"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jilu.audit.models import AuditEntry
from jilu.devices import actions, queries
from jilu.devices.models import Holding, Recorder

pytestmark = pytest.mark.django_db


def test_issue_makes_the_person_the_holder_and_is_audited(people, make_recorder):
    """C1.3: issuing is an action with an audit row."""
    recorder = make_recorder("A000123")
    holding = actions.issue_recorder(
        actor=people["squad_leader"], recorder=recorder, person=people["officer"]
    )
    assert holding.ended_at is None
    assert holding.issued_by == people["squad_leader"]
    assert list(queries.recorders_held_by(people["officer"])) == [recorder]
    assert queries.holder_at(recorder, timezone.now()) == people["officer"]
    entry = AuditEntry.objects.filter(action="devices.recorder.issue").get()
    assert entry.object_id == str(recorder.pk)
    assert entry.details["person"] == people["officer"].pk


def test_issuing_a_held_recorder_twice_is_refused(people, make_recorder):
    """C1.3: at most one holder; a second issue is refused until the first returns."""
    recorder = make_recorder()
    actions.issue_recorder(actor=people["admin"], recorder=recorder, person=people["officer"])
    with pytest.raises(ValidationError, match="已由 王五 持有，请先办理归还"):
        actions.issue_recorder(actor=people["admin"], recorder=recorder, person=people["officer_b"])
    assert Holding.objects.filter(recorder=recorder).count() == 1
    assert AuditEntry.objects.filter(action="devices.recorder.issue").count() == 1


def test_return_ends_the_holding_and_frees_the_recorder(people, make_recorder):
    """C1.3: returning is an action; the history keeps the closed period."""
    recorder = make_recorder()
    start = timezone.now() - timedelta(hours=3)
    actions.issue_recorder(
        actor=people["admin"], recorder=recorder, person=people["officer"], at=start
    )
    end = timezone.now() - timedelta(hours=1)
    holding = actions.return_recorder(
        actor=people["squad_leader"], recorder=recorder, at=end, note="外观完好"
    )
    assert holding.ended_at == end
    assert holding.returned_to == people["squad_leader"]
    assert holding.note == "外观完好"
    assert not queries.recorders_held_by(people["officer"]).exists()
    assert queries.holder_at(recorder, timezone.now()) is None
    actions.issue_recorder(actor=people["admin"], recorder=recorder, person=people["officer_b"])
    assert Holding.objects.filter(recorder=recorder).count() == 2
    assert AuditEntry.objects.filter(action="devices.recorder.return").count() == 1


def test_returning_an_unheld_recorder_is_refused(people, make_recorder):
    recorder = make_recorder()
    with pytest.raises(ValidationError, match="当前无人持有"):
        actions.return_recorder(actor=people["admin"], recorder=recorder)


def test_history_answers_before_during_after_and_between(people, make_recorder):
    """C1.3: holder_at for times before, during, at the boundaries of, between and
    after holdings (a holding covers started_at <= T < ended_at)."""
    recorder = make_recorder()
    t0 = timezone.now() - timedelta(days=10)
    a_start, a_end = t0, t0 + timedelta(days=2)
    b_start = t0 + timedelta(days=3)
    b_end = t0 + timedelta(days=5)
    c_start = b_end  # handed straight over
    admin, wang, li = people["admin"], people["officer"], people["officer_b"]
    actions.issue_recorder(actor=admin, recorder=recorder, person=wang, at=a_start)
    actions.return_recorder(actor=admin, recorder=recorder, at=a_end)
    actions.issue_recorder(actor=admin, recorder=recorder, person=li, at=b_start)
    actions.return_recorder(actor=admin, recorder=recorder, at=b_end)
    actions.issue_recorder(actor=admin, recorder=recorder, person=wang, at=c_start)

    second = timedelta(seconds=1)
    assert queries.holder_at(recorder, a_start - second) is None  # before any holding
    assert queries.holder_at(recorder, a_start) == wang  # the first instant
    assert queries.holder_at(recorder, a_start + timedelta(days=1)) == wang  # during
    assert queries.holder_at(recorder, a_end - second) == wang
    assert queries.holder_at(recorder, a_end) is None  # returned: nobody
    assert queries.holder_at(recorder, a_end + timedelta(hours=12)) is None  # between
    assert queries.holder_at(recorder, b_start) == li
    assert queries.holder_at(recorder, b_end - second) == li
    assert queries.holder_at(recorder, b_end) == wang  # handed over at that instant
    assert queries.holder_at(recorder, timezone.now()) == wang  # current, open-ended
    assert queries.holder_at(recorder, timezone.now() + timedelta(days=30)) == wang


def test_issue_before_the_last_return_is_refused(people, make_recorder):
    """C1.3: history never overlaps, even when back-dating a paper record."""
    recorder = make_recorder()
    t0 = timezone.now() - timedelta(days=2)
    actions.issue_recorder(
        actor=people["admin"], recorder=recorder, person=people["officer"], at=t0
    )
    actions.return_recorder(actor=people["admin"], recorder=recorder, at=t0 + timedelta(days=1))
    with pytest.raises(ValidationError, match="早于上一次归还时间"):
        actions.issue_recorder(
            actor=people["admin"],
            recorder=recorder,
            person=people["officer_b"],
            at=t0 + timedelta(hours=12),
        )


def test_return_before_issue_and_future_times_are_refused(people, make_recorder):
    recorder = make_recorder()
    t0 = timezone.now() - timedelta(hours=2)
    actions.issue_recorder(
        actor=people["admin"], recorder=recorder, person=people["officer"], at=t0
    )
    with pytest.raises(ValidationError, match="归还时间早于配发时间"):
        actions.return_recorder(
            actor=people["admin"], recorder=recorder, at=t0 - timedelta(hours=1)
        )
    with pytest.raises(ValidationError, match="晚于当前时间"):
        actions.return_recorder(
            actor=people["admin"], recorder=recorder, at=timezone.now() + timedelta(days=1)
        )
    assert Holding.objects.get(recorder=recorder).ended_at is None


def test_issue_only_to_active_people_of_the_recorders_unit_subtree(people, make_recorder, tree):
    """C1.3: the holder belongs to the recorder's unit (or a unit below it)."""
    recorder = make_recorder(unit="squad1")
    with pytest.raises(ValidationError, match="不属于记录仪所属单位"):
        actions.issue_recorder(
            actor=people["admin"], recorder=recorder, person=people["officer_other"]
        )
    brigade_recorder = make_recorder(unit="brigade")
    actions.issue_recorder(
        actor=people["admin"], recorder=brigade_recorder, person=people["officer"]
    )  # squad1 is below the brigade
    people["officer_b"].is_active = False
    people["officer_b"].save()
    with pytest.raises(ValidationError, match="不在岗"):
        actions.issue_recorder(actor=people["admin"], recorder=recorder, person=people["officer_b"])


def test_a_person_may_hold_a_spare(people, make_recorder):
    first, spare = make_recorder(), make_recorder()
    actions.issue_recorder(actor=people["admin"], recorder=first, person=people["officer"])
    actions.issue_recorder(actor=people["admin"], recorder=spare, person=people["officer"])
    assert set(queries.recorders_held_by(people["officer"])) == {first, spare}


# An interval plan: gaps and durations in minutes; the last holding may stay open.
_plans = st.lists(
    st.tuples(st.integers(0, 600), st.integers(0, 600), st.sampled_from([0, 1, 2])),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=_plans, open_last=st.booleans(), probes=st.lists(st.integers(-60, 8000), max_size=25))
def test_holder_at_matches_the_history_for_any_sequence(
    people, make_recorder, plan, open_last, probes
):
    """C1.3 property: for any non-overlapping sequence of holdings, holder_at(T)
    is exactly the person whose [start, end) contains T, or nobody."""
    holders = [people["officer"], people["officer_b"], people["squad_leader"]]
    with transaction.atomic():
        recorder = make_recorder()
        base = timezone.now() - timedelta(days=30)
        cursor = base
        spans = []
        for i, (gap, length, who) in enumerate(plan):
            start = cursor + timedelta(minutes=gap)
            actions.issue_recorder(
                actor=people["admin"], recorder=recorder, person=holders[who], at=start
            )
            last = i == len(plan) - 1
            if last and open_last:
                spans.append((start, None, holders[who]))
            else:
                end = start + timedelta(minutes=length)
                actions.return_recorder(actor=people["admin"], recorder=recorder, at=end)
                spans.append((start, end, holders[who]))
                cursor = end
        edges = [s for s, _, _ in spans] + [e for _, e, _ in spans if e is not None]
        moments = [base + timedelta(minutes=p) for p in probes] + edges
        for t in moments:
            expected = [p for s, e, p in spans if s <= t and (e is None or t < e)]
            # Zero-length holdings never cover any instant; otherwise at most one does.
            assert len(expected) <= 1
            assert queries.holder_at(recorder, t) == (expected[0] if expected else None)
        transaction.set_rollback(True)


def test_recorder_status_is_in_service_by_default(make_recorder):
    assert make_recorder().status == Recorder.Status.IN_SERVICE


def test_register_refuses_duplicate_and_malformed_serials(people, make_recorder, tree):
    make_recorder("A000123")
    with pytest.raises(ValidationError) as exc:
        actions.register_recorder(actor=people["admin"], serial="a000123", unit=tree["squad1"])
    assert "已登记" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        actions.register_recorder(actor=people["admin"], serial="A12", unit=tree["squad1"])
    assert "7位" in str(exc.value)
    assert Recorder.objects.count() == 1
