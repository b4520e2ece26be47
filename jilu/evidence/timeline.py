"""One day of recordings on a time axis, drawn as server-rendered SVG (C4.3, C2.1, C3.2).

``build_day`` joins segments that follow each other without a gap into runs
(a recorder splits one continuous recording into files), measures every gap
between runs and names it: a short break (片段间断, the recording was
interrupted, C4.3) or a period without any recording (无录像时段, C2.1). Both
are drawn plainly with their length, together with each docking and the clock
offset measured at it (C3.2). ``render_svg`` draws it with a ``viewBox`` so
it scales to a phone screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The days anything in Jilu can be about: recorders did not exist before 2000, and
# pages link to the previous and next day, which must still be valid dates.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)

# Files whose end and the next file's start are this close are one recording
# split by the recorder (segment roll-over takes well under a second).
JOIN_TOLERANCE = timedelta(seconds=2)
# A gap up to this long is an interrupted recording (片段间断); longer ones are
# periods without any recording (无录像时段).
BREAK_MAX = timedelta(minutes=5)


@dataclass(frozen=True)
class Segment:
    recording_id: int
    start: datetime
    end: datetime | None  # None: duration not known yet (not probed)
    label: str = ""
    kind: str = "video"
    url: str = ""
    integrity: str = ""  # complete / incomplete / unparseable / pending ("" not known)

    @property
    def shown_end(self) -> datetime:
        return self.end or self.start


@dataclass(frozen=True)
class ActivitySpan:
    """An enforcement activity the officer took part in, drawn under the recordings
    so that a span without recording stands out (C2.1, C4.3)."""

    start: datetime
    end: datetime | None  # None: still open
    label: str = ""
    url: str = ""


@dataclass
class Run:
    """Segments that follow each other without a gap: one continuous recording."""

    segments: list[Segment] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.segments[0].start

    @property
    def end(self) -> datetime:
        return max(s.shown_end for s in self.segments)


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime
    kind: str  # "break" (片段间断) or "none" (无录像时段)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def label(self) -> str:
        return _("片段间断") if self.kind == "break" else _("无录像时段")

    @property
    def length_text(self) -> str:
        return duration_text(self.seconds)


@dataclass(frozen=True)
class Docking:
    at: datetime
    station: str = ""
    offset_seconds: float | None = None
    url: str = ""

    @property
    def offset_text(self) -> str:
        if self.offset_seconds is None:
            return _("时钟偏差未测")
        if abs(self.offset_seconds) < 0.5:
            return _("时钟准确")
        length = duration_text(abs(self.offset_seconds))
        if self.offset_seconds > 0:
            return _("时钟快%(length)s") % {"length": length}
        return _("时钟慢%(length)s") % {"length": length}


@dataclass
class Day:
    day: date
    window_start: datetime
    window_end: datetime
    runs: list[Run]
    gaps: list[Gap]
    dockings: list[Docking]
    recorded_seconds: float = 0.0
    activities: list[ActivitySpan] = field(default_factory=list)

    @property
    def gap_seconds(self) -> float:
        return sum(g.seconds for g in self.gaps)


def duration_text(seconds: float) -> str:
    """``1小时5分``, ``3分20秒``, ``12秒``."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        if minutes:
            return _("%(hours)d小时%(minutes)d分") % {"hours": hours, "minutes": minutes}
        return _("%(hours)d小时") % {"hours": hours}
    if minutes:
        if secs:
            return _("%(minutes)d分%(seconds)d秒") % {"minutes": minutes, "seconds": secs}
        return _("%(minutes)d分") % {"minutes": minutes}
    return _("%(seconds)d秒") % {"seconds": secs}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The Asia/Shanghai day as a UTC-aware half-open interval."""
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def covered_seconds(spans: list[tuple[datetime, datetime]], lo: datetime, hi: datetime) -> float:
    """Seconds of [lo, hi) covered by at least one span: overlapping files (a
    sound recording made during a video, two recorders at once) count once."""
    total = 0.0
    reach = lo
    for start, end in sorted(spans):
        start, end = max(start, reach), min(end, hi)
        if end > start:
            total += (end - start).total_seconds()
            reach = end
    return total


def join_runs(segments: list[Segment], tolerance: timedelta = JOIN_TOLERANCE) -> list[Run]:
    runs: list[Run] = []
    for seg in sorted(segments, key=lambda s: (s.start, s.shown_end)):
        if runs and seg.start <= runs[-1].end + tolerance:
            runs[-1].segments.append(seg)
        else:
            runs.append(Run([seg]))
    return runs


def find_gaps(
    runs: list[Run], *, tolerance: timedelta = JOIN_TOLERANCE, break_max: timedelta = BREAK_MAX
) -> list[Gap]:
    """Every gap between consecutive runs, longer than the joining tolerance."""
    gaps = []
    for before, after in zip(runs, runs[1:], strict=False):
        if any(seg.end is None for seg in before.segments):
            # Its length is not known until media processing has run: no gap
            # is claimed (or hidden) before then; the bar shows it as pending.
            continue
        if after.start - before.end > tolerance:
            kind = "break" if after.start - before.end <= break_max else "none"
            gaps.append(Gap(before.end, after.start, kind))
    return gaps


def build_day(
    day: date,
    segments: list[Segment],
    dockings: list[Docking],
    activities: list[ActivitySpan] | tuple[ActivitySpan, ...] = (),
    *,
    now: datetime | None = None,
) -> Day:
    """Runs, gaps, dockings and activities of ``day`` (Asia/Shanghai), clipped to the day."""
    lo, hi = day_bounds(day)
    clipped = []
    for seg in segments:
        if seg.shown_end < lo or seg.start >= hi:
            continue
        end = min(seg.end, hi) if seg.end else None
        clipped.append(replace(seg, start=max(seg.start, lo), end=end))
    runs = join_runs(clipped)
    gaps = find_gaps(runs)
    docks = sorted((d for d in dockings if lo <= d.at < hi), key=lambda d: d.at)
    now = now or datetime.now(UTC)
    acts = []
    for act in activities:
        end = min(act.end or now, hi)
        if end <= lo or act.start >= hi:
            continue
        acts.append(replace(act, start=max(act.start, lo), end=end))
    acts.sort(key=lambda a: a.start)
    moments = [r.start for r in runs] + [r.end for r in runs] + [d.at for d in docks]
    moments += [a.start for a in acts] + [a.end for a in acts if a.end]
    if moments:
        # Whole hours around what happened, at least four hours wide.
        first = min(moments).astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)
        last = max(moments).astimezone(SHANGHAI)
        last_hour = last.replace(minute=0, second=0, microsecond=0)
        if last_hour < last:
            last_hour += timedelta(hours=1)
        if last_hour - first < timedelta(hours=4):
            last_hour = first + timedelta(hours=4)
        window_start = max(first.astimezone(UTC), lo)
        window_end = min(last_hour.astimezone(UTC), hi)
        if window_end - window_start < timedelta(hours=4):
            window_start = max(lo, window_end - timedelta(hours=4))
    else:
        window_start, window_end = lo, hi
    recorded = covered_seconds(
        [(s.start, s.end) for r in runs for s in r.segments if s.end is not None], lo, hi
    )
    return Day(day, window_start, window_end, runs, gaps, docks, recorded, acts)


# --- drawing ----------------------------------------------------------------

WIDTH = 1000
LEFT = 20
RIGHT = 20
AXIS_Y = 150
BAR_Y = 70
BAR_H = 50
ACT_Y = BAR_Y + BAR_H + 4  # the activity band, between the bar and the axis
ACT_H = 20
# Segment fill by integrity (C6.5.3, C6.5.4): a damaged file is never drawn as sound.
FILL = {
    "complete": "#2e7d32",
    "incomplete": "#ef6c00",
    "unparseable": "#6d4c41",
    "pending": "#f9a825",
    "": "#2e7d32",
}


def text_width(text: str, font: int) -> float:
    """Roughly how wide ``text`` is drawn: a Chinese character is about a square,
    Latin letters and digits a little over half of one."""
    return sum(font * (1.0 if ord(ch) > 0x2E80 else 0.6) for ch in text)


def _place_labels(
    items: list[tuple[float, str]], rows: int, font: int
) -> list[tuple[float, str, int] | None]:
    """For each (centre x, text): (x, text, row) in the first row where it does not
    overlap the previous label, or None when no row has room (the tooltip and the
    table below still carry it)."""
    ends = [float("-inf")] * rows
    placed: list[tuple[float, str, int] | None] = []
    for x, text in items:
        half = text_width(text, font) / 2 + 6
        x = min(max(x, LEFT + half), WIDTH - RIGHT - half)
        for row in range(rows):
            if x - half > ends[row]:
                ends[row] = x + half
                placed.append((x, text, row))
                break
        else:
            placed.append(None)
    return placed


def _x(day: Day, at: datetime) -> float:
    span = (day.window_end - day.window_start).total_seconds() or 1.0
    frac = (at - day.window_start).total_seconds() / span
    return round(LEFT + max(0.0, min(1.0, frac)) * (WIDTH - LEFT - RIGHT), 1)


def _hm(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%H:%M")


def _hms(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%H:%M:%S")


def render_svg(day: Day, *, title: str = "") -> str:
    """The day as an SVG element (responsive: ``viewBox`` and ``width=100%``)."""
    height = 240
    out: list[str] = []
    add = out.append
    add(
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}"'
        f' width="100%" role="img" aria-labelledby="tl-title" preserveAspectRatio="xMidYMid meet"'
        f' font-family="sans-serif">'
    )
    add(f'<title id="tl-title">{escape(title or day.day.isoformat())}</title>')
    add(
        '<defs><pattern id="tl-hatch" width="8" height="8" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><rect width="8" height="8" fill="#fde8e8"/>'
        '<line x1="0" y1="0" x2="0" y2="8" stroke="#c62828" stroke-width="3"/></pattern></defs>'
    )
    # Axis with whole-hour ticks.
    add(
        f'<line x1="{LEFT}" y1="{AXIS_Y}" x2="{WIDTH - RIGHT}" y2="{AXIS_Y}"'
        ' stroke="#555" stroke-width="2"/>'
    )
    tick = day.window_start.astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    if tick < day.window_start:
        tick += timedelta(hours=1)
    hours = (day.window_end - day.window_start).total_seconds() / 3600
    step = timedelta(hours=1 if hours <= 12 else 2)
    while tick <= day.window_end:
        x = _x(day, tick)
        # The first and last hour labels are anchored inside the picture, not cut off.
        anchor = "start" if x < LEFT + 30 else "end" if x > WIDTH - RIGHT - 30 else "middle"
        add(f'<line x1="{x}" y1="{AXIS_Y}" x2="{x}" y2="{AXIS_Y + 10}" stroke="#555"/>')
        add(
            f'<text x="{x}" y="{AXIS_Y + 34}" font-size="22" text-anchor="{anchor}"'
            f' fill="#333">{tick.astimezone(SHANGHAI).strftime("%H:%M")}</text>'
        )
        tick += step
    # Activities (C2.1): a band under the recordings, so time without recording
    # during an activity shows as band with no bar above it.
    for act in day.activities:
        x1, x2 = _x(day, act.start), _x(day, act.end or act.start)
        shape = (
            f'<rect x="{x1}" y="{ACT_Y}" width="{max(3.0, round(x2 - x1, 1))}" height="{ACT_H}"'
            ' fill="#e3ecfa" stroke="#1565c0" stroke-width="1.5" rx="3"/>'
        )
        until = _hms(act.end) if act.end else ""
        tip = f"<title>{escape(act.label)} {_hms(act.start)}–{until}</title>"
        inner = f"{tip}{shape}"
        if act.url:
            inner = f'<a href="{escape(act.url)}">{inner}</a>'
        add(f'<g class="activity">{inner}</g>')
    # Gaps first, so recordings draw over their edges; labels only where they fit.
    labels = _place_labels(
        [((_x(day, g.start) + _x(day, g.end)) / 2, f"{g.label} {g.length_text}") for g in day.gaps],
        rows=2,
        font=20,
    )
    for gap, label in zip(day.gaps, labels, strict=True):
        x1, x2 = _x(day, gap.start), _x(day, gap.end)
        w = max(2.0, round(x2 - x1, 1))
        add(
            f'<g class="gap gap-{gap.kind}" data-seconds="{int(gap.seconds)}">'
            f"<title>{gap.label} {_hms(gap.start)}–{_hms(gap.end)}（{gap.length_text}）</title>"
            f'<rect x="{x1}" y="{BAR_Y}" width="{w}" height="{BAR_H}" fill="url(#tl-hatch)"'
            ' stroke="#c62828"/>'
        )
        if label is not None:
            x, text, row = label
            add(
                f'<text x="{round(x, 1)}" y="{BAR_Y - 12 - row * 26}" font-size="20"'
                f' text-anchor="middle" fill="#c62828">{escape(text)}</text>'
            )
        add("</g>")
    for run in day.runs:
        x1, x2 = _x(day, run.start), _x(day, run.end)
        add(f'<g class="run" data-start="{_hms(run.start)}" data-end="{_hms(run.end)}">')
        add(
            f'<rect x="{x1}" y="{BAR_Y}" width="{max(3.0, round(x2 - x1, 1))}" height="{BAR_H}"'
            ' fill="#2e7d32" rx="3"/>'
        )
        for seg in run.segments:
            sx1, sx2 = _x(day, seg.start), _x(day, seg.shown_end)
            span = (
                f"{_hms(seg.start)}–{_hms(seg.end)}"
                if seg.end
                else _("%(start)s起") % {"start": _hms(seg.start)}
            )
            fill = FILL.get(seg.integrity, FILL[""]) if seg.end else FILL["pending"]
            shape = (
                f'<rect class="segment integrity-{seg.integrity or "unknown"}" x="{sx1}"'
                f' y="{BAR_Y}" width="{max(3.0, round(sx2 - sx1, 1))}" height="{BAR_H}"'
                f' fill="{fill}" stroke="#1b5e20" stroke-width="1"/>'
            )
            tip = f"<title>{escape(seg.label)} {span}</title>"
            if seg.url:
                add(f'<a href="{escape(seg.url)}">{tip}{shape}</a>')
            else:
                add(f"{tip}{shape}")
        add("</g>")
    docked = pgettext("timeline", "对接")
    for i, dock in enumerate(day.dockings):
        x = _x(day, dock.at)
        y = AXIS_Y + 48 + (i % 2) * 26
        add(
            f'<g class="docking"><title>{docked} {_hms(dock.at)} {escape(dock.station)}'
            f" {dock.offset_text}</title>"
            f'<line x1="{x}" y1="{BAR_Y - 6}" x2="{x}" y2="{AXIS_Y}" stroke="#1565c0"'
            ' stroke-width="3" stroke-dasharray="6 4"/>'
            f'<polygon points="{x - 8},{BAR_Y - 16} {x + 8},{BAR_Y - 16} {x},{BAR_Y - 4}"'
            ' fill="#1565c0"/>'
            f'<text x="{x}" y="{y}" font-size="18" text-anchor="middle" fill="#1565c0">'
            f"{docked} {_hm(dock.at)} {dock.offset_text}</text></g>"
        )
    if not day.runs:
        nothing = escape(_("当天没有录像"))
        add(
            f'<text x="{WIDTH / 2}" y="{BAR_Y + 34}" font-size="24" text-anchor="middle"'
            f' fill="#c62828">{nothing}</text>'
        )
    add("</svg>")
    return "".join(out)
