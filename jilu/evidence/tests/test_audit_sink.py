"""Audit checkpoints kept in the S3 bucket under Object Lock (C6.5.3).

On a city deployment the local checkpoint log sits on a server Jilu runs on;
each checkpoint is also written once into the bucket in compliance mode, where
neither Jilu nor the bucket's owner can remove it before its retention ends.
``jilu verify`` compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from jilu.audit import checkpoints
from jilu.audit.chain import AuditError
from jilu.audit.checkpoints import checkpoint, log_path, sinks
from jilu.audit.tests.tamper import append, cut_tail
from jilu.audit.verify import verify_chain
from jilu.evidence.store.audit_sink import BucketCheckpoints
from jilu.evidence.tests.conftest import use_store


@pytest.fixture
def bucket(settings, tmp_path, s3_endpoint) -> BucketCheckpoints:
    use_store(settings, tmp_path, "s3", endpoint=s3_endpoint, lock_days=400)
    [sink] = sinks()
    assert isinstance(sink, BucketCheckpoints)
    return sink


@pytest.mark.django_db
def test_the_file_store_has_no_bucket_sink(settings, tmp_path):
    use_store(settings, tmp_path, "file")
    assert sinks() == []


@pytest.mark.django_db
def test_each_checkpoint_is_written_once_under_object_lock(bucket):
    append(3)
    cp = checkpoint().checkpoint
    client, name = bucket.store.client, bucket.store.bucket
    key = "audit-checkpoints/000000000001.json"
    assert client.get_object(Bucket=name, Key=key)["Body"].read() == cp.line()
    head = client.head_object(Bucket=name, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC) + timedelta(days=399)
    with pytest.raises(ClientError):
        client.delete_object(Bucket=name, Key=key, VersionId=head["VersionId"])
    # Idempotent: the same checkpoint again is accepted; a different one is not.
    bucket.write(1, cp.line())
    with pytest.raises(Exception, match="already holds a different checkpoint"):
        bucket.write(1, cp.line().replace(b'"periodic"', b'"forged"'))
    assert verify_chain().ok


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_the_bucket_shows_a_local_log_cut_short_with_the_chain(bucket):
    """Someone who can write both the database and the local log removes the
    newest entries and the checkpoints that recorded them: the bucket's copy
    still names the lost head."""
    append(10)
    checkpoint()
    append(5)
    checkpoint()
    path = log_path()
    first_line = path.read_bytes().splitlines(keepends=True)[0]
    path.write_bytes(first_line)
    cut_tail(5)
    report = verify_chain()
    assert not report.ok
    assert f"bucket {bucket.store.bucket} holds checkpoint #2 of " in report.problem
    assert "(head #15), but the checkpoint log" in report.problem
    assert "ends at #1: the log was cut short" in report.problem


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_the_bucket_shows_a_local_log_rewritten_with_the_key(bucket, monkeypatch):
    """Even someone holding the audit key, the database and the local log, who
    cuts the chain and writes new checkpoints for it, cannot replace the
    bucket's: its newest differs from the log's line of the same number."""
    append(10)
    checkpoint()
    append(5)
    checkpoint()
    path = log_path()
    path.write_bytes(path.read_bytes().splitlines(keepends=True)[0])
    cut_tail(5)
    with monkeypatch.context() as m:
        m.setattr(checkpoints, "_sink_factories", [])  # the forger writes the log alone
        checkpoint(force=True)
        append(1)
        checkpoint()
    report = verify_chain()
    assert not report.ok
    assert report.problem == (
        f"checkpoint log: checkpoint #2 in bucket {bucket.store.bucket} differs from the one "
        f"in {path}"
    )


@pytest.mark.django_db
def test_a_bucket_that_missed_a_checkpoint_catches_up(bucket, monkeypatch):
    append(2)

    def down(self, n, line):
        raise ConnectionError("bucket unreachable")

    monkeypatch.setattr(BucketCheckpoints, "write", down)
    with pytest.raises(AuditError, match=r"checkpoint #1 of .* is in .* but not in bucket"):
        checkpoint()
    report = verify_chain()
    assert report.ok
    assert f"bucket {bucket.store.bucket} holds no checkpoint yet" in report.notes
    monkeypatch.undo()
    assert not checkpoint().created  # the head has not moved, but the bucket is sent #1
    assert bucket.read(1) is not None
    assert not any("bucket" in note for note in verify_chain().notes)
