"""Finding recordings and the recording page: scope, filters, search, custody (C5.1, C6.3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from jilu.access.testing import grant_copy
from jilu.audit.models import AuditEntry
from jilu.evidence.models import Derivative
from jilu.evidence.queries import RecordingFilters, find_recordings
from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import make_recording, recorder_for

NINE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


@pytest.fixture
def recs(settings, tmp_path, people, tree):
    use_store(settings, tmp_path, "file")
    r1 = recorder_for(people["officer"], tree["squad1"], "A000001")
    r2 = recorder_for(people["officer_b"], tree["squad1"], "A000002")
    r3 = recorder_for(people["officer_other"], tree["squad3"], "B000003")
    return {
        "own": make_recording(
            officer=people["officer"],
            recorder=r1,
            start=NINE,
            integrity="complete",
            name="A000001_900001_20261120090000_0001.MP4",
        ),
        "own_late": make_recording(
            officer=people["officer"],
            recorder=r1,
            start=NINE - timedelta(days=3),
            docked_at=NINE,
            integrity="incomplete",
            name="A000001_900001_20261117090000_0002.MP4",
        ),
        "colleague": make_recording(
            officer=people["officer_b"], recorder=r2, start=NINE, kind="audio"
        ),
        "other_district": make_recording(
            officer=people["officer_other"], recorder=r3, start=NINE, kind="photo"
        ),
    }


def _listed(client, **params) -> set[str]:
    response = client.get(reverse("evidence:recording_list"), params)
    assert response.status_code == 200
    return {row["rec"].original_name for row in response.context["rows"]}


def _names(recs, *keys) -> set[str]:
    return {recs[k].original_name for k in keys}


@pytest.mark.django_db
def test_who_sees_what(client, people, recs):
    """Officer: own; squad leader: squad's; inspector: everything; other district: theirs."""
    expected = {
        "officer": ("own", "own_late"),
        "officer_b": ("colleague",),
        "squad_leader": ("own", "own_late", "colleague"),
        "brigade_leader": ("own", "own_late", "colleague"),
        "officer_other": ("other_district",),
        "squad_admin": ("other_district",),
        "inspector": ("own", "own_late", "colleague", "other_district"),
        "admin": ("own", "own_late", "colleague", "other_district"),
    }
    for name, keys in expected.items():
        client.force_login(people[name])
        assert _listed(client) == _names(recs, *keys), name
    client.logout()
    assert client.get(reverse("evidence:recording_list")).status_code == 302


@pytest.mark.django_db
def test_filters(client, people, recs, tree):
    client.force_login(people["inspector"])
    assert _listed(client, unit=tree["squad3"].pk) == _names(recs, "other_district")
    assert _listed(client, unit=tree["brigade"].pk) == _names(recs, "own", "own_late", "colleague")
    assert _listed(client, officer=people["officer_b"].pk) == _names(recs, "colleague")
    assert _listed(client, serial="a000001") == _names(recs, "own", "own_late")
    assert _listed(client, kind="photo") == _names(recs, "other_district")
    assert _listed(client, integrity="incomplete") == _names(recs, "own_late")
    assert _listed(client, integrity="pending") == _names(recs, "colleague", "other_district")
    assert _listed(client, late="yes") == _names(recs, "own_late")  # C5.1
    assert _listed(client, date_from="2026-11-17", date_to="2026-11-17") == _names(recs, "own_late")
    assert _listed(client, date_from="2026-11-20") == _names(
        recs, "own", "colleague", "other_district"
    )
    # 2026-11-20 01:00 UTC is 09:00 in Shanghai: the Shanghai date counts.
    assert _listed(client, date_to="2026-11-19") == _names(recs, "own_late")
    assert _listed(client, q="20261117") == _names(recs, "own_late")
    assert _listed(client, q="B000003") == _names(recs, "other_district")
    response = client.get(
        reverse("evidence:recording_list"), {"date_from": "2026-11-20", "date_to": "2026-11-01"}
    )
    assert "结束日期不能早于开始日期" in response.content.decode()


@pytest.mark.django_db
def test_filters_never_widen_the_scope(client, people, recs, tree):
    client.force_login(people["officer"])
    # A unit outside the scope is not offered: refused with a message, and the
    # list stays the officer's own (see test_list_filters.py).
    assert _listed(client, unit=tree["squad3"].pk) == _names(recs, "own", "own_late")
    assert _listed(client, q="B000003") == set()


