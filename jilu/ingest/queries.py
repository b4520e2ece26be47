"""Read-only questions for the workstation pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jilu.devices.models import Holding, Recorder
from jilu.evidence.models import Recording
from jilu.ingest.actions import COLLECTION_DEADLINE
from jilu.ingest.models import DockingSession, QuarantineItem

# A session that has reported nothing for this long is shown as interrupted.
STALE_AFTER = timedelta(hours=2)
# C5.1 reminders start this long before the 24 hours are up.
DUE_SOON = timedelta(hours=4)


def _with_counts(qs: QuerySet[DockingSession]) -> QuerySet[DockingSession]:
    return qs.select_related("station", "station__unit", "recorder", "holder").annotate(
        n_recordings=Count("recordings", distinct=True),
        n_quarantined=Count("quarantine_items", distinct=True),
    )


def sessions_in_progress(user: Any, now: datetime | None = None) -> QuerySet[DockingSession]:
    now = now or timezone.now()
    since = now - STALE_AFTER
    return _with_counts(
        DockingSession.objects.restrict(user, "view")
        .filter(finished_at__isnull=True)
        .filter(Q(progress_at__gte=since) | Q(started_at__gte=since))
    ).order_by("-started_at")


def recent_sessions(
    user: Any, now: datetime | None = None, limit: int = 20
) -> list[DockingSession]:
    now = now or timezone.now()
    since = now - STALE_AFTER
    qs = (
        DockingSession.objects.restrict(user, "view")
        .exclude(
            Q(finished_at__isnull=True) & (Q(progress_at__gte=since) | Q(started_at__gte=since))
        )
        .order_by("-started_at")
    )
    return list(_with_counts(qs)[:limit])


def open_quarantine(user: Any) -> QuerySet[QuarantineItem]:
    return QuarantineItem.objects.restrict(user, "view").filter(resolved_at__isnull=True)


@dataclass
class RecorderDue:
    """C5.1 for one recorder: when it last docked, its last recording, what is due."""

    recorder: Recorder
    holder_name: str | None
    holder_user_no: str | None
    last_docked: datetime | None
    last_recording: datetime | None
    last_recording_late: bool
    since_docked: timedelta | None
    status: str  # "overdue", "never", "due_soon", "late"

    @property
    def hours_since_docked(self) -> int | None:
        return None if self.since_docked is None else int(self.since_docked.total_seconds() // 3600)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def due_at(self) -> datetime | None:
        return None if self.last_docked is None else self.last_docked + COLLECTION_DEADLINE


STATUS_LABELS = {
    "overdue": _("超过24小时未对接"),
    "never": _("从未对接"),
    "due_soon": _("即将满24小时"),
    "late": _("最近一条记录迟于24小时采集"),
}


def recorders_due(user: Any, now: datetime | None = None) -> list[RecorderDue]:
    """C5.1: recorders in the user's scope whose footage may not reach a workstation in time.

    Only the recorder knows what it recorded since it last docked, so the
    reminder is the time since the last docking of each recorder someone
    holds: after 20 hours it is due soon, after 24 hours overdue. A recorder
    whose latest recording was itself taken in more than 24 hours after it
    was made is listed as late.
    """
    now = now or timezone.now()
    last_docking = DockingSession.objects.filter(recorder=OuterRef("pk")).order_by("-started_at")
    last_rec = Recording.objects.filter(recorder=OuterRef("pk")).order_by("-started_at")
    current = Holding.objects.filter(recorder=OuterRef("pk"), ended_at__isnull=True)
    recorders = (
        Recorder.objects.restrict(user, "view")
        .filter(status=Recorder.Status.IN_SERVICE)
        .select_related("unit")
        .annotate(
            last_docked=Subquery(last_docking.values("started_at")[:1]),
            last_recording=Subquery(last_rec.values("started_at")[:1]),
            last_recording_ok=Subquery(last_rec.values("collected_within_24h")[:1]),
            holder_name=Subquery(current.values("person__name")[:1]),
            holder_user_no=Subquery(current.values("person__user_no")[:1]),
        )
    )
    out = []
    for r in recorders:
        held = r.holder_name is not None
        since = now - r.last_docked if r.last_docked else None
        late = r.last_recording is not None and r.last_recording_ok is False
        status = ""
        if held and r.last_docked is None:
            status = "never"
        elif held and since >= COLLECTION_DEADLINE:
            status = "overdue"
        elif late:
            status = "late"
        elif held and since >= COLLECTION_DEADLINE - DUE_SOON:
            status = "due_soon"
        if status:
            out.append(
                RecorderDue(
                    recorder=r,
                    holder_name=r.holder_name,
                    holder_user_no=r.holder_user_no,
                    last_docked=r.last_docked,
                    last_recording=r.last_recording,
                    last_recording_late=late,
                    since_docked=since,
                    status=status,
                )
            )
    order = {"overdue": 0, "never": 1, "late": 2, "due_soon": 3}
    out.sort(
        key=lambda d: (order[d.status], d.last_docked or datetime.min.replace(tzinfo=now.tzinfo))
    )
    return out
