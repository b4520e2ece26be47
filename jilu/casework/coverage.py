"""How much of an activity's span its officers' recorders recorded (C4.3, C2.1).

An activity's span is its actual start–end when known, else the planned one.
The recordings that count are those of the activity's officers (the holder at
the start of each recording, C1.3) and any recording annotated to it. The
intervals of the video among them are merged; what remains of the span is a
gap. Photos and sound recordings are listed with the activity's recordings
but cover none of its span: C4.3 asks for continuous filming, and the record
list judges continuity among video segments only, too. Recording nothing at
all of a span that must be recorded is C2.1 and shown as such, never hidden.

A gap may be explained by the duty log (C6.2): a confirmed note of one of the
activity's officers overlapping it. The gap stays a gap and the percentage does
not change; the note is only shown beside it (``Coverage.explained_gaps``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jilu.casework.models import Activity, Annotation
from jilu.casework.queries import SEGMENT_TOLERANCE, recording_end
from jilu.dutylog.models import READERS, UnrecordedNote
from jilu.evidence.models import Recording
from jilu.org.roles import Role

# A recording can only be looked for within this distance of the span.
_SEARCH = timedelta(hours=12)


@dataclass
class GapExplanation:
    """One gap with what the duty log says of it (C6.2): ``confirmed`` (notes
    confirmed by a leader cover all of it), ``pending`` (noted, not all confirmed),
    ``partial`` (notes cover only part of it) or ``unexplained``."""

    start: datetime
    end: datetime
    state: str = "unexplained"
    note: UnrecordedNote | None = None

    @property
    def explained(self) -> bool:
        return self.state == "confirmed"

    @property
    def text(self) -> str:
        if self.state == "confirmed" and self.note is not None:
            from jilu.dutylog.labels import reason_label

            leader = self.note.confirmed_by
            return _("已说明：%(reason)s（执勤日志，已由%(leader)s确认）") % {
                "reason": reason_label(self.note.reason),
                "leader": leader.name if leader is not None else "—",
            }
        if self.state == "pending":
            return _("已记入执勤日志，待确认")
        if self.state == "partial":
            return _("仅部分时段记入执勤日志，其余未说明")
        return _("未说明")

    def note_visible_to(self, user) -> bool:
        """Whether ``user`` may open the note (the rule of ``UnrecordedNote.access_q``)."""
        note = self.note
        if note is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return False
        if user.is_superuser or note.officer_id == user.pk:
            return True
        if user.has_role(Role.INSPECTOR):
            return True
        unit = user.unit if user.has_role(*READERS) and user.unit_id else None
        return unit is not None and note.unit.path.startswith(unit.path)


@dataclass
class Coverage:
    start: datetime
    end: datetime | None
    recordings: list[Recording] = field(default_factory=list)
    covered: list[tuple[datetime, datetime]] = field(default_factory=list)
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)
    unknown_length: list[Recording] = field(default_factory=list)
    # The gaps again, each with its duty-log explanation (C6.2); same order as ``gaps``.
    explained_gaps: list[GapExplanation] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return (self.end - self.start).total_seconds() if self.end else 0.0

    @property
    def covered_seconds(self) -> float:
        return sum((b - a).total_seconds() for a, b in self.covered)

    @property
    def percent(self) -> int | None:
        """Whole percent covered, rounded down: never 100 while a gap remains (C4.3)."""
        if not self.total_seconds:
            return None
        if self.complete:
            # Differences within SEGMENT_TOLERANCE at the span's edges are not gaps.
            return 100
        share = math.floor(100 * self.covered_seconds / self.total_seconds)
        return min(share, 99) if self.gaps else share

    @property
    def none_at_all(self) -> bool:
        """C2.1: no recording of this activity at all."""
        return not self.recordings

    @property
    def complete(self) -> bool:
        return bool(self.recordings) and not self.gaps and self.end is not None

    @property
    def status(self) -> str:
        if self.none_at_all:
            return "none"
        if self.end is None:
            return "open"
        return "gaps" if self.gaps else "complete"

    @property
    def label(self) -> str:
        status = self.status
        if status == "none":
            return _("无任何声像记录（C2.1）")
        if status == "open":
            return _("活动尚未结束")
        if status == "gaps":
            return ngettext(
                "有 %(n)s 处未录制的时段（C4.3）",
                "有 %(n)s 处未录制的时段（C4.3）",
                len(self.gaps),
            ) % {"n": len(self.gaps)}
        return _("全程录制")


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1] + SEGMENT_TOLERANCE:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def uncovered(
    start: datetime, end: datetime, spans: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) no span covers; shorter than SEGMENT_TOLERANCE
    (a recorder's segment roll-over) is no gap (C4.3)."""
    gaps = []
    cursor = start
    for a, b in sorted(spans):
        if a - cursor > SEGMENT_TOLERANCE:
            gaps.append((cursor, min(a, end)))
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if end - cursor > SEGMENT_TOLERANCE:
        gaps.append((cursor, end))
    return [(a, b) for a, b in gaps if b > a]


