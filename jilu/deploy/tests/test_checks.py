"""City mode refuses to start with an unsafe configuration: one test per refusal.

Each refusal names what is wrong and its fix. Outside city mode the checks say
nothing. The web application and ``jilu worker`` are started for real with a
bad city configuration and refuse; ``JILU_DEPLOYMENT=embedded`` starts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.utils import OperationalError

from jilu import conf
from jilu.conf import ConfigError, S3Config
from jilu.deploy import checks
from jilu.evidence.store import get_store
from tests.test_settings import clean_env

JILU = Path(sys.executable).with_name("jilu")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def city(settings, tmp_path, db):
    """A safe city configuration on the test database and a filesystem store."""
    settings.DEPLOYMENT = "city"
    settings.SECRET_KEY_GENERATED = False
    settings.AUDIT_KEY_GENERATED = False
    settings.SERVE_MODE = "python"
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    settings.STORE_ROOT = tmp_path / "store"
    settings.UPLOAD_STAGING = conf.UploadStaging("shared-dir", tmp_path / "staging", 8 * conf.MIB)
    get_store.cache_clear()
    yield settings
    get_store.cache_clear()


def _ids(found) -> list[str]:
    return [m.id for m in found]


def test_a_safe_city_configuration_starts(city):
    for check in (
        checks.secret_key,
        checks.play_link_secret,
        checks.secure_cookies,
        checks.audit_key,
        checks.database,
        checks.store,
        checks.store_versioning,
        checks.queue,
        checks.upload_staging,
    ):
        assert check() == [], check.__name__


def test_generated_secret_key_is_refused(city):
    city.SECRET_KEY_GENERATED = True
    (refusal,) = checks.secret_key()
    assert refusal.id == "jilu.E001" and "generated" in refusal.msg
    assert "JILU_SECRET_KEY" in refusal.hint


def test_accel_without_a_play_link_secret_is_refused(city):
    city.SERVE_MODE = "accel"
    city.SERVE_LINK_SECRET = ""
    (refusal,) = checks.play_link_secret()
    assert refusal.id == "jilu.E002" and "JILU_SERVE_LINK_SECRET" in refusal.hint
    city.SERVE_LINK_SECRET = "s" * 32
    assert checks.play_link_secret() == []


def test_insecure_cookies_behind_https_are_refused(city):
    city.CSRF_TRUSTED_ORIGINS = ["https://jilu.example.gov.cn"]
    city.SESSION_COOKIE_SECURE = city.CSRF_COOKIE_SECURE = False
    (refusal,) = checks.secure_cookies()
    assert refusal.id == "jilu.E003" and "https://jilu.example.gov.cn" in refusal.msg
    assert refusal.hint == "set JILU_SECURE_COOKIES=true"
    city.SESSION_COOKIE_SECURE = city.CSRF_COOKIE_SECURE = True
    assert checks.secure_cookies() == []
    city.SESSION_COOKIE_SECURE = city.CSRF_COOKIE_SECURE = False
    city.CSRF_TRUSTED_ORIGINS = ["http://10.0.0.5:8000"]  # plain HTTP inside the bureau
    assert checks.secure_cookies() == []


def test_generated_audit_key_is_refused(city):
    city.AUDIT_KEY_GENERATED = True
    city.AUDIT_KEY_SOURCE = "/srv/jilu/var/audit_key"
    (refusal,) = checks.audit_key()
    assert refusal.id == "jilu.E004" and "/srv/jilu/var/audit_key" in refusal.msg
    assert "JILU_AUDIT_KEY_FILE" in refusal.hint


def test_unreachable_database_is_refused(city):
    def refuse() -> None:
        raise OperationalError("connection to server at 10.0.0.9 port 5432 failed: refused")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(connection, "ensure_connection", refuse)
        (refusal,) = checks.database()
        assert checks.application_role() == []  # nothing to ask an absent database
    assert refusal.id == "jilu.E005" and "refused" in refusal.msg
    assert "JILU_DATABASE_URL" in refusal.hint


def test_unreachable_store_is_refused(city):
    city.STORAGE_KIND = "s3"
    city.S3 = S3Config(f"http://127.0.0.1:{_closed_port()}", "evidence", "k", "s", "us-east-1", 0)
    get_store.cache_clear()
    (refusal,) = checks.store()
    assert refusal.id == "jilu.E006" and "cannot be reached" in refusal.msg
    assert "JILU_S3_ENDPOINT" in refusal.hint


def test_missing_bucket_is_refused(city, s3_endpoint):
    city.STORAGE_KIND = "s3"
    city.S3 = S3Config(s3_endpoint, "no-such-bucket", "k", "s", "us-east-1", 0)
    get_store.cache_clear()
    (refusal,) = checks.store()
    assert refusal.id == "jilu.E006" and "no-such-bucket" in refusal.msg
    assert "jilu create-bucket" in refusal.hint


def _bucket(city, s3_endpoint, *, lock_days: int = 0, versioned: bool, lock: bool = False) -> str:
    import uuid

    name = f"city-{uuid.uuid4().hex[:12]}"
    city.STORAGE_KIND = "s3"
    city.S3 = S3Config(s3_endpoint, name, "k", "s", "us-east-1", lock_days)
    get_store.cache_clear()
    client = get_store().client
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
    if versioned and not lock:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def test_c6_5_3_a_bucket_without_versioning_is_refused(city, s3_endpoint):
    """An overwrite with the application's key would replace a recording's bytes
    and no version could be pinned: refused, naming the fix."""
    name = _bucket(city, s3_endpoint, versioned=False)
    assert checks.store() == []
    (refusal,) = checks.store_versioning()
    assert refusal.id == "jilu.E009" and name in refusal.msg and "versioning is off" in refusal.msg
    assert "jilu create-bucket" in refusal.hint and "put-bucket-versioning" in refusal.hint
    get_store().client.put_bucket_versioning(
        Bucket=name, VersioningConfiguration={"Status": "Suspended"}
    )
    (refusal,) = checks.store_versioning()
    assert "versioning is suspended" in refusal.msg


def test_a_versioned_bucket_starts(city, s3_endpoint):
    _bucket(city, s3_endpoint, versioned=True)
    assert checks.store() == checks.store_versioning() == []


def test_object_lock_days_need_a_bucket_with_object_lock(city, s3_endpoint):
    _bucket(city, s3_endpoint, versioned=True, lock_days=30)
    (refusal,) = checks.store_versioning()
    assert "JILU_S3_OBJECT_LOCK_DAYS=30" in refusal.msg and "no Object Lock" in refusal.msg
    _bucket(city, s3_endpoint, versioned=True, lock_days=30, lock=True)
    assert checks.store_versioning() == []


def test_unreachable_queue_is_refused(city):
    city.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    city.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{_closed_port()}/0"}}
    (refusal,) = checks.queue()
    assert refusal.id == "jilu.E007" and "'default'" in refusal.msg
    assert "Redis" in refusal.hint


def test_uploads_staged_on_one_machines_disk_are_refused(city):
    """Two web machines each with its own folder restarted one upload 186 times."""
    city.UPLOAD_STAGING = conf.UploadStaging("local", None, 8 * conf.MIB)
    (refusal,) = checks.upload_staging()
    assert refusal.id == "jilu.E010" and "JILU_UPLOAD_STAGING=local" in refusal.msg
    assert "JILU_UPLOAD_STAGING=store" in refusal.hint and "shared-dir" in refusal.hint


def test_the_upload_staging_settings_are_checked(monkeypatch):
    for name in ("JILU_UPLOAD_STAGING", "JILU_UPLOAD_STAGING_DIR", "JILU_UPLOAD_PART_MIB"):
        monkeypatch.delenv(name, raising=False)
    assert conf.read_upload_staging("s3").kind == "store"
    assert conf.read_upload_staging("file") == conf.UploadStaging("local", None, 8 * conf.MIB)
    monkeypatch.setenv("JILU_UPLOAD_STAGING", "store")
    with pytest.raises(ConfigError, match="needs JILU_STORAGE=s3"):
        conf.read_upload_staging("file")
    monkeypatch.setenv("JILU_UPLOAD_STAGING", "shared-dir")
    with pytest.raises(ConfigError, match="needs JILU_UPLOAD_STAGING_DIR"):
        conf.read_upload_staging("file")
    monkeypatch.setenv("JILU_UPLOAD_STAGING_DIR", "/srv/jilu/staging")
    monkeypatch.setenv("JILU_UPLOAD_PART_MIB", "4")
    with pytest.raises(ConfigError, match="JILU_UPLOAD_PART_MIB=4 is too small"):
        conf.read_upload_staging("file")
    monkeypatch.setenv("JILU_UPLOAD_PART_MIB", "16")
    staging = conf.read_upload_staging("file")
    assert staging == conf.UploadStaging("shared-dir", Path("/srv/jilu/staging"), 16 * conf.MIB)


def test_outside_city_mode_nothing_is_refused(city):
    city.DEPLOYMENT = "embedded"
    city.SECRET_KEY_GENERATED = city.AUDIT_KEY_GENERATED = True
    assert checks.secret_key() == checks.audit_key() == []
    checks.enforce()


def test_every_refusal_is_listed_with_its_fix(city):
    city.SECRET_KEY_GENERATED = city.AUDIT_KEY_GENERATED = True
    with pytest.raises(ImproperlyConfigured) as caught:
        checks.enforce()
    text = str(caught.value)
    assert text.startswith("Jilu refuses to start this city deployment")
    assert "jilu.E001" in text and "jilu.E004" in text
    assert "fix: set JILU_SECRET_KEY" in text and "fix: create one key" in text


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "embedded"),
        ({"JILU_STORAGE": "s3"}, "city"),
        ({"JILU_DATABASE_URL": "postgres://jilu@db/jilu"}, "city"),
        ({"JILU_DEPLOYMENT": "city"}, "city"),
        ({"JILU_DEPLOYMENT": "embedded", "JILU_STORAGE": "s3"}, "embedded"),
    ],
)
def test_what_city_mode_is(monkeypatch, env, expected):
    for name in ("JILU_DEPLOYMENT", "JILU_STORAGE", "JILU_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    engine = "django.db.backends." + ("postgresql" if "JILU_DATABASE_URL" in env else "sqlite3")
    assert conf.deployment(engine, env.get("JILU_STORAGE", "file")) == expected


def test_unknown_deployment_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv("JILU_DEPLOYMENT", "cloud")
    with pytest.raises(ConfigError, match="JILU_DEPLOYMENT='cloud' is not one of: embedded, city"):
        conf.deployment("django.db.backends.sqlite3", "file")


# --- real start-up ---------------------------------------------------------------


def _unsafe_city(tmp_path: Path, **extra: str) -> dict[str, str]:
    """S3 on a port nobody listens on, keys generated: three refusals."""
    return clean_env(
        tmp_path / "var",
        JILU_STORAGE="s3",
        JILU_S3_BUCKET="evidence",
        JILU_S3_ENDPOINT=f"http://127.0.0.1:{_closed_port()}",
        JILU_S3_ACCESS_KEY="jilu",
        JILU_S3_SECRET_KEY="secret-secret",
        **extra,
    )


def test_the_web_application_refuses_an_unsafe_city(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import jilu.wsgi"],
        env=_unsafe_city(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode != 0
    assert "Jilu refuses to start this city deployment (JILU_STORAGE=s3)" in done.stderr
    for refusal in ("jilu.E001", "jilu.E004", "jilu.E006"):
        assert refusal in done.stderr, done.stderr


def test_the_worker_refuses_an_unsafe_city(tmp_path):
    env = _unsafe_city(tmp_path, JILU_SECRET_KEY="k" * 40, JILU_AUDIT_KEY="a" * 40)
    done = subprocess.run(
        [str(JILU), "worker", "--batch", "--no-schedule"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode != 0
    assert "jilu.E006" in done.stderr and "JILU_S3_ENDPOINT" in done.stderr, done.stderr
    assert "jilu.E001" not in done.stderr and "jilu.E004" not in done.stderr


def test_an_explicitly_embedded_machine_starts(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import jilu.wsgi; print('started')"],
        env=_unsafe_city(tmp_path, JILU_DEPLOYMENT="embedded"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "started"
