"""``store_object``: bytes into the store, one row and one audit entry (C6.5.3, C6.5.4)."""

from __future__ import annotations

import hashlib
import io

import pytest

from jilu.audit.models import AuditEntry
from jilu.evidence.actions import store_object
from jilu.evidence.models import StoredObject
from jilu.evidence.store import HashMismatch, StoreError

DATA = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64


def _entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="evidence.object.store"))


@pytest.mark.django_db
def test_storing_records_the_object_and_audits_it(store):
    """C6.5.4: every stored object is on record with both hashes, and who stored it."""
    obj = store_object(
        actor="station:test",
        stream=io.BytesIO(DATA),
        expected_sha256=hashlib.sha256(DATA).hexdigest(),
        expected_size=len(DATA),
    )
    assert obj.sha256 == hashlib.sha256(DATA).hexdigest()
    assert obj.sm3 == hashlib.new("sm3", DATA).hexdigest()
    assert (obj.size, obj.backend) == (len(DATA), store.kind)
    assert StoredObject.objects.get(pk=obj.sha256) == obj
    (entry,) = _entries()
    assert (entry.actor_label, entry.object_id) == ("station:test", obj.sha256)
    assert entry.details == {
        "sha256": obj.sha256,
        "sm3": obj.sm3,
        "size": len(DATA),
        "backend": store.kind,
        "new_bytes": True,
        "version": obj.version_id,  # the S3 version every read pins (C6.5.3)
    }
    assert bool(obj.version_id) == (store.kind == "s3")
    assert store.verify(obj.sha256).ok


@pytest.mark.django_db
def test_storing_the_same_bytes_again_is_idempotent(store):
    first = store_object(actor="station:test", stream=io.BytesIO(DATA))
    again = store_object(actor="station:other", stream=io.BytesIO(DATA))
    assert again == first
    assert StoredObject.objects.count() == 1
    assert len(_entries()) == 1


@pytest.mark.django_db
def test_a_mismatch_stores_and_records_nothing(store, behind):
    """C6.5.3: bytes that differ from the announced hash leave no row, object or audit entry."""
    with pytest.raises(HashMismatch, match="SHA-256 differs"):
        store_object(actor="station:test", stream=io.BytesIO(DATA), expected_sha256="a" * 64)
    assert StoredObject.objects.count() == 0
    assert _entries() == []
    assert behind.objects() == []


@pytest.mark.django_db
def test_a_row_that_disagrees_with_the_bytes_is_reported(store):
    """C6.5.3: a database row altered to claim other hashes is not silently accepted."""
    obj = store_object(actor="station:test", stream=io.BytesIO(DATA))
    StoredObject.objects.filter(pk=obj.pk).update(sm3="0" * 64)
    with pytest.raises(StoreError, match="jilu verify"):
        store_object(actor="station:test", stream=io.BytesIO(DATA))
