"""One day's work of the findings engine on a seeded database.

``prepare(day)`` moves the rules' cursors to where the periodic task would
have left them at the start of the local day ``day``; ``run(day)`` then runs
every source of facts as the task does at that day's end: the dockings,
recordings and device events that came in during the day, the annotation,
activity and off-duty windows whose grace periods ran out during the day, and
the daily state of the equipment. Benchmarks and tests use it to judge one
day of a city-year without judging the whole year first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Max

from jilu.audit.models import AuditEntry
from jilu.devices.models import DeviceEvent
from jilu.evidence.deadlines import ANNOTATION_DEADLINE
from jilu.evidence.media_models import FixityAlarm
from jilu.evidence.models import Recording
from jilu.ingest.models import DockingSession
from jilu.oversight import tasks, thresholds
from jilu.oversight.finding_models import RuleCursor
from jilu.web.scale.plan import local_midnight_utc


@dataclass(frozen=True)
class Day:
    start: datetime  # the local day, in UTC
    end: datetime
    # The windows judged at the day's end: [start, end) moved back by each grace period.
    annotation: tuple[datetime, datetime]
    activities: tuple[datetime, datetime]
    off_duty: tuple[datetime, datetime]
    # The last ids read before the day (the day's rows come after them).
    recordings_after: int
    dockings_after: int
    events_after: int


def prepare(day: date) -> Day:
    """Set every cursor to the start of ``day``; returns the day's bounds."""
    values = thresholds.current()
    start = local_midnight_utc(day)
    end = start + timedelta(days=1)
    annotation = ANNOTATION_DEADLINE + timedelta(minutes=values["annotation_grace_minutes"])
    activity = timedelta(hours=values["activity_grace_hours"])
    off_duty = timedelta(hours=values["off_duty_grace_hours"])

    def last(qs, field: str = "pk") -> int:
        return qs.aggregate(top=Max(field))["top"] or 0

    found = Day(
        start=start,
        end=end,
        annotation=(start - annotation, end - annotation),
        activities=(start - activity, end - activity),
        off_duty=(start - off_duty, end - off_duty),
        recordings_after=last(Recording.objects.filter(docked_at__lt=start)),
        dockings_after=last(DockingSession.objects.filter(started_at__lt=start)),
        events_after=last(DeviceEvent.objects.filter(at__lt=start)),
    )
    positions = {
        "recordings": found.recordings_after,
        "dockings": found.dockings_after,
        "device_events": found.events_after,
        "fixity_alarms": last(FixityAlarm.objects.all()),
        "audit": last(AuditEntry.objects.all(), "seq"),
    }
    windows = {
        "annotation": found.annotation[0],
        "activities": found.activities[0],
        "off_duty": found.off_duty[0],
        "daily": start,
    }
    for source, position in positions.items():
        RuleCursor.objects.update_or_create(
            source=source, defaults={"position": position, "window_end": None}
        )
    for source, window_end in windows.items():
        RuleCursor.objects.update_or_create(
            source=source, defaults={"position": 0, "window_end": window_end}
        )
    return found


def run(found: Day, now: datetime | None = None) -> dict[str, int]:
    """Every source of facts, as the periodic task runs them, at the day's end
    (or at ``now``, to judge every day from ``found`` up to then in one run)."""
    values = thresholds.current()
    return {name: source(values, now or found.end) for name, source in tasks.SOURCES}
