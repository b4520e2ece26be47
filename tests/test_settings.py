"""Settings from JILU_* variables: typed parsers that stop start-up with a clear message.

The parsers are tested in-process; real start-up (``jilu check``, importing the
WSGI application, the SQLite connection) in subprocesses with a temporary
``JILU_DATA_DIR`` so nothing touches ``./var/``.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from jilu import conf
from jilu.conf import ConfigError

JILU = Path(sys.executable).with_name("jilu")
REPO = Path(__file__).resolve().parent.parent


def clean_env(data_dir: Path | None, **values: str) -> dict[str, str]:
    """The test runner's environment without any JILU_* variable, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JILU_")}
    env["DJANGO_SETTINGS_MODULE"] = "jilu.settings"
    if data_dir is not None:
        env["JILU_DATA_DIR"] = str(data_dir)
    env.update(values)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def run_python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return run([sys.executable, "-c", code], env, cwd)


# --- parsers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("ON", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
        ("  ", False),
    ],
)
def test_env_bool_accepts_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("JILU_T_BOOL", raw)
    assert conf.env_bool("JILU_T_BOOL", False) is expected


def test_env_bool_refuses_anything_else_naming_the_variable(monkeypatch):
    monkeypatch.setenv("JILU_T_BOOL", "maybe")
    with pytest.raises(ConfigError, match=r"JILU_T_BOOL='maybe' is not a boolean"):
        conf.env_bool("JILU_T_BOOL", False)


def test_env_bool_default_when_unset(monkeypatch):
    monkeypatch.delenv("JILU_T_BOOL", raising=False)
    assert conf.env_bool("JILU_T_BOOL", True) is True


def test_env_int_parses_and_checks_the_minimum(monkeypatch):
    monkeypatch.setenv("JILU_T_INT", " 7 ")
    assert conf.env_int("JILU_T_INT", 1, minimum=1) == 7
    monkeypatch.setenv("JILU_T_INT", "five")
    with pytest.raises(ConfigError, match=r"JILU_T_INT='five' is not a whole number"):
        conf.env_int("JILU_T_INT", 1)
    monkeypatch.setenv("JILU_T_INT", "0")
    with pytest.raises(ConfigError, match=r"JILU_T_INT=0 is too small: the minimum is 1"):
        conf.env_int("JILU_T_INT", 1, minimum=1)
    monkeypatch.delenv("JILU_T_INT")
    assert conf.env_int("JILU_T_INT", 5, minimum=1) == 5


def test_env_choice_lists_the_choices(monkeypatch):
    monkeypatch.setenv("JILU_T_CHOICE", "ftp")
    with pytest.raises(ConfigError, match=r"JILU_T_CHOICE='ftp' is not one of: file, s3"):
        conf.env_choice("JILU_T_CHOICE", "file", ("file", "s3"))
    monkeypatch.setenv("JILU_T_CHOICE", "s3")
    assert conf.env_choice("JILU_T_CHOICE", "file", ("file", "s3")) == "s3"


def test_env_list_and_path(monkeypatch, tmp_path):
    monkeypatch.setenv("JILU_T_LIST", "a.example, b.example,,")
    assert conf.env_list("JILU_T_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("JILU_T_PATH", str(tmp_path / "x" / ".." / "y"))
    assert conf.env_path("JILU_T_PATH", Path("/nowhere")) == (tmp_path / "y").resolve()


def test_sqlite_url_relative_to_the_data_dir_in_wal_mode(tmp_path):
    db = conf.parse_database_url("JILU_DATABASE_URL", "sqlite:///jilu.sqlite3", tmp_path)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "jilu.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    absolute = conf.parse_database_url(
        "JILU_DATABASE_URL", "sqlite:////srv/jilu/db.sqlite3", tmp_path
    )
    assert absolute["NAME"] == "/srv/jilu/db.sqlite3"


def test_postgres_url_is_split_into_its_parts(tmp_path):
    db = conf.parse_database_url(
        "JILU_DATABASE_URL", "postgres://jilu:p%40ss@db.example:6543/evidence", tmp_path
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "evidence",
        "jilu",
        "p@ss",
        "db.example",
        "6543",
    )


@pytest.mark.parametrize(
    "url",
    ["sqlite:////srv/jilu/db.sqlite3", "postgres://jilu:p%40ss@db.example:6543/evidence"],
)
def test_database_url_is_the_inverse_of_parsing(tmp_path, url):
    """Another process (a worker, a test server) reaches the same database."""
    db = conf.parse_database_url("JILU_DATABASE_URL", url, tmp_path)
    assert conf.database_url(db) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/jilu", "unsupported database"),
        ("not a url", "unsupported database"),
        ("postgres://jilu@db.example:port/evidence", "the port is not a number"),
        ("postgres://jilu@db.example/", "the database name is missing"),
        ("sqlite://host/file.db", "a SQLite URL has no host"),
        ("sqlite:///", "the SQLite file path is missing"),
    ],
)
def test_malformed_database_urls_name_the_variable(tmp_path, url, message):
    with pytest.raises(ConfigError, match="JILU_DATABASE_URL=") as err:
        conf.parse_database_url("JILU_DATABASE_URL", url, tmp_path)
    assert message in str(err.value)


