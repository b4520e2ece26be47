"""Versions pinned on the S3 store (C6.5.3 altering, C6.5.4 losing).

Object Lock stops the deletion of a version, not a new version on top of it:
anyone with the application's own key can put other bytes under a recording's
name. Every write records the object's VersionId, every read asks for it, and
fixity names any version written after it. The S3 server is moto's, versioned
as ``jilu create-bucket`` makes the bucket.
"""

from __future__ import annotations

import io
import os
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from conftest import streamed
from jilu.access.testing import grant_copy
from jilu.audit.models import AuditEntry
from jilu.evidence import fixity
from jilu.evidence.actions import store_object
from jilu.evidence.models import FixityAlarm, StoredObject
from jilu.evidence.store import get_store
from jilu.evidence.tasks import local_copy
from jilu.evidence.tests.conftest import Behind, use_store
from jilu.evidence.tests.recordings import officers_recording

DATA = bytes((i * 11 + 1) % 256 for i in range(40_001))
FORGED = bytes(reversed(DATA))
START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def s3(settings, tmp_path, s3_endpoint):
    return use_store(settings, tmp_path, "s3", endpoint=s3_endpoint)


@pytest.fixture
def rec(s3, people, tree):
    return officers_recording(people, tree, start=START, data=DATA)


def _newest(store, key: str) -> str:
    return store.client.head_object(Bucket=store.bucket, Key=store.object_key(key))["VersionId"]


@pytest.mark.django_db
def test_every_write_records_the_version_it_made(s3):
    """PutObject and a completed multipart upload both answer with the version
    written; it is recorded beside the object's row and in its audit entry."""
    small = store_object(actor="system:test", stream=io.BytesIO(DATA))
    assert small.version_id and small.version_id == _newest(s3, small.sha256)
    s3.multipart_threshold = s3.part_size = 5 * 1024 * 1024
    big = store_object(actor="system:test", stream=io.BytesIO(os.urandom(11 * 1024 * 1024)))
    assert big.version_id and big.version_id == _newest(s3, big.sha256)
    stored = AuditEntry.objects.filter(action="evidence.object.store").order_by("seq")
    assert [e.details["version"] for e in stored] == [small.version_id, big.version_id]


@pytest.mark.django_db
def test_the_same_bytes_again_keep_the_first_version(s3):
    """Bytes already under their key (say a crash came between the upload and
    the row) are recorded with the first version ever written there."""
    first = s3.put(io.BytesIO(DATA))
    Behind(s3).overwrite(first.sha256, FORGED)
    again = store_object(actor="system:test", stream=io.BytesIO(DATA))
    assert again.version_id == first.version
    assert b"".join(s3.open_range(first.sha256)) == DATA


@pytest.mark.django_db
def test_an_overwrite_behind_jilus_back_serves_nothing_of_it(client, people, rec, settings):
    """C6.5.3: other bytes put under a recording's key with the application's
    own key (Object Lock does not stop a new version): playback, download, the
    presigned URL, whole reads (packages, media processing) and verify all get
    the original bytes from the recorded version; fixity and `jilu verify`
    raise the alarm naming the newer version."""
    store = Behind(get_store())
    pinned = rec.stored_object.version_id
    newer = store.overwrite(rec.sha256, FORGED)
    assert _newest(store.store, rec.sha256) == newer != pinned

    client.force_login(people["officer"])
    play = reverse("evidence:recording_play", args=[rec.pk])
    got = client.get(play, HTTP_RANGE="bytes=100-299")
    assert got.status_code == 206 and streamed(got) == DATA[100:300]
    grant_copy(people["archivist"], [rec])
    client.force_login(people["archivist"])
    whole = client.get(reverse("evidence:recording_download", args=[rec.pk]))
    assert streamed(whole) == DATA

    # What package and disc building read (the whole object), and media processing.
    assert b"".join(store.store.open_range(rec.sha256, 0, None)) == DATA
    with local_copy(rec.stored_object) as path:
        assert path.read_bytes() == DATA

    # The S3 serve mode: a presigned URL of the recorded version only.
    settings.SERVE_MODE = "s3"
    client.force_login(people["officer"])
    redirect = client.get(play, HTTP_RANGE="bytes=0-9")
    assert redirect.status_code == 302
    location = redirect["Location"]
    assert parse_qs(urlsplit(location).query)["versionId"] == [pinned]
    request = urllib.request.Request(location, headers={"Range": "bytes=0-9"})
    with urllib.request.urlopen(request) as answer:
        assert answer.read() == DATA[:10]
    # The player asks the store itself for the play's later ranges: one audit
    # entry per play, whatever it asked for before (C6.5.7).
    assert (
        AuditEntry.objects.filter(action="evidence.recording.play", object_id=str(rec.pk)).count()
        == 1
    )

    result = store.store.verify(rec.sha256)
    assert (result.ok, result.sha256, result.version, result.newer) == (
        True,
        rec.sha256,
        pinned,
        (newer,),
    )
    check = fixity.check_object(StoredObject.objects.get(pk=rec.sha256))
    assert check.ok is False and check.sha256_found == rec.sha256
    alarm = FixityAlarm.objects.get()
    assert newer in alarm.problem and pinned in alarm.problem
    entry = AuditEntry.objects.get(action="evidence.fixity.alarm")
    assert newer in entry.details["problem"]
    with pytest.raises(CommandError, match=f"object {rec.sha256}: .*新版本 {newer}"):
        call_command("verify", stdout=io.StringIO())


