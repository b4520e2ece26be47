"""``jilu audit-checkpoint``: write a checkpoint of the audit chain's head now.

For the moments that should be pinned at once rather than at the next periodic
checkpoint: right after upgrading to a version that seals entries (so the
entries written before the audit key existed are covered), before a backup or
a database migration, or when a report is published.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from jilu.audit.chain import AuditError
from jilu.audit.checkpoints import checkpoint, log_path


class Command(BaseCommand):
    help = "Append a checkpoint of the audit chain's head to the checkpoint log."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reason", default="manual", help="kept with the checkpoint (default: manual)"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="write one even if the newest checkpoint already records the head",
        )

    def handle(self, *args, **opts) -> None:
        try:
            result = checkpoint(reason=opts["reason"], force=opts["force"])
        except AuditError as exc:
            raise CommandError(str(exc), returncode=1) from None
        cp = result.checkpoint
        if cp is None:
            self.stdout.write("the audit chain is empty: nothing to checkpoint")
        elif result.created:
            self.stdout.write(f"wrote {cp.label}: head #{cp.seq} ({log_path()})")
        else:
            self.stdout.write(f"{cp.label} already records head #{cp.seq}: nothing written")
