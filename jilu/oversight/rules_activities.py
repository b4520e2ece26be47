"""Rules on activities: nothing recorded (C2.1, C6.5.1), time inside the
activity not recorded (C4.3), unless a confirmed duty-log note explains it (C6.2).

An activity is judged once, when the grace period after its end has passed
(time to dock the recorders and to note what could not be recorded), or, when
it was written down later than that, once it has been written down. Coverage
is casework's (``activity_coverage``), the same the activity page shows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Min, Q

from jilu.casework.coverage import activity_coverage
from jilu.casework.models import Activity
from jilu.oversight import engine, periods
from jilu.oversight.actions import SYSTEM, Fact, Subject, note_finding


def _first() -> datetime | None:
    # The earliest moment an activity could be judged: its end or its writing down.
    row = Activity.objects.filter(span_end__isnull=False).aggregate(
        end=Min("span_end"), created=Min("created_at")
    )
    found = [t for t in row.values() if t is not None]
    return min(found) if found else None


def _responsible(activity: Activity, officers: list):
    """Who explains: the officer who wrote the activity down if they took part,
    else the first of its officers."""
    for officer in officers:
        if officer.pk == activity.created_by_id:
            return officer
    return officers[0] if officers else None


def run(values: dict, now: datetime) -> int:
    grace = timedelta(hours=values["activity_grace_hours"])
    minimum = timedelta(seconds=values["gap_minimum_seconds"])

    def handle(start: datetime, end: datetime) -> None:
        # Judged at max(span_end, created_at): inside [start, end).
        due = Activity.objects.filter(
            Q(span_end__gte=start, span_end__lt=end, created_at__lt=end)
            | Q(created_at__gte=start, created_at__lt=end, span_end__lt=end)
        ).select_related("unit")
        for activity in due.order_by("span_end", "pk"):
            judge(activity, minimum=minimum, now=now)

    return engine.by_window("activities", now - grace, handle, first=_first)


def judge(activity: Activity, *, minimum: timedelta, now: datetime) -> None:
    coverage = activity_coverage(activity, now=now)
    if coverage.end is None:
        return
    officers = list(activity.officers.order_by("pk"))
    subject = Subject(
        "activity", activity.pk, f"{activity} {periods.local(activity.span_start):%Y-%m-%d %H:%M}"
    )
    span = {"start": coverage.start.isoformat(), "end": coverage.end.isoformat()}
    common = {
        "actor": SYSTEM,
        "subject": subject,
        "period": periods.day(activity.span_start),
        "unit": activity.unit,
        "person": _responsible(activity, officers),
    }
    if coverage.none_at_all:
        # C2.1: a span that must be recorded and has no recording at all, unless
        # confirmed duty-log notes cover all of it.
        if coverage.explained_gaps and all(g.explained for g in coverage.explained_gaps):
            return
        note_finding(
            rule="no_recording",
            facts=[Fact("activity", activity.pk, coverage.start, {**span, "kind": activity.kind})],
            **common,
        )
        return
    open_gaps = [
        g for g in coverage.explained_gaps if not g.explained and g.end - g.start >= minimum
    ]
    if not open_gaps:
        return
    facts = [Fact("activity", activity.pk, coverage.start, {**span, "kind": activity.kind})]
    for gap in open_gaps:
        facts.append(
            Fact(
                "gap",
                f"{activity.pk}@{int(gap.start.timestamp())}",
                gap.start,
                {
                    "activity": activity.pk,
                    "start": gap.start.isoformat(),
                    "end": gap.end.isoformat(),
                    "seconds": int((gap.end - gap.start).total_seconds()),
                    "state": gap.state,
                },
            )
        )
    note_finding(rule="unrecorded_time", facts=facts, **common)
