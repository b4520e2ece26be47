"""``jilu import-roster FILE.xlsx``: import units and people from a roster workbook.

Every row is checked first; on any bad row the errors are printed, one line
per row, nothing is imported and the command exits non-zero. ``--as USERNAME``
imports within that administrator's scope (and audits them as the actor);
without it the server operator imports with full scope, audited as
``cli:<os user>``. ``--dry-run`` prints what would change and writes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jilu.audit.actions import cli_actor
from jilu.org import roster
from jilu.org.models import Person
from jilu.org.roles import Role
from jilu.workbooks import BACKGROUND_SECONDS

# Read under the same limits as an upload, with the background budget of time.
LIMITS = replace(roster.LIMITS, seconds=BACKGROUND_SECONDS)


class Command(BaseCommand):
    help = "Import units and people from a roster XLSX (sheets 单位 and 人员); all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="roster workbook (.xlsx)")
        parser.add_argument(
            "--as",
            dest="username",
            help="import as this administrator (their unit scope applies)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and show the changes, write nothing"
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        try:
            with path.open("rb") as fh:
                data = fh.read(LIMITS.max_bytes + 1)
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}：{exc.strerror or exc}") from None
        user = None
        actor: object = cli_actor()
        if options["username"]:
            user = Person.objects.filter(username=options["username"], is_active=True).first()
            if user is None:
                raise CommandError(f"没有在岗的人员 {options['username']}")
            if not user.has_role(Role.ADMIN):
                raise CommandError(f"{user.name}（{user.username}）不是系统管理员，不能导入名册")
            actor = user
        try:
            if options["dry_run"]:
                plan = roster.plan_import(data, user=user, limits=LIMITS)
                if not plan.ok:
                    raise roster.RosterInvalid(plan)
            else:
                plan = roster.apply_import(data, user=user, actor=actor, limits=LIMITS)
        except roster.RosterFileError as exc:
            raise CommandError(f"{path}：{exc}") from None
        except roster.RosterInvalid as exc:
            for error in exc.plan.errors:
                self.stderr.write(str(error))
            raise CommandError(str(exc)) from None
        for change in plan.changed_units + plan.changed_people:
            detail = "，".join(f"{col} {old} → {new}" for col, old, new in change.diffs)
            line = (
                f"{change.sheet}表第{change.row}行：{change.op_label} {change.key} {change.label}"
            )
            self.stdout.write(f"{line}（{detail}）" if detail else line)
        prefix = "试运行，未写入：" if options["dry_run"] else "已导入："
        self.stdout.write(prefix + plan.summary())
