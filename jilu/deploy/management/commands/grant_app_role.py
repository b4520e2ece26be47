"""``jilu grant-app-role ROLE``: give the application's PostgreSQL role exactly what it needs.

Run it as the owner role (the one that ran ``jilu migrate``), after every
migration; ``--print`` shows the SQL instead (docs/deploy-city.md).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from jilu.deploy.grants import GrantError, statements


class Command(BaseCommand):
    help = (
        "Grant the application's PostgreSQL role the rows it needs and nothing of the schema "
        "(run as the owner role, after every migration)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("role", help="the role the web and worker processes connect as")
        parser.add_argument("--print", action="store_true", help="print the SQL, run nothing")

    def handle(self, *args, **opts) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("grant-app-role is for PostgreSQL (JILU_DATABASE_URL=postgres://…)")
        role = opts["role"]
        with connection.cursor() as cur:
            cur.execute(
                "SELECT current_user, current_schema(), current_database(), "
                "EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)",
                [role],
            )
            owner, schema, database, exists = cur.fetchone()
        if not exists:
            raise CommandError(
                f"there is no role {role}; create it first: CREATE ROLE {role} LOGIN PASSWORD '…'"
            )
        try:
            sql = statements(role, owner=owner, schema=schema, database=database)
        except GrantError as exc:
            raise CommandError(str(exc)) from None
        if opts["print"]:
            self.stdout.write(";\n".join(sql) + ";")
            return
        with transaction.atomic(), connection.cursor() as cur:
            for statement in sql:
                cur.execute(statement)
        self.stdout.write(
            f"{role} may now read and write the rows of {database} (the audit log: read and "
            f"append only); it owns nothing. Run this again after every `jilu migrate`."
        )
