"""Every state change of media processing: one function each, atomic, audited.

A processing run (``jilu.evidence.tasks.process_recording``) first stores its
derived files (content-addressed, so a re-run finds them already there), then
writes everything it learnt in one transaction here: the probe, the
derivatives, the recording's end and its 24-hour flag. A run that fails half
way writes nothing but its failure; the recording is never half processed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from jilu.audit.chain import record
from jilu.evidence.deadlines import COLLECTION_DEADLINE
from jilu.evidence.hooks import keep_until_changed
from jilu.evidence.media import ProbeResult
from jilu.evidence.media_models import Derivative, MediaInfo
from jilu.evidence.models import Recording, StoredObject

SYSTEM_ACTOR = "system:media"


@dataclass(frozen=True)
class NewDerivative:
    kind: str
    stored_object: StoredObject
    content_type: str
    width: int | None = None
    height: int | None = None


def end_of(recording: Recording, result: ProbeResult):
    """The recording's real end: start + duration (a photo ends when it starts)."""
    if result.is_image:
        return recording.started_at
    if result.duration_seconds is None:
        return None
    return recording.started_at + timedelta(seconds=result.duration_seconds)


def record_processing(
    *,
    actor: Any = SYSTEM_ACTOR,
    recording_id: int,
    result: ProbeResult,
    derivatives: list[NewDerivative],
) -> MediaInfo:
    """Write one run's results at once: probe, derivatives, end time, C5.1 flag.

    Idempotent: a run that learns nothing new changes nothing and writes no
    audit entry; existing derivatives are kept (one of each kind).
    """
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording_id)
        media, _ = MediaInfo.objects.get_or_create(recording=recording)
        changes: dict[str, Any] = {}
        for name, value in result.media_fields().items():
            if getattr(media, name) != value:
                changes[name] = value
                setattr(media, name, value)
        was_pending = media.probed_at is None or media.last_error != ""
        media.probed_at = timezone.now()
        media.last_error = ""
        media.save()

        added = []
        have = set(recording.derivatives.values_list("kind", flat=True))
        for d in derivatives:
            if d.kind in have:
                continue
            Derivative.objects.create(
                recording=recording,
                kind=d.kind,
                stored_object=d.stored_object,
                content_type=d.content_type,
                width=d.width,
                height=d.height,
            )
            added.append({"kind": d.kind, "sha256": d.stored_object.sha256})

        # C5.1: now that the real end is known, the 24-hour flag is measured from it.
        ended_at = end_of(recording, result)
        recording_changes: dict[str, Any] = {}
        if ended_at is not None and ended_at != recording.ended_at:
            within = recording.docked_at - ended_at <= COLLECTION_DEADLINE
            recording_changes = {
                "ended_at": ended_at.isoformat(),
                "collected_within_24h": within,
            }
            Recording.objects.filter(pk=recording.pk).update(
                ended_at=ended_at, collected_within_24h=within
            )
            keep_until_changed([recording.pk])  # C5.6: a year from the real end

        if changes or added or recording_changes or was_pending:
            record(
                "evidence.media.processed",
                actor=actor,
                obj=recording,
                details={
                    "integrity": media.integrity,
                    "integrity_reason": media.integrity_reason,
                    "changed": sorted(changes),
                    "derivatives": added,
                    "recording": recording_changes,
                    "attempts": media.attempts,
                },
            )
    return media


def record_failure(
    *, actor: Any = SYSTEM_ACTOR, recording_id: int, error: str, retry_at=None, gave_up: bool
) -> MediaInfo:
    """One failed processing attempt: counted, its error kept, integrity left as it was
    (待检测 for a recording never processed) so the task page shows it."""
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording_id)
        media, _ = MediaInfo.objects.get_or_create(recording=recording)
        media.attempts += 1
        media.last_error = error[:2000]
        media.save(update_fields=["attempts", "last_error"])
        record(
            "evidence.media.failed" if gave_up else "evidence.media.retry",
            actor=actor,
            obj=recording,
            details={
                "attempts": media.attempts,
                "error": error[:500],
                "retry_at": retry_at.isoformat() if retry_at else None,
                "gave_up": gave_up,
            },
        )
    return media
