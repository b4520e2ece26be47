"""``jilu seed-demo-history``: the demo bureau's last month of work (once).

See :mod:`jilu.web.demo_history`. Run by ``make run`` after ``jilu seed-demo``;
it needs no server, and does nothing when the history is already there.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from jilu.web import demo_history


class Command(BaseCommand):
    help = "Write the demo's last month of dockings, activities and annotations (once)."

    def handle(self, *args, **options) -> None:
        if demo_history.already_seeded():
            self.stdout.write("Demo history already present.")
            return
        began = time.monotonic()
        try:
            history = demo_history.seed(say=self.stdout.write)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Demo history ready: {history.activities} activities, {history.dockings} dockings, "
            f"{len(history.recordings)} recordings, {history.notes} duty-log notes, "
            f"{history.findings} findings, {history.ledgers} ledgers confirmed "
            f"({time.monotonic() - began:.0f} s)."
        )
