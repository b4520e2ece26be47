"""Read-only questions about activities, cases and annotation, for views, the API and other apps.

``case_recordings(case)`` is what the AV record list (Attachment 2) is built
from; ``annotation_queue`` and ``overdue_for_leader`` are the 48-hour
deadline (C5.2) seen by the officer and by the squad leader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from jilu.casework.models import ANNOTATION_DEADLINE, Activity, Annotation, Case, Category
from jilu.evidence.models import Recording

# Segments of one continuous recording follow each other with no gap
# (DESIGN.md contract 5); allow for rounding of the probed durations.
SEGMENT_TOLERANCE = timedelta(seconds=2)
# Officers switch on before the activity begins (C3.3): a recording that
# starts or ends this close to an activity's window still matches it.
MATCH_SLACK = timedelta(minutes=30)
# An activity with a start and no end yet is assumed to last this long when matching.
OPEN_ACTIVITY_SPAN = timedelta(hours=8)


def recording_end(recording: Recording) -> datetime | None:
    """The recording's end: ``ended_at`` when known, else start + probed duration."""
    if recording.ended_at is not None:
        return recording.ended_at
    if _has_media(recording) and recording.media.duration_seconds is not None:
        return recording.started_at + timedelta(seconds=recording.media.duration_seconds)
    return None


def _has_media(recording: Recording) -> bool:
    try:
        recording.media  # noqa: B018
    except ObjectDoesNotExist:  # not probed yet
        return False
    return True


def integrity_of(recording: Recording) -> tuple[str, str]:
    """(integrity value, reason) from the media probe; ``pending`` before probing."""
    if not _has_media(recording):
        return "pending", ""
    return recording.media.integrity, recording.media.integrity_reason


def visible_recordings(user: Any) -> QuerySet[Recording]:
    """Recordings the user may see (``Recording.access_q`` includes, for officers,
    those of the activities they took part in)."""
    return Recording.objects.restrict(user, "view")


def may_annotate(user: Any, recording: Recording) -> bool:
    """The recording's officer annotates it (C5.2); leaders, case handlers and
    administrators of the officer's unit subtree correct it."""
    from jilu.casework.models import ACTIVITY_EDITORS

    if user.is_superuser or recording.officer_id == user.pk:
        return True
    if not user.has_role(*ACTIVITY_EDITORS) or not user.unit_id:
        return False
    unit = recording.officer.unit if recording.officer_id else recording.recorder.unit
    return unit is not None and unit.path.startswith(user.unit.path)


# --- the 48-hour deadline (C5.2) ---------------------------------------------