@pytest.mark.django_db
def test_list_has_no_n_plus_one(client, people, recs, django_assert_max_num_queries):
    officer = people["officer"]
    recorder = recs["own"].recorder
    for i in range(30):
        make_recording(
            officer=officer,
            recorder=recorder,
            start=NINE + timedelta(minutes=i),
            integrity="complete",
        )
    client.force_login(people["inspector"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("evidence:recording_list"))
    assert len(response.context["rows"]) == 34


@pytest.mark.django_db
def test_query_function_used_by_the_api(people, recs):
    got = find_recordings(people["squad_leader"], RecordingFilters(kind="audio"))
    assert [r.pk for r in got] == [recs["colleague"].pk]


@pytest.mark.django_db
def test_recording_page_shows_hashes_integrity_and_custody(client, people, recs):
    rec = recs["own_late"]
    client.force_login(people["squad_leader"])
    response = client.get(reverse("evidence:recording_detail", args=[rec.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert rec.sha256 in html and rec.sm3 in html
    assert "不完整" in html and "缺少索引（moov）" in html
    assert "超过24小时采集" in html
    assert 'preload="metadata"' in html
    grant_copy(people["archivist"], [rec], requester=people["squad_leader"])
    client.force_login(people["archivist"])
    assert client.get(reverse("evidence:recording_download", args=[rec.pk])).status_code == 200
    client.force_login(people["inspector"])
    html = client.get(reverse("evidence:recording_detail", args=[rec.pk])).content.decode()
    custody = html.split('id="custody"', 1)[1]
    assert custody.count("查看") == 2 and "下载原始文件" in custody
    assert "何中队" in custody  # the squad leader, by name
    assert custody.index("对接采集") < custody.index("下载原始文件")
    views = AuditEntry.objects.filter(action="evidence.recording.view", object_id=str(rec.pk))
    assert views.count() == 2


@pytest.mark.django_db
def test_recording_page_per_kind(client, people, recs):
    client.force_login(people["inspector"])
    audio = client.get(reverse("evidence:recording_detail", args=[recs["colleague"].pk]))
    assert "<audio" in audio.content.decode()
    photo = client.get(reverse("evidence:recording_detail", args=[recs["other_district"].pk]))
    assert 'id="photo"' in photo.content.decode()


@pytest.mark.django_db
def test_derived_pictures_are_labelled_and_scoped(client, people, recs):
    import io

    from jilu.evidence.actions import store_object

    rec = recs["own"]
    jpg = store_object(actor="system:test", stream=io.BytesIO(b"\xff\xd8poster\xff\xd9"))
    Derivative.objects.create(
        recording=rec, kind="poster", stored_object=jpg, content_type="image/jpeg"
    )
    client.force_login(people["officer"])
    html = client.get(reverse("evidence:recording_detail", args=[rec.pk])).content.decode()
    poster_url = reverse("evidence:recording_derived", args=[rec.pk, "poster"])
    assert f'poster="{poster_url}"' in html
    assert "派生" in html.split('id="derivatives"', 1)[1]
    got = client.get(poster_url)
    assert got.status_code == 200 and got["Content-Type"] == "image/jpeg"
    assert (
        client.get(reverse("evidence:recording_derived", args=[rec.pk, "strip"])).status_code == 404
    )
    client.force_login(people["officer_other"])
    assert client.get(poster_url).status_code == 404


# --- the API handlers (the router is mounted under /api/v1/ by jilu/api.py) ---------


def _api_request(person, path="/api/v1/recordings", **headers):
    from django.test import RequestFactory

    request = RequestFactory().get(path, **headers)
    request.user = person
    request.station = None
    return request


@pytest.mark.django_db
def test_api_list_is_restricted_filtered_and_keyset_paged(people, recs, tree):
    from jilu.evidence import api

    def ids(person, **params):
        page = api.list_recordings(_api_request(people[person]), api.ListParams(**params))
        return page

    page = ids("squad_leader", limit=2)
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = ids("squad_leader", limit=2, cursor=page["next_cursor"])
    assert rest["next_cursor"] is None
    seen = {r.pk for r in page["items"]} | {r.pk for r in rest["items"]}
    assert seen == {recs["own"].pk, recs["own_late"].pk, recs["colleague"].pk}
    assert [r.pk for r in ids("inspector", unit=tree["squad3"].code)["items"]] == [
        recs["other_district"].pk
    ]
    assert ids("officer", unit=tree["squad3"].code)["items"] == []
    assert [r.pk for r in ids("inspector", late=True)["items"]] == [recs["own_late"].pk]
    out = api.RecordingOut.from_orm(recs["own"]).dict()
    assert out["integrity"] == "complete" and out["recorder_serial"] == "A000001"
    from ninja.errors import HttpError
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="kind"):  # an enum of codes: 422 over HTTP
        ids("inspector", kind="film")
    with pytest.raises(HttpError):
        ids("inspector", cursor="nonsense")


@pytest.mark.django_db
def test_api_get_and_content_are_scoped_and_audited(people, recs):
    from ninja.errors import HttpError

    from jilu.evidence import api

    rec = recs["own"]
    assert api.get_recording(_api_request(people["officer"]), rec.pk) == rec
    with pytest.raises(HttpError) as refused:
        api.get_recording(_api_request(people["officer_other"]), rec.pk)
    assert refused.value.status_code == 404
    response = api.recording_content(
        _api_request(people["officer"], HTTP_RANGE="bytes=0-4"), rec.pk
    )
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == b"recor"
    actions = set(
        AuditEntry.objects.filter(
            object_id=str(rec.pk), action__startswith="evidence.recording."
        ).values_list("action", flat=True)
    )
    assert actions == {
        "evidence.recording.view",
        "evidence.recording.refused",
        "evidence.recording.play",
    }


@pytest.mark.django_db
def test_annotation_filters(client, people, recs):
    """C5.2: nothing annotated yet; every recording collected more than 48 h ago is overdue."""
    from django.utils import timezone

    from jilu.evidence.queries import has_annotations

    assert has_annotations()
    client.force_login(people["inspector"])
    everything = _names(recs, "own", "own_late", "colleague", "other_district")
    assert _listed(client, annotated="no") == everything
    assert _listed(client, annotated="yes") == set()
    fresh = recs["own"]
    type(fresh).objects.filter(pk=fresh.pk).update(docked_at=timezone.now())
    assert _listed(client, overdue="on") == everything - {fresh.original_name}
