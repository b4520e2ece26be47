"""tus 1.0 conformance of /api/v1/uploads/: core, creation, checksum, termination, expiration.

C6.5.4: acknowledged bytes are durable, a chunk that fails its checksum is
discarded, and nothing of an unfinished upload is ever visible as evidence.
"""

from __future__ import annotations

import base64
import fcntl
import os
from datetime import timedelta

import pytest
from django.utils import timezone

from jilu.audit.models import AuditEntry
from jilu.evidence.models import Recording, StoredObject
from jilu.ingest import actions, locks, spool
from jilu.ingest.models import Upload
from jilu.ingest.tests.conftest import digests, hours_ago, metadata, mp4, name_for, sha1_header

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    return mp4(7)


@pytest.fixture
def fname(people):
    return name_for(hours_ago(3), user_no=people["officer"].user_no)


def _created(tus, data, fname, docking):
    resp = tus.create(data, fname, docking=docking)
    assert resp.status_code == 201, resp.content
    return resp["Location"]


def test_options_lists_version_extensions_and_algorithms(client):
    resp = client.options("/api/v1/uploads/")
    assert resp.status_code == 204
    assert resp["Tus-Version"] == "1.0.0"
    assert set(resp["Tus-Extension"].split(",")) == {
        "creation",
        "checksum",
        "termination",
        "expiration",
    }
    assert set(resp["Tus-Checksum-Algorithm"].split(",")) == {"sha1", "sha256", "md5"}
    assert int(resp["Tus-Max-Size"]) >= 64 * 1024**3


def test_creation_answers_location_and_expiry(tus, docking, data, fname):
    resp = tus.create(data, fname, docking=docking, mtime="2026-11-26T09:00:00+08:00")
    assert resp.status_code == 201
    assert resp["Tus-Resumable"] == "1.0.0"
    assert resp["Location"].startswith("/api/v1/uploads/")
    assert "GMT" in resp["Upload-Expires"]
    upload = Upload.objects.get()
    assert (upload.length, upload.offset, upload.filename) == (len(data), 0, fname)
    assert (upload.sha256, upload.sm3) == digests(data)
    assert upload.docking == docking and upload.station == docking.station
    assert upload.expires_at - timezone.now() > timedelta(days=6, hours=23)
    assert AuditEntry.objects.filter(
        action="ingest.upload.create", object_id=str(upload.pk)
    ).exists()
    # Nothing is visible before the bytes arrive.
    assert not Recording.objects.exists() and not StoredObject.objects.exists()


@pytest.mark.parametrize(
    ("headers", "status", "fragment"),
    [
        ({"Upload-Length": "-1"}, 400, "Upload-Length"),
        ({"Upload-Length": "abc"}, 400, "Upload-Length"),
        ({"Upload-Length": None, "Upload-Defer-Length": "1"}, 400, "Upload-Defer-Length"),
        ({"Upload-Length": str(65 * 1024**3)}, 413, "上限"),
        ({"Upload-Metadata": "filename !!!notbase64"}, 400, "base64"),
        ({"Upload-Metadata": "a b c"}, 400, "格式错误"),
    ],
)
def test_creation_refuses_bad_headers(tus, docking, data, fname, headers, status, fragment):
    h = tus.headers(
        Upload_Length=str(len(data)),
        Upload_Metadata=metadata(docking=docking.pk, filename=fname, sha256="a" * 64, sm3="b" * 64),
    )
    for key, value in headers.items():
        if value is None:
            h.pop(key, None)
        else:
            h[key] = value
    resp = tus.client.post("/api/v1/uploads/", headers=h)
    assert resp.status_code == status
    assert fragment in resp.json()["detail"]
    assert not Upload.objects.exists()


