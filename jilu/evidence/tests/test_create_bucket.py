"""``jilu create-bucket``: the bucket with versioning and Object Lock (C6.5.3),
idempotent, refusing what it cannot make safe."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import CommandError, call_command

from jilu.conf import S3Config
from jilu.evidence.store import get_store


@pytest.fixture
def s3_settings(settings, tmp_path, s3_endpoint):
    """S3 settings naming a bucket that does not exist yet."""

    def configure(lock_days: int = 0) -> str:
        name = f"jilu-new-{uuid.uuid4().hex[:12]}"
        settings.STORAGE_KIND = "s3"
        settings.SPOOL_DIR = tmp_path / "spool"
        settings.S3 = S3Config(s3_endpoint, name, "testing", "testing", "us-east-1", lock_days)
        get_store.cache_clear()
        return name

    yield configure
    get_store.cache_clear()


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_bucket", *args, stdout=out)
    return out.getvalue()


def test_creates_a_versioned_bucket_with_object_lock_and_is_idempotent(s3_settings):
    name = s3_settings(lock_days=30)
    said = _run()
    assert f"bucket {name}: created with versioning" in said
    assert "Object Lock on, no default retention" in said
    client = get_store().client
    assert client.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    lock = client.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert "DefaultRetention" not in lock.get("Rule", {})
    again = _run()
    assert "exists, versioning enabled" in again and "no default retention" in again


def test_a_default_retention_is_removed_so_upload_staging_stays_deletable(s3_settings):
    """A bucket default would lock uploads/… staging objects (no orphaned parts)."""
    name = s3_settings(lock_days=30)
    _run()
    client = get_store().client
    client.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 400}},
        },
    )
    said = _run()
    assert "default retention (COMPLIANCE 400 days) was removed" in said
    lock = client.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
    assert "DefaultRetention" not in lock.get("Rule", {})
    client.put_object(Bucket=name, Key="uploads/x/tail-0", Body=b"part")
    version = client.head_object(Bucket=name, Key="uploads/x/tail-0")["VersionId"]
    client.delete_object(Bucket=name, Key="uploads/x/tail-0", VersionId=version)


def test_a_bucket_without_object_lock(s3_settings):
    name = s3_settings()
    assert "created with versioning" in _run()
    client = get_store().client
    assert client.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    assert "exists, versioning enabled" in _run("--object-lock-days", "0")
    # Object Lock cannot be added to it afterwards: refused, naming what to do.
    with pytest.raises(CommandError, match="created without Object Lock.*new bucket"):
        _run("--object-lock-days", "7")


def test_an_existing_bucket_without_versioning_is_refused(s3_settings):
    name = s3_settings()
    get_store().client.create_bucket(Bucket=name)
    with pytest.raises(CommandError, match=f"bucket {name} exists without versioning"):
        _run()
    assert "Status" not in get_store().client.get_bucket_versioning(Bucket=name)


@pytest.mark.parametrize(
    "args, lock_days, message",
    [
        (["--object-lock-days", "-1"], 0, "give 0 .* or more"),
        (["--object-lock-days", "0"], 30, "JILU_S3_OBJECT_LOCK_DAYS=30: .*needs it"),
    ],
)
def test_bad_options_are_refused_before_anything_is_made(s3_settings, args, lock_days, message):
    name = s3_settings(lock_days=lock_days)
    with pytest.raises(CommandError, match=message):
        _run(*args)
    names = [b["Name"] for b in get_store().client.list_buckets()["Buckets"]]
    assert name not in names


def test_a_non_number_of_days_is_refused(s3_settings):
    s3_settings(lock_days=1)
    with pytest.raises(CommandError, match="invalid int value: 'forever'"):
        _run("--object-lock-days", "forever")


def test_the_filesystem_store_needs_no_bucket(settings):
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    with pytest.raises(CommandError, match="JILU_STORAGE is not s3"):
        _run()
