"""The evidence store keeps bytes exactly, never overwrites, and notices tampering.

Every test runs on both backends (files and a real S3-protocol server).
Clauses: C6.5.3 (deleting, altering or faking recordings) and C6.5.4 (losing
or damaging recordings by poor keeping).
"""

from __future__ import annotations

import hashlib
import io
import os
import threading

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jilu.evidence.store import (
    HashMismatch,
    InvalidKey,
    ObjectMissing,
    StoreError,
    get_store,
)
from jilu.evidence.store.files import FileStore
from jilu.evidence.store.hashing import CHUNK
from jilu.evidence.store.s3 import S3Store
from jilu.evidence.tests.conftest import use_store

# On S3 a read asks for the version recorded beside the object's row.
pytestmark = pytest.mark.django_db


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sm3(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def _read(store, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join(store.open_range(key, start, end))


@pytest.mark.parametrize("size", [0, 1, 1000, 2 * CHUNK + 12345])
def test_put_keeps_the_exact_bytes_under_their_sha256(store, behind, size):
    """C6.5.4: what comes back is byte for byte what went in, across chunk boundaries."""
    data = os.urandom(size)
    result = store.put(io.BytesIO(data))
    assert result.sha256 == _sha(data)
    assert result.sm3 == _sm3(data)
    assert result.size == size
    assert result.created is True
    assert store.exists(result.sha256)
    assert store.size(result.sha256) == size
    assert _read(store, result.sha256) == data
    assert behind.objects() == [result.sha256]
    assert behind.leftovers() == []


def test_put_path_reads_a_local_file(store, tmp_path):
    data = os.urandom(50_000)
    src = tmp_path / "clip.mp4"
    src.write_bytes(data)
    result = store.put_path(src, expected_sha256=_sha(data), expected_size=len(data))
    assert (result.sha256, result.sm3, result.created) == (_sha(data), _sm3(data), True)


@pytest.mark.parametrize(
    "field, wrong",
    [("expected_sha256", "0" * 64), ("expected_sm3", "f" * 64), ("expected_size", 9)],
)
def test_bytes_that_differ_from_what_was_announced_are_refused(store, behind, field, wrong):
    """C6.5.3: a file damaged or swapped in transit never becomes an object."""
    data = b"recording bytes"
    with pytest.raises(HashMismatch) as caught:
        store.put(io.BytesIO(data), **{field: wrong})
    message = str(caught.value)
    assert str(wrong) in message  # names what was expected …
    actual = {"expected_sha256": _sha(data), "expected_sm3": _sm3(data), "expected_size": "15"}
    assert actual[field] in message  # … and what arrived
    assert "Nothing was stored" in message
    assert behind.objects() == []
    assert behind.leftovers() == []
    assert not store.exists(_sha(data))


def test_matching_expectations_are_accepted_in_any_hex_case(store):
    data = b"abc" * 1000
    result = store.put(
        io.BytesIO(data),
        expected_sha256=_sha(data).upper(),
        expected_sm3=_sm3(data),
        expected_size=len(data),
    )
    assert result.sha256 == _sha(data)


def test_malformed_expectations_are_refused_before_reading(store):
    stream = io.BytesIO(b"x")
    with pytest.raises(InvalidKey, match="64 lowercase hex"):
        store.put(stream, expected_sha256="not-a-hash")
    with pytest.raises(InvalidKey, match="SM3"):
        store.put(stream, expected_sm3="12")
    assert stream.tell() == 0


class _BrokenStream(io.RawIOBase):
    """Gives some bytes, then fails like a recorder unplugged mid-copy."""

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 2:
            raise OSError("device disconnected")
        return b"x" * min(n, 1 << 20)


def test_a_stream_that_fails_midway_leaves_nothing_behind(store, behind):
    """C6.5.4: a half-copied recording is neither visible nor left lying around."""
    with pytest.raises(OSError, match="device disconnected"):
        store.put(_BrokenStream())
    assert behind.objects() == []
    assert behind.leftovers() == []


def test_the_same_bytes_twice_make_one_object_and_nothing_is_overwritten(store, behind):
    """C6.5.3: a second put of the same bytes leaves the first object untouched."""
    data = os.urandom(10_000)
    first = store.put(io.BytesIO(data))
    second = store.put(io.BytesIO(data))
    assert first.created is True
    assert second.created is False
    assert (second.sha256, second.sm3, second.size) == (first.sha256, first.sm3, first.size)
    assert behind.objects() == [first.sha256]
    assert behind.leftovers() == []
    assert _read(store, first.sha256) == data


def test_stored_files_are_read_only(settings, tmp_path):
    """C6.5.3: on the file backend an object is chmod 0444 from the moment it is visible."""
    store = use_store(settings, tmp_path, "file")
    result = store.put(io.BytesIO(b"evidence"))
    path = store.path(result.sha256)
    assert oct(path.stat().st_mode & 0o777) == "0o444"
    assert path == store.root / "objects" / result.sha256[:2] / result.sha256[2:4] / result.sha256


def test_an_existing_key_is_never_replaced_even_by_different_bytes(store, behind, tmp_path):
    """C6.5.3: publishing under a taken key is refused; the object that was first stays."""
    data = b"the original recording"
    original = store.put(io.BytesIO(data))
    forged = tmp_path / "forged"
    forged.write_bytes(b"a forged recording")
    if isinstance(store, S3Store):
        # Straight to the conditional upload, past the existence check in put().
        created = store.upload(forged, original.sha256, "0" * 64, forged.stat().st_size)
        assert created == (False, original.version)  # the first version stays pinned
    else:
        assert isinstance(store, FileStore)
        with pytest.raises(FileExistsError):
            os.link(forged, store.path(original.sha256))
    assert _read(store, original.sha256) == data
    assert store.verify(original.sha256).ok


def test_big_objects_go_up_in_parts_on_s3(settings, tmp_path, s3_endpoint):
    """Multipart upload, also conditional: a second upload of the same key is refused."""
    store = use_store(settings, tmp_path, "s3", endpoint=s3_endpoint)
    store.multipart_threshold = store.part_size = 5 * 1024 * 1024
    data = os.urandom(11 * 1024 * 1024 + 7)
    result = store.put(io.BytesIO(data), expected_sha256=_sha(data))
    assert result.created is True
    assert _read(store, result.sha256) == data
    head = store.client.head_object(Bucket=store.bucket, Key=store.object_key(result.sha256))
    assert head["Metadata"]["sm3"] == _sm3(data)
    spool = tmp_path / "again"
    spool.write_bytes(data)
    assert result.version  # a completed multipart upload's version is recorded too
    assert store.upload(spool, result.sha256, result.sm3, len(data)) == (False, result.version)
    assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []


def test_object_lock_keeps_s3_objects_in_compliance_mode(settings, tmp_path, s3_endpoint):
    """C6.5.3: with JILU_S3_OBJECT_LOCK_DAYS the bucket itself refuses early deletion."""
    from botocore.exceptions import ClientError

    store = use_store(settings, tmp_path, "s3", endpoint=s3_endpoint, lock_days=365)
    result = store.put(io.BytesIO(b"locked recording"))
    name = store.object_key(result.sha256)
    head = store.client.head_object(Bucket=store.bucket, Key=name)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(ClientError):
        store.client.delete_object(Bucket=store.bucket, Key=name, VersionId=head["VersionId"])
    assert store.verify(result.sha256).ok


RANGE_DATA = bytes(range(256)) * 37 + b"tail"  # 9476 bytes, no two neighbours alike


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(start=st.integers(0, len(RANGE_DATA) + 10), length=st.none() | st.integers(0, 12_000))
def test_ranged_reads_return_exactly_the_requested_bytes(store, start, length):
    """``open_range(key, start, end)`` equals ``data[start:end]`` (end exclusive, clipped)."""
    key = _sha(RANGE_DATA)
    if not store.exists(key):
        store.put(io.BytesIO(RANGE_DATA))
    end = None if length is None else start + length
    assert _read(store, key, start, end) == RANGE_DATA[start:end]


def test_ranged_reads_stream_in_chunks(store):
    data = os.urandom(CHUNK + 100)
    key = store.put(io.BytesIO(data)).sha256
    chunks = list(store.open_range(key, 10, CHUNK + 50))
    assert len(chunks) >= 2
    assert all(len(c) <= CHUNK for c in chunks)
    assert b"".join(chunks) == data[10 : CHUNK + 50]


def test_bad_ranges_and_keys_are_refused(store):
    key = store.put(io.BytesIO(b"0123456789")).sha256
    with pytest.raises(ValueError, match="bad range"):
        store.open_range(key, -1)
    with pytest.raises(ValueError, match="bad range"):
        store.open_range(key, 5, 4)
    for bad in ["../../etc/passwd", key.upper(), key[:-1], ""]:
        with pytest.raises(InvalidKey):
            store.open_range(bad)
        with pytest.raises(InvalidKey):
            store.exists(bad)


def test_a_missing_object_is_reported_as_missing(store):
    """C6.5.4: asking for an object that is not there says so at once."""
    key = _sha(b"never stored")
    assert store.exists(key) is False
    with pytest.raises(ObjectMissing, match=key):
        store.open_range(key)
    with pytest.raises(ObjectMissing):
        store.size(key)
    result = store.verify(key)
    assert (result.ok, result.problem) == (False, "missing")


def test_verify_passes_an_intact_object(store):
    data = os.urandom(30_000)
    key = store.put(io.BytesIO(data)).sha256
    result = store.verify(key)
    assert (result.ok, result.sha256, result.sm3, result.size, result.problem) == (
        True,
        key,
        _sm3(data),
        len(data),
        "",
    )


@pytest.mark.parametrize("offset", [0, 12_345, 29_999])
def test_verify_detects_one_flipped_byte(store, behind, offset):
    """C6.5.3: changing a single byte behind the store's back is detected."""
    key = store.put(io.BytesIO(os.urandom(30_000))).sha256
    behind.flip_byte(key, offset)
    result = store.verify(key)
    assert result.ok is False
    assert result.problem.startswith(f"SHA-256 differs: expected {key}, got ")
    assert result.sha256 != key


def test_verify_detects_a_deleted_object(store, behind):
    """C6.5.4: an object removed behind the store's back is reported missing."""
    key = store.put(io.BytesIO(b"soon gone")).sha256
    behind.remove(key)
    result = store.verify(key)
    assert (result.ok, result.problem) == (False, "missing")


def test_two_threads_putting_the_same_bytes_make_one_object(store, behind):
    """C6.5.3: concurrent puts of one recording race safely; both agree, nothing overwritten."""
    data = os.urandom(3 * CHUNK // 2)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def put() -> None:
        try:
            barrier.wait()
            results.append(store.put(io.BytesIO(data)))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {(r.sha256, r.sm3, r.size) for r in results} == {(_sha(data), _sm3(data), len(data))}
    created = sorted(r.created for r in results)
    if isinstance(store, FileStore):
        assert created == [False, True]  # os.link lets exactly one publish
    else:
        # Real S3 servers decide If-None-Match atomically; moto checks, then writes,
        # so there both may "win" — writing the identical bytes under the same key.
        assert True in created
    assert behind.objects() == [_sha(data)]
    assert behind.leftovers() == []
    assert _read(store, _sha(data)) == data


def test_get_store_follows_the_settings(settings, tmp_path):
    store = use_store(settings, tmp_path, "file")
    assert isinstance(store, FileStore)
    assert get_store() is store
    settings.STORE_ROOT = tmp_path / "elsewhere"
    assert get_store() is not store
    assert get_store().root == tmp_path / "elsewhere"
    settings.STORAGE_KIND = "s3"
    settings.S3 = None
    with pytest.raises(StoreError, match="S3 is not configured"):
        get_store()
    get_store.cache_clear()


class _Generated(io.RawIOBase):
    """``size`` bytes made up on the fly, so the test itself holds none of them."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return b"\xa5" * n


def test_put_holds_only_a_few_chunks_in_memory(settings, tmp_path):
    """A 64 MiB put never has more than a bounded number of chunks in flight."""
    import tracemalloc

    store = use_store(settings, tmp_path, "file")
    tracemalloc.start()
    try:
        result = store.put(_Generated(64 * 1024 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.size == 64 * 1024 * 1024
    assert peak < 10 * CHUNK, f"peak {peak / 2**20:.0f} MiB"


def test_a_write_failure_midway_leaves_nothing_behind(settings, tmp_path, monkeypatch):
    """C6.5.4: a full disk during a put fails loudly and leaves no object and no temp file."""
    import errno

    from jilu.evidence.store import files

    store = use_store(settings, tmp_path, "file")
    real_call = files.FileWriter.__call__

    def fill_up(self, chunk: bytes) -> None:
        if self.written >= CHUNK:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_call(self, chunk)

    monkeypatch.setattr(files.FileWriter, "__call__", fill_up)
    with pytest.raises(OSError, match="No space left"):
        store.put(io.BytesIO(os.urandom(3 * CHUNK)))
    assert list(store.tmp.iterdir()) == []
    assert not store.objects.exists() or not any(p.is_file() for p in store.objects.rglob("*"))


# --- a finished file taken in without a copy -----------------------------------


@pytest.mark.django_db
def test_a_finished_file_is_stored_in_place_and_checked_first(store, tmp_path):
    """C6.5.3: a completed upload is hashed where it lies and published only if
    its bytes match; on the filesystem no second copy is written."""
    data = os.urandom(300_000)
    sha256, sm3 = hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest()
    spool = tmp_path / "spool"  # beside the store, on the same file system
    spool.mkdir()
    src = spool / "upload.part"
    src.write_bytes(data)
    with pytest.raises(HashMismatch):
        store.put_complete_file(src, expected_sha256="0" * 64, expected_size=len(data))
    assert not store.exists(sha256) and src.read_bytes() == data  # nothing published
    got = store.put_complete_file(src, expected_sha256=sha256, expected_sm3=sm3)
    assert (got.sha256, got.sm3, got.size, got.created) == (sha256, sm3, len(data), True)
    assert b"".join(store.open_range(sha256)) == data
    if store.kind == "file":
        assert os.stat(src).st_ino == os.stat(store.path(sha256)).st_ino  # linked, not copied
        assert not os.stat(store.path(sha256)).st_mode & 0o222
    src.unlink()  # the uploader drops its own name; the object stays
    assert store.verify(sha256).ok
    again = spool / "again.part"
    again.write_bytes(data)
    assert store.put_complete_file(again, expected_sha256=sha256).created is False
