"""Background work of ingest: giving up unfinished uploads past their expiry (tus expiration)."""

from __future__ import annotations

from django_tasks import task

from jilu.ingest import actions


@task()
def expire_uploads() -> int:
    """Idempotent: expires what is due now, returns how many; safe to run any time."""
    return actions.expire_uploads(actor="system:ingest")
