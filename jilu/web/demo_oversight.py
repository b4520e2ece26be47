"""What the inspection department has done with the demo's month of history.

Run once by :func:`jilu.web.demo_history.seed` after the footage is processed:
the findings rules run over the month as the periodic task would; two squad
leaders confirm last month's ledgers (C6.1); and a few findings go through the
explanation workflow (C6.4) so that every state has an example: one still
open, one explained and waiting for the inspector, one confirmed, one dismissed.
"""

from __future__ import annotations

from datetime import date, timedelta

from jilu.org.models import Person
from jilu.oversight import actions as oversight
from jilu.oversight import ledger_actions
from jilu.oversight.models import Finding
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
    return Finding.objects.count(), ledgers
