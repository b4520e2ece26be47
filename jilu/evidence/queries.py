"""Finding recordings: the one filtered, restricted, N+1-free list query.

Used by the list page and the API alike. Every result set starts from
``Recording.objects.restrict(user, "view")``; filters only narrow it.
Dates are Asia/Shanghai calendar days on the corrected start (C3.2).

Any date is accepted here, even one whose day boundary cannot be written as
a datetime (0001-01-01 in Shanghai starts in year 0 UTC; 9999-12-31 ends in
year 10000): such a bound lies beyond every datetime, so dropping it is exact
("from 0001-01-01" and "until 9999-12-31" narrow nothing). Refusing dates
outside a sensible range, with a message, is the form's and the API's job;
this layer never raises for a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.functional import cached_property

from jilu.devices.models import Recorder
from jilu.evidence.deadlines import ANNOTATION_DEADLINE  # noqa: F401 (C5.2, used by callers)
from jilu.evidence.hooks import annotations as hooks_annotations
from jilu.evidence.hooks import hooks
from jilu.evidence.models import MediaInfo, Recording
from jilu.evidence.rows import lean
from jilu.evidence.timeline import SHANGHAI
from jilu.org.access import is_inspector
from jilu.org.models import Person, Unit
from jilu.org.roles import UNIT_READERS

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


def has_annotations() -> bool:
    """Whether an app above (casework) annotates recordings (``jilu.evidence.hooks``)."""
    return hooks.annotations is not None


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


def _day_start(day: date) -> datetime | None:
    """00:00 of ``day`` in Shanghai as UTC; None when that is before every datetime."""
    try:
        return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)
    except OverflowError:
        return None


def _day_end(day: date) -> datetime | None:
    """24:00 of ``day`` in Shanghai as UTC; None when that is after every datetime."""
    if day == date.max:
        return None
    return _day_start(day + timedelta(days=1))


def _match_word(word: str, *, wide: bool = False) -> Q:
    """One keyword: file name, recorder serial, the officer (name, 警号, 执法证号)
    and, with casework, the annotation and its activity (party, address, place).

    Officers, recorders and annotations are each found on their own tables
    (``IN (subquery)``, computed once per query), never by joining annotations,
    activities and parties into the scan of recordings. Within a unit's scope the
    file name is then tested on the unit's recordings only. Over the whole city
    (``wide``: inspectors) walking every recording in date order to test its name
    costs seconds, so there the matches are gathered as one set first, each part
    by a plain pass over its table, and the page is read from that set (C6.4).
    """
    people = Person.objects.filter(
        Q(name__icontains=word) | Q(user_no__iexact=word) | Q(cert_no__iexact=word)
    ).values("pk")
    recorders = Recorder.objects.filter(serial__iexact=word).values("pk")
    # Annotations and their activities are casework's: it says what a word finds there.
    found = [provider(word) for provider in hooks.keyword_matches]
    if wide:
        parts = [
            Recording.objects.filter(original_name__icontains=word).values("pk"),
            Recording.objects.filter(officer_id__in=people).values("pk"),
            Recording.objects.filter(recorder_id__in=recorders).values("pk"),
        ]
        parts.extend(found)
        first, *rest = (part.order_by() for part in parts)
        return Q(pk__in=first.union(*rest, all=True))
    match = (
        Q(original_name__icontains=word) | Q(recorder_id__in=recorders) | Q(officer_id__in=people)
    )
    for part in found:
        match |= Q(pk__in=part)
    return match


def filter_recordings(
    qs: QuerySet, f: RecordingFilters, *, now=None, wide: bool = False
) -> QuerySet:
    """``qs`` narrowed by ``f``; ``wide`` when ``qs`` is every recording (an
    inspector's scope), which changes how keywords are matched, not what."""
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
        since = _day_start(f.date_from)
        if since is not None:  # None: before every datetime, nothing to narrow
            qs = qs.filter(started_at__gte=since)
    if f.date_to:
        until = _day_end(f.date_to)
        if until is not None:  # None: after every datetime
            qs = qs.filter(started_at__lt=until)
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
    annotations = hooks_annotations()
    if annotations is not None:
        annotated = Exists(annotations.filter(recording_id=OuterRef("pk")))
        if f.annotated is not None:
            qs = qs.filter(annotated if f.annotated else ~annotated)
        if f.overdue:
            cutoff = (now or timezone.now()) - ANNOTATION_DEADLINE
            qs = qs.filter(~annotated, docked_at__lt=cutoff)
    if f.q:
        words = f.q.split()[:5]
        for word in words:
            qs = qs.filter(_match_word(word, wide=wide))
    return qs.order_by("-started_at", "-pk")


def find_recordings(user: Any, f: RecordingFilters) -> QuerySet:
    return filter_recordings(base_queryset(user), f, wide=reads_everything(user))


def reads_everything(user: Any) -> bool:
    return bool(user.is_superuser or is_inspector(user))


def units_in_scope(user: Any) -> QuerySet:
    """The units a person may filter the list by: their own subtree (everything
    for inspectors); another unit would only ever list nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Unit.objects.none()
    if reads_everything(user):
        return Unit.objects.all()
    if not user.unit_id:
        return Unit.objects.none()
    return Unit.objects.filter(path__startswith=user.unit.path)


def officers_in_scope(user: Any) -> QuerySet:
    """The people whose recordings ``user`` may see, by the rule of
    ``Recording.access_q``: themself, the officers of recordings tied to
    activities they took part in, and for unit readers the people of their
    subtree and the holders of its recorders (inspectors: everyone).

    Built from the small tables (people, holdings, annotations), never by
    collecting officers from the recordings table itself.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Person.objects.none()
    if reads_everything(user):
        return Person.objects.all()
    q = Q(pk=user.pk)
    for provider in hooks.shared_with:
        shared = Recording.objects.filter(pk__in=provider(user))
        q |= Q(pk__in=shared.values("officer_id"))
    if user.has_role(*UNIT_READERS) and user.unit_id:
        from jilu.devices.models import Holding

        units = Unit.objects.filter(path__startswith=user.unit.path).values("pk")
        holders = Holding.objects.filter(recorder__unit_id__in=units).values("person_id")
        q |= Q(unit_id__in=units) | Q(pk__in=holders)
    return Person.objects.filter(q)


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
