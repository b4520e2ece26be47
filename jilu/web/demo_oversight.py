"""What the inspection department has done with the demo's month of history.

Run once by :func:`jilu.web.demo_history.seed` after the footage is processed:
the findings rules run over the month as the periodic task would; two squad
leaders confirm last month's ledgers (C6.1); a few findings go through the
explanation workflow (C6.4) so that every state has an example: one still
open, one explained and waiting for the inspector, one confirmed, one
dismissed; the inspector completes a spot check of the last four weeks (one
recording per squad and week, two failed items among them) and a second one
drawn but not yet reviewed; and last month's city 通报 is published.
"""

from __future__ import annotations

from datetime import date, timedelta

from jilu.org.models import Person, Unit
from jilu.oversight import actions as oversight
from jilu.oversight import ledger_actions, report_actions, spotcheck_actions
from jilu.oversight.models import Finding
from jilu.oversight.spotcheck_checklist import items_for
from jilu.oversight.tasks import run_all

CONFIRMED_LEDGERS = ("squad1", "squad2")  # the others are left for their leaders
# rule, explanation by the responsible officer, decision (None: left for the inspector)
WALKED = [
    (
        "late_annotation",
        "当日外出处置突发事件，返回后未及时标注，已补标。",
        ("confirmed", "说明属实，但超过48小时标注的事实成立，纳入本月通报。"),
    ),
    (
        "low_battery",
        "记录仪前一晚未充满电，对接时电量偏低，已更换电池。",
        ("dismissed", "对接前已按规定充电检查，电量低系电池老化，已报修，不予认定。"),
    ),
    ("late_collection", "连续两天外勤未回队，已向中队长报告。", None),
]


def after_history(today: date) -> tuple[int, int]:
    """Run the rules, confirm the ledgers, walk the findings: (findings, ledgers)."""
    run_all()
    ledgers = 0
    last_month = today.replace(day=1) - timedelta(days=1)
    for username in CONFIRMED_LEDGERS:
        leader = Person.objects.filter(username=username).first()
        if leader is None or leader.unit is None:
            continue
        ledger_actions.confirm_month(
            actor=leader, unit=leader.unit, year=last_month.year, month=last_month.month
        )
        ledgers += 1
    inspector = Person.objects.filter(username="inspector").first()
    for rule, text, decision in WALKED:
        finding = (
            Finding.objects.filter(rule=rule, person__isnull=False, state=Finding.State.OPEN)
            .order_by("pk")
            .first()
        )
        if finding is None:
            continue
        finding = oversight.explain_finding(finding, actor=finding.person, text=text)
        if decision is not None and inspector is not None:
            outcome, reason = decision
            oversight.decide_finding(finding, actor=inspector, outcome=outcome, reason=reason)
    if inspector is not None:
        _spot_checks(inspector, today)
        report = report_actions.draft_report(
            actor=inspector, kind="month", year=last_month.year, number=last_month.month
        )
        report_actions.publish_report(actor=inspector, report=report)
    return Finding.objects.count(), ledgers


# The marks the inspector gives the sampled recordings, by position: all pass
# but these (clip 2 without the opening statement, clip 5 without the
# certificate shown).
FAILED_MARKS = {2: "opening", 5: "certificate"}


def _spot_checks(inspector: Person, today: date) -> None:
    """Over the last four weeks of history, whatever today's date."""
    squads = [u.pk for u in Unit.objects.filter(level="squad").order_by("code")]
    first, last = today - timedelta(days=28), today - timedelta(days=2)
    spot = spotcheck_actions.draw_spot_check(
        actor=inspector,
        kind="recordings",
        first_day=first,
        last_day=last,
        per="week",
        per_stratum=1,
        unit_ids=squads,
        seed="20212028",
    )
    codes = [c.code for c in items_for(spot.kind)]
    for item in spot.items.order_by("position"):
        marks = dict.fromkeys(codes, "pass")
        if item.position in FAILED_MARKS:
            marks[FAILED_MARKS[item.position]] = "fail"
        spotcheck_actions.review_item(item, actor=inspector, marks=marks)
    spotcheck_actions.complete_spot_check(spot, actor=inspector)
    spotcheck_actions.draw_spot_check(
        actor=inspector,
        kind="ledgers",
        first_day=first,
        last_day=last,
        per="month",
        per_stratum=2,
        unit_ids=squads,
        seed="c6a1c6a1",
    )
