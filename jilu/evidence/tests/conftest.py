"""The evidence store on both backends: files under tmp_path, and a real S3 server.

The S3 server is moto in server mode on a free local port, started once per
test session (per xdist worker); every test gets its own bucket.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jilu.conf import S3Config
from jilu.evidence.store import Store, get_store
from jilu.evidence.store.files import FileStore
from jilu.evidence.store.s3 import S3Store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def use_store(
    settings, tmp_path: Path, kind: str, *, endpoint: str = "", lock_days: int = 0
) -> Store:
    """Point the settings at a fresh store of ``kind`` and return it (bucket created)."""
    settings.STORE_ROOT = tmp_path / "store"
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.STORAGE_KIND = kind
    settings.S3 = None
    if kind == "s3":
        bucket = f"jilu-test-{uuid.uuid4().hex[:16]}"
        settings.S3 = S3Config(endpoint, bucket, "testing", "testing", "us-east-1", lock_days)
    store = get_store()
    if isinstance(store, S3Store):
        # As `jilu create-bucket` makes it: versioned, so reads pin a version.
        store.client.create_bucket(Bucket=store.bucket, ObjectLockEnabledForBucket=bool(lock_days))
        store.client.put_bucket_versioning(
            Bucket=store.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    return store


@pytest.fixture(params=["file", "s3"])
def store(request, settings, tmp_path) -> Store:
    """The configured store (``get_store()``), once per backend."""
    endpoint = request.getfixturevalue("s3_endpoint") if request.param == "s3" else ""
    return use_store(settings, tmp_path, request.param, endpoint=endpoint)


class Behind:
    """Reaching past the store, as a careless or malicious operator would."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def flip_byte(self, key: str, offset: int = 0) -> str:
        """Invert one byte of a stored object (C6.5.3 altering): in place on the
        filesystem; on S3, where a version's bytes cannot change, by putting the
        altered bytes under the same key with the application's own key (which
        Object Lock does not prevent). Returns the new S3 version ("" on files)."""
        store = self.store
        if isinstance(store, FileStore):
            path = store.path(key)
            os.chmod(path, 0o644)
            with open(path, "r+b") as fh:
                fh.seek(offset)
                byte = fh.read(1)
                fh.seek(offset)
                fh.write(bytes([byte[0] ^ 0xFF]))
            os.chmod(path, 0o444)
            return ""
        assert isinstance(store, S3Store)
        name = store.object_key(key)
        data = bytearray(store.client.get_object(Bucket=store.bucket, Key=name)["Body"].read())
        data[offset] ^= 0xFF
        return self.overwrite(key, bytes(data))

    def overwrite(self, key: str, data: bytes) -> str:
        """S3: put other bytes under the object's key (a new version); its VersionId."""
        store = self.store
        assert isinstance(store, S3Store)
        answer = store.client.put_object(Bucket=store.bucket, Key=store.object_key(key), Body=data)
        return answer["VersionId"]

    def delete_marker(self, key: str) -> str:
        """S3: delete the object without naming a version (a delete marker hides
        it from plain reads; the versions stay). The marker's VersionId."""
        store = self.store
        assert isinstance(store, S3Store)
        answer = store.client.delete_object(Bucket=store.bucket, Key=store.object_key(key))
        return answer["VersionId"]

    def remove(self, key: str) -> None:
        """Delete a stored object (C6.5.4 losing): on S3 every version of it, as
        an operator purging the bucket without Object Lock could."""
        store = self.store
        if isinstance(store, FileStore):
            store.path(key).unlink()
        else:
            assert isinstance(store, S3Store)
            for version in store.versions(key):
                store.client.delete_object(
                    Bucket=store.bucket, Key=store.object_key(key), VersionId=version["id"]
                )

    def objects(self) -> list[str]:
        """Names of every visible object."""
        store = self.store
        if isinstance(store, FileStore):
            if not store.objects.exists():
                return []
            return sorted(p.name for p in store.objects.rglob("*") if p.is_file())
        assert isinstance(store, S3Store)
        listing = store.client.list_objects_v2(Bucket=store.bucket)
        return sorted(item["Key"].rsplit("/", 1)[-1] for item in listing.get("Contents", []))

    def leftovers(self) -> list[str]:
        """Temporary files and unfinished uploads left behind."""
        store = self.store
        if isinstance(store, FileStore):
            return sorted(p.name for p in store.tmp.glob("*")) if store.tmp.exists() else []
        assert isinstance(store, S3Store)
        spool = (
            sorted(p.name for p in store.spool_dir.glob("*")) if store.spool_dir.exists() else []
        )
        uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
        return spool + [u["Key"] for u in uploads]

    def is_read_only(self, key: str) -> bool:
        assert isinstance(self.store, FileStore)
        mode = self.store.path(key).stat().st_mode
        return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


@pytest.fixture
def behind(store) -> Behind:
    return Behind(store)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Audit de-duplication and alarm locks live in the cache: every test starts clean."""
    from django.core.cache import cache

    cache.clear()
