"""Spot-check scores per unit for a period (C6.4), for the periodic report (通报).

One query over the checklist marks of completed spot checks: per stratum unit
(a squad), how many items were checked, how many checklist marks passed and
failed, and the score (passed ÷ (passed + failed), in percent; not-applicable
marks do not count). A sampled item belongs to the period when the recording
started in it (a ledger row: when its day is in it).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db.models import Count, Q

from jilu.evidence.timeline import SHANGHAI
from jilu.org.models import Unit
from jilu.oversight.spotcheck_models import SpotCheck, SpotCheckMark


def scores_by_unit(
    first_day: date, last_day: date, *, under: Unit | None = None
) -> list[dict[str, Any]]:
    """Per unit with completed spot-check items in [first_day, last_day] (Beijing
    days, inclusive): unit id, code and name, spot checks, items, passed,
    failed, not applicable, score (None when nothing applied). Tree order."""
    start = datetime.combine(first_day, time(0), tzinfo=SHANGHAI)
    end = datetime.combine(last_day, time(0), tzinfo=SHANGHAI)
    marks = SpotCheckMark.objects.filter(item__spot_check__state=SpotCheck.State.COMPLETED).filter(
        Q(item__recording__started_at__gte=start, item__recording__started_at__lt=_next(end))
        | Q(item__day__gte=first_day, item__day__lte=last_day)
    )
    if under is not None:
        marks = marks.filter(item__unit__path__startswith=under.path)
    rows = (
        marks.order_by()
        .values("item__unit_id", "item__unit__code", "item__unit__name", "item__unit__path")
        .annotate(
            checks=Count("item__spot_check", distinct=True),
            items=Count("item", distinct=True),
            passed=Count("pk", filter=Q(outcome=SpotCheckMark.Outcome.PASS)),
            failed=Count("pk", filter=Q(outcome=SpotCheckMark.Outcome.FAIL)),
            na=Count("pk", filter=Q(outcome=SpotCheckMark.Outcome.NA)),
        )
        .order_by("item__unit__path")
    )
    return [
        {
            "unit_id": r["item__unit_id"],
            "code": r["item__unit__code"],
            "name": r["item__unit__name"],
            "checks": r["checks"],
            "items": r["items"],
            "passed": r["passed"],
            "failed": r["failed"],
            "na": r["na"],
            "score": (
                round(100 * r["passed"] / (r["passed"] + r["failed"]), 1)
                if r["passed"] + r["failed"]
                else None
            ),
        }
        for r in rows
    ]


def _next(day_start: datetime) -> datetime:
    """The start of the day after ``day_start`` (Beijing)."""
    following = day_start.date().toordinal() + 1
    return datetime.combine(date.fromordinal(following), time(0), tzinfo=SHANGHAI)
