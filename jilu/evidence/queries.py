"""Finding recordings: the one filtered, restricted, N+1-free list query.

Used by the list page and the API alike. Every result set starts from
``Recording.objects.restrict(user, "view")``; filters only narrow it.
Dates are Asia/Shanghai calendar days on the corrected start (C3.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.functional import cached_property

from jilu.devices.models import Recorder
from jilu.evidence.models import MediaInfo, Recording
from jilu.evidence.rows import lean
from jilu.evidence.timeline import day_bounds
from jilu.org.models import Unit

# C5.2: recordings are linked/annotated within 48 hours of collection.
ANNOTATION_DEADLINE = timedelta(hours=48)
# Counting stops here: "more than 10,000" is all a person needs to narrow the filters.
COUNT_CAP = 10_000


# The recording columns a list row (page or API item) shows; any other field of
# a listed recording would cost one query per row, so add it here first.
LIST_FIELDS = (
    "id",
    "original_name",
    "kind",
    "started_at",
    "ended_at",
    "officer_id",
    "recorder_id",
    "size",
    "sha256",
    "sm3",
    "docked_at",
    "collected_within_24h",
)


@cache
def has_annotations() -> bool:
    """Whether the casework app's ``Annotation`` (one per recording) is installed."""
    try:
        Recording._meta.get_field("annotation")
    except FieldDoesNotExist:
        return False
    return True


@dataclass
class RecordingFilters:
    q: str = ""
    unit: Unit | None = None
    officer_id: int | None = None
    serial: str = ""
    date_from: date | None = None
    date_to: date | None = None
    kind: str = ""
    integrity: str = ""
    late: bool | None = None  # True: collected after 24 h (C5.1)
    annotated: bool | None = None  # needs casework
    overdue: bool = False  # not annotated 48 h after collection (C5.2); needs casework

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> RecordingFilters:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def base_queryset(user: Any) -> QuerySet:
    """The recordings ``user`` may see, with what a list row shows in one query."""
    return (
        lean(Recording.objects.restrict(user, "view"))
        .select_related("officer", "recorder", "media")
        # Only the columns a row shows (list page and API): building and converting
        # 50 rows is most of the cost of a page, whatever the size of the table.
        .only(
            *LIST_FIELDS,
            "officer__name",
            "officer__user_no",
            "recorder__serial",
            "media__integrity",
            "media__integrity_reason",
            "media__browser_playable",
        )
    )


def filter_recordings(qs: QuerySet, f: RecordingFilters, *, now=None) -> QuerySet:
    if f.unit is not None:
        # The unit tree is small: resolve the subtree to ids once, so the big
        # table is filtered by indexed foreign keys rather than joined paths.
        ids = list(Unit.objects.filter(path__startswith=f.unit.path).values_list("pk", flat=True))
        qs = qs.filter(Q(officer__unit_id__in=ids) | Q(recorder__unit_id__in=ids))
    if f.officer_id:
        qs = qs.filter(officer_id=f.officer_id)
    if f.serial:
        # A scalar subquery (serials are unique), not a join nor ``IN``: with
        # ``recorder_id = (SELECT ...)`` SQLite walks the (recorder, started_at)
        # index already in order; with ``IN`` it sorts every row of the recorder.
        serial = Recorder.objects.filter(serial=f.serial.strip().upper()).values("pk")[:1]
        qs = qs.filter(recorder_id=Subquery(serial))
    if f.date_from:
        qs = qs.filter(started_at__gte=day_bounds(f.date_from)[0])
    if f.date_to:
        qs = qs.filter(started_at__lt=day_bounds(f.date_to)[1])
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.integrity:
        if f.integrity == MediaInfo.Integrity.PENDING:
            # Not probed yet: no MediaInfo row, or one still pending.
            qs = qs.filter(Q(media__isnull=True) | Q(media__integrity=f.integrity))
        else:
            qs = qs.filter(media__integrity=f.integrity)
    if f.late is not None:
        qs = qs.filter(collected_within_24h=not f.late)
    if has_annotations():
        from jilu.casework.models import Annotation

        annotated = Exists(Annotation.objects.filter(recording_id=OuterRef("pk")))
        if f.annotated is not None:
            qs = qs.filter(annotated if f.annotated else ~annotated)
        if f.overdue:
            cutoff = (now or timezone.now()) - ANNOTATION_DEADLINE
            qs = qs.filter(~annotated, docked_at__lt=cutoff)
    if f.q:
        words = f.q.split()[:5]
        for word in words:
            match = Q(original_name__icontains=word) | Q(recorder__serial__iexact=word)
            if has_annotations():
                match |= (
                    Q(annotation__standard_name__icontains=word)
                    | Q(annotation__note__icontains=word)
                    | Q(annotation__activity__party__name__icontains=word)
                    | Q(annotation__activity__address__icontains=word)
                    | Q(annotation__activity__place_name__icontains=word)
                )
            qs = qs.filter(match)
    return qs.order_by("-started_at", "-pk")


def find_recordings(user: Any, f: RecordingFilters) -> QuerySet:
    return filter_recordings(base_queryset(user), f)


class CappedPaginator(Paginator):
    """A paginator whose count stops at ``COUNT_CAP`` (a full COUNT over millions
    of rows is the slow part of a list page); ``capped`` says it stopped."""

    def __init__(self, object_list, per_page, cap: int = COUNT_CAP, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    def validate_number(self, number: Any) -> int:
        # Page 1 always exists (empty first page allowed): asking the count to
        # check it would run the count query before we know whether it is needed.
        if self.allow_empty_first_page and str(number).strip() == "1":
            return 1
        return super().validate_number(number)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if number != 1 or self.orphans or "count" in self.__dict__:
            return super().page(number)
        # The first page (what most visits see) is fetched before counting: when it
        # is not full, its length is the count, and the count query is skipped.
        rows = list(self.object_list[: self.per_page])
        if len(rows) < self.per_page:
            self.__dict__["count"] = len(rows)  # fills the cached_property
        return self._get_page(rows, number, self)

    @property
    def capped(self) -> bool:
        return self.count > self.cap


def media_of(recording: Recording) -> MediaInfo | None:
    """The recording's probe, or None before probing (no extra query when
    the queryset used ``select_related("media")``)."""
    try:
        return recording.media
    except MediaInfo.DoesNotExist:
        return None


INTEGRITY_BADGE = {
    MediaInfo.Integrity.COMPLETE: "good",
    MediaInfo.Integrity.INCOMPLETE: "warn",
    MediaInfo.Integrity.UNPARSEABLE: "bad",
    MediaInfo.Integrity.PENDING: "",
}
