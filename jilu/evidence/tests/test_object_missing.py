"""A stored object missing from the store (C6.5.4): never a 500, always the alarm.

Play, download, derived pictures and the API's content answer 410 Gone with a
plain message (JSON ``{"detail": ...}`` on the API) and raise one fixity alarm,
however often the missing file is asked for. Processing that finds the
original gone raises the alarm too, and the recording page says 处理失败 in words.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.urls import reverse

from jilu.access.testing import grant_copy
from jilu.evidence.actions import store_object
from jilu.evidence.models import Derivative, FixityAlarm, MediaInfo
from jilu.evidence.tests.conftest import Behind
from jilu.evidence.tests.recordings import officers_recording

DATA = bytes((i * 5 + 2) % 256 for i in range(2500))
START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def gone(store, people, tree):
    """The officer's recording whose original has been removed behind the store's back."""
    rec = officers_recording(people, tree, start=START, data=DATA)
    Behind(store).remove(rec.sha256)
    return rec


def _alarms(sha256: str) -> int:
    return FixityAlarm.objects.filter(stored_object_id=sha256).count()


@pytest.mark.django_db
def test_c6_5_4_play_of_a_missing_original_is_410_and_raises_one_alarm(client, gone, people):
    client.force_login(people["officer"])
    url = reverse("evidence:recording_play", args=[gone.pk])
    for _ in range(3):
        response = client.get(url, HTTP_RANGE="bytes=0-")
        assert response.status_code == 410
        html = response.content.decode()
        assert "原始文件在证据存储中缺失" in html and "固定性告警" in html
        assert 'id="object-missing"' in html
        cache.clear()  # past the short lock: the open alarm alone stops a second one
    assert _alarms(gone.sha256) == 1
    alarm = FixityAlarm.objects.get()
    assert "缺失" in alarm.problem and alarm.fixity_check.size_found is None


@pytest.mark.django_db
def test_c6_5_4_download_of_a_missing_original_is_410(client, gone, people):
    grant_copy(people["archivist"], [gone])
    client.force_login(people["archivist"])
    response = client.get(reverse("evidence:recording_download", args=[gone.pk]))
    assert response.status_code == 410
    assert "原始文件在证据存储中缺失" in response.content.decode()
    assert _alarms(gone.sha256) == 1


@pytest.mark.django_db
def test_c6_5_4_missing_derived_picture_is_410(client, store, people, tree):
    rec = officers_recording(people, tree, start=START, data=DATA)
    jpg = store_object(actor="system:test", stream=io.BytesIO(b"\xff\xd8poster\xff\xd9"))
    Derivative.objects.create(
        recording=rec, kind="poster", stored_object=jpg, content_type="image/jpeg"
    )
    Behind(store).remove(jpg.sha256)
    client.force_login(people["officer"])
    response = client.get(reverse("evidence:recording_derived", args=[rec.pk, "poster"]))
    assert response.status_code == 410
    assert "派生文件" in response.content.decode()
    assert _alarms(jpg.sha256) == 1 and _alarms(rec.sha256) == 0


@pytest.mark.django_db
def test_c6_5_4_api_content_of_a_missing_original_is_410_json(client, gone, people):
    from conftest import PASSWORD

    token = client.post(
        "/api/v1/auth/token",
        {"username": "officer", "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    response = client.get(
        f"/api/v1/recordings/{gone.pk}/content",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_RANGE="bytes=0-9",
    )
    assert response.status_code == 410
    assert "原始文件在证据存储中缺失" in response.json()["detail"]
    assert _alarms(gone.sha256) == 1


@pytest.mark.django_db
def test_c6_5_4_production_modes_check_before_handing_over(client, gone, people, settings, store):
    """nginx (files) or S3 (presigned) would answer a missing object with a bare 404:
    Django checks first."""
    settings.SERVE_MODE = "s3" if store.kind == "s3" else "accel"
    client.force_login(people["officer"])
    response = client.get(reverse("evidence:recording_play", args=[gone.pk]), HTTP_RANGE="bytes=0-")
    assert response.status_code == 410
    assert "X-Accel-Redirect" not in response and "Location" not in response
    assert _alarms(gone.sha256) == 1


# --- found missing while processing ----------------------------------------------


@pytest.mark.django_db
def test_c6_5_4_processing_a_missing_original_raises_the_alarm_and_says_so(client, gone, people):
    from jilu.evidence.store import ObjectMissing
    from jilu.evidence.tasks import process_recording

    with pytest.raises(ObjectMissing):
        process_recording.call(gone.pk)
    assert _alarms(gone.sha256) == 1
    info = MediaInfo.objects.get(recording=gone)
    assert info.last_error.splitlines()[0].startswith("存储中找不到原始文件")
    assert "ObjectMissing" in info.last_error  # the exception stays for the administrator
    client.force_login(people["officer"])
    html = client.get(reverse("evidence:recording_detail", args=[gone.pk])).content.decode()
    top = html.split('class="sub"', 1)[1].split("</p>", 1)[0]
    assert "处理失败" in top and "存储中找不到原始文件" in top
    assert "待检测" not in top and "ObjectMissing" not in top
