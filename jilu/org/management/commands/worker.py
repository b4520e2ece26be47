"""``jilu worker``: run background tasks (the django-tasks database worker)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background task worker (claims tasks from the database queue)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queue-name", default="*", help="queues to serve (default: all)")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")

    def handle(self, *args, **opts) -> None:
        argv = ["--queue-name", opts["queue_name"], "--interval", str(opts["interval"])]
        if opts["batch"]:
            argv.append("--batch")
        call_command("db_worker", *argv)
