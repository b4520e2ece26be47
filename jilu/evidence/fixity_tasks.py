"""The scheduled fixity task (C6.5.3, C6.5.4); ``jilu worker`` enqueues it periodically.

It takes no object IDs: each run checks the objects due for their periodic
check, oldest first, so re-running it (or running two at once) is harmless.
"""

from __future__ import annotations

from django_tasks import task

from jilu.evidence.fixity import due_batch_size, run_fixity_batch


@task(queue_name="default")
def fixity_batch(limit: int | None = None) -> dict:
    """Re-hash the next batch of stored objects; returns counts for the task result."""
    result = run_fixity_batch(limit if limit is not None else due_batch_size(), due_only=True)
    return {
        "checked": result.checked,
        "ok": result.ok,
        "alarms": result.alarms,
        "seconds": round(result.seconds, 3),
    }
