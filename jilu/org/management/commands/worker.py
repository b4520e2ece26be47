"""``jilu worker``: run background tasks and enqueue the periodic ones.

On the database queue (the embedded default) it runs django-tasks-db's worker;
with ``JILU_TASKS_BACKEND=rq`` an RQ worker, with RQ's scheduler for delayed
re-runs. Either way the periodic scheduler (:mod:`jilu.schedule`) ticks beside
it unless ``--no-schedule``; ``--schedule-only`` runs the scheduler alone.
"""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from jilu.schedule import Scheduler


class Command(BaseCommand):
    help = "Run the background task worker and the periodic scheduler."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queue-name", default="*", help="queues to serve (default: all)")
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds between polls of the database queue (RQ waits on Redis instead)",
        )
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--no-schedule", action="store_true", help="do not enqueue periodic tasks"
        )
        mode.add_argument(
            "--schedule-only",
            action="store_true",
            help="only enqueue periodic tasks; run no task",
        )

    def handle(self, *args, **opts) -> None:
        # A city deployment with an unsafe configuration does not start (jilu/deploy/checks.py).
        self.check(tags=["jilu_city"], include_deployment_checks=True)
        if opts["schedule_only"]:
            if opts["batch"]:
                raise CommandError("--schedule-only runs until stopped; it has no --batch")
            self._schedule_only()
            return
        scheduler = None
        if not opts["no_schedule"] and not opts["batch"]:
            scheduler = Scheduler()
            scheduler.start()
        try:
            if settings.TASKS_BACKEND == "rq":
                from jilu.schedule.rq_engine import work

                names = [] if opts["queue_name"] == "*" else opts["queue_name"].split(",")
                level = {0: "WARNING", 1: "INFO"}.get(opts["verbosity"], "DEBUG")
                work(names, burst=opts["batch"], logging_level=level)
            else:
                argv = ["--queue-name", opts["queue_name"], "--interval", str(opts["interval"])]
                if opts["batch"]:
                    argv.append("--batch")
                call_command("db_worker", *argv)
        finally:
            if scheduler is not None:
                scheduler.stop()

    def _schedule_only(self) -> None:
        stopped = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopped.set())
        scheduler = Scheduler()
        scheduler.start()
        stopped.wait()
        scheduler.stop()
        scheduler.join()
