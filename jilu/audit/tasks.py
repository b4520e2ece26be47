"""The periodic checkpoint of the audit chain's head (C6.5.3); ``jilu worker``
enqueues it every ``JILU_AUDIT_CHECKPOINT_MINUTES`` (``jilu/schedule/``).

Idempotent: when the head has not moved since the newest checkpoint, nothing
is written, so a repeated or doubled run costs one read of the log.
"""

from __future__ import annotations

from django_tasks import task

from jilu.audit.checkpoints import checkpoint


@task(queue_name="default")
def audit_checkpoint() -> dict:
    result = checkpoint(reason="periodic")
    cp = result.checkpoint
    return {
        "created": result.created,
        "checkpoint": cp.n if cp else None,
        "head": cp.seq if cp else 0,
    }
