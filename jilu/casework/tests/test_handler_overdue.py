"""The handler's cases with recordings past the 48-hour deadline (C5.2).

A recording counts for a case when one of an activity's officers made it
within the activity's window and nobody annotated it within 48 hours of docking.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from jilu.casework import actions, queries

from .conftest import T0

DOCKED = T0 + timedelta(hours=3)


@pytest.fixture
def case(tree, people):
    return actions.create_case(
        actor=people["case_handler"],
        number="思城执罚〔2026〕90号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
    )


def test_an_unannotated_recording_of_the_case_activity_is_overdue_after_48_hours(
    people, case, make_activity, make_recording
):
    make_activity(start=T0, minutes=60, case=case)
    rec = make_recording(start=T0 + timedelta(minutes=10), docked_at=DOCKED)
    make_recording(start=T0 + timedelta(hours=5), docked_at=DOCKED)  # outside the window
    make_recording("officer_other", start=T0 + timedelta(minutes=10), docked_at=DOCKED)
    handler = people["case_handler"]
    before = DOCKED + timedelta(hours=47)
    after = DOCKED + timedelta(hours=49)
    assert queries.cases_with_overdue_annotation(handler, before) == []
    [found] = queries.cases_with_overdue_annotation(handler, after)
    assert (found.case, found.recordings) == (case, 1)
    # Another handler's home does not list it.
    assert queries.cases_with_overdue_annotation(people["squad_leader"], after) == []
    # Annotated (late, but done), it leaves the card.
    act = case.activities.get()
    actions.annotate(actor=people["officer"], recording=rec, activity=act, step="site_survey")
    assert queries.cases_with_overdue_annotation(handler, after) == []


def test_switched_on_early_counts_and_a_closed_case_does_not(
    people, case, make_activity, make_recording
):
    make_activity(start=T0, minutes=60, case=case)
    make_recording("officer_b", start=T0 - timedelta(minutes=20), docked_at=DOCKED)  # C3.3
    after = DOCKED + timedelta(hours=49)
    [found] = queries.cases_with_overdue_annotation(people["case_handler"], after)
    assert found.recordings == 1
    actions.set_case_status(
        actor=people["case_handler"], case=case, status="closed", reason="no_penalty", note="x"
    )
    assert queries.cases_with_overdue_annotation(people["case_handler"], after) == []
