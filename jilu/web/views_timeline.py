"""Timelines: an officer's day and a recorder's day on one time axis (C4.3, C2.1,
C3.2), with the officer's activities (C2.1) and duty-log notes (C6.2)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.devices.models import Recorder
from jilu.evidence import timeline
from jilu.evidence.models import MediaInfo, Recording
from jilu.evidence.queries import media_of
from jilu.ingest.models import DockingSession
from jilu.org.models import Person
from jilu.org.roles import UNIT_READERS, Role


def _parse_day(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Http404(_("日期格式应为 YYYY-MM-DD")) from None
    if not timeline.FIRST_DAY <= day <= timeline.LAST_DAY:
        raise Http404(_("日期超出范围（2000-01-01 至 2099-12-31）"))
    return day


def _segments(recordings) -> list[timeline.Segment]:
    return [
        timeline.Segment(
            recording_id=r.pk,
            start=r.started_at,
            end=r.ended_at,
            label=str(r),
            kind=r.kind,
            url=reverse("evidence:recording_detail", args=[r.pk]),
            integrity=_integrity(r),
        )
        for r in recordings
    ]


def _integrity(recording: Recording) -> str:
    media = media_of(recording)
    return media.integrity if media is not None else MediaInfo.Integrity.PENDING


def _dockings(recordings, lo, hi, **who: Any) -> list[timeline.Docking]:
    """The day's dockings, and those that took in the day's recordings (a day's
    footage is often docked the next morning; its times were corrected by the
    offset measured then, C3.2)."""
    took_in = {r.docking_id for r in recordings if r.docking_id}
    day_q = Q(started_at__gte=lo, started_at__lt=hi)
    if who:
        day_q &= Q(**who) if len(who) == 1 else _any(who)
    sessions = DockingSession.objects.filter(day_q | Q(pk__in=took_in))
    return [
        timeline.Docking(
            at=d.started_at,
            station=d.station.name if d.station_id else "",
            offset_seconds=d.clock_offset_seconds,
        )
        for d in sessions.select_related("station").order_by("started_at")
    ]


def _any(lookups: dict[str, Any]) -> Q:
    q = Q()
    for key, value in lookups.items():
        q |= Q(**{key: value})
    return q


def _activities(user: Any, officer: Person, lo, hi) -> list[timeline.ActivitySpan]:
    """The officer's enforcement activities of the day, as the viewer may see them."""
    from jilu.casework.models import Activity

    acts = (
        Activity.objects.restrict(user, "view")
        .filter(officers=officer, span_start__lt=hi)
        .filter(Q(span_end__isnull=True) | Q(span_end__gt=lo))
        .order_by("span_start", "pk")
    )
    return [
        timeline.ActivitySpan(
            start=a.span_start,
            end=a.span_end,
            label=f"{a.get_kind_display()} {a.place_name or a.address}".strip(),
            url=reverse("casework:activity_detail", args=[a.pk]),
        )
        for a in acts[:50]
    ]


def _day_recordings(request: HttpRequest, day: date, **lookup: Any):
    lo, hi = timeline.day_bounds(day)
    return list(
        Recording.objects.restrict(request.user, "view")
        .filter(**lookup)
        # A recording that began the evening before may reach into this day.
        .filter(started_at__lt=hi, started_at__gte=lo - timedelta(hours=12))
        .filter(Q(ended_at__isnull=True, started_at__gte=lo) | Q(ended_at__gte=lo))
        .select_related("recorder", "media")
        .order_by("started_at")
    )


