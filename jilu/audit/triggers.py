"""The SQL that makes the audit table append-only (installed by migration 0003)."""

from __future__ import annotations

TABLE = "audit_auditentry"

PG_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only: % refused on {TABLE}', TG_OP;
END;
$$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON {TABLE}
  FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""",
    f"""CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON {TABLE}
  FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""",
    f"""CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON {TABLE}
  FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()""",
]
PG_REMOVE = [
    f"DROP TRIGGER IF EXISTS audit_entry_no_update ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_entry_no_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_entry_no_truncate ON {TABLE}",
]
SQLITE_INSTALL = [
    f"""CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON {TABLE}
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused on {TABLE}'); END""",
    f"""CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON {TABLE}
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused on {TABLE}'); END""",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
]


def statements(vendor: str, install: bool) -> list[str]:
    if vendor == "postgresql":
        return PG_INSTALL if install else PG_REMOVE
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    raise RuntimeError(f"no append-only audit triggers for the {vendor} database")


def install(connection) -> None:
    with connection.cursor() as cur:
        for sql in statements(connection.vendor, True):
            cur.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cur:
        for sql in statements(connection.vendor, False):
            cur.execute(sql)
