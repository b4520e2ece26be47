"""``jilu worker``: run background tasks and enqueue the periodic ones."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from jilu.schedule import Scheduler


class Command(BaseCommand):
    help = "Run the background task worker (claims tasks from the database queue)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queue-name", default="*", help="queues to serve (default: all)")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")
        parser.add_argument(
            "--no-schedule", action="store_true", help="do not enqueue periodic tasks"
        )

    def handle(self, *args, **opts) -> None:
        # A city deployment with an unsafe configuration does not start (jilu/deploy/checks.py).
        self.check(tags=["jilu_city"], include_deployment_checks=True)
        argv = ["--queue-name", opts["queue_name"], "--interval", str(opts["interval"])]
        if opts["batch"]:
            argv.append("--batch")
        scheduler = None
        if not opts["no_schedule"] and not opts["batch"]:
            scheduler = Scheduler()
            scheduler.start()
        try:
            call_command("db_worker", *argv)
        finally:
            if scheduler is not None:
                scheduler.stop()
