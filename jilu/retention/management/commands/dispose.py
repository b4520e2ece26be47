"""``jilu dispose``: propose disposal lists now (what the weekly task does), or
with ``--dry-run`` only say what would go (C5.6). Nothing is ever deleted by
this command: deletion needs an archivist's review and a leader's approval."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from jilu.org.models import Unit
from jilu.retention import actions, rules


class Command(BaseCommand):
    help = "Propose disposal lists of recordings past their keep-until (or --dry-run)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="only list what would go")
        parser.add_argument("--unit", metavar="CODE", help="one unit (its 12-digit code)")

    def handle(self, *args, **opts) -> None:
        if opts["unit"]:
            unit = Unit.objects.filter(code=opts["unit"]).first()
            if unit is None:
                raise CommandError(f"--unit {opts['unit']!r}: no unit has this code")
            units = [unit]
        else:
            units = actions.units_with_recordings()
        total = 0
        for unit in units:
            if opts["dry_run"]:
                due = actions.due_for_disposal(unit)
                for pk, decision in due:
                    rule = rules.RULES[decision.deciding.rule]
                    self.stdout.write(
                        f"{unit.code} recording #{pk}: kept until {decision.until} "
                        f"({rule.clause} {rule.code}), would be proposed"
                    )
                total += len(due)
            else:
                disposal = actions.propose_disposal(actor=actions.SYSTEM, unit=unit)
                if disposal is not None:
                    n = disposal.items.count()
                    total += n
                    self.stdout.write(f"{disposal.number} {unit.name}: {n} recording(s) proposed")
        verb = "would be proposed" if opts["dry_run"] else "proposed"
        self.stdout.write(f"{total} recording(s) {verb}; nothing was deleted.")
