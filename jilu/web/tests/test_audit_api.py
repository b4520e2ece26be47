"""``GET /api/v1/audit`` (C6.4): the page's filters and words for tools, only for
administrators and inspectors, bounded pagination, every response documented."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import transaction
from freezegun import freeze_time

from conftest import api_auth
from jilu.audit.chain import record
from jilu.devices import actions as device_actions

URL = "/api/v1/audit"
DAYS = {"date_from": "2026-11-19", "date_to": "2026-11-21"}


def put(code, *, actor, at, **kwargs):
    with freeze_time(at), transaction.atomic():
        return record(code, actor=actor, **kwargs)


@pytest.fixture
def entries(people, make_recording):
    rec = make_recording("officer")
    return {
        "login": put(
            "auth.login",
            actor=people["officer"],
            at=datetime(2026, 11, 19, 17, 30, tzinfo=UTC),  # 01:30 on the 20th in Beijing
            obj=people["officer"],
            details={"ip": "10.0.0.1", "via": "api"},
        ),
        "download": put(
            "evidence.recording.download",
            actor=people["archivist"],
            at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
            obj=rec,
            details={"sha256": rec.sha256, "via": "api", "request": "DY2026-0003"},
        ),
        "rec": rec,
    }


@pytest.mark.django_db
def test_inspector_reads_entries_in_words(client, people, entries):
    headers = api_auth(client, "inspector")
    response = client.get(URL, DAYS, **headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2 and body["limit"] == 50 and body["offset"] == 0
    assert "2026-11-19 至 2026-11-21" in body["filters"]
    first, second = body["entries"]
    assert first["seq"] == entries["download"].seq  # newest first
    assert first["action"] == "evidence.recording.download"
    assert first["action_text"] == "下载原始文件"
    assert first["family"] == "copy" and first["family_text"] == "复制与下载"
    assert first["actor_id"] == people["archivist"].pk
    assert first["object_text"] == f"声像记录 {entries['rec'].original_name}"
    assert first["detail_text"].startswith("下载原始文件，依据调用单 DY2026-0003，经API")
    assert first["details"]["request"] == "DY2026-0003"  # raw, for tools
    assert first["hash"] == entries["download"].hash
    assert first["prev_hash"] == entries["download"].prev_hash
    assert second["at"] == "2026-11-20T01:30:00+08:00"  # Beijing time
    assert second["actor_text"].startswith("王五")


@pytest.mark.django_db
def test_filters_and_pages(client, people, tree, entries):
    headers = api_auth(client, "admin")

    def seqs(**params):
        response = client.get(URL, {**DAYS, **params}, **headers)
        assert response.status_code == 200, response.content
        return [e["seq"] for e in response.json()["entries"]]

    login, download = entries["login"].seq, entries["download"].seq
    assert seqs(person="王五") == [login]
    assert seqs(actor=people["archivist"].pk) == [download]
    assert seqs(unit=tree["brigade"].pk) == [download, login]
    assert seqs(unit=tree["squad3"].pk) == []
    assert seqs(family="auth") == [login]
    assert seqs(family="copy") == [download]
    assert seqs(action="evidence.recording") == [download]
    assert seqs(object_type="evidence.recording", object_id=str(entries["rec"].pk)) == [download]
    assert seqs(q=entries["rec"].original_name.rsplit("/", 1)[-1]) == [download]
    assert seqs(date_from="2026-11-20", date_to="2026-11-20") == [download, login]
    assert seqs(limit=1) == [download]
    assert seqs(limit=1, offset=1) == [login]
    assert seqs(offset=5) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, status",
    [
        ({"limit": 0}, 422),
        ({"limit": 501}, 422),
        ({"offset": -1}, 422),
        ({"offset": 10**10}, 422),
        ({"actor": 0}, 422),
        ({"actor": 2**63}, 422),
        ({"unit": "x"}, 422),
        ({"family": "nope"}, 422),
        ({"object_type": "auth.user"}, 422),
        ({"date_from": "2026-13-01"}, 422),
        ({"q": "x" * 101}, 422),
        ({"date_from": "1999-12-31"}, 400),
        ({"date_to": "2100-01-01"}, 400),
        ({"date_from": "2026-11-21", "date_to": "2026-11-20"}, 400),
        ({"unit": 99999999}, 400),
    ],
)
def test_bad_parameters_are_refused_plainly(client, people, params, status):
    headers = api_auth(client, "inspector")
    response = client.get(URL, params, **headers)
    assert response.status_code == status, response.content
    assert response.json()["detail"]


@pytest.mark.django_db
def test_only_administrators_and_inspectors(client, people, tree):
    for who in ("officer", "squad_leader", "archivist", "legal_reviewer"):
        response = client.get(URL, **api_auth(client, who))
        assert response.status_code == 403
        assert response.json() == {"detail": "只有系统管理员和督察可以查看审计日志"}
    assert client.get(URL).status_code == 401
    _station, token = device_actions.create_workstation(
        actor="system:test", unit=tree["squad1"], name="中华中队工作站"
    )
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert response.json() == {"detail": "工作站令牌不能使用此接口"}


def test_every_response_is_documented(client, db):
    doc = client.get("/api/v1/openapi.json").json()
    op = doc["paths"][URL]["get"]
    assert set(op["responses"]) >= {"200", "400", "401", "403", "422"}
    params = {p["name"]: p for p in op["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 500
    assert params["limit"]["schema"]["minimum"] == 1
    assert params["offset"]["schema"]["minimum"] == 0
    family = params["family"]["schema"]
    enum = family.get("enum") or next(s["enum"] for s in family["anyOf"] if "enum" in s)
    assert "copy" in enum and "auth" in enum
    assert params["date_from"]["schema"].get("format") == "date" or any(
        s.get("format") == "date" for s in params["date_from"]["schema"].get("anyOf", [])
    )