def test_s3_settings(monkeypatch):
    for name in ("BUCKET", "ENDPOINT", "ACCESS_KEY", "SECRET_KEY", "REGION", "OBJECT_LOCK_DAYS"):
        monkeypatch.delenv("JILU_S3_" + name, raising=False)
    with pytest.raises(ConfigError, match="JILU_STORAGE=s3 needs JILU_S3_BUCKET"):
        conf.read_s3()
    monkeypatch.setenv("JILU_S3_BUCKET", "evidence")
    monkeypatch.setenv("JILU_S3_ENDPOINT", "minio.example:9000")
    with pytest.raises(ConfigError, match="JILU_S3_ENDPOINT='minio.example:9000' must be a URL"):
        conf.read_s3()
    monkeypatch.setenv("JILU_S3_ENDPOINT", "http://")
    with pytest.raises(ConfigError, match="JILU_S3_ENDPOINT"):
        conf.read_s3()
    monkeypatch.setenv("JILU_S3_ENDPOINT", "http://minio.example:ninety")
    with pytest.raises(ConfigError, match="JILU_S3_ENDPOINT=.*port is not a number"):
        conf.read_s3()
    monkeypatch.setenv("JILU_S3_ENDPOINT", "https://minio.example:9000")
    monkeypatch.setenv("JILU_S3_ACCESS_KEY", "jilu")
    with pytest.raises(ConfigError, match="JILU_S3_SECRET_KEY is missing"):
        conf.read_s3()
    monkeypatch.setenv("JILU_S3_SECRET_KEY", "secret")
    monkeypatch.setenv("JILU_S3_OBJECT_LOCK_DAYS", "-1")
    with pytest.raises(ConfigError, match="JILU_S3_OBJECT_LOCK_DAYS=-1 is too small"):
        conf.read_s3()
    monkeypatch.setenv("JILU_S3_OBJECT_LOCK_DAYS", "365")
    s3 = conf.read_s3()
    assert (s3.endpoint_url, s3.bucket, s3.access_key, s3.secret_key) == (
        "https://minio.example:9000",
        "evidence",
        "jilu",
        "secret",
    )
    assert (s3.region, s3.object_lock_days) == ("us-east-1", 365)