def _render_day(
    request: HttpRequest,
    *,
    day: date,
    title: str,
    recordings,
    dockings,
    url_name: str,
    key: Any,
    extra: dict[str, Any] | None = None,
    gap_link: Any = None,
    activities: list[timeline.ActivitySpan] | None = None,
) -> HttpResponse:
    """The timeline page; ``gap_link(gap)`` is an address offered beside a gap ("" for none)."""
    built = timeline.build_day(day, _segments(recordings), dockings, activities or ())
    return render(
        request,
        "evidence/timeline.html",
        {
            **(extra or {}),
            "gap_rows": [(g, gap_link(g) if gap_link else "") for g in built.gaps],
            "title": title,
            "day": built,
            "svg": timeline.render_svg(built, title=title),
            "recordings": recordings,
            "all_dockings": dockings,
            "activities": activities,
            "prev_url": reverse(url_name, args=[key, (day - timedelta(days=1)).isoformat()]),
            "next_url": reverse(url_name, args=[key, (day + timedelta(days=1)).isoformat()]),
            "recorded_text": timeline.duration_text(built.recorded_seconds),
            "gap_text": timeline.duration_text(built.gap_seconds),
        },
    )


def _may_see_person(user: Any, person: Person) -> bool:
    if user.pk == person.pk:
        return True
    if not (user.is_superuser or user.has_role(Role.INSPECTOR, *UNIT_READERS)):
        return False
    return Person.objects.restrict(user, "view").filter(pk=person.pk).exists()


@login_required
def timeline_officer(request: HttpRequest, pk: int, day: str) -> HttpResponse:
    """An officer's day (C4.3, C2.1): recordings, gaps, dockings and clock offsets (C3.2),
    with the day's duty-log notes of periods that could not be recorded (C6.2)."""
    from jilu.dutylog import labels as dutylog_labels
    from jilu.dutylog import views as dutylog_views
    from jilu.dutylog.models import UnrecordedNote

    the_day = _parse_day(day)
    officer = Person.objects.filter(pk=pk).select_related("unit").first()
    if officer is None or not _may_see_person(request.user, officer):
        raise Http404(_("没有这名人员，或其不在你的权限范围内"))
    recordings = _day_recordings(request, the_day, officer=officer)
    lo, hi = timeline.day_bounds(the_day)
    serials = {r.recorder_id for r in recordings}
    docks = _dockings(recordings, lo, hi, holder=officer, recorder_id__in=serials)

    # C6.2: the day's duty-log notes (those this viewer may see), and for the
    # officer themself a link from each unrecorded period to a prefilled note.
    notes = [
        dutylog_labels.label(n)
        for n in UnrecordedNote.objects.restrict(request.user, "view")
        .filter(officer=officer, start__lt=hi, end__gt=lo)
        .order_by("start", "pk")
    ]
    own = request.user.pk == officer.pk
    now = timezone.now()

    def note_link(gap: Any) -> str:
        end = min(gap.end, now)
        return dutylog_views.new_note_url(gap.start, end) if gap.start < end else ""

    return _render_day(
        request,
        day=the_day,
        title=_("%(name)s 的 %(day)s") % {"name": officer.name, "day": the_day.isoformat()},
        recordings=recordings,
        dockings=docks,
        url_name="evidence:timeline_officer",
        key=officer.pk,
        extra={"dutylog_notes": notes, "dutylog_own": own},
        gap_link=note_link if own else None,
        activities=_activities(request.user, officer, lo, hi),
    )


@login_required
def timeline_recorder(request: HttpRequest, serial: str, day: str) -> HttpResponse:
    the_day = _parse_day(day)
    recorder = Recorder.objects.restrict(request.user, "view").filter(serial=serial.upper()).first()
    if recorder is None:
        raise Http404(_("没有这台记录仪，或它不在你的管辖范围内"))
    recordings = _day_recordings(request, the_day, recorder=recorder)
    lo, hi = timeline.day_bounds(the_day)
    docks = _dockings(recordings, lo, hi, recorder=recorder)
    return _render_day(
        request,
        day=the_day,
        title=_("记录仪 %(serial)s 的 %(day)s")
        % {"serial": recorder.serial, "day": the_day.isoformat()},
        recordings=recordings,
        dockings=docks,
        url_name="evidence:timeline_recorder",
        key=recorder.serial,
    )
