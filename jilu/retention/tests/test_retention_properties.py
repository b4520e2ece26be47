"""Property: over random histories of links, case closings and holds, no
recording ever gets a keep-until earlier than any rule that applies to it, and
nothing held or tied to an open case is ever proposed for disposal (C5.6).
The expected dates are computed here, independently of ``jilu.retention.rules``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jilu.casework.tests.conftest import T0
from jilu.evidence.timeline import SHANGHAI
from jilu.retention import actions
from jilu.retention.models import Hold, KeepUntil

FAR = T0 + timedelta(days=365 * 80)  # after every dated rule: only the undated ones remain
YEARS = {"10y": 10, "30y": 30, "permanent": None}

op = st.one_of(
    st.tuples(st.just("link"), st.integers(0, 2), st.integers(0, 3)),
    st.tuples(st.just("close"), st.integers(0, 1), st.integers(0, 400)),
    st.tuples(
        st.just("hold"), st.sampled_from(["recording", "activity", "case"]), st.integers(0, 2)
    ),
    st.tuples(st.just("release"), st.integers(0, 5), st.just(0)),
)


def _expected(rec, cases_of_rec, held) -> tuple[date | None, list]:
    """(latest date or None for no end) from the rule text of C5.6, written out again."""
    end = timezone.localtime(rec.ended_at or rec.started_at, SHANGHAI).date()
    dates: list[date | None] = [end.replace(year=end.year + 1)]
    for case in cases_of_rec:
        if case.status != "closed":
            dates.append(None)
        else:
            years = YEARS[case.retention]
            closed = timezone.localtime(case.closed_at, SHANGHAI).date()
            dates.append(None if years is None else date(closed.year + 1 + years, 1, 1))
    if held:
        dates.append(None)
    return (None if None in dates else max(dates)), dates


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(op, min_size=1, max_size=8))
def test_keep_until_never_undercuts_a_rule_and_nothing_protected_is_proposed(
    people, tree, make_recording, make_activity, history
):
    from unittest import mock

    from jilu.casework.actions import annotate, create_case, set_case_status
    from jilu.casework.models import Annotation

    with transaction.atomic():
        recs = [make_recording(start=T0 + timedelta(hours=i)) for i in range(3)]
        cases = [
            create_case(
                actor=people["case_handler"],
                number=f"思城执罚〔2026〕{900 + i}号",
                category="penalty",
                unit=tree["brigade"],
                handler=people["case_handler"],
                retention=["10y", "permanent"][i],
            )
            for i in range(2)
        ]
        activities = [
            make_activity(case=cases[0]),
            make_activity(case=cases[1]),
            make_activity(),
            make_activity(),
        ]
        holds: list[Hold] = []
        for kind, a, b in history:
            try:
                if kind == "link":
                    annotate(
                        actor=people["officer"],
                        recording=recs[a],
                        activity=activities[b],
                        step="site_check",
                    )
                elif kind == "close":
                    at = T0 + timedelta(days=b)
                    with mock.patch("django.utils.timezone.now", return_value=at):
                        set_case_status(
                            actor=people["case_handler"],
                            case=cases[a],
                            status="closed",
                            reason="no_penalty",
                            note="不予处罚",
                        )
                elif kind == "hold":
                    target = {
                        "recording": recs[b % 3],
                        "activity": activities[b % 4],
                        "case": cases[b % 2],
                    }[a]
                    holds.append(
                        actions.place_hold(
                            actor=people["inspector"],
                            kind="inspection",
                            reason="核查",
                            **{a: target},
                        )
                    )
                elif kind == "release" and holds:
                    hold = holds[a % len(holds)]
                    if hold.state == Hold.State.ACTIVE:
                        actions.request_release(actor=people["inspector"], hold=hold, reason="完")
                        actions.approve_release(actor=people["brigade_leader"], hold=hold)
            except ValidationError:
                continue  # refused as the rule says (e.g. linking to a closed case)

            for rec in recs:
                ann = Annotation.objects.filter(recording=rec).select_related("activity").first()
                rec_cases = []
                if ann is not None:
                    for c in {ann.case_id, ann.activity.case_id} - {None}:
                        rec_cases.append(next(x for x in cases if x.pk == c))
                for c in rec_cases:
                    c.refresh_from_db()
                held = (
                    Hold.objects.exclude(state="released").filter(recording=rec).exists()
                    or (
                        ann is not None
                        and Hold.objects.exclude(state="released")
                        .filter(activity_id=ann.activity_id)
                        .exists()
                    )
                    or Hold.objects.exclude(state="released").filter(case__in=rec_cases).exists()
                )
                want, _all = _expected(rec, rec_cases, held)
                keep = KeepUntil.objects.filter(pk=rec.pk).first()
                if ann is None and keep is None:
                    continue  # never touched by an action: the minimum is computed on reading
                assert keep is not None
                if want is None:
                    assert keep.until is None, (rec.pk, keep.reasons)
                else:
                    assert keep.until is not None and keep.until >= want, (keep.until, want)
                due = {pk for pk, _d in actions.due_for_disposal(tree["squad1"], now=FAR)}
                if want is None:
                    assert rec.pk not in due

        transaction.set_rollback(True)


def test_far_future_is_past_every_dated_rule():
    assert FAR > datetime(2057, 1, 1, tzinfo=T0.tzinfo)
