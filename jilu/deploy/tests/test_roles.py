"""Least privilege on PostgreSQL: the owner role migrates, the application's role owns nothing.

In a scratch database: an owner role runs ``jilu migrate``, ``jilu
grant-app-role`` (run as the owner) gives the application's role rows only;
connected as that role, disabling the audit table's triggers, altering it,
and UPDATE, DELETE or TRUNCATE on it are all refused, while recording an audit
entry through ``jilu.audit.chain.record`` works. The deploy check passes for
the application's role and refuses the owner and a superuser, naming the fix.
Runs in the PostgreSQL pass of ``make test``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.test_settings import clean_env

JILU = Path(sys.executable).with_name("jilu")
pytestmark = pytest.mark.db_sensitive

RECORD = """
import django
django.setup()
from django.db import transaction
from jilu.audit.chain import record
from jilu.audit.models import AuditEntry
with transaction.atomic():
    entry = record("deploy.role_check", actor="system:test", details={"role": "app"})
print(entry.seq, AuditEntry.objects.filter(action="deploy.role_check").count())
"""


@pytest.fixture
def scratch(db):
    """(admin connection parameters, owner role, app role, scratch database)."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "PostgreSQL roles: runs in the PostgreSQL pass (JILU_DATABASE_URL=postgres://…)"
        )
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    suffix = os.getpid()
    owner, app, database = f"jilu_owner_{suffix}", f"jilu_app_{suffix}", f"jilu_roles_{suffix}"
    admin = psycopg.connect(**params, autocommit=True)
    try:
        admin.execute(f"CREATE ROLE {owner} LOGIN")
        admin.execute(f"CREATE ROLE {app} LOGIN")
        admin.execute(f"CREATE DATABASE {database} OWNER {owner}")
        yield params, owner, app, database
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.execute(f"DROP ROLE IF EXISTS {app}")
        admin.execute(f"DROP ROLE IF EXISTS {owner}")
        admin.close()


def _url(params: dict, role: str, database: str) -> str:
    return f"postgres://{role}@{params.get('host') or '127.0.0.1'}:{params.get('port') or 5432}/{database}"


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    return clean_env(
        tmp_path / "var",
        JILU_DATABASE_URL=url,
        JILU_SECRET_KEY="s" * 40,
        JILU_AUDIT_KEY="a" * 40,
        JILU_STORE_ROOT=str(tmp_path / "store"),
        # Every web process sees the same staging folder (jilu.E010 refuses a local one).
        JILU_UPLOAD_STAGING="shared-dir",
        JILU_UPLOAD_STAGING_DIR=str(tmp_path / "staging"),
    )


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_the_application_role_cannot_undo_the_audit_log(scratch, tmp_path):
    import psycopg
    from psycopg import errors

    params, owner, app, database = scratch
    as_owner = _env(tmp_path, _url(params, owner, database))
    as_app = _env(tmp_path, _url(params, app, database))

    migrated = _run([str(JILU), "migrate", "--no-input"], as_owner, tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    granted = _run([str(JILU), "grant-app-role", app], as_owner, tmp_path)
    assert granted.returncode == 0, granted.stderr
    assert "owns nothing" in granted.stdout

    # Normal work as the application's role: an audit entry is appended.
    recorded = _run([sys.executable, "-c", RECORD], as_app, tmp_path)
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout.split()[1] == "1"

    refused = {
        "ALTER TABLE audit_auditentry DISABLE TRIGGER ALL": errors.InsufficientPrivilege,
        "ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_no_update": (
            errors.InsufficientPrivilege
        ),
        "DROP TRIGGER audit_entry_no_delete ON audit_auditentry": errors.InsufficientPrivilege,
        "ALTER TABLE audit_auditentry ADD COLUMN note text": errors.InsufficientPrivilege,
        "UPDATE audit_auditentry SET action = 'forged'": errors.InsufficientPrivilege,
        "DELETE FROM audit_auditentry": errors.InsufficientPrivilege,
        "TRUNCATE audit_auditentry": errors.InsufficientPrivilege,
        "CREATE TABLE shadow (id int)": errors.InsufficientPrivilege,
    }
    app_params = {**params, "user": app, "dbname": database}
    app_params.pop("password", None)
    with psycopg.connect(**app_params, autocommit=True) as conn:
        for sql, error in refused.items():
            with pytest.raises(error):
                conn.execute(sql)
        owned = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles "
            "WHERE rolname = current_user)"
        ).fetchone()[0]
        assert owned == 0
        entries = conn.execute(
            "SELECT action FROM audit_auditentry WHERE action = 'deploy.role_check'"
        ).fetchall()
        assert entries == [("deploy.role_check",)]

    # The deploy check: the application's role passes, the owner is refused with the fix.
    check = [str(JILU), "check", "--deploy", "--tag", "jilu_city"]
    ok = _run(check, as_app, tmp_path)
    assert ok.returncode == 0, ok.stderr
    bad = _run(check, as_owner, tmp_path)
    assert bad.returncode != 0
    assert "jilu.E008" in bad.stderr and "which owns the audit table" in bad.stderr
    assert f"jilu grant-app-role {owner}" in bad.stderr


def test_a_superuser_application_role_is_refused(db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(
            "PostgreSQL roles: runs in the PostgreSQL pass (JILU_DATABASE_URL=postgres://…)"
        )
    from jilu.conf import database_url

    superuser = connection.settings_dict["USER"]
    with connection.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cur.fetchone()[0], "the PostgreSQL pass connects as a superuser"
    env = _env(tmp_path, database_url(connection.settings_dict))
    done = _run([str(JILU), "check", "--deploy", "--tag", "jilu_city"], env, tmp_path)
    assert done.returncode != 0
    assert f"connects as {superuser}, which is a superuser" in done.stderr, done.stderr


def test_grant_app_role_refuses_the_owner_and_unknown_roles():
    from jilu.deploy.grants import GrantError, statements

    with pytest.raises(GrantError, match="the owner role"):
        statements("jilu", owner="jilu")
    with pytest.raises(GrantError, match="not a plain PostgreSQL name"):
        statements('app"; DROP TABLE audit_auditentry; --', owner="jilu")
    sql = statements("jilu_app", owner="jilu_owner", database="jilu")
    assert 'REVOKE UPDATE, DELETE ON "public"."audit_auditentry" FROM "jilu_app"' in sql
    assert not any("TRUNCATE" in s and "GRANT" in s for s in sql)
