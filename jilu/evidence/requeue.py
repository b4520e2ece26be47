"""Asking for a recording to be processed again: the action that enqueues.

Kept apart from ``processing`` (which the task runs) so that ``tasks`` imports
the actions it runs and nothing the task runs imports ``tasks``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from jilu.audit.chain import record
from jilu.evidence.media_models import MediaInfo
from jilu.evidence.models import Recording
from jilu.evidence.tasks import enqueue_processing


def requeue_processing(*, actor: Any, recording: Recording) -> MediaInfo:
    """An administrator asks for a recording to be processed again (after a failure or
    when it is stuck): attempts start over, the run is enqueued once this commits."""
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording.pk)
        media, _ = MediaInfo.objects.get_or_create(recording=recording)
        previous = {"attempts": media.attempts, "last_error": media.last_error[:500]}
        media.attempts = 0
        media.last_error = ""
        media.save(update_fields=["attempts", "last_error"])
        record("evidence.media.requeue", actor=actor, obj=recording, details=previous)
        enqueue_processing(recording.pk, force=True)
    return media