@pytest.mark.parametrize(
    ("meta", "fragment"),
    [
        ({"filename": None}, "filename"),
        ({"filename": "../../etc/passwd"}, ".."),
        ({"filename": "/abs/x.MP4"}, "绝对路径"),
        ({"sha256": "xyz"}, "sha256"),
        ({"sm3": ""}, "sm3"),
        ({"docking": None}, "docking"),
        ({"docking": "99999"}, "不存在"),
        ({"mtime": "yesterday"}, "mtime"),
    ],
)
def test_creation_refuses_bad_metadata(tus, docking, data, fname, meta, fragment):
    s, m = digests(data)
    values = {"docking": docking.pk, "filename": fname, "sha256": s, "sm3": m, **meta}
    resp = tus.client.post(
        "/api/v1/uploads/",
        headers=tus.headers(Upload_Length=str(len(data)), Upload_Metadata=metadata(**values)),
    )
    assert resp.status_code == 400
    assert fragment in resp.json()["detail"]


def test_a_docking_of_another_station_is_refused(tus, docking, data, fname, tree):
    from jilu.devices.actions import create_workstation
    from jilu.ingest.tests.conftest import open_docking

    other, _ = create_workstation(actor="system:test", unit=tree["squad2"], name="鹭江工作站")
    foreign = open_docking(other)
    resp = tus.create(data, fname, docking=foreign)
    assert resp.status_code == 400
    assert "不属于本工作站" in resp.json()["detail"]


def test_missing_or_wrong_tus_resumable_is_412(tus, docking, data, fname):
    h = tus.headers(Upload_Length="10", Upload_Metadata="")
    h["Tus-Resumable"] = "0.2.2"
    resp = tus.client.post("/api/v1/uploads/", headers=h)
    assert resp.status_code == 412
    assert resp["Tus-Version"] == "1.0.0"


def test_head_reports_offset_length_and_metadata(tus, docking, data, fname):
    url = _created(tus, data, fname, docking)
    resp = tus.head(url)
    assert resp.status_code == 200
    assert resp["Upload-Offset"] == "0"
    assert resp["Upload-Length"] == str(len(data))
    assert resp["Cache-Control"] == "no-store"
    assert "filename" in resp["Upload-Metadata"]
    assert tus.patch(url, 0, data[:100]).status_code == 204
    assert tus.head(url)["Upload-Offset"] == "100"


def test_patch_appends_and_acknowledges_offset(tus, docking, data, fname):
    url = _created(tus, data, fname, docking)
    resp = tus.patch(url, 0, data[:500])
    assert resp.status_code == 204
    assert resp["Upload-Offset"] == "500"
    assert "Upload-Expires" in resp
    upload = Upload.objects.get()
    assert upload.offset == 500
    assert spool.partial_path(upload.pk).read_bytes() == data[:500]


def test_patch_at_a_wrong_offset_is_409(tus, docking, data, fname):
    url = _created(tus, data, fname, docking)
    tus.patch(url, 0, data[:100])
    resp = tus.patch(url, 50, data[50:150])
    assert resp.status_code == 409
    assert resp["Upload-Offset"] == "100"
    assert Upload.objects.get().offset == 100


def test_patch_needs_the_offset_content_type(tus, docking, data, fname):
    url = _created(tus, data, fname, docking)
    resp = tus.patch(url, 0, data[:10], content_type="application/octet-stream")
    assert resp.status_code == 415


def test_patch_beyond_the_declared_length_is_refused(tus, docking, data, fname):
    url = _created(tus, data, fname, docking)
    resp = tus.patch(url, 0, data + b"extra")
    assert resp.status_code == 413
    assert Upload.objects.get().offset == 0


@pytest.mark.parametrize("algo", ["sha1", "sha256", "md5"])
def test_a_matching_chunk_checksum_is_accepted(tus, docking, data, fname, algo):
    url = _created(tus, data, fname, docking)
    resp = tus.patch(url, 0, data[:300], checksum=sha1_header(data[:300], algo))
    assert resp.status_code == 204
    assert resp["Upload-Offset"] == "300"


