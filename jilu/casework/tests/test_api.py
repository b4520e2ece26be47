"""The casework API: activities and cases (create, read, list), linking recordings (C5.2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jilu.casework import actions
from jilu.casework.models import Activity, Annotation

from .conftest import T0


@pytest.fixture
def api(client, people):
    from conftest import PASSWORD

    class Api:
        def token(self, username: str) -> str:
            r = client.post(
                "/api/v1/auth/token",
                {"username": username, "password": PASSWORD},
                content_type="application/json",
            )
            assert r.status_code == 200, r.content
            return r.json()["token"]

        def get(self, path, token, **params):
            return client.get("/api/v1" + path, params, HTTP_AUTHORIZATION=f"Bearer {token}")

        def post(self, path, token, body=None):
            return client.post(
                "/api/v1" + path,
                body or {},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )

    return Api()


def _activity_body(people, tree, **kw):
    body = {
        "kind": "S1",
        "category": "inspection",
        "unit_code": tree["brigade"].code,
        "officer_ids": [people["officer"].pk, people["officer_b"].pk],
        "party": {"kind": "organisation", "name": "厦门某某餐饮有限公司"},
        "place_name": "某某餐厅",
        "planned_start": T0.isoformat(),
        "planned_end": (T0 + timedelta(hours=1)).isoformat(),
    }
    body.update(kw)
    return body


def test_create_read_list_activity(api, people, tree):
    token = api.token("officer")
    r = api.post("/activities", token, _activity_body(people, tree))
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["kind_label"] == "巡查检查、现场勘验、取证"
    assert data["coverage"]["status"] == "none"  # C2.1
    assert {o["id"] for o in data["officers"]} == {people["officer"].pk, people["officer_b"].pk}
    assert (
        api.get(f"/activities/{data['id']}", token).json()["party"]["name"]
        == "厦门某某餐饮有限公司"
    )
    listing = api.get("/activities", token, mine="true").json()
    assert listing["count"] == 1
    other = api.token("officer_other")
    assert api.get(f"/activities/{data['id']}", other).status_code == 404
    assert api.get("/activities", other).json()["count"] == 0


def test_on_site_activity_needs_two_officers(api, people, tree):
    r = api.post(
        "/activities",
        api.token("officer"),
        _activity_body(people, tree, officer_ids=[people["officer"].pk]),
    )
    assert r.status_code == 400 and "C4.1" in r.json()["detail"]
    assert not Activity.objects.exists()


def test_officers_outside_view_are_refused(api, people, tree):
    body = _activity_body(
        people, tree, officer_ids=[people["officer"].pk, people["officer_other"].pk]
    )
    assert api.post("/activities", api.token("officer"), body).status_code == 400


def test_link_recordings_with_step(api, people, tree, make_recording):
    token = api.token("officer")
    act = api.post("/activities", token, _activity_body(people, tree)).json()
    a = make_recording(start=T0, minutes=10)
    b = make_recording(start=T0 + timedelta(minutes=10), minutes=10)
    r = api.post(
        f"/activities/{act['id']}/recordings",
        token,
        {"recording_ids": [b.pk, a.pk], "step": "site_survey"},
    )
    assert r.status_code == 200, r.content
    names = [x["standard_name"] for x in r.json()]
    assert names[0] == "思明区城管执法大队_厦门某某餐饮有限公司_20261126_现场勘验"
    assert r.json()[0]["step_label"] == "现场勘验"
    detail = api.get(f"/activities/{act['id']}", token).json()
    assert detail["coverage"]["percent"] == 33 and len(detail["annotations"]) == 2
    # Unknown step, others' recordings.
    bad = api.post(
        f"/activities/{act['id']}/recordings", token, {"recording_ids": [a.pk], "step": "x"}
    )
    # The step is one of the document's codes (an enum): anything else is named and refused.
    assert bad.status_code == 422
    assert "step" in bad.json()["detail"] and "site_survey" in bad.json()["detail"]
    theirs = make_recording("officer_b")
    r = api.post(
        f"/activities/{act['id']}/recordings",
        token,
        {"recording_ids": [theirs.pk], "step": "other"},
    )
    assert r.status_code == 404
    r = api.post(
        f"/activities/{act['id']}/recordings",
        api.token("officer_b"),
        {"recording_ids": [a.pk], "step": "other"},
    )
    assert r.status_code == 403  # sees it through the activity, but it is not theirs
    assert Annotation.objects.count() == 2


def test_annotation_queue(api, people, make_recording):
    now = timezone.now()
    make_recording(start=now - timedelta(hours=50), docked_at=now - timedelta(hours=49))
    items = api.get("/annotation-queue", api.token("officer")).json()
    assert len(items) == 1 and items[0]["overdue"] is True
    assert api.get("/annotation-queue", api.token("officer_b")).json() == []


def test_cases_create_read_list(api, people, tree, make_activity, make_recording):
    token = api.token("case_handler")
    body = {
        "number": "思城执罚〔2026〕3号",
        "category": "penalty",
        "unit_code": tree["brigade"].code,
    }
    r = api.post("/cases", token, body)
    assert r.status_code == 201, r.content
    case = r.json()
    assert case["retention"] == "30y" and case["status"] == "open"
    assert api.post("/cases", token, body).status_code == 400  # number taken
    assert api.post("/cases", api.token("officer"), {**body, "number": "N2"}).status_code == 403
    from jilu.casework.models import Case

    act = make_activity(case=Case.objects.get(pk=case["id"]))
    actions.annotate(
        actor=people["officer"], recording=make_recording(), activity=act, step="inquiry"
    )
    detail = api.get(f"/cases/{case['id']}", token).json()
    assert [a["id"] for a in detail["activities"]] == [act.pk]
    assert detail["recordings"][0]["standard_name"].startswith("01_")
    assert detail["recordings"][0]["step"] == "询问笔录"
    assert api.get("/cases", token).json()["count"] == 1
    assert api.get(f"/cases/{case['id']}", api.token("officer_other")).status_code == 404


def test_openapi_lists_the_casework_operations(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/activities",
        "/api/v1/activities/{activity_id}/recordings",
        "/api/v1/cases",
    ):
        assert path in paths
