"""``jilu audit-restore --reason …``: after restoring the database from a backup,
acknowledge the audit entries it lacks (see :mod:`jilu.audit.restore`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from jilu.audit.actions import cli_actor
from jilu.audit.chain import AuditError
from jilu.audit.checkpoints import log_path
from jilu.audit.restore import acknowledge_restore


class Command(BaseCommand):
    help = (
        "After a restore from a backup: check the restored audit chain against the "
        "checkpoints written before the backup and record, in the checkpoint log and the "
        "chain, the range of entries the restored database lacks."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reason",
            required=True,
            help="which backup was restored and why, e.g. 'disk failure; dump of 2026-12-04'",
        )

    def handle(self, *args, **opts) -> None:
        try:
            result = acknowledge_restore(opts["reason"], actor=cli_actor())
        except AuditError as exc:
            raise CommandError(str(exc), returncode=1) from None
        cp = result.restore
        assert cp.lost is not None
        self.stdout.write(
            f"wrote {cp.label} ({log_path()}): the restored chain ends at #{cp.seq}; entries "
            f"#{cp.lost[0]}–#{cp.lost[1]} are recorded as lost in the restore"
        )
        if result.after is not None:
            self.stdout.write(
                f"recorded the restore as entry #{result.after.seq}, anchored by "
                f"{result.after.label}"
            )
