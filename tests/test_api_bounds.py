"""Every integer the API reads is bounded: a value no database column can hold is a 422
naming the field, never a server error, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import api_auth
from jilu.org.api_types import MAX_ID, MAX_LIMIT, MAX_OFFSET

HUGE = 2**63  # one past the largest 64-bit integer
HUGER = "99999999999999999999999"
NEGATIVE_HUGE = "-230631828336206610432"

pytestmark = [pytest.mark.django_db, pytest.mark.db_sensitive]

PAGED = ["/api/v1/activities", "/api/v1/cases", "/api/v1/recorders", "/api/v1/workstations"]


@pytest.fixture
def admin(client, people):
    return api_auth(client, "admin")


def _refused(response, field: str) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert field in body["detail"], body["detail"]
    assert any(field in [str(p) for p in e["loc"]] for e in body["errors"]), body["errors"]


@pytest.mark.parametrize("url", PAGED)
@pytest.mark.parametrize("field", ["limit", "offset"])
@pytest.mark.parametrize("value", [HUGE, HUGER, NEGATIVE_HUGE, -1])
def test_page_bounds_are_checked_before_any_query(client, admin, url, field, value):
    _refused(client.get(url, {field: value}, **admin), field)


@pytest.mark.parametrize("url", PAGED)
def test_page_bounds_themselves_are_accepted(client, admin, url):
    response = client.get(url, {"limit": MAX_LIMIT, "offset": MAX_OFFSET}, **admin)
    assert response.status_code == 200, response.content
    assert response.json()["items"] == []
    _refused(client.get(url, {"limit": MAX_LIMIT + 1}, **admin), "limit")
    _refused(client.get(url, {"limit": 0}, **admin), "limit")
    _refused(client.get(url, {"offset": MAX_OFFSET + 1}, **admin), "offset")


@pytest.mark.parametrize("value", [HUGER, str(HUGE), NEGATIVE_HUGE, "0"])
def test_recordings_officer_filter_is_bounded(client, admin, value):
    _refused(client.get("/api/v1/recordings", {"officer": value}, **admin), "officer")


def test_recordings_limit_is_bounded_not_clamped(client, admin):
    _refused(client.get("/api/v1/recordings", {"limit": MAX_LIMIT + 1}, **admin), "limit")
    assert client.get("/api/v1/recordings", {"limit": MAX_LIMIT}, **admin).status_code == 200


def test_recordings_cursor_with_a_huge_id_is_a_400(client, admin):
    cursor = f"2026-11-26T09:00:00+08:00|{HUGE}"
    response = client.get("/api/v1/recordings", {"cursor": cursor}, **admin)
    assert response.status_code == 400 and "cursor" in response.json()["detail"]


@pytest.mark.parametrize("value", [NEGATIVE_HUGE, HUGER, "0"])
def test_activities_case_filter_is_bounded(client, admin, value):
    _refused(client.get("/api/v1/activities", {"case_id": value}, **admin), "case_id")


def test_linking_a_huge_recording_id_is_refused(client, people, admin):
    from jilu.casework import actions
    from jilu.casework.choices import ActivityKind, Category

    activity = actions.create_activity(
        actor=people["admin"],
        officers=[people["officer"], people["officer_b"]],
        kind=ActivityKind.S2,
        category=Category.INSPECTION,
        unit=people["officer"].unit,
        matter_text="投诉件处置",
        actual_start=timezone.now() - timedelta(hours=2),
    )
    url = f"/api/v1/activities/{activity.pk}/recordings"
    for ids in ([HUGE], [1, HUGE], [int(NEGATIVE_HUGE)]):
        response = client.post(
            url, {"recording_ids": ids, "step": "other"}, content_type="application/json", **admin
        )
        _refused(response, "recording_ids")


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/recordings/{}", "pk"),
        ("/api/v1/recordings/{}/content", "pk"),
        ("/api/v1/activities/{}", "activity_id"),
        ("/api/v1/cases/{}", "case_id"),
        ("/api/v1/cases/{}/record-list", "case_id"),
        ("/api/v1/cases/{}/packages", "case_id"),
        ("/api/v1/packages/{}", "package_id"),
        ("/api/v1/duty-log/{}", "note_id"),
        ("/api/v1/quarantine/{}", "item_id"),
    ],
)
def test_ids_in_paths_are_bounded(client, admin, path, param):
    for value in (HUGE, HUGER, NEGATIVE_HUGE, 0):
        _refused(client.get(path.format(value), **admin), param)
    # The largest id a column holds is asked of the database and simply not found.
    assert client.get(path.format(MAX_ID), **admin).status_code == 404


def test_ids_in_bodies_are_bounded(client, people, admin):
    body = {
        "kind": "S2",
        "category": "inspection",
        "unit_code": people["officer"].unit.code,
        "officer_ids": [people["officer"].pk, HUGE],
    }
    response = client.post("/api/v1/activities", body, content_type="application/json", **admin)
    _refused(response, "officer_ids")
    for field in ("power_id", "party_id", "case_id"):
        response = client.post(
            "/api/v1/activities",
            {**body, "officer_ids": [people["officer"].pk], field: HUGE},
            content_type="application/json",
            **admin,
        )
        _refused(response, field)
    issue = client.post(
        "/api/v1/recorders/A000001/issue",
        {"person_id": HUGE},
        content_type="application/json",
        **admin,
    )
    _refused(issue, "person_id")


def test_station_counts_and_sizes_are_bounded(client, tree):
    from jilu.devices import actions as device_actions

    _, raw = device_actions.create_workstation(
        actor="system:test", unit=tree["squad1"], name="中华中队工作站"
    )
    station = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    docking = client.post(
        "/api/v1/station/dockings",
        {"serial": "A000001"},
        content_type="application/json",
        **station,
    )
    assert docking.status_code == 201, docking.content
    finish = f"/api/v1/station/dockings/{docking.json()['id']}/finish"
    response = client.post(
        finish, {"files_verified": HUGE}, content_type="application/json", **station
    )
    _refused(response, "files_verified")
    progress = client.post(
        f"/api/v1/station/dockings/{HUGE}/progress",
        {"files": []},
        content_type="application/json",
        **station,
    )
    _refused(progress, "docking_id")
    check = client.post(
        "/api/v1/station/checks",
        {"serial": "A000001", "storage_free_bytes": HUGE, "clock_offset_seconds": 1e300},
        content_type="application/json",
        **station,
    )
    _refused(check, "storage_free_bytes")
    _refused(check, "clock_offset_seconds")


def test_refusals_are_in_english_when_chosen(client, admin, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/api/v1/activities", {"limit": HUGE}, **admin)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"The request is not valid: limit: must be at most {MAX_LIMIT}"
    )
