"""Playback and download over HTTP Range, on both store backends (C6.3, C6.5.7).

Any byte range of a stored recording comes back exactly; unsatisfiable ranges
are 416; people outside the recording's scope get 404 and the refusal is
audited; every play and download is audited.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from conftest import streamed
from jilu.access.testing import grant_copy
from jilu.evidence import playback
from jilu.evidence.models import Derivative
from jilu.evidence.tests.recordings import audit_entries, officers_recording

DATA = bytes((i * 7 + 3) % 256 for i in range(3001))
START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def rec(store, people, tree):
    return officers_recording(people, tree, start=START, data=DATA)


# --- the parser, without HTTP -------------------------------------------------


def test_parse_range_cases():
    assert playback.parse_range(None, 100) is None
    assert playback.parse_range("bytes=0-9", 100) == playback.ByteRange(0, 9)
    assert playback.parse_range("bytes=90-", 100) == playback.ByteRange(90, 99)
    assert playback.parse_range("bytes=90-500", 100) == playback.ByteRange(90, 99)
    assert playback.parse_range("bytes=-10", 100) == playback.ByteRange(90, 99)
    assert playback.parse_range("bytes=-500", 100) == playback.ByteRange(0, 99)
    assert playback.parse_range("bytes=9-2", 100) is None  # invalid: ignored, whole object
    assert playback.parse_range("bytes=0-1,5-6", 100) is None  # multiple: whole object
    assert playback.parse_range("items=0-1", 100) is None
    for bad in ("bytes=100-", "bytes=100-200", "bytes=-0"):
        with pytest.raises(playback.Unsatisfiable):
            playback.parse_range(bad, 100)
    with pytest.raises(playback.Unsatisfiable):
        playback.parse_range("bytes=-5", 0)


def test_content_disposition_keeps_chinese_names():
    value = playback.content_disposition("attachment", "DCIM/思明区_张三_20261120.MP4")
    assert value.startswith('attachment; filename="')
    assert unquote(value.split("filename*=UTF-8''", 1)[1]) == "思明区_张三_20261120.MP4"
    assert "思" not in value.split(";")[1]  # the ASCII fallback is ASCII


# --- HTTP on both backends ----------------------------------------------------------


@pytest.mark.django_db
def test_every_byte_range_comes_back_exactly(client, rec, people):
    """C6.5.3: the bytes served are the stored bytes, for any range (both backends)."""
    client.force_login(people["officer"])
    url = reverse("evidence:recording_play", args=[rec.pk])
    size = len(DATA)

    @hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, size - 1), st.integers(0, size + 50))
    def check(start, length):
        end = start + length
        response = client.get(url, HTTP_RANGE=f"bytes={start}-{end}")
        assert response.status_code == 206
        last = min(end, size - 1)
        assert response["Content-Range"] == f"bytes {start}-{last}/{size}"
        body = streamed(response)
        assert body == DATA[start : last + 1]
        assert int(response["Content-Length"]) == len(body)

    check()


@pytest.mark.django_db
def test_whole_suffix_and_unsatisfiable(client, rec, people):
    client.force_login(people["officer"])
    url = reverse("evidence:recording_play", args=[rec.pk])
    # A play is read by ranges only (C6.3, test_play_gate.py); bytes=0- is all of it.
    whole = client.get(url, HTTP_RANGE="bytes=0-")
    assert whole.status_code == 206
    assert whole["Accept-Ranges"] == "bytes"
    assert whole["ETag"] == f'"{rec.sha256}"'
    assert whole["Content-Type"] == "video/mp4"
    assert streamed(whole) == DATA
    suffix = client.get(url, HTTP_RANGE="bytes=-100")
    assert suffix.status_code == 206
    assert suffix["Content-Range"] == f"bytes {len(DATA) - 100}-{len(DATA) - 1}/{len(DATA)}"
    assert streamed(suffix) == DATA[-100:]
    open_ended = client.get(url, HTTP_RANGE="bytes=3000-")
    assert streamed(open_ended) == DATA[3000:]
    too_far = client.get(url, HTTP_RANGE=f"bytes={len(DATA)}-")
    assert too_far.status_code == 416
    assert too_far["Content-Range"] == f"bytes */{len(DATA)}"


@pytest.mark.django_db
def test_if_range_with_another_etag_sends_everything(client, rec, people):
    client.force_login(people["officer"])
    url = reverse("evidence:recording_play", args=[rec.pk])
    same = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=f'"{rec.sha256}"')
    assert same.status_code == 206 and streamed(same) == DATA[:10]
    # Another ETag would get the whole object: for a play that is a copy (C6.3).
    other = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"0000"')
    assert other.status_code == 403
    cached = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_NONE_MATCH=f'"{rec.sha256}"')
    assert cached.status_code == 304


@pytest.mark.django_db
def test_download_names_the_original_and_is_audited(client, rec, people):
    """C6.3 / C6.5.7: every download (an archivist's copy under an approved
    调用单) is on record with who and when."""
    grant_copy(people["archivist"], [rec])
    client.force_login(people["archivist"])
    response = client.get(reverse("evidence:recording_download", args=[rec.pk]))
    assert response.status_code == 200
    assert streamed(response) == DATA
    assert "attachment;" in response["Content-Disposition"]
    assert "A000001_900001_20261120090000_0001.MP4" in response["Content-Disposition"]
    (entry,) = audit_entries("download", rec)
    assert entry.actor_id == people["archivist"].pk


@pytest.mark.django_db
def test_play_is_audited_once_per_viewing_not_per_range(client, rec, people):
    client.force_login(people["officer"])
    url = reverse("evidence:recording_play", args=[rec.pk])
    for start in (0, 100, 2000):
        assert client.get(url, HTTP_RANGE=f"bytes={start}-").status_code == 206
    assert len(audit_entries("play", rec)) == 1


@pytest.mark.django_db
def test_outside_scope_is_404_and_the_refusal_is_audited(client, rec, people):
    """C6.5.7: viewing without the procedure is refused and the attempt is on record."""
    for name in ("officer_b", "officer_other", "squad_admin"):
        client.force_login(people[name])
        for route in ("recording_play", "recording_download", "recording_detail"):
            response = client.get(reverse(f"evidence:{route}", args=[rec.pk]))
            assert response.status_code == 404, (name, route)
    refused = audit_entries("refused", rec)
    assert len(refused) == 9
    assert {e.details["wanted"] for e in refused} == {"play", "download", "view"}
    assert not audit_entries("play", rec) and not audit_entries("download", rec)


@pytest.mark.django_db
def test_anonymous_gets_no_bytes(client, rec):
    response = client.get(reverse("evidence:recording_play", args=[rec.pk]))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.django_db
def test_playback_copy_when_the_original_is_not_playable(client, rec, people):
    """An H.265 original plays through its derived H.264 copy; download gives the original."""
    import io

    from jilu.evidence.actions import store_object
    from jilu.evidence.models import MediaInfo

    MediaInfo.objects.create(recording=rec, integrity="complete", browser_playable=False)
    copy = store_object(actor="system:test", stream=io.BytesIO(b"h264 copy" * 100))
    Derivative.objects.create(
        recording=rec, kind="playback", stored_object=copy, content_type="video/mp4"
    )
    client.force_login(people["officer"])
    played = client.get(reverse("evidence:recording_play", args=[rec.pk]), HTTP_RANGE="bytes=0-")
    assert streamed(played) == b"h264 copy" * 100
    assert played["ETag"] == f'"{copy.sha256}"'
    grant_copy(people["archivist"], [rec])
    client.force_login(people["archivist"])
    downloaded = client.get(reverse("evidence:recording_download", args=[rec.pk]))
    assert streamed(downloaded) == DATA
    client.force_login(people["officer"])
    page = client.get(reverse("evidence:recording_detail", args=[rec.pk]))
    assert "派生" in page.content.decode()
    assert audit_entries("play", rec)[0].details == {"derived": True}


@pytest.mark.django_db
def test_production_modes(client, rec, people, settings, store):
    """accel: nginx serves the file; s3: a presigned URL issued for this request."""
    client.force_login(people["officer"])
    url = reverse("evidence:recording_play", args=[rec.pk])
    if store.kind == "file":
        settings.SERVE_MODE = "accel"
        response = client.get(url, HTTP_RANGE="bytes=0-9")
        assert response.status_code == 200
        key = rec.sha256
        assert response["X-Accel-Redirect"] == f"/_jilu_store/objects/{key[:2]}/{key[2:4]}/{key}"
        assert response["ETag"] == f'"{key}"'
    else:
        import urllib.request

        settings.SERVE_MODE = "s3"
        response = client.get(url, HTTP_RANGE="bytes=10-19")
        assert response.status_code == 302
        location = response["Location"]
        assert "Signature" in location
        query = parse_qs(urlsplit(location).query)
        if "X-Amz-Expires" in query:  # SigV4
            assert query["X-Amz-Expires"] == ["60"]
        else:  # SigV2: an absolute expiry a minute from now
            assert 0 < int(query["Expires"][0]) - time.time() <= 61
        with urllib.request.urlopen(
            urllib.request.Request(location, headers={"Range": "bytes=10-19"})
        ) as got:
            assert got.read() == DATA[10:20]
    assert len(audit_entries("play", rec)) == 1
