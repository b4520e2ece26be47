"""Periodic background work, enqueued by ``jilu worker``.

django-tasks runs what is enqueued but has no clock of its own. Each worker
runs this small scheduler beside it: every ``tick`` it enqueues each periodic
task that has not been enqueued within its interval. The task queue itself is
the record of what was enqueued when, so several workers on several machines
agree without another table; the tasks are idempotent, so the rare double
enqueue of two workers racing costs one redundant run and nothing else.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.db import close_old_connections
from django.utils import timezone

log = logging.getLogger("jilu.schedule")


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


def enqueue_due(now=None) -> list[str]:
    """Enqueue every periodic task not enqueued within its interval; return their paths."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    enqueued = []
    for item in periodic_tasks():
        task = _load(item.task_path)
        if task is None:
            continue
        recent = DBTaskResult.objects.filter(
            task_path=item.task_path, enqueued_at__gt=now - item.every
        ).exists()
        if recent:
            continue
        if item.fanout > 1:
            for part in range(item.fanout):
                task.enqueue(part=part, parts=item.fanout)
        else:
            task.enqueue()
        enqueued.append(item.task_path)
        log.info("enqueued periodic task %s", item.task_path)
    return enqueued


class Scheduler(threading.Thread):
    def __init__(self, tick_seconds: float = 30.0) -> None:
        super().__init__(name="jilu-scheduler", daemon=True)
        self.tick = tick_seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                close_old_connections()
                enqueue_due()
            except Exception:  # keep the worker alive; the next tick tries again
                log.exception("periodic enqueue failed")
            finally:
                close_old_connections()
            self.stopping.wait(self.tick)

    def stop(self) -> None:
        self.stopping.set()
