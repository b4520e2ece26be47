"""Uploads any web process can continue (issue 15, item 1): the staged bytes of an
unfinished upload are where every web process sees them (S3 multipart in the
bucket, or a shared directory), and a lock in the database keeps two requests
from writing one upload at once. C6.5.4: nothing acknowledged is lost, nothing
half-written becomes visible; C6.5.3: only bytes that match the station's
SHA-256 and SM3 become evidence.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jilu.conf import MIB, UploadStaging
from jilu.evidence.models import StoredObject
from jilu.evidence.store import StoreUnavailable
from jilu.evidence.tests.conftest import Behind, s3_endpoint, use_store  # noqa: F401
from jilu.ingest import actions, locks, spool
from jilu.ingest.models import QuarantineItem, Upload
from jilu.ingest.staging_s3 import StoreStaging, part_size_for
from jilu.ingest.tests.conftest import digests, hours_ago, name_for, sha1_header

PART = 5 * MIB


@pytest.fixture
def bucket(settings, tmp_path, s3_endpoint):  # noqa: F811
    """The S3 store, uploads staged in its bucket in 5 MiB parts (S3's smallest)."""
    store = use_store(settings, tmp_path, "s3", endpoint=s3_endpoint)
    settings.UPLOAD_STAGING = UploadStaging("store", None, PART)
    return store


@pytest.fixture
def shared_dir(settings, tmp_path):
    settings.UPLOAD_STAGING = UploadStaging("shared-dir", tmp_path / "shared", PART)
    return tmp_path / "shared"


def big(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def staged_in_bucket(store) -> list[str]:
    """Multipart uploads and staged objects (every version) left in the bucket."""
    mpus = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    listing = store.client.list_object_versions(Bucket=store.bucket, Prefix="uploads/")
    objects = [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]
    return sorted([f"mpu:{u['Key']}" for u in mpus] + [o["Key"] for o in objects])


def evidence_keys(store) -> list[str]:
    listing = store.client.list_objects_v2(Bucket=store.bucket, Prefix="objects/")
    return sorted(item["Key"].rsplit("/", 1)[-1] for item in listing.get("Contents", []))


def send(tus, url: str, data: bytes, start: int, step: int, *, on_each=None) -> object:
    resp = None
    for n, offset in enumerate(range(start, len(data), step)):
        if on_each is not None:
            on_each(n)
        piece = data[offset : offset + step]
        resp = tus.patch(url, offset, piece, checksum=sha1_header(piece))
        if resp.status_code != 204:
            return resp
    return resp


def created(tus, data: bytes, docking, **kw) -> str:
    resp = tus.create(data, name_for(hours_ago(2)), docking=docking, **kw)
    assert resp.status_code == 201, resp.content
    return resp["Location"]


def outcome_sha(resp) -> str:
    assert resp.status_code == 204, resp.content
    return resp["Jilu-Sha256"]


# --- S3 staging -----------------------------------------------------------------


def test_patches_alternating_between_machines_complete_the_upload_in_the_bucket(
    tus, docking, bucket, settings, tmp_path, django_capture_on_commit_callbacks
):
    """Each PATCH as if on another web machine (its own spool directory): the
    bytes wait in the bucket, so every machine continues the upload."""
    data = big(12 * MIB + 12345)
    url = created(tus, data, docking)
    upload = Upload.objects.get()
    assert upload.staging == "store"
    seen_parts = []

    def other_machine(n: int) -> None:
        settings.SPOOL_DIR = tmp_path / f"machine-{n % 2}"
        if n:
            seen_parts.append(len(Upload.objects.get().staged.get("parts", [])))

    with django_capture_on_commit_callbacks(execute=True):
        last = send(tus, url, data, 0, 3 * MIB, on_each=other_machine)
    assert outcome_sha(last) == digests(data)[0]
    # 3 MiB chunks in 5 MiB parts: the bytes after the last whole part waited
    # in a tail object and went on in front of the next chunk.
    assert seen_parts == [0, 1, 1, 2]
    upload.refresh_from_db()
    assert upload.state == Upload.State.COMPLETE
    assert [p[1] for p in upload.staged["parts"]] == [PART, PART, len(data) - 2 * PART]
    assert evidence_keys(bucket) == [digests(data)[0]]
    assert StoredObject.objects.get().sm3 == digests(data)[1]
    assert staged_in_bucket(bucket) == []
    assert not (tmp_path / "machine-0" / "uploads").exists() or not any(
        (tmp_path / "machine-0" / "uploads").iterdir()
    )


def test_an_upload_smaller_than_a_part_starts_no_multipart_upload(tus, docking, bucket):
    data = big(2 * MIB + 7, seed=2)
    url = created(tus, data, docking)
    assert tus.patch(url, 0, data[: MIB + 3]).status_code == 204
    assert staged_in_bucket(bucket) == [f"uploads/{Upload.objects.get().pk.hex}/tail-0"]
    last = tus.patch(url, MIB + 3, data[MIB + 3 :])
    assert outcome_sha(last) == digests(data)[0]
    assert staged_in_bucket(bucket) == []
    assert Upload.objects.get().staged.get("mpu") is None


def test_bytes_written_but_never_acknowledged_are_not_used(tus, docking, bucket):
    """A web process died after writing the tail but before the offset moved."""
    data = big(7 * MIB, seed=3)
    url = created(tus, data, docking)
    assert tus.patch(url, 0, data[: 2 * MIB]).status_code == 204
    upload = Upload.objects.get()
    tail = f"uploads/{upload.pk.hex}/tail-0"
    bucket.client.put_object(Bucket=bucket.bucket, Key=tail, Body=data[: 2 * MIB] + b"x" * 999)
    assert tus.head(url)["Upload-Offset"] == str(2 * MIB)
    assert outcome_sha(send(tus, url, data, 2 * MIB, 3 * MIB)) == digests(data)[0]


def test_a_staged_tail_that_vanished_voids_the_upload(tus, docking, bucket):
    data = big(3 * MIB, seed=4)
    url = created(tus, data, docking)
    assert tus.patch(url, 0, data[:MIB]).status_code == 204
    upload = Upload.objects.get()
    bucket.client.delete_object(Bucket=bucket.bucket, Key=f"uploads/{upload.pk.hex}/tail-0")
    resp = tus.patch(url, MIB, data[MIB:])
    assert resp.status_code == 410 and "暂存" in resp.json()["detail"]
    upload.refresh_from_db()
    assert upload.state == Upload.State.FAILED


def test_a_hash_mismatch_leaves_nothing_visible_and_no_multipart_upload(
    tus, docking, bucket, django_capture_on_commit_callbacks
):
    data = big(11 * MIB, seed=5)
    other = big(11 * MIB, seed=6)
    url = created(tus, data, docking, sha256=digests(other)[0])
    with django_capture_on_commit_callbacks(execute=True):
        last = send(tus, url, data, 0, 4 * MIB)
    assert last.status_code == 422
    assert "SHA-256" in last.json()["detail"]
    assert Upload.objects.get().state == Upload.State.FAILED
    assert evidence_keys(bucket) == [] and not StoredObject.objects.exists()
    assert staged_in_bucket(bucket) == []
    assert Behind(bucket).objects() == []


def test_store_unavailable_mid_patch_keeps_what_was_acknowledged(tus, docking, bucket, monkeypatch):
    data = big(11 * MIB, seed=7)
    url = created(tus, data, docking)
    assert tus.patch(url, 0, data[: 6 * MIB]).status_code == 204
    real = StoreStaging.call

    def failing(self, method, what, **kwargs):
        if method == "upload_part":
            raise StoreUnavailable("the store is down for maintenance")
        return real(self, method, what, **kwargs)

    monkeypatch.setattr(StoreStaging, "call", failing)
    resp = tus.patch(url, 6 * MIB, data[6 * MIB :])
    assert resp.status_code == 503 and resp["Retry-After"]
    assert resp["Upload-Offset"] == str(6 * MIB)
    monkeypatch.setattr(StoreStaging, "call", real)
    assert tus.head(url)["Upload-Offset"] == str(6 * MIB)
    assert outcome_sha(tus.patch(url, 6 * MIB, data[6 * MIB :])) == digests(data)[0]


def test_expiry_aborts_the_multipart_upload_and_deletes_staged_objects(
    tus, docking, bucket, django_capture_on_commit_callbacks
):
    data = big(13 * MIB, seed=8)
    url = created(tus, data, docking)
    assert tus.patch(url, 0, data[: 7 * MIB]).status_code == 204
    upload = Upload.objects.get()
    assert staged_in_bucket(bucket) == [
        f"mpu:uploads/{upload.pk.hex}/data",
        f"uploads/{upload.pk.hex}/tail-{PART}",
    ]
    Upload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.expire_uploads() == 1
    assert Upload.objects.get().state == Upload.State.EXPIRED
    assert staged_in_bucket(bucket) == []


def test_the_sweep_aborts_multipart_uploads_nobody_acknowledged(tus, docking, bucket):
    """An ended upload whose discard failed, and a request that died after
    starting a multipart upload, before its first part was acknowledged: the
    sweep removes both (the second once old enough) and leaves the live
    upload's parts alone."""
    data = big(12 * MIB, seed=9)
    url = created(tus, data, docking)
    assert tus.patch(url, 0, data[: 6 * MIB]).status_code == 204
    live = Upload.objects.get()
    client, name = bucket.client, bucket.bucket
    # The live upload's abandoned second multipart upload.
    client.create_multipart_upload(Bucket=name, Key=f"uploads/{live.pk.hex}/data")
    # An ended upload's leftovers.
    ended = uuid.uuid4().hex
    client.create_multipart_upload(Bucket=name, Key=f"uploads/{ended}/data")
    client.put_object(Bucket=name, Key=f"uploads/{ended}/tail-0", Body=b"left behind")
    assert len(client.list_multipart_uploads(Bucket=name)["Uploads"]) == 3
    # What an ended upload left goes at once; the live upload's other multipart
    # upload may be a request's that is sending its first part right now.
    assert actions.remove_spool_leftovers() == 2
    assert len(staged_in_bucket(bucket)) == 3
    later = timezone.now() + timedelta(hours=2)
    assert actions.remove_spool_leftovers(now=later) == 1
    assert staged_in_bucket(bucket) == [
        f"mpu:uploads/{live.pk.hex}/data",
        f"uploads/{live.pk.hex}/tail-{PART}",
    ]
    assert outcome_sha(tus.patch(url, 6 * MIB, data[6 * MIB :])) == digests(data)[0]


def test_the_part_size_grows_for_files_that_need_more_than_10000_parts():
    assert part_size_for(10 * MIB, 8 * MIB) == 8 * MIB
    assert part_size_for(100 * 1024 * MIB, 8 * MIB) == 11 * MIB
    assert part_size_for(100 * 1024 * MIB, 8 * MIB) * 10_000 >= 100 * 1024 * MIB


# --- a shared directory -------------------------------------------------------------


def test_a_shared_directory_serves_every_machine(
    tus, docking, shared_dir, settings, tmp_path, django_capture_on_commit_callbacks
):
    data = big(3 * MIB + 5, seed=10)
    url = created(tus, data, docking)

    def other_machine(n: int) -> None:
        settings.SPOOL_DIR = tmp_path / f"machine-{n % 2}"

    with django_capture_on_commit_callbacks(execute=True):
        last = send(tus, url, data, 0, MIB, on_each=other_machine)
    assert outcome_sha(last) == digests(data)[0]
    upload = Upload.objects.get()
    assert upload.staging == "shared-dir"
    assert upload.recording_id or QuarantineItem.objects.filter(sha256=upload.sha256).exists()
    assert not spool.partial_path(upload.pk, shared_dir).exists()


# --- the lock -----------------------------------------------------------------------


@contextlib.contextmanager
def held_elsewhere(upload_id):
    """The upload's lock held by another web process: another database session
    on PostgreSQL, another open file description on SQLite."""
    if connection.vendor == "postgresql":
        import psycopg

        db = connection.settings_dict
        other = psycopg.connect(
            dbname=db["NAME"],
            user=db["USER"],
            password=db["PASSWORD"] or None,
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            autocommit=True,
        )
        other.execute("SELECT pg_advisory_lock(%s)", [locks.lock_key(upload_id)])
        pid = other.info.backend_pid
        try:
            yield
        finally:
            other.close()  # the lock goes with the session, as when a web process dies
            _wait_gone(pid)
    else:
        fd = os.open(locks.lock_path(upload_id), os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _wait_gone(pid: int) -> None:
    """PostgreSQL ends the closed session's backend, and frees its locks, a moment later."""
    import time

    deadline = time.monotonic() + 10
    with connection.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cur.fetchone()[0] == 0:
                return
            time.sleep(0.02)
    pytest.fail(f"the session {pid} holding the lock did not end")


@pytest.mark.db_sensitive
@pytest.mark.django_db(transaction=True)
def test_a_second_request_on_a_locked_upload_is_refused_at_once(tus, docking):
    data = big(100_000, seed=11)
    url = created(tus, data, docking)
    upload = Upload.objects.get()
    with held_elsewhere(upload.pk):
        resp = tus.patch(url, 0, data[:10])
        assert resp.status_code == 423 and resp["Upload-Offset"] == "0"
        assert tus.delete(url).status_code == 423
    assert tus.patch(url, 0, data[:10]).status_code == 204
    assert outcome_sha(tus.patch(url, 10, data[10:])) == digests(data)[0]


@pytest.mark.db_sensitive
@pytest.mark.django_db(transaction=True)
def test_a_completion_on_head_is_refused_while_another_request_holds_the_lock(tus, docking):
    data = big(50_000, seed=12)
    url = created(tus, data, docking)
    upload = Upload.objects.get()
    spool.partial_path(upload.pk).write_bytes(data)
    Upload.objects.filter(pk=upload.pk).update(offset=len(data))
    with held_elsewhere(upload.pk):
        assert tus.head(url).status_code == 423
    done = tus.head(url)
    assert done.status_code == 200 and done["Jilu-Sha256"] == digests(data)[0]


@pytest.mark.db_sensitive
@pytest.mark.django_db(transaction=True)
def test_the_lock_is_the_databases_on_postgresql(tus, docking):
    """On PostgreSQL no lock file is involved: the advisory lock is what refuses."""
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL pass of `make test` runs this (db_sensitive)")
    data = big(1000, seed=13)
    url = created(tus, data, docking)
    upload = Upload.objects.get()
    with held_elsewhere(upload.pk):
        assert tus.patch(url, 0, data[:10]).status_code == 423
    assert not locks.lock_path(upload.pk).exists()
    with locks.upload_lock(upload.pk):
        # Held by this request's own database session while the block runs.
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid()"
            )
            assert cur.fetchone()[0] == 1
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        assert cur.fetchone()[0] == 0
    assert outcome_sha(tus.patch(url, 0, data)) == digests(data)[0]