def test_a_chunk_checksum_mismatch_is_460_and_the_chunk_is_discarded(tus, docking, data, fname):
    """C6.5.4: a corrupted chunk never becomes part of the file."""
    url = _created(tus, data, fname, docking)
    tus.patch(url, 0, data[:200], checksum=sha1_header(data[:200]))
    corrupted = bytes([data[200] ^ 1]) + data[201:400]
    resp = tus.patch(url, 200, corrupted, checksum=sha1_header(data[200:400], "sha256"))
    assert resp.status_code == 460
    assert resp["Upload-Offset"] == "200"
    assert "校验值不符" in resp.json()["detail"]
    upload = Upload.objects.get()
    assert upload.offset == 200
    assert spool.partial_path(upload.pk).read_bytes() == data[:200]
    # The right bytes then go through, and the file completes as a recording.
    assert tus.patch(url, 200, data[200:], checksum=sha1_header(data[200:])).status_code == 204
    assert Recording.objects.get().sha256 == digests(data)[0]


def test_an_unsupported_checksum_algorithm_is_400(tus, docking, data, fname):
    url = _created(tus, data, fname, docking)
    resp = tus.patch(url, 0, data[:10], checksum="crc32 AAAAAA==")
    assert resp.status_code == 400
    bad_b64 = tus.patch(url, 0, data[:10], checksum="sha1 ***")
    assert bad_b64.status_code == 400


