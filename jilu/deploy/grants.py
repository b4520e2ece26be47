"""What the application's PostgreSQL role may do: rows, never the schema.

A city runs ``jilu migrate`` as the owner role, which owns every table, and the
web and worker processes as another role that owns nothing. That role gets
exactly: USAGE on the schema, SELECT/INSERT/UPDATE/DELETE on the tables and
USAGE/SELECT on the sequences, except that the audit table is insert-and-read
only (its triggers refuse UPDATE, DELETE and TRUNCATE too, and only its owner
could disable them). Default privileges give the same on tables that later
migrations create; running the grants again after each migration is harmless.
"""

from __future__ import annotations

import re

from jilu.audit.triggers import TABLE as AUDIT_TABLE

ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class GrantError(Exception):
    pass


def _q(name: str) -> str:
    if not ROLE_NAME.match(name):
        raise GrantError(
            f"{name!r} is not a plain PostgreSQL name (letters, digits and _, "
            "not starting with a digit)"
        )
    return f'"{name}"'


def statements(role: str, *, owner: str, schema: str = "public", database: str = "") -> list[str]:
    """The SQL, run by ``owner``, that gives ``role`` what the application needs."""
    r, o, s = _q(role), _q(owner), _q(schema)
    if role == owner:
        raise GrantError(
            f"{role} is the owner role that ran the migrations; the application needs a "
            "role of its own (CREATE ROLE jilu_app LOGIN PASSWORD '…')"
        )
    sql = []
    if database:
        sql.append(f"GRANT CONNECT ON DATABASE {_q(database)} TO {r}")
    sql += [
        # Start from nothing, so the result is exactly what follows.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"REVOKE UPDATE, DELETE ON {s}.{_q(AUDIT_TABLE)} FROM {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {r}",
    ]
    return sql
