"""How long a recording is kept (C5.6): the minimum of one year for every
recording, evidence as long as its case file, no end while a case is open, a
hold stands or an access request names it."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import timezone

from jilu.casework.tests.conftest import T0
from jilu.retention import rules
from jilu.retention.models import KeepUntil

pytestmark = pytest.mark.django_db


def _case(people, tree, number="思城执罚〔2026〕1号", category="penalty", retention=None):
    from jilu.casework.actions import create_case

    return create_case(
        actor=people["case_handler"],
        number=number,
        category=category,
        unit=tree["brigade"],
        handler=people["case_handler"],
        retention=retention,
        title="占道经营",
    )


def _link(people, recording, activity):
    from jilu.casework.actions import annotate

    return annotate(
        actor=people["officer"], recording=recording, activity=activity, step="site_check"
    )


def _close(people, case, at):
    from unittest import mock

    from jilu.casework.actions import set_case_status

    with mock.patch("django.utils.timezone.now", return_value=at):
        return set_case_status(
            actor=people["case_handler"],
            case=case,
            status="closed",
            reason="no_penalty",
            note="当事人已自行整改，不予处罚",
        )


def test_every_recording_gets_the_minimum_one_year_from_its_end(make_recording):
    """C5.6: 原始声像资料保存期限不少于一年 — an unclassified recording gets exactly that."""
    from jilu.retention.actions import recompute

    rec = make_recording(start=T0, minutes=30)  # ends 09:30 on 2026-11-26 in Xiamen
    recompute([rec.pk])
    keep = KeepUntil.objects.get(pk=rec.pk)
    assert keep.until == date(2027, 11, 26) and keep.rule == "original"
    assert [r["clause"] for r in keep.reasons] == ["C5.6"]


def test_a_leap_day_keeps_to_the_28th():
    assert rules.add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)


def test_evidence_of_an_open_case_has_no_end(people, tree, make_recording, make_activity):
    """Linked to a case that is not closed: never disposable (the Waukesha lesson)."""
    rec = make_recording()
    case = _case(people, tree)
    activity = make_activity(case=case)
    _link(people, rec, activity)
    keep = KeepUntil.objects.get(pk=rec.pk)
    assert keep.until is None and keep.rule == "case_open"


@pytest.mark.parametrize(
    ("retention", "until", "rule"),
    [
        ("10y", date(2037, 1, 1), "case_file"),
        ("30y", date(2057, 1, 1), "case_file"),
        ("permanent", None, "case_permanent"),
    ],
)
def test_closed_case_evidence_follows_the_case_file(
    people, tree, make_recording, make_activity, retention, until, rule
):
    """Counted from 1 January of the year after closing, as archive periods are."""
    rec = make_recording()
    case = _case(people, tree, retention=retention)
    _link(people, rec, make_activity(case=case))
    closed_at = datetime(2026, 12, 20, 8, 0, tzinfo=timezone.get_current_timezone())
    _close(people, case, closed_at)
    keep = KeepUntil.objects.get(pk=rec.pk)
    assert keep.until == until and keep.rule == rule


def test_a_hold_keeps_with_no_end_until_released(people, make_recording):
    from jilu.retention import actions

    rec = make_recording()
    hold = actions.place_hold(
        actor=people["inspector"], kind="inspection", reason="投诉核查", recording=rec
    )
    assert KeepUntil.objects.get(pk=rec.pk).until is None
    actions.request_release(actor=people["inspector"], hold=hold, reason="核查完毕")
    assert KeepUntil.objects.get(pk=rec.pk).until is None  # asked, not yet approved
    actions.approve_release(actor=people["brigade_leader"], hold=hold)
    assert KeepUntil.objects.get(pk=rec.pk).until == date(2027, 11, 26)


def test_an_open_access_request_keeps_it(people, make_recording):
    """C6.3: while a request to copy it is pending, it is not disposed of."""
    from jilu.access import actions as access

    rec = make_recording()
    req = access.create_request(
        actor=people["officer"], purpose="行政复议需要", recording_ids=[rec.pk]
    )
    keep = KeepUntil.objects.get(pk=rec.pk)
    assert keep.until is None and keep.rule == "access_request"
    access.withdraw(actor=people["officer"], request=req)
    assert KeepUntil.objects.get(pk=rec.pk).until == date(2027, 11, 26)


def test_the_latest_rule_wins_and_every_reason_is_kept(people, tree, make_recording, make_activity):
    rec = make_recording()
    case = _case(people, tree, retention="10y")
    _link(people, rec, make_activity(case=case))
    _close(people, case, datetime(2026, 12, 20, 8, 0, tzinfo=timezone.get_current_timezone()))
    decision = rules.decide([rec.pk])[rec.pk]
    assert {r.rule for r in decision.reasons} == {"original", "case_file"}
    assert decision.until == date(2037, 1, 1) > date(2027, 11, 26)
    assert decision.until == max(r.until for r in decision.reasons)
