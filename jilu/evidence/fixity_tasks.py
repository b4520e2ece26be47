"""The scheduled fixity task (C6.5.3, C6.5.4); ``jilu worker`` enqueues it periodically.

It takes no object IDs: each run checks the objects due for their periodic
check, oldest first, so re-running it (or running two at once) is harmless.
"""

from __future__ import annotations

import math

from django_tasks import task

from jilu.evidence.fixity import due_batch_size, run_fixity_batch


@task(queue_name="default")
def fixity_batch(limit: int | None = None, part: int = 0, parts: int = 1) -> dict:
    """Re-hash the next batch of stored objects due for their check; with
    ``parts`` > 1, only this batch's share of them (``part`` of ``parts``, by
    SHA-256), so batches on several workers never read the same object.
    Returns counts for the task result."""
    if limit is None:
        limit = math.ceil(due_batch_size() / max(1, parts))
    result = run_fixity_batch(limit, due_only=True, part=part, parts=parts)
    return {
        "checked": result.checked,
        "ok": result.ok,
        "alarms": result.alarms,
        "seconds": round(result.seconds, 3),
        "part": f"{part + 1}/{parts}",
    }