@dataclass(frozen=True)
class Deadline:
    due: datetime
    left: timedelta

    @property
    def overdue(self) -> bool:
        return self.left <= timedelta(0)

    @property
    def hours_left(self) -> int:
        """Whole hours left (rounded down); negative once overdue."""
        return int(self.left.total_seconds() // 3600)

    @property
    def label(self) -> str:
        seconds = int(self.left.total_seconds())
        if seconds <= 0:
            late = -seconds
            return gettext("已超期 %(h)s 小时 %(m)s 分") % {
                "h": late // 3600,
                "m": late % 3600 // 60,
            }
        return gettext("剩余 %(h)s 小时 %(m)s 分") % {
            "h": seconds // 3600,
            "m": seconds % 3600 // 60,
        }


def deadline(recording: Recording, now: datetime | None = None) -> Deadline:
    """C5.2: annotation is due 48 hours after the recording was docked."""
    now = now or timezone.now()
    due = recording.docked_at + ANNOTATION_DEADLINE
    return Deadline(due=due, left=due - now)


def unannotated() -> QuerySet[Recording]:
    return Recording.objects.filter(annotation__isnull=True)


def annotation_queue(user: Any) -> QuerySet[Recording]:
    """The officer's own recordings still to annotate, oldest docking first."""
    return (
        unannotated()
        .filter(officer_id=user.pk)
        .select_related("recorder", "media")
        .order_by("docked_at", "started_at")
    )


def squad_queue(user: Any, *, now: datetime | None = None, overdue_only: bool = False):
    """Unannotated recordings of the leader's unit subtree (C5.2)."""
    now = now or timezone.now()
    qs = (
        unannotated()
        .filter(pk__in=Recording.objects.restrict(user, "view").values("pk"))
        .select_related("recorder", "officer", "officer__unit", "media")
        .order_by("docked_at", "started_at")
    )
    if overdue_only:
        qs = qs.filter(docked_at__lte=now - ANNOTATION_DEADLINE)
    return qs


def overdue_for_leader(user: Any, now: datetime | None = None) -> QuerySet[Recording]:
    return squad_queue(user, now=now, overdue_only=True)


# --- suggestions --------------------------------------------------------------


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> timedelta:
    return max(timedelta(0), min(a1, b1) - max(a0, b0))


@dataclass(frozen=True)
class Fit:
    """How a suggested activity's window relates to the recording's: they
    overlap, or the activity is only near in time, ``gap`` apart."""

    overlaps: bool
    gap: timedelta

    @property
    def gap_minutes(self) -> int:
        return max(1, round(self.gap.total_seconds() / 60)) if not self.overlaps else 0


def suggestion_fit(recording: Recording, activity: Activity) -> Fit:
    """Whether ``activity`` really overlaps ``recording`` in time, or how far apart they are."""
    start = recording.started_at
    end = recording_end(recording) or start
    a0 = activity.span_start
    a1 = activity.span_end or activity.span_start + OPEN_ACTIVITY_SPAN
    if a0 <= end and start <= a1:
        return Fit(overlaps=True, gap=timedelta(0))
    gap = a0 - end if a0 > end else start - a1
    return Fit(overlaps=False, gap=gap)


def takes_recordings(activity: Activity) -> bool:
    """Whether recordings may still be tied to ``activity``: not once its case
    went to legal review or was closed (its record list is fixed, C5.5)."""
    return activity.case_id is None or activity.case.editable


def open_activities(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    """``qs`` without the activities whose case is transferred, reviewed or closed."""
    return qs.filter(Q(case__isnull=True) | Q(case__status=Case.Status.OPEN))


def _ranked(recording: Recording, user: Any) -> list[Activity]:
    """Every activity matching the recording's officer and time, best overlap first."""
    if recording.officer_id is None:
        return []
    start = recording.started_at
    end = recording_end(recording) or start
    candidates = (
        Activity.objects.restrict(user, "view")
        .filter(officers=recording.officer_id)
        .filter(span_start__lte=end + MATCH_SLACK)
        .filter(
            Q(span_end__gte=start - MATCH_SLACK)
            | Q(span_end__isnull=True, span_start__gte=start - OPEN_ACTIVITY_SPAN)
        )
        .select_related("party", "unit", "case", "case__handler", "power")
        .distinct()
    )
    scored = []
    for activity in candidates[:50]:
        a0 = activity.span_start
        a1 = activity.span_end or activity.span_start + OPEN_ACTIVITY_SPAN
        ov = _overlap(start - MATCH_SLACK, end + MATCH_SLACK, a0, a1)
        distance = abs((a0 - start).total_seconds())
        scored.append((-ov.total_seconds(), distance, activity.pk, activity))
    scored.sort(key=lambda t: t[:3])
    return [t[3] for t in scored]


def suggestions(recording: Recording, user: Any, limit: int = 5) -> list[Activity]:
    """Activities whose officers include the recording's officer and whose
    time window overlaps the recording's or is near it (within ``MATCH_SLACK``,
    C3.3: officers switch on before the activity begins), best overlap first.
    ``suggestion_fit`` tells which of the two each one is. Only activities that
    can still take the recording are offered: never one whose case is
    transferred, reviewed or closed (``withheld_suggestions`` says which)."""
    return [a for a in _ranked(recording, user) if takes_recordings(a)][:limit]


def withheld_suggestions(recording: Recording, user: Any) -> list[Activity]:
    """The matching activities that rank above every offered one but cannot take
    the recording, because their case went to legal review or was closed (C5.5).
    Empty when the best match is offered. The page says why each is not offered."""
    out = []
    for activity in _ranked(recording, user):
        if takes_recordings(activity):
            break
        out.append(activity)
    return out


def segment_run(recording: Recording, *, unannotated_only: bool = True) -> list[Recording]:
    """The run of consecutive segments (same recorder and kind, each starting where
    the previous ended) that contains ``recording``, in time order, offered to be
    annotated together (C5.2). A photo or a sound recording taken while a video
    runs does not break the video's run."""
    window = timedelta(hours=12)
    siblings = list(
        Recording.objects.filter(
            recorder_id=recording.recorder_id,
            officer_id=recording.officer_id,
            kind=recording.kind,
            started_at__gte=recording.started_at - window,
            started_at__lte=recording.started_at + window,
        )
        .select_related("media")
        .order_by("started_at", "pk")
    )
    idx = next(i for i, r in enumerate(siblings) if r.pk == recording.pk)

    def joined(a: Recording, b: Recording) -> bool:
        end = recording_end(a)
        return end is not None and abs(b.started_at - end) <= SEGMENT_TOLERANCE

    lo = idx
    while lo > 0 and joined(siblings[lo - 1], siblings[lo]):
        lo -= 1
    hi = idx
    while hi + 1 < len(siblings) and joined(siblings[hi], siblings[hi + 1]):
        hi += 1
    run = siblings[lo : hi + 1]
    if unannotated_only:
        annotated = set(
            Annotation.objects.filter(recording__in=run).values_list("recording_id", flat=True)
        )
        run = [r for r in run if r.pk not in annotated or r.pk == recording.pk]
    return run


# --- cases and the record list ---------------------------------------------


def case_activities(case: Case) -> QuerySet[Activity]:
    return (
        case.activities.all()
        .select_related("party", "unit", "power")
        .prefetch_related("officers")
        .order_by("case_order", "span_start", "pk")
    )


def list_category(case: Case, activity: Activity) -> str:
    """执法类别 (A2, column 2) of the activity's rows in the case's record list, a
    ``Category`` value: the case's category, unless the activity is a 行政强制.

    The list belongs to the case file (C5.4, C5.5: it is printed as the file's
    last page and goes with it to the legal department), and Attachment 2's
    example (A2) shows what its rows state: in one file, the 现场勘验, 询问笔录 and
    告知书送达 rows read 行政处罚, the case's category, although the survey
    itself is an on-site check; only the 催告书送达 row reads 行政强制, because
    the compulsory measure or execution carried out within the case is an
    enforcement act of its own kind. So an activity registered as 行政检查 (the
    patrol that found the violation, before the case existed) prints the
    case's category, and an activity registered as 行政强制 prints 行政强制.
    """
    if activity.category == Category.COERCION:
        return Category.COERCION
    return case.category


@dataclass
class RecordListRow:
    """One row of the AV record list (Attachment 2) with what produced it."""

    list_no: int | None
    annotation: Annotation
    recording: Recording
    activity: Activity
    category: str  # 执法类别 label (``list_category``: the case's, A2)
    matter: str  # 执法事项
    step: str  # 记录事项 label
    unit: str  # 执法部门
    officer: str  # 记录人员
    place: str  # 记录地点
    start: datetime
    end: datetime | None
    integrity: str  # MediaInfo.Integrity value, "pending" before probing
    integrity_reason: str
    standard_name: str
    file_name: str

    @property
    def integrity_label(self) -> str:
        """记录保存情况 as the media probe found it (完整 / 不完整 / …)."""
        from jilu.evidence.media_models import MediaInfo

        return MediaInfo.Integrity(self.integrity).label


def case_recordings(case: Case) -> list[RecordListRow]:
    """The case's annotated recordings in record-list order (C5.4, A2)."""
    annotations = (
        Annotation.objects.filter(case=case)
        .select_related(
            "recording",
            "recording__officer",
            "recording__recorder",
            "activity",
            "activity__unit",
            "activity__power",
            "activity__party",
        )
        .order_by("list_no", "recording__started_at", "pk")
    )
    rows = []
    for a in annotations:
        rec = a.recording
        act = a.activity
        integrity, reason = integrity_of(rec)
        rows.append(
            RecordListRow(
                list_no=a.list_no,
                annotation=a,
                recording=rec,
                activity=act,
                category=str(Category(list_category(case, act)).label),
                matter=act.matter or case.matter,
                step=a.get_step_display(),
                unit=act.unit.name,
                officer=rec.officer.name if rec.officer_id else rec.user_no_in_name,
                place=" ".join(x for x in (act.address, act.place_name) if x),
                start=rec.started_at,
                end=recording_end(rec),
                integrity=integrity,
                integrity_reason=reason,
                standard_name=a.standard_name,
                file_name=a.file_name,
            )
        )
    return rows


# --- the handler's cases and the 48-hour deadline (C5.2) -------------------------


@dataclass
class CaseOverdue:
    """An open case of the handler with recordings of its activities' officers,
    made during an activity, that are past the 48-hour annotation deadline."""

    case: Case
    recordings: int


def cases_with_overdue_annotation(
    user: Any, now: datetime | None = None, *, limit: int = 200
) -> list[CaseOverdue]:
    """The user's open cases (as handler) whose activities have unannotated
    recordings past the deadline (C5.2): a recording counts for an activity when
    one of its officers made it within the activity's window (``MATCH_SLACK``
    either side, C3.3). One query for the activities, one for the recordings."""
    now = now or timezone.now()
    activities = list(
        Activity.objects.filter(case__handler_id=user.pk, case__status=Case.Status.OPEN)
        .select_related("case")
        .prefetch_related("officers")
        .order_by("case_id", "span_start")[:limit]
    )
    windows = []
    match = Q(pk__in=[])
    for a in activities:
        officers = [o.pk for o in a.officers.all()]
        if not officers:
            continue
        lo = a.span_start - MATCH_SLACK
        hi = (a.span_end or a.span_start + OPEN_ACTIVITY_SPAN) + MATCH_SLACK
        windows.append((a.case, set(officers), lo, hi))
        match |= Q(officer_id__in=officers, started_at__gte=lo, started_at__lte=hi)
    if not windows:
        return []
    overdue = unannotated().filter(docked_at__lte=now - ANNOTATION_DEADLINE).filter(match)
    found: dict[int, CaseOverdue] = {}
    seen: set[tuple[int, int]] = set()
    for pk, officer_id, started in overdue.values_list("pk", "officer_id", "started_at"):
        for case, officers, lo, hi in windows:
            if officer_id in officers and lo <= started <= hi and (case.pk, pk) not in seen:
                seen.add((case.pk, pk))
                found.setdefault(case.pk, CaseOverdue(case=case, recordings=0)).recordings += 1
    return sorted(found.values(), key=lambda c: (-c.recordings, c.case.number))