@pytest.mark.django_db
def test_a_delete_marker_is_named_and_plays_go_on(client, people, rec):
    """C6.5.3, C6.5.4: deleting the key without naming a version hides it from
    plain reads; Jilu still reads the recorded version and names the marker."""
    behind = Behind(get_store())
    marker = behind.delete_marker(rec.sha256)
    client.force_login(people["officer"])
    got = client.get(reverse("evidence:recording_play", args=[rec.pk]), HTTP_RANGE="bytes=0-99")
    assert got.status_code == 206 and streamed(got) == DATA[:100]
    check = fixity.check_object(rec.stored_object)
    assert not check.ok
    assert f"delete marker {marker}" in FixityAlarm.objects.get().problem


@pytest.mark.django_db
def test_objects_stored_before_versions_were_recorded_are_pinned_at_their_check(s3):
    """An object whose row has no version yet is checked at the first version
    written under its key; once its bytes check out that version is recorded,
    and a later overwrite is named as for any other object."""
    obj = store_object(actor="system:test", stream=io.BytesIO(DATA))
    original = obj.version_id
    StoredObject.objects.filter(pk=obj.pk).update(version_id="")
    newer = Behind(s3).overwrite(obj.sha256, FORGED)
    # Unrecorded: a plain read would get the newest bytes...
    assert b"".join(s3.open_range(obj.sha256)) == FORGED
    check = fixity.check_object(StoredObject.objects.get(pk=obj.pk))
    # ...the check reads the original, pins it and names the overwrite.
    assert check.sha256_found == obj.sha256
    assert StoredObject.objects.get(pk=obj.pk).version_id == original
    assert newer in FixityAlarm.objects.get().problem
    assert b"".join(s3.open_range(obj.sha256)) == DATA


@pytest.mark.django_db
def test_an_unchanged_object_passes_and_repeats_raise_one_alarm(s3):
    """No newer version: the check passes. One overwrite checked three times
    raises one alarm while it is open (the checks are all recorded)."""
    obj = store_object(actor="system:test", stream=io.BytesIO(DATA))
    assert fixity.check_object(obj).ok
    Behind(s3).overwrite(obj.sha256, FORGED)
    for _ in range(3):
        fixity.check_object(obj, now=timezone.now() + timedelta(minutes=1))
    assert FixityAlarm.objects.count() == 1
    assert obj.fixity_checks.filter(ok=False).count() == 3


@pytest.mark.django_db
def test_the_filesystem_keeps_no_versions(settings, tmp_path):
    store = use_store(settings, tmp_path, "file")
    obj = store_object(actor="system:test", stream=io.BytesIO(DATA))
    assert obj.version_id == ""
    result = store.verify(obj.sha256)
    assert result.ok and result.newer == () and result.version == ""
