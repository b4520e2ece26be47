"""The report's figures (C6.4), against counts made by hand from the
``november`` fixture (its docstring lists the facts)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jilu.oversight import report_metrics
from jilu.oversight.tests.reports.conftest import AS_OF

NOV = report_metrics.report_period("month", 2026, 11)


def _row(figures, name):
    return next(r for r in figures["units"] if r["name"] == name)


@pytest.mark.django_db
def test_month_is_beijing_days():
    assert NOV.start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert NOV.end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    q4 = report_metrics.report_period("quarter", 2026, 4)
    assert (q4.start, q4.end, q4.label) == (
        datetime(2026, 9, 30, 16, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 16, 0, tzinfo=UTC),
        "2026-Q4",
    )
    for bad in (("month", 2026, 13), ("quarter", 2026, 5), ("week", 2026, 1), ("month", 1999, 1)):
        with pytest.raises(report_metrics.PeriodError):
            report_metrics.report_period(*bad)


@pytest.mark.db_sensitive
def test_city_report_counts_as_by_hand(november, tree):
    """C2.1 coverage, C5.1 24 h, C5.2 48 h, C3.2 drift, C1.1 recorders, C6.5 findings."""
    f = report_metrics.city_report(NOV, as_of=AS_OF)
    total = f["total"]
    # Activities a1, a2, a3 (a4 is December's); a1 and a3 recorded.
    assert (total["activities"], total["activities_recorded"], total["coverage"]) == (3, 2, 66.7)
    # r1–r5 (r6 is 31 October in Beijing); r2 late; r1 and r4 annotated in time.
    assert (total["recordings"], total["collected_24h"], total["collection"]) == (5, 4, 80.0)
    assert (total["annotation_due"], total["annotated_48h"], total["annotation"]) == (5, 2, 40.0)
    # 61 and −90 of 61, 10, −90, 5 are over 60 s; December's 500 s is out.
    assert (total["dockings"], total["drift_over"], total["drift"]) == (4, 2, 50.0)
    assert total["worst_drift"] == 90.0
    # Three recorders; frontline: 王五, 李四, 何中队 (squad1) and 韩一 (squad3).
    assert (total["recorders"], total["frontline"], total["recorders_per_frontline"]) == (
        3,
        4,
        0.75,
    )
    assert (total["findings"], total["findings_open"], total["findings_confirmed"]) == (3, 2, 1)
    assert total["meets"] == {
        "coverage": False,
        "collection": False,
        "annotation": False,
        "drift": False,
    }

    siming = _row(f, "思明区城市管理行政执法局")
    assert (siming["coverage"], siming["collection"], siming["annotation"], siming["drift"]) == (
        50.0,
        75.0,
        25.0,
        66.7,
    )
    squad1 = _row(f, "中华中队")
    assert (squad1["recordings"], squad1["collected_24h"], squad1["annotated_48h"]) == (4, 3, 1)
    assert squad1["activities"] == 0  # the activities are the brigade's
    assert _row(f, "思明区城市管理行政执法大队")["activities"] == 2
    huli = _row(f, "湖里区城市管理行政执法局")
    assert (huli["coverage"], huli["collection"], huli["annotation"], huli["drift"]) == (
        100.0,
        100.0,
        100.0,
        0.0,
    )
    # Ranked: 湖里 (mean 100) before 思明 (mean of 50, 75, 25 and 100 − 66.7).
    assert [(r["rank"], r["name"], r["score"]) for r in f["ranking"]] == [
        (1, "湖里区城市管理行政执法局", 100.0),
        (2, "思明区城市管理行政执法局", 45.8),
    ]
    by_clause = {r["clause"]: r for r in f["findings_by_clause"]}
    assert set(by_clause) == {"C2.1", "C3.2", "C5.1", "C6.5.1"}
    assert by_clause["C5.1"]["confirmed"] == 1 and by_clause["C3.2"]["open"] == 1
    assert f["sections"] == {"spot_checks": []}  # no spot check completed


def test_unit_report_covers_only_its_subtree(november, tree):
    f = report_metrics.city_report(NOV, tree["district2"], as_of=AS_OF)
    assert f["scope"]["name"] == "湖里区城市管理行政执法局"
    assert (f["total"]["activities"], f["total"]["recordings"], f["total"]["dockings"]) == (1, 1, 1)
    assert [r["name"] for r in f["ranking"]] == ["湖里区城市管理行政执法大队"]


def test_a_deadline_not_yet_passed_is_not_counted_against(november, tree):
    """C5.2 on 27 November 00:00 UTC: r2 (docked 22 Nov) and r5 (1 Nov) are past
    their deadline; r1 and r4 were annotated in time, which counts at once; r3
    (docked 26 Nov 04:00, deadline 28 Nov) is neither yet: not counted."""
    early = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    total = report_metrics.city_report(NOV, as_of=early)["total"]
    assert total["annotation_due"] == 4  # r1, r2, r4, r5
    assert total["annotated_48h"] == 2  # r1, r4
    assert total["annotation"] == 50.0
    # a1 ended; a2 (27 Nov 02:00 UTC) and a3 (28 Nov) not yet.
    assert total["activities"] == 1


def test_unit_dashboard_per_officer(november, tree, people, settings):
    """A leader's unit over the last 30 days before 1 December: each officer's rates."""
    as_of = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    d = report_metrics.unit_dashboard(tree["squad1"], as_of)
    assert d["days"] == 30 and d["goals"]["coverage"] == 95
    officers = {o["name"]: o for o in d["officers"]}
    assert set(officers) == {"王五", "李四", "何中队"}
    wang = officers["王五"]
    # The window is 1 Nov 00:00 UTC .. 1 Dec: 王五's r1 and r2 (21 Nov) are in, r5
    # (31 Oct 16:30 UTC) and r6 (31 Oct 15:30 UTC) out; r2 was late, r1 annotated in time.
    assert (wang["recordings"], wang["collected_24h"], wang["annotated_48h"]) == (2, 1, 1)
    # a1 and a2 are 王五's and 李四's: one of two recorded.
    assert (wang["activities"], wang["activities_recorded"], wang["coverage"]) == (2, 1, 50.0)
    li = officers["李四"]
    assert (li["recordings"], li["annotated_48h"], li["annotation"]) == (1, 0, 0.0)
    assert officers["何中队"]["recordings"] == 0 and officers["何中队"]["coverage"] is None
    assert wang["open_findings"] == 2  # C3.2 and C2.1 are his to explain
    assert d["open_findings"] == 1  # squad1's own: the C3.2 one
    assert d["total"]["recordings"] == 3


def test_findings_trend_by_month(november):
    rows = report_metrics.findings_trend(3, now=AS_OF)
    assert [r["month"] for r in rows] == ["2026-10", "2026-11", "2026-12"]
    assert rows[1] == {
        "month": "2026-11",
        "open": 2,
        "explained": 0,
        "confirmed": 1,
        "dismissed": 0,
        "total": 3,
    }
    assert rows[0]["total"] == rows[2]["total"] == 0


@pytest.mark.db_sensitive
def test_grace_periods_move_the_deadlines(november, people):
    """The administrator's grace periods (C5.1, C5.2): r2 reached a workstation
    29 h 50 min after it ended and r3 was annotated 60 h after docking."""
    from jilu.oversight import actions

    admin = people["admin"]
    actions.change_setting(actor=admin, key="collection_grace_minutes", value="360", note="t")
    actions.change_setting(actor=admin, key="annotation_grace_minutes", value="730", note="t")
    total = report_metrics.city_report(NOV, as_of=AS_OF)["total"]
    assert (total["collected_24h"], total["collection"]) == (5, 100.0)
    assert (total["annotated_48h"], total["annotation"]) == (3, 60.0)
    actions.change_setting(actor=admin, key="collection_grace_minutes", value="340", note="t")
    actions.change_setting(actor=admin, key="annotation_grace_minutes", value="710", note="t")
    total = report_metrics.city_report(NOV, as_of=AS_OF)["total"]
    assert (total["collected_24h"], total["annotated_48h"]) == (4, 2)
