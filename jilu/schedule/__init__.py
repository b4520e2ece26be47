"""Periodic background work, enqueued by ``jilu worker``.

The task engines (django-tasks-db, RQ) run what is enqueued but keep no clock
of their own. Each worker (or ``jilu worker --schedule-only``) runs this small
scheduler beside it: every ``tick`` it claims the current period of each
periodic task and enqueues the task if the claim was its own.

Periods are fixed slices of time (``every`` long, counted from the Unix
epoch), so every scheduler on every machine names the same period the same
way. A claim is a row with a unique (task, period start); inserting it is the
database's own atomic test-and-set, so however many schedulers tick at once,
exactly one of them enqueues each period. The claim and the enqueue share one
transaction: on the database backend the task row commits with the claim or
not at all; on RQ a failed enqueue rolls the claim back for the next tick to
retry, and a crash between the enqueue and the commit can at worst enqueue the
period twice (the periodic tasks are idempotent), never lose it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import import_module

from django.db import close_old_connections, connections, transaction
from django.utils import timezone

log = logging.getLogger("jilu.schedule")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Periodic:
    task_path: str  # module.attribute of a django-tasks task
    every: timedelta
    # Enqueued this many times each interval, the n-th with part=n, parts=fanout
    # (work split so that several workers share it); 1: once, without arguments.
    fanout: int = 1


def periodic_tasks() -> list[Periodic]:
    from django.conf import settings

    return [
        # C6.5.3, C6.5.4: the rolling fixity schedule re-hashes a batch at a time.
        Periodic(
            "jilu.evidence.fixity_tasks.fixity_batch",
            timedelta(minutes=settings.FIXITY_INTERVAL_MINUTES),
            fanout=settings.FIXITY_PARALLEL,
        ),
        # C6.5.3: the audit chain's head, checkpointed outside the database.
        Periodic(
            "jilu.audit.tasks.audit_checkpoint",
            timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES),
        ),
        # C5.6: each unit's disposal list every week; approved ones carried out hourly.
        Periodic("jilu.retention.tasks.propose_disposals", timedelta(days=7)),
        Periodic("jilu.retention.tasks.execute_approved", timedelta(hours=1)),
        # C6.4, C6.5: the rules read what is new since their last run.
        Periodic("jilu.oversight.tasks.run_rules", timedelta(minutes=15)),
        # tus expiration: unfinished uploads past their expiry are given up.
        Periodic("jilu.ingest.tasks.expire_uploads", timedelta(hours=1)),
    ]


def _load(path: str):
    module, _, name = path.rpartition(".")
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None


def period_start(now: datetime, every: timedelta) -> datetime:
    """The start of the period of length ``every`` that ``now`` falls in."""
    return EPOCH + ((now - EPOCH) // every) * every


def _claimant() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Claim the current period of each periodic task; enqueue the ones claimed
    here (not already claimed by another scheduler). Return their paths."""
    from jilu.schedule.models import PeriodClaim

    now = now or timezone.now()
    enqueued = []
    for item in periodic_tasks():
        task = _load(item.task_path)
        if task is None:
            continue
        start = period_start(now, item.every)
        with transaction.atomic():
            _claim, created = PeriodClaim.objects.get_or_create(
                task_path=item.task_path,
                period_start=start,
                defaults={"claimed_at": now, "claimed_by": _claimant()},
            )
            if not created:
                continue
            # A scheduler that read the clock before a later period was claimed
            # (it lagged, or its clock is behind) enqueues nothing. Asked after
            # the insert, which waits for any transaction claiming beside it.
            if PeriodClaim.objects.filter(
                task_path=item.task_path, period_start__gt=start
            ).exists():
                transaction.set_rollback(True)
                continue
            if item.fanout > 1:
                for part in range(item.fanout):
                    task.enqueue(part=part, parts=item.fanout)
            else:
                task.enqueue()
            PeriodClaim.objects.filter(
                task_path=item.task_path, period_start__lt=start - item.every
            ).delete()
        enqueued.append(item.task_path)
        log.info("enqueued periodic task %s for the period from %s", item.task_path, start)
    return enqueued


class Scheduler(threading.Thread):
    def __init__(
        self, tick_seconds: float = 30.0, clock: Callable[[], datetime] = timezone.now
    ) -> None:
        super().__init__(name="jilu-scheduler", daemon=True)
        self.tick = tick_seconds
        self.clock = clock
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                close_old_connections()
                enqueue_due(self.clock())
            except Exception:  # keep the worker alive; the next tick tries again
                log.exception("periodic enqueue failed")
            finally:
                close_old_connections()
            self.stopping.wait(self.tick)
        connections.close_all()  # this thread's own connections

    def stop(self) -> None:
        self.stopping.set()
