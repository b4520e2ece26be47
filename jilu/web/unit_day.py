"""A unit's day at a glance: one lane per officer (C2.1, C4.3, C6.2, C3.2, C6.4).

Each lane shows, on one time axis shared by the whole unit, the enforcement
activities the officer took part in, the officer's recordings over them
(coloured by integrity), the time of each activity the officer's own recorder
did not record (hatched red when unexplained, amber where the officer's own
duty-log note awaits confirmation, grey where a leader has confirmed it, C6.2;
a note explains only the time it covers) and the dockings with the clock
offset measured at each (C3.2). A squad leader sees
at a glance who recorded, who did not, and where recordings are missing.

Positions are percentages of the window, so the lanes are drawn in HTML and
stay readable on a phone (names above their bars).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.casework.coverage import activity_coverage, uncovered
from jilu.casework.models import Activity
from jilu.casework.queries import recording_end
from jilu.dutylog.models import UnrecordedNote
from jilu.evidence import timeline
from jilu.evidence.media_models import MediaInfo
from jilu.evidence.models import Recording
from jilu.ingest.models import DockingSession
from jilu.org.models import Person, Unit

SHANGHAI = timeline.SHANGHAI
# More lanes than this and the page asks for a smaller unit.
LANE_LIMIT = 120
# The window is whole hours around what happened, at least this wide.
MIN_WINDOW = timedelta(hours=8)
# With nothing on the day: a working day.
DEFAULT_HOURS = (7, 19)

Integrity = MediaInfo.Integrity


@dataclass(frozen=True)
class Bar:
    kind: str  # activity, rec-complete, rec-incomplete, rec-unparseable, rec-pending,
    # gap-unexplained, gap-pending, gap-confirmed, dock
    left: float  # percent of the window
    width: float  # percent of the window
    title: str
    url: str = ""


@dataclass
class Lane:
    person: Person
    timeline_url: str
    bars: list[Bar] = field(default_factory=list)
    recorded_seconds: float = 0.0
    activities: int = 0
    activities_unrecorded: int = 0  # activities with no recording at all (C2.1)
    unexplained_seconds: float = 0.0  # unrecorded activity time without a confirmed note
    dockings: int = 0
    damaged: int = 0  # recordings 不完整 or 无法解析

    @property
    def flagged(self) -> bool:
        return bool(self.activities_unrecorded or self.unexplained_seconds or self.damaged)

    @property
    def recorded_text(self) -> str:
        return timeline.duration_text(self.recorded_seconds) if self.recorded_seconds else "—"

    @property
    def unexplained_text(self) -> str:
        return timeline.duration_text(self.unexplained_seconds) if self.unexplained_seconds else ""


@dataclass
class UnitDay:
    unit: Unit
    day: date
    window_start: datetime
    window_end: datetime
    lanes: list[Lane]
    ticks: list[tuple[float, str]]
    more: int = 0  # lanes left out beyond LANE_LIMIT

    @property
    def flagged_lanes(self) -> int:
        return sum(1 for lane in self.lanes if lane.flagged)

    @property
    def unexplained_seconds(self) -> float:
        return sum(lane.unexplained_seconds for lane in self.lanes)

    @property
    def unexplained_text(self) -> str:
        return timeline.duration_text(self.unexplained_seconds)

    @property
    def activities_unrecorded(self) -> int:
        return sum(lane.activities_unrecorded for lane in self.lanes)


def _hms(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%H:%M:%S")


def _window(day: date, moments: list[datetime]) -> tuple[datetime, datetime]:
    lo, hi = timeline.day_bounds(day)
    inside = [m for m in moments if lo <= m <= hi]
    if not inside:
        start = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI)
        return (
            (start + timedelta(hours=DEFAULT_HOURS[0])).astimezone(UTC),
            (start + timedelta(hours=DEFAULT_HOURS[1])).astimezone(UTC),
        )
    first = min(inside).astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    last = max(inside).astimezone(SHANGHAI)
    end = last.replace(minute=0, second=0, microsecond=0)
    if end < last:
        end += timedelta(hours=1)
    start, end = first.astimezone(UTC), end.astimezone(UTC)
    if end - start < MIN_WINDOW:
        # Centre what happened in a window of whole hours, inside the day.
        middle = start + (end - start) / 2 - MIN_WINDOW / 2
        start = middle.astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)
        start = min(max(start.astimezone(UTC), lo), hi - MIN_WINDOW)
        end = start + MIN_WINDOW
    return max(start, lo), min(end, hi)


class _Scale:
    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.span = (end - start).total_seconds() or 1.0

    def place(self, a: datetime, b: datetime, *, min_width: float = 0.4) -> tuple[float, float]:
        fa = min(max((a - self.start).total_seconds() / self.span, 0.0), 1.0)
        fb = min(max((b - self.start).total_seconds() / self.span, 0.0), 1.0)
        left = round(100 * fa, 2)
        width = round(max(min_width, 100 * (fb - fa)), 2)
        return left, min(width, round(100 - left, 2)) if left < 100 else 0.0

    def visible(self, a: datetime, b: datetime) -> bool:
        return b >= self.start and a <= self.end

    def ticks(self) -> list[tuple[float, str]]:
        hours = self.span / 3600
        step = timedelta(hours=1 if hours <= 10 else 2)
        tick = self.start.astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)
        if tick < self.start:
            tick += timedelta(hours=1)
        out = []
        while tick <= self.end:
            left, _w = self.place(tick, tick)
            out.append((left, tick.astimezone(SHANGHAI).strftime("%H:%M")))
            tick += step
        return out


def officers_of(user: Any, unit: Unit) -> Any:
    """The people of ``unit`` and below whom ``user`` may see: frontline officers,
    ordered by unit and name."""
    return (
        Person.objects.restrict(user, "view")
        .filter(is_active=True, frontline=True, unit__path__startswith=unit.path)
        .select_related("unit")
        .order_by("unit__path", "name", "pk")
    )


def _integrity(rec: Recording) -> str:
    try:
        return rec.media.integrity
    except MediaInfo.DoesNotExist:
        return Integrity.PENDING


def _explained(
    gaps: list[tuple[datetime, datetime]], notes: list[UnrecordedNote]
) -> list[tuple[datetime, datetime, str, UnrecordedNote | None]]:
    """Each gap cut where the officer's notes begin and end: the pieces a confirmed
    note covers are "confirmed", those only a pending note covers "pending", the
    rest "unexplained"."""
    out: list[tuple[datetime, datetime, str, UnrecordedNote | None]] = []
    for a, b in gaps:
        cuts = sorted({a, b, *(t for n in notes for t in (n.start, n.end) if a < t < b)})
        for x, y in zip(cuts, cuts[1:], strict=False):
            over = [n for n in notes if n.start <= x and n.end >= y]
            confirmed = [n for n in over if n.state == UnrecordedNote.State.CONFIRMED]
            if confirmed:
                piece = (x, y, "confirmed", confirmed[0])
            elif over:
                piece = (x, y, "pending", over[0])
            else:
                piece = (x, y, "unexplained", None)
            if out and out[-1][1] == x and out[-1][2] == piece[2] and out[-1][3] == piece[3]:
                out[-1] = (out[-1][0], y, piece[2], piece[3])
            else:
                out.append(piece)
    return out


def _gap_title(start: datetime, end: datetime, state: str, note: UnrecordedNote | None) -> str:
    length = timeline.duration_text((end - start).total_seconds())
    what = _("未录制 %(start)s–%(end)s（%(length)s）") % {
        "start": _hms(start),
        "end": _hms(end),
        "length": length,
    }
    if state == "confirmed" and note is not None:
        from jilu.dutylog.labels import reason_label

        leader = note.confirmed_by.name if note.confirmed_by else "—"
        return what + _("已说明：%(reason)s（执勤日志，已由%(leader)s确认）") % {
            "reason": reason_label(note.reason),
            "leader": leader,
        }
    if state == "pending":
        return what + _("已记入执勤日志，待确认")
    return what + _("未说明")


def build_unit_day(user: Any, unit: Unit, day: date, *, now: datetime | None = None) -> UnitDay:
    now = now or timezone.now()
    lo, hi = timeline.day_bounds(day)
    people = list(officers_of(user, unit)[: LANE_LIMIT + 1])
    more = 0
    if len(people) > LANE_LIMIT:
        more = officers_of(user, unit).count() - LANE_LIMIT
        people = people[:LANE_LIMIT]
    ids = [p.pk for p in people]

    recordings = list(
        Recording.objects.restrict(user, "view")
        .filter(officer_id__in=ids, started_at__lt=hi, started_at__gte=lo - timedelta(hours=12))
        .select_related("media", "recorder")
        .order_by("started_at", "pk")
    )
    activities = list(
        Activity.objects.restrict(user, "view")
        .filter(officers__in=ids, span_start__lt=hi)
        .filter(Q(span_end__isnull=True) | Q(span_end__gt=lo))
        .distinct()
        .prefetch_related("officers")
        .order_by("span_start", "pk")
    )
    # The day's dockings, and those that took in the day's footage (often the next
    # morning, C5.1): a day's footage docked later is not a day without docking.
    took_in = {r.docking_id for r in recordings if r.docking_id}
    dockings = list(
        DockingSession.objects.filter(
            Q(holder_id__in=ids, started_at__gte=lo, started_at__lt=hi) | Q(pk__in=took_in)
        )
        .select_related("station")
        .order_by("started_at")
    )

    spans: list[tuple[int, Recording, datetime, datetime | None]] = []
    moments: list[datetime] = []
    for rec in recordings:
        end = recording_end(rec)
        if (end or rec.started_at) < lo:
            continue
        spans.append((rec.officer_id, rec, rec.started_at, end))
        moments += [rec.started_at, end or rec.started_at]
    coverages = []
    for act in activities:
        start, end = act.window()
        cov = activity_coverage(act, now=now)
        coverages.append((act, start, end, cov))
        moments += [start, min(end or now, hi)]
    moments += [d.started_at for d in dockings]
    start, end = _window(day, moments)
    scale = _Scale(start, end)

    own_spans: dict[int, list[tuple[datetime, datetime]]] = {}
    for officer_id, rec, r_start, r_end in spans:
        # Only video is recorded time (C4.3), as on the activity page and the
        # record list: a photo or a sound recording fills no gap.
        if r_end is not None and rec.kind == Recording.Kind.VIDEO:
            own_spans.setdefault(officer_id, []).append((r_start, r_end))
    notes: dict[int, list[UnrecordedNote]] = {}
    for note in (
        UnrecordedNote.objects.filter(
            officer_id__in=ids,
            state__in=[UnrecordedNote.State.CONFIRMED, UnrecordedNote.State.PENDING],
            start__lt=hi,
            end__gt=lo - timedelta(hours=12),
        )
        .select_related("confirmed_by")
        .order_by("start", "pk")
    ):
        notes.setdefault(note.officer_id, []).append(note)

    lanes = {
        p.pk: Lane(
            person=p,
            timeline_url=reverse("evidence:timeline_officer", args=[p.pk, day.isoformat()]),
        )
        for p in people
    }
    # Activities first (drawn beneath), then their unrecorded parts, recordings, dockings.
    for act, a_start, a_end, cov in coverages:
        shown_end = min(a_end or now, hi)
        members = [o.pk for o in act.officers.all() if o.pk in lanes]
        until = _hms(a_end) if a_end else _("进行中")
        title = f"{act.get_kind_display()} {_hms(a_start)}–{until}"
        url = reverse("casework:activity_detail", args=[act.pk])
        for pk in members:
            lane = lanes[pk]
            lane.activities += 1
            if cov.none_at_all:
                lane.activities_unrecorded += 1
            if scale.visible(a_start, shown_end):
                left, width = scale.place(a_start, shown_end)
                lane.bars.append(Bar("activity", left, width, title, url))
        if a_end is None:
            continue  # still open: its unrecorded time is not known yet
        for pk in members:
            # C4.3 for this officer: the activity's time their own recorder did not
            # record, explained only by their own duty-log notes, and only as far
            # as a note reaches (C6.2).
            lane = lanes[pk]
            own = [(a, b) for a, b in own_spans.get(pk, []) if b > a_start and a < a_end]
            for g_start, g_end, state, note in _explained(
                uncovered(a_start, a_end, own), notes.get(pk, [])
            ):
                g_start, g_end = max(g_start, lo), min(g_end, hi)
                if g_end <= g_start:
                    continue
                if state != "confirmed":
                    lane.unexplained_seconds += (g_end - g_start).total_seconds()
                if scale.visible(g_start, g_end):
                    left, width = scale.place(g_start, g_end)
                    gap_title = _gap_title(g_start, g_end, state, note)
                    lane.bars.append(Bar(f"gap-{state}", left, width, gap_title, url))
    for officer_id, rec, r_start, r_end in spans:
        lane = lanes.get(officer_id)
        if lane is None:
            continue
        state = _integrity(rec)
        if state in (Integrity.INCOMPLETE, Integrity.UNPARSEABLE):
            lane.damaged += 1
        shown_end = r_end or r_start
        if not scale.visible(r_start, shown_end):
            continue
        left, width = scale.place(r_start, shown_end)
        label = rec.media.get_integrity_display() if state != Integrity.PENDING else _("待检测")
        name = rec.original_name.rsplit("/", 1)[-1]
        title = f"{name} {_hms(r_start)}–{_hms(r_end) if r_end else '?'} {label}"
        url = reverse("evidence:recording_detail", args=[rec.pk])
        lane.bars.append(Bar(f"rec-{state}", left, width, title, url))
    for officer_id, intervals in own_spans.items():
        lanes[officer_id].recorded_seconds = timeline.covered_seconds(intervals, lo, hi)
    docked = _("对接")
    for dock in dockings:
        lane = lanes.get(dock.holder_id)
        if lane is None:
            continue
        lane.dockings += 1
        offset = timeline.Docking(at=dock.started_at, offset_seconds=dock.clock_offset_seconds)
        if scale.visible(dock.started_at, dock.started_at):
            left, _w = scale.place(dock.started_at, dock.started_at)
            station = dock.station.name if dock.station_id else ""
            title = f"{docked} {_hms(dock.started_at)} {station} {offset.offset_text}"
            lane.bars.append(Bar("dock", left, 0.0, title))
    return UnitDay(unit, day, start, end, list(lanes.values()), scale.ticks(), more)
