"""``jilu verify`` re-hashes every stored object on either backend (C6.5.3, C6.5.4)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from jilu.audit.models import AuditEntry
from jilu.evidence.actions import store_object
from jilu.evidence.models import FixityAlarm, FixityCheck, StoredObject


def _store_two(store) -> tuple[str, str]:
    a = store_object(actor="system:test", stream=io.BytesIO(b"first recording" * 1000))
    b = store_object(actor="system:test", stream=io.BytesIO(b"second recording" * 1000))
    return a.sha256, b.sha256


@pytest.mark.django_db
def test_verify_passes_when_every_object_is_intact(store):
    _store_two(store)
    out = io.StringIO()
    call_command("verify", stdout=out)
    assert "stored objects: 2 of 2 OK" in out.getvalue()


@pytest.mark.django_db
def test_verify_fails_and_names_an_object_with_one_flipped_byte(store, behind):
    """C6.5.3: one altered byte in one object makes ``jilu verify`` exit 1 naming it."""
    good, bad = _store_two(store)
    newer = behind.flip_byte(bad, 100)
    # On S3 the altered bytes are a newer version of the key, named as such.
    said = "SHA-256 不符" if store.kind == "file" else f"存储中该对象出现了新版本 {newer}"
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("verify", stdout=out)
    assert caught.value.returncode == 1
    assert f"object {bad}: {said}" in str(caught.value)
    assert "stored objects: 1 of 2 OK" in out.getvalue()
    assert good not in out.getvalue()
    # The same alarm as the rolling schedule raises, on the page people watch.
    alarm = FixityAlarm.objects.get()
    assert alarm.stored_object_id == bad and said in alarm.problem
    assert FixityCheck.objects.filter(stored_object_id=good, ok=True).count() == 1
    assert AuditEntry.objects.filter(action="evidence.fixity.alarm").count() == 1


@pytest.mark.django_db
def test_verify_fails_and_names_a_missing_object(store, behind):
    """C6.5.4: an object lost from the store makes ``jilu verify`` exit 1 naming it."""
    _, lost = _store_two(store)
    behind.remove(lost)
    with pytest.raises(CommandError, match=f"object {lost}: 对象缺失") as caught:
        call_command("verify", stdout=io.StringIO())
    assert caught.value.returncode == 1
    assert FixityAlarm.objects.get().stored_object_id == lost


@pytest.mark.django_db
def test_verify_one_object_after_it_is_restored(store, behind):
    """C6.5.4: an object restored from backup is re-checked on its own at once
    (``--object``), recorded as a fixity check like any other."""
    good, lost = _store_two(store)
    behind.remove(lost)
    with pytest.raises(CommandError, match=f"object {lost}: 对象缺失"):
        call_command("verify", "--object", lost[:12], stdout=io.StringIO())
    assert not FixityCheck.objects.filter(stored_object_id=good).exists()
    restored = b"second recording" * 1000
    if hasattr(store, "path"):
        import os

        path = store.path(lost)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(restored)
        os.chmod(path, 0o444)
    else:
        store.client.put_object(Bucket=store.bucket, Key=store.object_key(lost), Body=restored)
    out = io.StringIO()
    call_command("verify", "--object", lost, stdout=out)
    assert "stored objects: 1 of 1 OK" in out.getvalue()
    assert FixityCheck.objects.filter(stored_object_id=lost).order_by("-pk").first().ok
    if not hasattr(store, "path"):
        # S3: the restored bytes are a new version; identical bytes, so it is
        # recorded (audited) as the version every read now pins.
        obj = StoredObject.objects.get(pk=lost)
        assert obj.version_id == store.versions(lost)[0]["id"]
        repin = AuditEntry.objects.get(action="evidence.fixity.repin")
        assert repin.details["version"] == obj.version_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    "given, message",
    [
        ("abc", "at least its first 12"),
        ("zzzzzzzzzzzzzz", "at least its first 12"),
        ("0" * 64, "no stored object"),
    ],
)
def test_verify_object_bad_input(store, given, message):
    _store_two(store)
    with pytest.raises(CommandError, match=message):
        call_command("verify", "--object", given, stdout=io.StringIO())
    assert not FixityCheck.objects.exists()