def test_termination_discards_an_unfinished_upload(
    tus, docking, data, fname, django_capture_on_commit_callbacks
):
    url = _created(tus, data, fname, docking)
    tus.patch(url, 0, data[:100])
    upload = Upload.objects.get()
    assert spool.partial_path(upload.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        resp = tus.delete(url)
    assert resp.status_code == 204
    upload.refresh_from_db()
    assert upload.state == Upload.State.TERMINATED
    assert not spool.partial_path(upload.pk).exists()
    assert tus.head(url).status_code == 410
    assert tus.patch(url, 100, data[100:200]).status_code == 410
    assert AuditEntry.objects.filter(action="ingest.upload.terminate").count() == 1


def test_a_completed_upload_cannot_be_deleted(tus, docking, data, fname):
    """C6.5.3: evidence once taken in is never deleted through the upload URL."""
    resp = tus.upload(data, fname, docking=docking)
    assert resp.status_code == 204
    url = Upload.objects.get().pk
    resp = tus.delete(f"/api/v1/uploads/{url}")
    assert resp.status_code == 403
    assert Recording.objects.count() == 1


def test_expired_uploads_are_gone(tus, docking, data, fname, django_capture_on_commit_callbacks):
    url = _created(tus, data, fname, docking)
    tus.patch(url, 0, data[:100])
    upload = Upload.objects.get()
    Upload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tus.head(url).status_code == 410
    upload.refresh_from_db()
    assert upload.state == Upload.State.EXPIRED
    assert not spool.partial_path(upload.pk).exists()
    assert tus.patch(url, 100, data[100:]).status_code == 410


def test_expire_uploads_gives_up_idle_uploads_only(tus, docking, data, fname):
    idle = _created(tus, data, fname, docking)
    tus.patch(idle, 0, data[:10])
    busy = _created(tus, mp4(8), fname.replace("_0001", "_0002"), docking)
    idle_upload = Upload.objects.get(pk=idle.rsplit("/", 1)[-1])
    Upload.objects.filter(pk=idle_upload.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert actions.expire_uploads() == 1
    assert actions.expire_uploads() == 0  # idempotent
    states = dict(Upload.objects.values_list("pk", "state"))
    assert states[idle_upload.pk] == Upload.State.EXPIRED
    assert states[Upload.objects.get(pk=busy.rsplit("/", 1)[-1]).pk] == Upload.State.RECEIVING
    assert AuditEntry.objects.filter(action="ingest.upload.expire").count() == 1


def test_the_expiry_task_runs_the_same_action(tus, docking, data, fname):
    from jilu.ingest.tasks import expire_uploads

    url = _created(tus, data, fname, docking)
    Upload.objects.filter(pk=url.rsplit("/", 1)[-1]).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    assert expire_uploads.call() == 1


def test_each_patch_extends_the_expiry(tus, docking, data, fname):
    url = _created(tus, data, fname, docking)
    Upload.objects.update(expires_at=timezone.now() + timedelta(hours=1))
    tus.patch(url, 0, data[:10])
    assert Upload.objects.get().expires_at > timezone.now() + timedelta(days=6)


def test_unacknowledged_bytes_after_a_crash_are_cut_off(tus, docking, data, fname):
    """A server that died after writing but before acknowledging resumes from the durable offset."""
    url = _created(tus, data, fname, docking)
    tus.patch(url, 0, data[:100])
    upload = Upload.objects.get()
    with open(spool.partial_path(upload.pk), "ab") as fh:
        fh.write(b"garbage written before the crash")
    assert tus.head(url)["Upload-Offset"] == "100"
    assert tus.patch(url, 100, data[100:]).status_code == 204
    assert Recording.objects.get().sha256 == digests(data)[0]


def test_a_spool_file_shorter_than_the_offset_voids_the_upload(tus, docking, data, fname):
    url = _created(tus, data, fname, docking)
    tus.patch(url, 0, data[:100])
    upload = Upload.objects.get()
    os.truncate(spool.partial_path(upload.pk), 10)
    resp = tus.patch(url, 100, data[100:])
    assert resp.status_code == 410
    upload.refresh_from_db()
    assert upload.state == Upload.State.FAILED
    assert not Recording.objects.exists()


def test_a_concurrent_writer_gets_423(tus, docking, data, fname):
    url = _created(tus, data, fname, docking)
    upload = Upload.objects.get()
    fd = os.open(locks.lock_path(upload.pk), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        resp = tus.patch(url, 0, data[:10])
        assert resp.status_code == 423
    finally:
        os.close(fd)
    assert tus.patch(url, 0, data[:10]).status_code == 204


def test_method_override_for_clients_without_patch(tus, docking, data, fname):
    url = _created(tus, data, fname, docking)
    resp = tus.client.post(
        url,
        data=data[:50],
        content_type="application/offset+octet-stream",
        headers=tus.headers(Upload_Offset="0", X_HTTP_Method_Override="PATCH"),
    )
    assert resp.status_code == 204
    assert resp["Upload-Offset"] == "50"


def test_no_token_or_a_revoked_token_is_401(tus, docking, data, fname, station, people):
    from jilu.devices.actions import revoke_workstation

    url = _created(tus, data, fname, docking)
    anonymous = tus.client.head(url, headers={"Tus-Resumable": "1.0.0"})
    assert anonymous.status_code == 401
    revoke_workstation(actor=people["admin"], station=station)
    for resp in (
        tus.head(url),
        tus.patch(url, 0, data[:10]),
        tus.create(data, fname, docking=docking),
    ):
        assert resp.status_code == 401
    resp = tus.patch(url, 0, data[:10])
    assert "吊销" in resp.json()["detail"]
    assert Upload.objects.get().offset == 0


def test_another_stations_upload_is_404(tus, docking, data, fname, tree):
    from django.test import Client

    from jilu.devices.actions import create_workstation
    from jilu.ingest.tests.conftest import Tus

    url = _created(tus, data, fname, docking)
    _, other_token = create_workstation(actor="system:test", unit=tree["squad2"], name="鹭江工作站")
    other = Tus(Client(), other_token)
    assert other.head(url).status_code == 404
    assert other.patch(url, 0, data[:10]).status_code == 404
    assert other.delete(url).status_code == 404


def _person_token(person) -> str:
    import secrets

    from jilu.org.api_auth import token_digest
    from jilu.org.models import ApiToken

    raw = "jpt_" + secrets.token_urlsafe(24)
    ApiToken.objects.create(
        person=person,
        digest=token_digest(raw),
        prefix=raw[:8],
        expires_at=timezone.now() + timedelta(days=1),
    )
    return raw


def test_an_officers_token_may_not_upload(people, data, fname):
    from django.test import Client

    from jilu.ingest.tests.conftest import Tus

    officer = Tus(Client(), _person_token(people["officer"]))
    resp = officer.create(data, fname)
    assert resp.status_code == 403


def test_an_administrator_may_import_by_hand_without_a_docking(people, recorder, data, fname):
    from django.test import Client

    from jilu.ingest.tests.conftest import Tus

    admin = Tus(Client(), _person_token(people["admin"]))
    resp = admin.upload(data, fname)
    assert resp.status_code == 204, resp.content
    rec = Recording.objects.get(pk=resp["Jilu-Recording-Id"])
    assert rec.docking is None and rec.station is None
    assert rec.officer == people["officer"]
    entry = AuditEntry.objects.get(action="ingest.recording.create")
    assert entry.actor == people["admin"]
    # A docking does not belong to a person's upload.
    resp = admin.create(data, fname, docking=type("D", (), {"pk": 1})())
    assert resp.status_code == 400


def test_a_completed_upload_answers_head_and_repeated_last_patch(tus, docking, data, fname):
    resp = tus.upload(data, fname, docking=docking)
    url = f"/api/v1/uploads/{Upload.objects.get().pk}"
    rec_id = resp["Jilu-Recording-Id"]
    head = tus.head(url)
    assert head.status_code == 200
    assert head["Upload-Offset"] == str(len(data))
    assert head["Jilu-Recording-Id"] == rec_id
    assert "Upload-Expires" not in head
    again = tus.patch(url, len(data), b"")
    assert again.status_code == 204 and again["Jilu-Recording-Id"] == rec_id


def test_received_but_unfinished_upload_completes_on_head(tus, docking, data, fname):
    """The server died after acknowledging the last byte but before storing: HEAD finishes it."""
    url = _created(tus, data, fname, docking)
    upload = Upload.objects.get()
    spool.partial_path(upload.pk).write_bytes(data)
    Upload.objects.filter(pk=upload.pk).update(offset=len(data))
    resp = tus.head(url)
    assert resp.status_code == 200
    assert resp["Upload-Offset"] == str(len(data))
    assert Recording.objects.get().pk == int(resp["Jilu-Recording-Id"])
    assert not spool.partial_path(upload.pk).exists()


def test_metadata_values_may_be_empty_and_unicode(tus, docking, data):
    from jilu.ingest.tus import parse_metadata

    assert parse_metadata("") == {}
    encoded = base64.b64encode("王五.MP4".encode()).decode()
    assert parse_metadata(f"filename {encoded},flag") == {"filename": "王五.MP4", "flag": ""}
    with pytest.raises(ValueError):
        parse_metadata("filename a,filename b")


def test_spool_leftovers_of_ended_uploads_are_removed(tus, docking, data, fname):
    import uuid

    live = _created(tus, data, fname, docking)
    tus.patch(live, 0, data[:10])
    ended = _created(tus, mp4(9), fname.replace("_0001", "_0002"), docking)
    tus.patch(ended, 0, data[:10])
    live_upload = Upload.objects.get(pk=live.rsplit("/", 1)[-1])
    ended_upload = Upload.objects.get(pk=ended.rsplit("/", 1)[-1])
    Upload.objects.filter(pk=ended_upload.pk).update(state=Upload.State.TERMINATED)
    stray = spool.uploads_dir() / f"{uuid.uuid4().hex}.part"
    stray.write_bytes(b"never acknowledged")
    fresh = spool.uploads_dir() / f"{uuid.uuid4().hex}.part"
    fresh.write_bytes(b"just created")
    old = timezone.now().timestamp() - 7200
    for path in (spool.partial_path(live_upload.pk), spool.partial_path(ended_upload.pk), stray):
        os.utime(path, (old, old))
    assert actions.remove_spool_leftovers() == 2
    assert spool.partial_path(live_upload.pk).exists()
    assert not spool.partial_path(ended_upload.pk).exists() and not stray.exists()
    assert fresh.exists()  # too young to judge


def test_creating_an_upload_sweeps_expired_ones(tus, docking, data, fname, monkeypatch):
    from jilu.ingest import tus as tus_server

    stale = _created(tus, data, fname, docking)
    Upload.objects.filter(pk=stale.rsplit("/", 1)[-1]).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    monkeypatch.setattr(tus_server, "_last_sweep", None)
    _created(tus, mp4(9), fname.replace("_0001", "_0002"), docking)
    assert Upload.objects.get(pk=stale.rsplit("/", 1)[-1]).state == Upload.State.EXPIRED
