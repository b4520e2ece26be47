"""Where the audit key comes from, and the clear message when it is missing.

The key seals the audit chain and must be kept apart from the database
(C6.5.3): an environment variable, a key file readable by Jilu's user only,
or in the embedded default a file generated once into the data directory.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from jilu import conf
from jilu.conf import ConfigError

JILU = Path(sys.executable).with_name("jilu")


@pytest.fixture(autouse=True)
def no_key_settings(monkeypatch):
    monkeypatch.delenv("JILU_AUDIT_KEY", raising=False)
    monkeypatch.delenv("JILU_AUDIT_KEY_FILE", raising=False)


def test_the_embedded_default_generates_one_private_key_file(tmp_path):
    data_dir = tmp_path / "var"
    first = conf.audit_key(data_dir)
    key_file = data_dir / "audit_key"
    assert first.source == str(key_file)
    assert first.key == key_file.read_bytes() and len(first.key) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert conf.audit_key(data_dir) == first
    assert sorted(p.name for p in data_dir.iterdir()) == ["audit_key"]


def test_the_key_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JILU_AUDIT_KEY", "short")
    with pytest.raises(ConfigError, match=r"JILU_AUDIT_KEY is too short \(5 characters\)"):
        conf.audit_key(tmp_path)
    monkeypatch.setenv("JILU_AUDIT_KEY", "k" * 40)
    assert conf.audit_key(tmp_path) == conf.AuditKey(b"k" * 40, "JILU_AUDIT_KEY")
    assert not (tmp_path / "audit_key").exists()
    monkeypatch.setenv("JILU_AUDIT_KEY_FILE", str(tmp_path / "key"))
    with pytest.raises(ConfigError, match="set JILU_AUDIT_KEY or JILU_AUDIT_KEY_FILE, not both"):
        conf.audit_key(tmp_path)


def test_a_key_file_must_exist_be_private_and_long_enough(monkeypatch, tmp_path):
    key_file = tmp_path / "secrets" / "audit_key"
    monkeypatch.setenv("JILU_AUDIT_KEY_FILE", str(key_file))
    with pytest.raises(ConfigError, match="cannot read the audit key .*Restore the key file"):
        conf.audit_key(tmp_path)
    assert not key_file.exists()  # a named key file is never generated
    key_file.parent.mkdir()
    key_file.write_text("x" * 48 + "\n")
    os.chmod(key_file, 0o644)
    with pytest.raises(ConfigError, match=r"every user on this machine; .*chmod 600"):
        conf.audit_key(tmp_path)
    os.chmod(key_file, 0o640)
    assert conf.audit_key(tmp_path) == conf.AuditKey(b"x" * 48, str(key_file))
    key_file.write_text("x" * 10)
    with pytest.raises(ConfigError, match=r"empty or too short \(10 characters\)"):
        conf.audit_key(tmp_path)


def test_a_missing_key_file_stops_jilu_with_a_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JILU_")}
    env.update(
        DJANGO_SETTINGS_MODULE="jilu.settings",
        JILU_DATA_DIR=str(tmp_path / "var"),
        JILU_AUDIT_KEY_FILE=str(tmp_path / "gone"),
    )
    result = subprocess.run(
        [str(JILU), "verify", "--skip-objects"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"jilu: configuration error: JILU_AUDIT_KEY_FILE={str(tmp_path / 'gone')!r}: "
        "cannot read the audit key (No such file or directory)"
    )