def activity_coverage(activity: Activity, *, now: datetime | None = None) -> Coverage:
    start, end = activity.window()
    now = now or timezone.now()
    officer_ids = list(activity.officers.values_list("pk", flat=True))
    horizon_end = (end or now) + _SEARCH
    # Each branch tests a column of the recording against values, never a
    # joined table: a join inside the OR (and the DISTINCT it needs) makes the
    # database read every recording. The annotated ids are read first, as a
    # list: PostgreSQL answers ``id = ANY(list)`` OR the officers' range from
    # two indexes (a bitmap OR), but not a subquery, which it scans for
    # (millions of recordings, one query per activity oversight judges).
    annotated = list(
        Annotation.objects.filter(activity=activity).values_list("recording_id", flat=True)
    )
    recordings = list(
        Recording.objects.filter(
            Q(
                officer_id__in=officer_ids,
                started_at__gte=start - _SEARCH,
                started_at__lt=horizon_end,
            )
            | Q(pk__in=annotated)
        )
        .select_related("media", "officer", "recorder", "annotation")
        .order_by("started_at", "pk")
    )
    span_end = end
    cov = Coverage(start=start, end=end)
    intervals = []
    for rec in recordings:
        rec_end = recording_end(rec)
        annotated_here = getattr(_annotation(rec), "activity_id", None) == activity.pk
        if rec_end is None:
            if annotated_here or (
                start <= rec.started_at and (end is None or rec.started_at < end)
            ):
                cov.recordings.append(rec)
                cov.unknown_length.append(rec)
            continue
        lo = max(rec.started_at, start)
        hi = rec_end if span_end is None else min(rec_end, span_end)
        if hi > lo or annotated_here:
            cov.recordings.append(rec)
            # C4.3 asks for continuous filming: only video covers the span. A
            # sound recording (or a photo) is listed with the activity's
            # recordings but does not bridge a gap in the filming, as in the
            # record list (``recordlist.continuity``).
            if hi > lo and rec.kind == Recording.Kind.VIDEO:
                intervals.append((lo, hi))
    cov.covered = _merge(intervals)
    if end is not None:
        cov.gaps = uncovered(start, end, cov.covered)
        cov.explained_gaps = _explain(cov.gaps, officer_ids, start, end)
    return cov


def _explain(
    gaps: list[tuple[datetime, datetime]], officer_ids: list[int], start: datetime, end: datetime
) -> list[GapExplanation]:
    """Each gap with the duty-log note that explains it (C6.2), from one query of
    the officers' confirmed and pending notes over the span (none without gaps)."""
    notes: list[UnrecordedNote] = []
    if officer_ids and gaps:
        notes = list(
            UnrecordedNote.objects.filter(
                officer_id__in=officer_ids,
                state__in=[UnrecordedNote.State.CONFIRMED, UnrecordedNote.State.PENDING],
                start__lt=end,
                end__gt=start,
            )
            .select_related("confirmed_by", "unit")
            .order_by("start", "pk")
        )
    out = []
    for a, b in gaps:
        overlapping = [n for n in notes if n.start < b and n.end > a]
        confirmed = [n for n in overlapping if n.state == UnrecordedNote.State.CONFIRMED]
        # A note explains the time it covers, no more: a gap is explained only
        # when notes cover all of it (C6.2); partly covered, it says so.
        if confirmed and _covers(confirmed, a, b):
            out.append(GapExplanation(a, b, "confirmed", confirmed[0]))
        elif overlapping and _covers(overlapping, a, b):
            out.append(GapExplanation(a, b, "pending", overlapping[0]))
        elif overlapping:
            out.append(GapExplanation(a, b, "partial", overlapping[0]))
        else:
            out.append(GapExplanation(a, b))
    return out


def _covers(notes: list[UnrecordedNote], start: datetime, end: datetime) -> bool:
    """Whether the notes together cover all of [start, end)."""
    reach = start
    for note in sorted(notes, key=lambda n: n.start):
        if note.start > reach + SEGMENT_TOLERANCE:
            return False
        reach = max(reach, note.end)
    return reach + SEGMENT_TOLERANCE >= end


def _annotation(recording: Recording):
    try:
        return recording.annotation
    except Exception:  # RelatedObjectDoesNotExist: not annotated
        return None