def test_secret_key_from_the_environment_must_be_long(monkeypatch, tmp_path):
    monkeypatch.setenv("JILU_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match=r"JILU_SECRET_KEY is too short \(5 characters\)"):
        conf.secret_key(tmp_path)
    monkeypatch.setenv("JILU_SECRET_KEY", "k" * 40)
    assert conf.secret_key(tmp_path) == "k" * 40
    assert not (tmp_path / "secret_key").exists()


def test_secret_key_is_generated_once_and_reused(monkeypatch, tmp_path):
    monkeypatch.delenv("JILU_SECRET_KEY", raising=False)
    data_dir = tmp_path / "var"
    first = conf.secret_key(data_dir)
    assert len(first) >= 50
    key_file = data_dir / "secret_key"
    assert key_file.read_text() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert conf.secret_key(data_dir) == first
    assert sorted(p.name for p in data_dir.iterdir()) == ["secret_key"]  # no temp files left


def test_processes_starting_together_agree_on_one_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("JILU_SECRET_KEY", raising=False)
    keys: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(conf.secret_key(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert (tmp_path / "secret_key").read_text() == keys[0]


def test_unusable_secret_key_file_or_data_dir_is_reported(monkeypatch, tmp_path):
    monkeypatch.delenv("JILU_SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(ConfigError, match="JILU_DATA_DIR=.*empty or too short"):
        conf.secret_key(tmp_path)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(ConfigError, match="JILU_DATA_DIR=.*cannot read or create"):
        conf.secret_key(not_a_dir)


# --- real start-up ---------------------------------------------------------

BAD_CONFIGS = [
    ({"JILU_DATABASE_URL": "mysql://root@localhost/jilu"}, "JILU_DATABASE_URL"),
    ({"JILU_DATABASE_URL": "postgres://jilu@db:port/jilu"}, "JILU_DATABASE_URL"),
    ({"JILU_STORAGE": "ftp"}, "JILU_STORAGE"),
    ({"JILU_DEBUG": "perhaps"}, "JILU_DEBUG"),
    ({"JILU_LOGIN_MAX_FAILURES": "five"}, "JILU_LOGIN_MAX_FAILURES"),
    ({"JILU_LOGIN_MAX_FAILURES": "0"}, "JILU_LOGIN_MAX_FAILURES"),
    ({"JILU_SESSION_IDLE_MINUTES": "half an hour"}, "JILU_SESSION_IDLE_MINUTES"),
    (
        {"JILU_STORAGE": "s3", "JILU_S3_BUCKET": "evidence", "JILU_S3_ENDPOINT": "minio:9000"},
        "JILU_S3_ENDPOINT",
    ),
    ({"JILU_STORAGE": "s3"}, "JILU_S3_BUCKET"),
    ({"JILU_SECRET_KEY": "too-short"}, "JILU_SECRET_KEY"),
    ({"JILU_LOG_LEVEL": "LOUD"}, "JILU_LOG_LEVEL"),
    ({"JILU_CACHE_URL": "memcached://cache:11211"}, "JILU_CACHE_URL"),
    ({"JILU_SECURE_COOKIES": "sometimes"}, "JILU_SECURE_COOKIES"),
    ({"JILU_HSTS_SECONDS": "-1"}, "JILU_HSTS_SECONDS"),
    ({"JILU_SIGNIN_THROTTLE_FAILURES": "0"}, "JILU_SIGNIN_THROTTLE_FAILURES"),
    ({"JILU_SIGNIN_THROTTLE_MINUTES": "a while"}, "JILU_SIGNIN_THROTTLE_MINUTES"),
    # C5.3: a naming template with an unknown field stops start-up.
    ({"JILU_NAME_TEMPLATE": "{unit}_{bogus}_{date}"}, "JILU_NAME_TEMPLATE"),
]


@pytest.mark.parametrize(("values", "variable"), BAD_CONFIGS, ids=[v for _, v in BAD_CONFIGS])
def test_malformed_setting_stops_jilu_with_a_message_naming_it(tmp_path, values, variable):
    result = run([str(JILU), "check"], clean_env(tmp_path / "var", **values), tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    first_line = result.stderr.strip().splitlines()[0]
    assert first_line.startswith("jilu: configuration error: ")
    assert variable in first_line


def test_malformed_setting_stops_the_web_application_too(tmp_path):
    result = run_python(
        "import jilu.wsgi", clean_env(tmp_path / "var", JILU_DEBUG="perhaps"), tmp_path
    )
    assert result.returncode != 0
    assert "ConfigError: JILU_DEBUG='perhaps' is not a boolean" in result.stderr


def test_good_configuration_starts(tmp_path):
    result = run([str(JILU), "check"], clean_env(tmp_path / "var"), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_s3_configuration_starts(tmp_path):
    env = clean_env(
        tmp_path / "var",
        JILU_STORAGE="s3",
        JILU_S3_BUCKET="evidence",
        JILU_S3_ENDPOINT="http://127.0.0.1:9000",
        JILU_S3_ACCESS_KEY="jilu",
        JILU_S3_SECRET_KEY="secret-secret",
    )
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.STORAGE_KIND, s.S3.bucket, s.S3.endpoint_url)",
        env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["s3", "evidence", "http://127.0.0.1:9000"]


PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATA_DIR); print(s.SECRET_KEY); print(s.DATABASES['default']['NAME']); "
    "print(s.TIME_ZONE, s.LANGUAGE_CODE, ','.join(c for c, _ in s.LANGUAGES)); "
    "print(s.STORAGE_KIND, s.STORE_ROOT)"
)


def test_defaults_live_under_var_and_the_secret_key_is_kept(tmp_path):
    """No variables at all: ./var/ under the working directory, key generated once."""
    env = clean_env(None)
    first = run_python(PRINT_SETTINGS, env, tmp_path)
    assert first.returncode == 0, first.stderr
    data_dir, key, db_name, locale, storage = first.stdout.strip().splitlines()
    var = tmp_path / "var"
    assert Path(data_dir) == var
    assert db_name == str(var / "jilu.sqlite3")
    assert locale == "Asia/Shanghai zh-hans zh-hans,en"
    assert storage == f"file {var / 'store'}"
    assert (var / "secret_key").read_text() == key
    second = run_python(PRINT_SETTINGS, env, tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[1] == key


def test_explicit_data_dir_gets_the_secret_key(tmp_path):
    data_dir = tmp_path / "elsewhere"
    result = run_python(PRINT_SETTINGS, clean_env(data_dir), tmp_path)
    assert result.returncode == 0, result.stderr
    assert (data_dir / "secret_key").read_text() == result.stdout.splitlines()[1]
    assert not (tmp_path / "var").exists()


def test_sqlite_connection_runs_in_wal_mode(tmp_path):
    code = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); "
        "print(c.execute('PRAGMA journal_mode').fetchone()[0]); "
        "print(c.execute('PRAGMA foreign_keys').fetchone()[0]); "
        "print(c.execute('PRAGMA synchronous').fetchone()[0])"
    )
    result = run_python(code, clean_env(tmp_path / "var"), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "1", "1"]  # WAL, foreign keys on, NORMAL
    assert (tmp_path / "var" / "jilu.sqlite3").exists()
