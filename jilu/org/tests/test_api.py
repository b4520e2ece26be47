"""The org API: units and people by key, scoped by restrict(); the roster over HTTP."""

from __future__ import annotations

import pytest

from conftest import api_auth
from jilu.org.models import Person
from jilu.org.roster import SHEET_PEOPLE, XLSX_MIME
from jilu.org.tests.xlsx import person_row, read_sheets, roster_bytes

SQUAD1 = "350203000101"


@pytest.mark.django_db
def test_get_unit_by_code(client, people):
    auth = api_auth(client, "officer")
    response = client.get("/api/v1/units/350206000001", **auth)
    assert response.status_code == 200
    assert response.json() == {
        "id": people["officer_other"].unit.parent_id,
        "code": "350206000001",
        "name": "湖里区城市管理行政执法大队",
        "short_name": "湖里区城管执法大队",
        "level": "brigade",
        "parent_code": "350206000000",
        "independently_housed": True,
        "active": True,
    }
    assert client.get("/api/v1/units/999999999999", **auth).status_code == 404
    assert client.get("/api/v1/units/350206000001").status_code == 401


@pytest.mark.django_db
def test_get_person_by_username_is_scoped(client, people):
    auth = api_auth(client, "officer")
    response = client.get("/api/v1/people/officer_b", **auth)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "李四" and body["unit_code"] == SQUAD1 and body["is_active"] is True
    # Outside the officer's unit: not found, exactly as for a name that does not exist.
    assert client.get("/api/v1/people/officer_other", **auth).status_code == 404
    assert client.get("/api/v1/people/nobody", **auth).status_code == 404
    admin = api_auth(client, "squad_admin")
    assert client.get("/api/v1/people/officer", **admin).status_code == 404
    assert client.get("/api/v1/people/officer_other", **admin).status_code == 200


@pytest.mark.django_db
def test_people_list_by_unit_subtree_and_active(client, people):
    auth = api_auth(client, "admin")
    response = client.get("/api/v1/people", {"unit": "350203000001", "subtree": "true"}, **auth)
    assert {p["username"] for p in response.json()} == {
        "officer",
        "officer_b",
        "squad_leader",
        "brigade_leader",
        "archivist",
        "case_handler",
    }
    response = client.get("/api/v1/people", {"unit": "350203000001"}, **auth)
    assert {p["username"] for p in response.json()} == {
        "brigade_leader",
        "archivist",
        "case_handler",
    }
    response = client.get("/api/v1/people", {"active": "false"}, **auth)
    assert response.json() == []


@pytest.mark.django_db
def test_roster_over_the_api(client, people):
    admin = api_auth(client, "admin")
    response = client.get("/api/v1/roster.xlsx", **admin)
    assert response.status_code == 200 and response["Content-Type"] == XLSX_MIME
    assert len(read_sheets(response.content)[SHEET_PEOPLE]) == 12

    bad = roster_bytes(people=[person_row("api1", "", SQUAD1, user_no="370001")])
    response = client.post("/api/v1/roster", {"file": _file(bad)}, **admin)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"sheet": "人员", "row": 2, "message": "姓名为空"}]

    good = roster_bytes(people=[person_row("api1", "接口", SQUAD1, user_no="370001")])
    response = client.post("/api/v1/roster?dry_run=true", {"file": _file(good)}, **admin)
    assert response.status_code == 200 and response.json()["applied"] is False
    assert not Person.objects.filter(username="api1").exists()
    response = client.post("/api/v1/roster", {"file": _file(good)}, **admin)
    assert response.status_code == 200
    assert response.json()["people"] == {"create": 1, "update": 0, "unchanged": 0}
    assert Person.objects.get(username="api1").name == "接口"

    response = client.post("/api/v1/roster", {"file": _file(b"not a workbook")}, **admin)
    assert response.status_code == 400
    assert "文件不是 Excel 工作簿（.xlsx）" in response.json()["detail"]

    officer = api_auth(client, "officer")
    assert client.post("/api/v1/roster", {"file": _file(good)}, **officer).status_code == 403
    assert client.get("/api/v1/roster.xlsx", **officer).status_code == 403


def _file(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("roster.xlsx", data, content_type=XLSX_MIME)
