"""``jilu verify`` as an operator runs it: a separate process on the SQLite
database, its exit code the answer (C6.4 inspection, C6.5.3 altering or deleting)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from jilu.audit.checkpoints import checkpoint
from jilu.audit.tests.tamper import append, cut_tail, forge

JILU = Path(sys.executable).with_name("jilu")
KEY = "the-audit-key-of-this-test-0123456789abcdef"


def jilu_verify(settings, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JILU_")}
    env.update(
        DJANGO_SETTINGS_MODULE="jilu.settings",
        JILU_DATA_DIR=str(tmp_path / "var"),
        JILU_DATABASE_URL=f"sqlite:///{connection.settings_dict['NAME']}",
        JILU_AUDIT_KEY=KEY,
        JILU_AUDIT_CHECKPOINT_DIR=str(settings.AUDIT_CHECKPOINT_DIR),
    )
    return subprocess.run(
        [str(JILU), "verify", "--skip-objects"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads the SQLite test database file")
@pytest.mark.django_db(transaction=True)
def test_jilu_verify_exits_non_zero_on_either_rewrite(settings, tmp_path):
    settings.AUDIT_KEY = KEY.encode()
    append(100)
    checkpoint()
    result = jilu_verify(settings, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audit chain: OK (100 entries)" in result.stdout

    forge(91, {"i": 90, "forged": True})
    result = jilu_verify(settings, tmp_path)
    assert result.returncode == 1
    assert "audit chain BROKEN at #91: MAC does not match" in result.stdout

    cut_tail(14)  # down to #86: the forged entry goes with the tail
    result = jilu_verify(settings, tmp_path)
    assert result.returncode == 1
    assert "audit chain BROKEN at #87: the chain ends at #86 but checkpoint #1 of " in result.stdout
    assert "recorded head #100: entries #87–#100 are missing" in result.stdout
