"""Background tasks on RQ (Redis) at city scale: ``JILU_TASKS_BACKEND=rq``.

The task code is the same as on the database queue: django-tasks-rq puts each
``.enqueue()`` on an RQ queue and its workers run it. This module only sets
the engine up for work that must not be lost:

- every job carries an RQ ``Retry``: a task whose run was lost (its worker
  died, or it overran ``JILU_RQ_JOB_TIMEOUT_SECONDS``) is run again,
  ``JILU_RQ_RETRIES`` times, ``JILU_RQ_RETRY_DELAY_SECONDS`` apart. Delayed
  re-runs, like tasks enqueued with ``run_after``, are moved onto the queue by
  RQ's scheduler, which every worker runs and one at a time per queue holds
  (RQ's lock). A task that raised has failed, as on the database queue: the
  task's own code decides whether to try again (``process_recording`` does);
- a worker heartbeats each running job into the queue's StartedJobRegistry; a
  job whose heartbeat is older than ``JILU_RQ_ABANDONED_AFTER_SECONDS`` (its
  worker was killed, its machine lost) is found by the registry cleanup that
  one worker at a time runs (RQ's maintenance lock) and re-run like a failed
  one. The cleanup runs at least every ``JILU_RQ_ABANDONED_AFTER_SECONDS``, so
  a dead worker's task runs again within about twice that.

RQ's own constants would take up to ten minutes to notice a dead worker (a
60-second grace on every heartbeat, registry cleanup every 600 seconds, idle
workers blocking for 405); here all three follow the one setting.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connections
from django_rq.queues import DjangoRQ
from django_rq.utils import reset_db_connections
from django_rq.workers import get_worker
from rq import Retry
from rq import Worker as ForkingWorker
from rq.timeouts import JobTimeoutException

log = logging.getLogger("jilu.schedule.rq")


class Queue(DjangoRQ):
    """A queue whose jobs carry the retries for lost runs and keep their results a week."""

    def create_job(self, *args, retry: Retry | None = None, **kwargs):
        config = settings.TASKS_RQ
        if retry is None and config.retries:
            retry = Retry(max=config.retries, interval=config.retry_delay)
        kwargs.setdefault("result_ttl", 7 * 24 * 3600)
        return super().create_job(*args, retry=retry, **kwargs)


class Worker(ForkingWorker):
    """RQ's forking worker (each job in its own child process) with the
    heartbeat and cleanup timing of ``JILU_RQ_ABANDONED_AFTER_SECONDS``."""

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        return settings.TASKS_RQ.abandoned_after

    def fork_work_horse(self, job, queue) -> None:
        # The child must open its own database connections, not share ours.
        connections.close_all()
        super().fork_work_horse(job, queue)

    def handle_exception(self, job, *exc_info) -> None:
        # Called in the child before RQ decides on a retry: an exception from the
        # task itself is final; only an overrun (a hung read) is run again.
        exc_type = exc_info[0]
        if exc_type is not None and not issubclass(exc_type, JobTimeoutException):
            job.retries_left = 0
        super().handle_exception(job, *exc_info)

    def perform_job(self, job, queue, execution) -> bool:
        try:
            return super().perform_job(job, queue, execution)
        finally:
            connections.close_all()  # the child ends with os._exit: close cleanly first


def worker_options() -> dict:
    after = settings.TASKS_RQ.abandoned_after
    return {
        # Heartbeats three times within the allowance.
        "job_monitoring_interval": max(1, after // 3),
        # Registry cleanup (abandoned jobs) at least this often...
        "maintenance_interval": after,
        # ...also by an idle worker, whose wait for a job is worker_ttl - 15 seconds.
        "worker_ttl": after + 15,
    }


def work(queue_names: list[str], *, burst: bool = False, logging_level: str = "INFO") -> bool:
    """Run one RQ worker (and RQ's scheduler, under its lock) on ``queue_names``."""
    names = queue_names or sorted(settings.RQ_QUEUES)
    worker = get_worker(*names, worker_class=Worker, **worker_options())
    reset_db_connections()
    log.info("RQ worker %s on %s", worker.name, ", ".join(names))
    return worker.work(burst=burst, with_scheduler=True, logging_level=logging_level)
