"""Rules on the evidence and who reached for it: originals altered or missing
(C6.5.3, C6.5.4; fixity alarms) and access without the procedure (C6.5.7; the
audit log's refusals and downloads)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from jilu.audit.models import AuditEntry
from jilu.evidence.media_models import Derivative, FixityAlarm
from jilu.evidence.models import Recording
from jilu.org.models import Person
from jilu.oversight import engine, periods
from jilu.oversight.actions import SYSTEM, Fact, Subject, note_finding

REFUSED = "evidence.recording.refused"
DOWNLOAD = "evidence.recording.download"


def run_alarms(values: dict, now: datetime) -> int:
    def handle(rows: list[FixityAlarm]) -> None:
        for alarm in rows:
            missing = alarm.fixity_check.size_found is None and "缺失" in alarm.problem
            sha = alarm.stored_object_id
            # The recording whose original it is, or whose derived copy it is.
            recordings = Recording.objects.filter(
                Q(sha256=sha)
                | Q(pk__in=Derivative.objects.filter(stored_object_id=sha).values("recording_id"))
            ).select_related("recorder__unit")
            for rec in recordings:
                note_finding(
                    actor=SYSTEM,
                    rule="object_missing" if missing else "fixity_failure",
                    subject=Subject("recording", rec.pk, str(rec)),
                    period=periods.month(alarm.raised_at),
                    unit=rec.recorder.unit,
                    person=None,
                    facts=[
                        Fact(
                            "alarm",
                            alarm.pk,
                            alarm.raised_at,
                            {"problem": alarm.problem, "original": rec.sha256 == sha},
                        )
                    ],
                )

    return engine.by_rows(
        "fixity_alarms", lambda: FixityAlarm.objects.select_related("fixity_check"), handle
    )


def _without_request(entry: AuditEntry) -> bool:
    details = entry.details if isinstance(entry.details, dict) else {}
    if entry.action == DOWNLOAD:
        return not details.get("request")
    return details.get("wanted") == "download" and details.get("reason") == "no_approved_request"


def run_audit(values: dict, now: datetime) -> int:
    """C6.5.7: a download (or an attempt at one) without an approved request is
    a finding at once; other refusals when one person reaches the day's
    threshold. Counting the day reads only that person's refusals of that day."""
    threshold = values["refused_per_day"]

    def handle(rows: list[AuditEntry]) -> None:
        people = Person.objects.select_related("unit").in_bulk(
            {e.actor_id for e in rows if e.actor_id is not None}
        )
        days: dict[tuple[int, str], periods.Period] = {}
        for entry in rows:
            person = people.get(entry.actor_id)
            if person is None or person.unit is None:
                continue  # stations and the system act without a person
            if _without_request(entry):
                note_finding(
                    actor=SYSTEM,
                    rule="download_without_request",
                    subject=Subject("officer", person.pk, str(person)),
                    period=periods.day(entry.at),
                    unit=person.unit,
                    person=person,
                    facts=[_fact(entry)],
                )
            elif entry.action == REFUSED:
                period = periods.day(entry.at)
                days[(person.pk, period.label)] = period
        for (pk, _label), period in days.items():
            refused = [
                e
                for e in AuditEntry.objects.filter(
                    actor_id=pk, action=REFUSED, at__gte=period.start, at__lt=period.end
                ).order_by("seq")
                if not _without_request(e)
            ]
            if len(refused) < threshold:
                continue
            person = people[pk]
            note_finding(
                actor=SYSTEM,
                rule="refused_access",
                subject=Subject("officer", person.pk, str(person)),
                period=period,
                unit=person.unit,
                person=person,
                facts=[_fact(e) for e in refused],
            )

    return engine.by_rows(
        "audit",
        lambda: AuditEntry.objects.filter(action__in=[REFUSED, DOWNLOAD]).only(
            "seq", "at", "actor_id", "action", "object_type", "object_id", "details"
        ),
        handle,
        key="seq",
    )


def _fact(entry: AuditEntry) -> Fact:
    details = entry.details if isinstance(entry.details, dict) else {}
    return Fact(
        "audit",
        entry.seq,
        entry.at,
        {
            "action": entry.action,
            "object": f"{entry.object_type}:{entry.object_id}",
            "wanted": details.get("wanted", "download" if entry.action == DOWNLOAD else ""),
        },
    )
