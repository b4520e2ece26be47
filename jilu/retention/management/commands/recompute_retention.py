"""``jilu recompute-retention``: write every recording's keep-until from the
rules (after an upgrade, or to re-check); batch by batch, safe to repeat."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from jilu.evidence.models import Recording
from jilu.retention import actions


class Command(BaseCommand):
    help = "Recompute the keep-until (C5.6) of every recording."

    def handle(self, *args, **opts) -> None:
        ids = list(Recording.objects.order_by("pk").values_list("pk", flat=True))
        changed = 0
        for start in range(0, len(ids), actions.BATCH):
            with transaction.atomic():
                changed += actions.recompute(ids[start : start + actions.BATCH])
        self.stdout.write(f"{len(ids)} recording(s) checked, {changed} keep-until changed.")
