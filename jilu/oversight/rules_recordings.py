"""Rules on recordings: collected late (C5.1), annotated late or not at all
(C5.2), user number in the file name not the holder's (C1.3), recorded outside
duty time with no activity (C2.2, C6.5.8: candidates only)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Min, Q

from jilu.casework.models import Activity
from jilu.evidence.deadlines import ANNOTATION_DEADLINE, COLLECTION_DEADLINE
from jilu.evidence.models import Recording
from jilu.oversight import engine, periods
from jilu.oversight.actions import SYSTEM, Fact, Subject, note_finding


def _subject(rec: Recording) -> tuple[Subject, object]:
    """The officer who held the recorder (C1.3), or the recorder when nobody did."""
    if rec.officer is not None:
        return Subject(
            "officer", rec.officer.pk, str(rec.officer)
        ), rec.officer.unit or rec.recorder.unit
    return Subject("recorder", rec.recorder.pk, rec.recorder.serial), rec.recorder.unit


def _recordings():
    return Recording.objects.select_related("officer__unit", "recorder__unit")


def run_new(values: dict, now: datetime) -> int:
    """C5.1 and C1.3 are known when a recording is taken in: read each new one once.
    The facts of one subject and day in a batch go to its finding together."""
    grace = timedelta(minutes=values["collection_grace_minutes"])

    def handle(rows: list[Recording]) -> None:
        found = _Facts()
        for rec in rows:
            if not rec.collected_within_24h:
                _late_collection(found, rec, grace)
            if rec.user_no_mismatch:
                _user_no_mismatch(found, rec)
        found.note()

    return engine.by_rows(
        "recordings",
        lambda: _recordings().filter(Q(collected_within_24h=False) | Q(user_no_mismatch=True)),
        handle,
    )


class _Facts:
    """Facts gathered per finding (rule, subject, period), noted once each: a
    finding with many facts is opened and its recordings' keep-until
    recomputed once, not once per fact."""

    def __init__(self) -> None:
        self.groups: dict[tuple, dict] = {}

    def add(self, rule: str, subject: Subject, period, unit, person, fact: Fact) -> None:
        key = (rule, subject.kind, subject.id, period.label)
        group = self.groups.setdefault(
            key,
            {"rule": rule, "subject": subject, "period": period, "unit": unit, "person": person,
             "facts": []},
        )  # fmt: skip
        group["facts"].append(fact)

    def note(self) -> None:
        for group in self.groups.values():
            note_finding(actor=SYSTEM, **group)
        self.groups.clear()


def _late_collection(found: _Facts, rec: Recording, grace: timedelta) -> None:
    ref = rec.ended_at or rec.started_at
    late_by = rec.docked_at - ref
    if grace and late_by <= COLLECTION_DEADLINE + grace:
        return
    subject, unit = _subject(rec)
    found.add(
        "late_collection",
        subject,
        periods.day(rec.docked_at),
        unit,
        rec.officer,
        Fact("recording", rec.pk, rec.docked_at, {"hours": round(late_by / timedelta(hours=1), 1)}),
    )


def _user_no_mismatch(found: _Facts, rec: Recording) -> None:
    found.add(
        "user_no_mismatch",
        Subject("recorder", rec.recorder.pk, rec.recorder.serial),
        periods.day(rec.started_at),
        rec.recorder.unit,
        rec.officer,
        Fact(
            "recording",
            rec.pk,
            rec.started_at,
            {
                "user_no_in_name": rec.user_no_in_name,
                "holder_user_no": rec.officer.user_no if rec.officer else None,
            },
        ),
    )


def _first_docked() -> datetime | None:
    return Recording.objects.aggregate(first=Min("docked_at"))["first"]


def run_annotation(values: dict, now: datetime) -> int:
    """C5.2: once 48 hours (and the grace) have passed since docking, judge each
    recording docked in the window: annotated in time, late, or not at all."""
    limit = ANNOTATION_DEADLINE + timedelta(minutes=values["annotation_grace_minutes"])

    def handle(start: datetime, end: datetime) -> None:
        rows = (
            _recordings()
            .select_related("annotation")
            .filter(docked_at__gte=start, docked_at__lt=end)
        )
        found = _Facts()
        for rec in rows.order_by("docked_at", "pk"):
            annotation = getattr(rec, "annotation", None)
            if annotation is not None:
                first = annotation.first_annotated_at or annotation.annotated_at
                if first <= rec.docked_at + limit:
                    continue
                detail = {
                    "state": "late",
                    "hours": round((first - rec.docked_at) / timedelta(hours=1), 1),
                }
            else:
                detail = {"state": "missing"}
            subject, unit = _subject(rec)
            found.add(
                "late_annotation",
                subject,
                periods.day(rec.docked_at),
                unit,
                rec.officer,
                Fact("recording", rec.pk, rec.docked_at, detail),
            )
        found.note()

    return engine.by_window("annotation", now - limit, handle, first=_first_docked)


def off_duty(at: datetime, start: time, end: time) -> bool:
    """Whether the local time of ``at`` is outside duty hours [start, end)."""
    t = periods.local(at).time()
    if start <= end:
        return not (start <= t < end)
    return end <= t < start  # duty across midnight, e.g. 20:00–08:00


def run_off_duty(values: dict, now: datetime) -> int:
    """C2.2, C6.5.8: recordings started outside duty hours that are neither
    annotated to an activity nor inside one of the officer's activities, judged
    once the officer has had the grace period to annotate them. Candidates for
    non-official use, to be looked into, never a verdict."""
    grace = timedelta(hours=values["off_duty_grace_hours"])
    duty_start, duty_end = values["duty_start"], values["duty_end"]

    def handle(start: datetime, end: datetime) -> None:
        rows = (
            _recordings()
            .filter(
                docked_at__gte=start,
                docked_at__lt=end,
                officer__isnull=False,
                annotation__isnull=True,
            )
            .order_by("docked_at", "pk")
        )
        for rec in rows:
            if not off_duty(rec.started_at, duty_start, duty_end):
                continue
            rec_end = rec.ended_at or rec.started_at
            during = Activity.objects.filter(officers=rec.officer, span_start__lte=rec_end).filter(
                Q(span_end__isnull=True) | Q(span_end__gte=rec.started_at)
            )
            if during.exists():
                continue
            note_finding(
                actor=SYSTEM,
                rule="off_duty_recording",
                subject=Subject("officer", rec.officer.pk, str(rec.officer)),
                period=periods.day(rec.started_at),
                unit=rec.officer.unit or rec.recorder.unit,
                person=rec.officer,
                facts=[
                    Fact(
                        "recording",
                        rec.pk,
                        rec.started_at,
                        {"local": periods.local(rec.started_at).strftime("%H:%M")},
                    )
                ],
            )

    return engine.by_window("off_duty", now - grace, handle, first=_first_docked)
