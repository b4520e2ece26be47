"""Spot checks (C6.4): a stratified random sample of recordings or ledger rows,
drawn from a stored seed so anyone can draw it again, reviewed against the
checklist of C4 and Attachment 1 (A1) or of the ledger (C6.1); failed items
become findings."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jilu.audit.models import AuditEntry
from jilu.oversight import spotcheck_sample as sampling
from jilu.oversight.actions import explain_finding
from jilu.oversight.keeping import open_findings_of
from jilu.oversight.models import Finding, SpotCheck
from jilu.oversight.spotcheck_actions import (
    complete_spot_check,
    review_item,
    verify_spot_check,
)
from jilu.oversight.spotcheck_stats import scores_by_unit
from jilu.oversight.tests.spotcheck_fixtures import WEEK48, WEEK49, all_pass

pytestmark = pytest.mark.django_db


def _members(spot: SpotCheck) -> list[tuple[str, str]]:
    return [(i.stratum, i.sample_key) for i in spot.items.order_by("position")]


def _recordings(make_recording, holder: str, n: int, start, step_hours: int = 2):
    return [make_recording(holder, start=start + timedelta(hours=step_hours * k)) for k in range(n)]


# --- the sample can be drawn again ------------------------------------------------


def test_redrawn_from_its_stored_seed_the_sample_is_the_same(draw, make_recording):
    """C6.4: the seed and the query are stored; drawing again gives the same sample."""
    _recordings(make_recording, "officer", 12, WEEK48, step_hours=1)
    spot = draw(per_stratum=4, seed="0123456789abcdef")
    assert spot.items.count() == 4
    assert spot.seed == "0123456789abcdef"
    assert spot.query["per_stratum"] == 4 and spot.query["ordering"] == "started_at, id"
    result = verify_spot_check(spot, actor="system:test")
    assert result.same and not result.missing and not result.extra
    assert result.redrawn_sha256 == spot.sample_sha256
    # The rule is stated and public: anyone can compute it with SHA-256.
    stratum = spot.query["strata"][0]
    ids = [str(r) for r in spot.items.values_list("recording_id", flat=True)]
    ranked = sorted(
        sampling.population("recordings", _stratum(spot)),
        key=lambda m: sampling.rank(spot.seed, stratum["stratum"], m),
    )
    assert ranked[:4] == ids


def _stratum(spot: SpotCheck) -> sampling.Stratum:
    units = sampling.stratum_units(list(spot.units.all()))
    return sampling.strata(units, spot.first_day, spot.last_day, spot.per)[0]


def test_a_different_seed_draws_a_different_sample(draw, make_recording):
    _recordings(make_recording, "officer", 20, WEEK48, step_hours=1)
    first = draw(per_stratum=3, seed="aaaaaaaa")
    second = draw(per_stratum=3, seed="bbbbbbbb")
    assert _members(first) != _members(second)
    assert first.sample_sha256 != second.sample_sha256
    # A seed chosen at random when none is given.
    third = draw(per_stratum=3)
    assert len(third.seed) == 32 and third.seed not in ("aaaaaaaa", "bbbbbbbb")


def test_a_hand_picked_item_is_shown_as_a_difference(draw, make_recording):
    recs = _recordings(make_recording, "officer", 10, WEEK48, step_hours=1)
    spot = draw(per_stratum=2, seed="c0ffee00")
    item = spot.items.first()
    swapped = next(
        r for r in recs if r.pk not in set(spot.items.values_list("recording_id", flat=True))
    )
    item.recording = swapped
    item.save()
    result = verify_spot_check(spot, actor="system:test")
    assert not result.same
    assert result.missing == [(item.stratum, str(swapped.pk))]
    assert len(result.extra) == 1


def test_recordings_collected_after_the_draw_are_named_as_a_changed_population(
    draw, make_recording
):
    _recordings(make_recording, "officer", 3, WEEK48)
    spot = draw(per_stratum=5)
    make_recording("officer", start=WEEK48 + timedelta(hours=7))  # docked later
    result = verify_spot_check(spot, actor="system:test")
    assert not result.same  # a stratum with fewer than 5 takes all: the new one joins
    assert result.population_changed == [
        {"stratum": spot.items.first().stratum, "before": 3, "now": 4}
    ]


# --- stratification ---------------------------------------------------------------


def test_each_unit_and_week_gets_its_share_and_small_strata_take_all(draw, make_recording, tree):
    """C6.4: n per squad per week; a stratum with fewer than n gives all it has."""
    _recordings(make_recording, "officer", 5, WEEK48)
    _recordings(make_recording, "officer_b", 1, WEEK49)
    _recordings(make_recording, "officer_other", 2, WEEK48)
    spot = draw(units=("city",), per_stratum=3)
    counts = Counter(spot.items.values_list("stratum", flat=True))
    assert counts == {
        f"{tree['squad1'].code}/2026-W48": 3,
        f"{tree['squad1'].code}/2026-W49": 1,
        f"{tree['squad3'].code}/2026-W48": 2,
    }
    strata = {s["stratum"]: s for s in spot.query["strata"]}
    # Every squad under the city and every week is a stratum, even an empty one.
    assert len(strata) == 3 * 2
    assert strata[f"{tree['squad2'].code}/2026-W48"]["population"] == 0
    assert strata[f"{tree['squad1'].code}/2026-W48"]["population"] == 5
    assert spot.population == 8
    assert set(spot.strata_units.all()) == {tree["squad1"], tree["squad2"], tree["squad3"]}


def test_monthly_strata_are_calendar_months_clipped_to_the_period(draw, make_recording, tree):
    _recordings(make_recording, "officer", 4, WEEK48)
    _recordings(make_recording, "officer", 4, WEEK49)
    spot = draw(per="month", per_stratum=2)
    counts = Counter(spot.items.values_list("period_label", flat=True))
    assert counts == {"2026-11": 2, "2026-12": 2}
    assert [s["start"] for s in spot.query["strata"]] == [
        "2026-11-22T16:00:00+00:00",  # 2026-11-23 00:00 Beijing
        "2026-11-30T16:00:00+00:00",
    ]


# --- review, score and findings ------------------------------------------------------


def test_failed_items_become_findings_citing_the_clause_passed_items_none(
    draw, make_recording, people
):
    """C4.2, C4.3 (and A1): each failed checklist item is a finding of its rule;
    the officer explains it in the existing workflow (C6.4)."""
    make_recording("officer", start=WEEK48)
    make_recording("officer_b", start=WEEK48 + timedelta(hours=1))
    spot = draw(per_stratum=5)
    by_officer = {i.officer: i for i in spot.items.all()}
    good, bad = by_officer[people["officer_b"]], by_officer[people["officer"]]
    review_item(good, actor=people["inspector"], marks=all_pass())
    marks = {**all_pass(), "certificate": "fail", "continuous": "fail", "angles": "na"}
    reviewed = review_item(bad, actor=people["inspector"], marks=marks, note="未出示证件，中途关机")
    assert reviewed.score == round(100 * 4 / 6, 1)
    assert not Finding.objects.exists()  # findings only once the check is completed

    spot = complete_spot_check(spot, actor=people["inspector"])
    assert spot.state == "completed"
    assert (spot.passed, spot.failed) == (7 + 4, 2)
    assert spot.score == round(100 * 11 / 13, 1)
    found = {f.rule: f for f in Finding.objects.all()}
    assert set(found) == {"spot_certificate", "spot_continuous"}
    assert found["spot_certificate"].clause == "C4.2"
    assert found["spot_continuous"].clause == "C4.3"
    cert = found["spot_certificate"]
    assert (cert.subject_kind, cert.person, cert.period_label) == (
        "officer",
        people["officer"],
        "2026-11",
    )
    fact = cert.facts.get(kind="spot_item")
    # The recording is a fact too: kept while the finding is undecided (C5.6).
    assert cert.facts.filter(kind="recording", object_id=str(bad.recording_id)).exists()
    assert open_findings_of([bad.recording_id])[bad.recording_id][0][0] == "finding"
    assert not open_findings_of([good.recording_id])
    assert fact.kind == "spot_item" and fact.detail["spot_check"] == spot.pk
    assert fact.detail["note"] == "未出示证件，中途关机"
    explain_finding(cert, actor=people["officer"], text="当事人不在场，已拍摄见证人")
    cert.refresh_from_db()
    assert cert.state == "explained"


def test_one_finding_per_officer_rule_and_month(draw, make_recording, people):
    make_recording("officer", start=WEEK48)
    make_recording("officer", start=WEEK48 + timedelta(hours=3))
    spot = draw(per_stratum=5)
    for item in spot.items.all():
        review_item(item, actor=people["inspector"], marks={**all_pass(), "sound": "fail"})
    complete_spot_check(spot, actor=people["inspector"])
    finding = Finding.objects.get()
    assert finding.rule == "spot_sound"
    assert finding.facts.filter(kind="spot_item").count() == 2  # both recordings, one finding


def test_completing_needs_every_item_reviewed_and_then_nothing_changes(
    draw, make_recording, people
):
    _recordings(make_recording, "officer", 2, WEEK48)
    spot = draw(per_stratum=5)
    first, second = spot.items.all()
    review_item(first, actor=people["inspector"], marks=all_pass())
    with pytest.raises(ValidationError, match="还有 1 个抽检项没有检查"):
        complete_spot_check(spot, actor=people["inspector"])
    review_item(second, actor=people["inspector"], marks=all_pass())
    complete_spot_check(spot, actor=people["inspector"])
    with pytest.raises(ValidationError, match="已经完成"):
        review_item(first, actor=people["inspector"], marks=all_pass())


def test_a_review_must_judge_every_item_with_a_known_outcome(draw, make_recording, people):
    make_recording("officer", start=WEEK48)
    item = draw().items.get()
    with pytest.raises(ValidationError, match="请对每一项作出判断"):
        review_item(item, actor=people["inspector"], marks={"landmark": "pass"})
    with pytest.raises(ValidationError, match="判断只能是"):
        review_item(item, actor=people["inspector"], marks={**all_pass(), "sound": "maybe"})
    with pytest.raises(ValidationError, match="没有这些检查项"):
        review_item(item, actor=people["inspector"], marks={**all_pass(), "smile": "pass"})


def test_every_step_is_audited(draw, make_recording, people):
    make_recording("officer", start=WEEK48)
    spot = draw()
    review_item(spot.items.get(), actor=people["inspector"], marks=all_pass())
    complete_spot_check(spot, actor=people["inspector"])
    verify_spot_check(spot, actor=people["squad_leader"])
    codes = list(
        AuditEntry.objects.filter(object_type="oversight.spotcheck").values_list(
            "action", flat=True
        )
    )
    assert codes == [
        "oversight.spotcheck.draw",
        "oversight.spotcheck.review",
        "oversight.spotcheck.complete",
        "oversight.spotcheck.verify",
    ]
    drawn = AuditEntry.objects.get(action="oversight.spotcheck.draw")
    assert drawn.details["seed"] == spot.seed
    assert drawn.details["sample_sha256"] == spot.sample_sha256


# --- ledger rows ----------------------------------------------------------------


def test_ledger_rows_are_checked_against_the_recordings(draw, make_recording, people):
    """C6.1: a sampled ledger row (one officer's day) is compared with the
    recordings as they are now; a difference suggests a fail, which becomes a finding."""
    from jilu.oversight import spotcheck_pages

    _recordings(make_recording, "officer", 2, WEEK48)
    spot = draw(kind="ledgers", per_stratum=2)
    item = spot.items.get()
    assert item.officer == people["officer"] and item.day == date(2026, 11, 26)
    assert item.ledger_row["count"] == 2 and not item.ledger_confirmed
    row = spotcheck_pages.rows(spot, people["inspector"])[0]
    assert {line.check.code: line.suggested for line in row.lines}["ledger_count"] == "pass"
    make_recording("officer", start=WEEK48 + timedelta(hours=6))  # the ledger no longer matches
    row = spotcheck_pages.rows(spot, people["inspector"])[0]
    suggested = {line.check.code: line.suggested for line in row.lines}
    assert suggested["ledger_count"] == "fail" and suggested["ledger_duration"] == "fail"
    review_item(item, actor=people["inspector"], marks=suggested)
    complete_spot_check(spot, actor=people["inspector"])
    rules = set(Finding.objects.values_list("rule", "clause"))
    assert ("spot_ledger_count", "C6.1") in rules


# --- permissions -------------------------------------------------------------------


def test_an_officer_or_a_leader_cannot_draw_or_review(draw, make_recording, people):
    make_recording("officer", start=WEEK48)
    for who in ("officer", "squad_leader", "admin"):
        with pytest.raises(PermissionDenied):
            draw(actor=people[who])
    spot = draw()
    with pytest.raises(PermissionDenied):
        review_item(spot.items.get(), actor=people["squad_leader"], marks=all_pass())
    with pytest.raises(PermissionDenied):
        complete_spot_check(spot, actor=people["squad_leader"])


def test_a_leader_reads_only_the_spot_checks_covering_their_unit(draw, make_recording, people):
    make_recording("officer", start=WEEK48)
    make_recording("officer_other", start=WEEK48)
    mine = draw(units=("squad1",))
    other = draw(units=("squad3",))
    both = draw(units=("city",))
    leader = people["squad_leader"]
    assert set(SpotCheck.objects.restrict(leader)) == {mine, both}
    assert set(SpotCheck.objects.restrict(people["brigade_leader"])) == {mine, both}
    assert set(SpotCheck.objects.restrict(people["inspector"])) == {mine, other, both}
    assert not SpotCheck.objects.restrict(people["officer"]).exists()
    assert not SpotCheck.objects.restrict(people["admin"]).exists()
    from jilu.oversight.spotcheck_pages import visible_items

    assert {i.officer for i in visible_items(both, leader)} == {people["officer"]}


# --- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"per_stratum": 0}, "per_stratum", "1 至 50"),
        ({"per_stratum": 51}, "per_stratum", "1 至 50"),
        ({"per_stratum": "many"}, "per_stratum", "整数"),
        ({"first_day": date(2026, 12, 3), "last_day": date(2026, 11, 23)}, "period", "空的"),
        ({"first_day": None}, "period", "起止日期"),
        ({"first_day": date(2025, 1, 1)}, "period", "366"),
        ({"first_day": date(2099, 1, 1), "last_day": date(2099, 1, 2)}, "period", "还没有开始"),
        ({"kind": "cases"}, "kind", "声像记录"),
        ({"per": "day"}, "per", "每周或每月"),
        ({"seed": "not hex!"}, "seed", "十六进制"),
    ],
)
def test_bad_parameters_are_refused_saying_what_to_change(
    draw, make_recording, change, field, words
):
    make_recording("officer", start=WEEK48)
    with pytest.raises(ValidationError) as caught:
        draw(**change)
    assert field in caught.value.message_dict
    assert words in " ".join(caught.value.message_dict[field])
    assert not SpotCheck.objects.exists()


def test_unknown_or_no_units_and_an_empty_population_are_refused(people, make_recording, draw):
    from jilu.oversight.spotcheck_actions import draw_spot_check

    common = dict(
        actor=people["inspector"],
        kind="recordings",
        first_day=date(2026, 11, 23),
        last_day=date(2026, 11, 29),
        per="week",
        per_stratum=2,
    )
    with pytest.raises(ValidationError, match="没有这些单位：999999"):
        draw_spot_check(**common, unit_ids=[999999])
    with pytest.raises(ValidationError, match="请至少选择一个单位"):
        draw_spot_check(**common, unit_ids=[])
    with pytest.raises(ValidationError, match="没有声像记录，无法抽检"):
        draw(units=("squad2",))


def test_a_sample_larger_than_the_limit_is_refused(draw, make_recording):
    make_recording("officer", start=WEEK48)
    with pytest.raises(ValidationError, match="超过上限 500"):
        draw(units=("city",), per_stratum=50, per="week", first_day=date(2026, 6, 1))


# --- scores per unit for the report --------------------------------------------------


def test_scores_per_unit_for_a_period(draw, make_recording, people, tree):
    make_recording("officer", start=WEEK48)
    make_recording("officer_other", start=WEEK48)
    spot = draw(units=("city",))
    for item in spot.items.select_related("unit"):
        marks = all_pass() if item.unit == tree["squad1"] else {**all_pass(), "opening": "fail"}
        review_item(item, actor=people["inspector"], marks=marks)
    open_one = draw(units=("squad1",))  # not completed: not counted
    assert scores_by_unit(date(2026, 11, 1), date(2026, 11, 30)) == []
    complete_spot_check(spot, actor=people["inspector"])
    rows = {r["code"]: r for r in scores_by_unit(date(2026, 11, 1), date(2026, 11, 30))}
    assert rows[tree["squad1"].code] | {} == {
        "unit_id": tree["squad1"].pk,
        "code": tree["squad1"].code,
        "name": "中华中队",
        "checks": 1,
        "items": 1,
        "passed": 7,
        "failed": 0,
        "na": 0,
        "score": 100.0,
    }
    assert rows[tree["squad3"].code]["score"] == round(100 * 6 / 7, 1)
    assert scores_by_unit(date(2026, 12, 1), date(2026, 12, 31)) == []
    under = scores_by_unit(date(2026, 11, 1), date(2026, 11, 30), under=tree["brigade"])
    assert [r["code"] for r in under] == [tree["squad1"].code]
    assert open_one.state == "open"


def test_the_monthly_report_carries_the_spot_check_scores(draw, make_recording, people, tree):
    """C6.4: the 通报 of November holds each unit's spot-check score, on its
    figures and in its XLSX; December's has none."""
    import io

    from openpyxl import load_workbook

    from jilu.oversight.report_metrics import city_report, report_period
    from jilu.oversight.report_print import render_xlsx

    make_recording("officer", start=WEEK48)
    make_recording("officer_other", start=WEEK48)
    spot = draw(units=("city",))
    for item in spot.items.select_related("unit"):
        marks = all_pass() if item.unit == tree["squad1"] else {**all_pass(), "opening": "fail"}
        review_item(item, actor=people["inspector"], marks=marks)
    complete_spot_check(spot, actor=people["inspector"])

    november = city_report(report_period("month", 2026, 11))["sections"]["spot_checks"]
    scores = {r["code"]: r["score"] for r in november}
    assert scores == {tree["squad1"].code: 100.0, tree["squad3"].code: round(100 * 6 / 7, 1)}
    assert city_report(report_period("month", 2026, 12))["sections"]["spot_checks"] == []

    from jilu.oversight.report_actions import draft_report

    report = draft_report(actor=people["inspector"], kind="month", year=2026, number=11)
    assert report.figures["sections"]["spot_checks"] == november
    sheet = load_workbook(io.BytesIO(render_xlsx(report)))["抽检"]
    rows = {r[1]: r[7] for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows == scores
