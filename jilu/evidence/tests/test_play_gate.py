"""A play is never a copy (C6.3, C6.5.7): plays are served by byte ranges only.

A media element always sends ``Range``; a request for the whole object in one
response is a copy of the original, which needs an approved 调用单. It is
refused (403, with the reason in words) and the refusal is audited, on the web
play address and on the API's content endpoint. Downloads under an approved
request are unchanged.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from conftest import api_auth, streamed
from jilu.access.testing import grant_copy
from jilu.audit.labels import action_label
from jilu.evidence.models import Derivative, MediaInfo
from jilu.evidence.tests.recordings import audit_entries, officers_recording

DATA = bytes((i * 11 + 1) % 256 for i in range(4001))
START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def rec(store, people, tree):
    return officers_recording(people, tree, start=START, data=DATA)


WHOLE_REQUESTS = [
    {},  # no Range at all: what a script or `curl` sends
    {"HTTP_RANGE": "bytes=5-2"},  # invalid: would be answered whole
    {"HTTP_RANGE": "bytes=0-1,5-6"},  # several ranges: would be answered whole
    {"HTTP_RANGE": "items=0-1"},
    {"HTTP_RANGE": "bytes=0-9", "HTTP_IF_RANGE": '"0000"'},  # If-Range mismatch: whole
]


@pytest.mark.django_db
@pytest.mark.parametrize("headers", WHOLE_REQUESTS)
def test_c6_3_play_of_the_whole_original_is_refused_and_audited(client, rec, people, headers):
    """C6.3, C6.5.7: squad leader and officer in scope, no 调用单: no whole copy by "play"."""
    for name in ("officer", "squad_leader"):
        client.force_login(people[name])
        response = client.get(reverse("evidence:recording_play", args=[rec.pk]), **headers)
        assert response.status_code == 403, (name, headers)
        html = response.content.decode()
        assert "调用单" in html and "整份获取" in html and 'id="request-copy"' in html
        assert not hasattr(response, "streaming_content")
    refused = audit_entries("refused", rec)
    assert len(refused) == 2
    assert refused[0].details == {"wanted": "play", "reason": "whole_object"}
    assert "复制须调用单" in action_label(refused[0].action, refused[0].details)
    assert not audit_entries("play", rec)


@pytest.mark.django_db
def test_c6_5_7_ranges_still_play_exactly_including_bytes_0(client, rec, people):
    client.force_login(people["officer"])
    url = reverse("evidence:recording_play", args=[rec.pk])
    first = client.get(url, HTTP_RANGE="bytes=0-")
    assert first.status_code == 206 and streamed(first) == DATA
    part = client.get(url, HTTP_RANGE="bytes=10-19", HTTP_IF_RANGE=f'"{rec.sha256}"')
    assert part.status_code == 206 and streamed(part) == DATA[10:20]
    assert client.get(url, HTTP_RANGE=f"bytes={len(DATA)}-").status_code == 416
    assert len(audit_entries("play", rec)) == 1 and not audit_entries("refused", rec)


@pytest.mark.django_db
def test_c6_3_derived_playback_copy_gets_the_same_rule(client, rec, people):
    """The H.264 copy of an H.265 original carries the whole content too (C6.5.2)."""
    from jilu.evidence.actions import store_object

    MediaInfo.objects.create(recording=rec, integrity="complete", browser_playable=False)
    copy = store_object(actor="system:test", stream=io.BytesIO(b"h264 copy" * 100))
    Derivative.objects.create(
        recording=rec, kind="playback", stored_object=copy, content_type="video/mp4"
    )
    client.force_login(people["officer"])
    url = reverse("evidence:recording_play", args=[rec.pk])
    assert client.get(url).status_code == 403
    ranged = client.get(url, HTTP_RANGE="bytes=0-")
    assert ranged.status_code == 206 and streamed(ranged) == b"h264 copy" * 100


@pytest.mark.django_db
def test_c6_3_downloads_under_an_approved_request_stay_whole(client, rec, people):
    grant_copy(people["archivist"], [rec])
    client.force_login(people["archivist"])
    response = client.get(reverse("evidence:recording_download", args=[rec.pk]))
    assert response.status_code == 200 and streamed(response) == DATA
    client.force_login(people["squad_leader"])
    assert client.get(reverse("evidence:recording_download", args=[rec.pk])).status_code == 403


@pytest.mark.django_db
def test_c6_3_accel_mode_refuses_before_handing_to_nginx(client, people, tree, settings, tmp_path):
    from jilu.evidence.tests.conftest import use_store

    use_store(settings, tmp_path, "file")
    rec = officers_recording(people, tree, start=START, data=DATA)
    settings.SERVE_MODE = "accel"
    client.force_login(people["officer"])
    url = reverse("evidence:recording_play", args=[rec.pk])
    refused = client.get(url)
    assert refused.status_code == 403 and "X-Accel-Redirect" not in refused
    assert "X-Accel-Redirect" in client.get(url, HTTP_RANGE="bytes=0-9")


# --- the API ---------------------------------------------------------------------


@pytest.mark.django_db
def test_c6_3_api_content_without_range_is_refused_with_json(client, rec, people):
    auth = api_auth(client, "squad_leader")
    url = f"/api/v1/recordings/{rec.pk}/content"
    response = client.get(url, **auth)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert "调用单" in response.json()["detail"]
    (entry,) = audit_entries("refused", rec)
    assert entry.details == {"wanted": "play", "reason": "whole_object", "via": "api"}
    ranged = client.get(url, HTTP_RANGE="bytes=0-", **auth)
    assert ranged.status_code == 206 and streamed(ranged) == DATA
    # download=true is the copy procedure, unchanged: refused without a 调用单 ...
    refused = client.get(url + "?download=true", **auth)
    assert refused.status_code == 403 and "调用单" in refused.json()["detail"]
    # ... and whole with one.
    grant_copy(people["archivist"], [rec])
    archivist = api_auth(client, "archivist")
    copy = client.get(url + "?download=true", **archivist)
    assert copy.status_code == 200 and streamed(copy) == DATA


# --- the API's list: dates it cannot serve -----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "date_from=0001-01-01",
        "date_to=0001-01-01",
        "date_from=9999-12-31",
        "date_to=9999-12-31",
        "date_from=2026-11-21&date_to=2026-11-20",
    ],
)
def test_api_list_answers_bad_dates_with_a_json_message(client, people, query):
    auth = api_auth(client, "inspector")
    response = client.get(f"/api/v1/recordings?{query}", **auth)
    assert response.status_code == 400, response.content[:300]
    body = json.loads(response.content)
    assert "date_" in body["detail"]
    assert "2000-01-01" in body["detail"] or "不能晚于" in body["detail"]


@pytest.mark.django_db
def test_api_list_takes_good_dates(client, rec, people):
    auth = api_auth(client, "officer")
    response = client.get("/api/v1/recordings?date_from=2026-11-20&date_to=2026-11-20", **auth)
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [rec.pk]


# --- nginx's signed-link location --------------------------------------------------


def test_c6_3_nginx_link_location_refuses_requests_without_a_range(settings, tmp_path):
    from jilu.evidence.links import nginx_locations

    settings.STORE_ROOT = tmp_path / "store"
    settings.SERVE_LINK_SECRET = "a-test-secret-that-is-long-enough"
    text = nginx_locations()
    link_block = text.split("secure_link $arg_s")[1]
    assert 'if ($http_range !~ "^bytes=[0-9]*-[0-9]*$") { return 403; }' in link_block
