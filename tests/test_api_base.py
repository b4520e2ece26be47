"""The API base: bearer tokens for people and stations, the OpenAPI document."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import PASSWORD
from jilu.audit.models import AuditEntry
from jilu.devices import actions as device_actions
from jilu.org import actions
from jilu.org.models import ApiToken, Person

TOKEN_URL = "/api/v1/auth/token"


def issue(client, username: str = "officer", password: str = PASSWORD):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, content_type="application/json"
    )


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def token(client, people) -> str:
    response = issue(client)
    assert response.status_code == 200, response.content
    return response.json()["token"]


@pytest.fixture
def station(tree):
    return device_actions.create_workstation(
        actor="system:test", unit=tree["squad1"], name="中华中队工作站"
    )


# --- person tokens -----------------------------------------------------------


@pytest.mark.db_sensitive
def test_token_for_a_good_password(client, people, settings):
    response = issue(client)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    raw = body["token"]
    assert raw.startswith("jpt_") and len(raw) > 40
    stored = ApiToken.objects.get(person=people["officer"])
    assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()  # only the digest is kept
    assert raw not in (stored.prefix, stored.digest)
    lifetime = stored.expires_at - timezone.now()
    assert timedelta(days=settings.API_TOKEN_DAYS) - timedelta(minutes=1) < lifetime
    assert lifetime <= timedelta(days=settings.API_TOKEN_DAYS)
    assert AuditEntry.objects.filter(action="auth.token_issued", actor=people["officer"]).exists()
    login = AuditEntry.objects.filter(action="auth.login").get()
    assert login.details["via"] == "api"


@pytest.mark.db_sensitive
def test_token_refused_for_a_bad_password_and_counted_towards_lockout(client, people, settings):
    settings.LOGIN_MAX_FAILURES = 3
    response = issue(client, password="wrong")
    assert response.status_code == 401
    assert response.json() == {"detail": "登录名或密码不正确"}
    assert not ApiToken.objects.exists()
    issue(client, password="wrong")
    issue(client, password="wrong")
    officer = Person.objects.get(username="officer")
    assert officer.locked_until is not None
    locked = issue(client)  # the right password, while locked
    assert locked.status_code == 423
    assert "账号已锁定" in locked.json()["detail"]
    assert not ApiToken.objects.exists()
    # The same lock applies to the web sign-in.
    page = client.post("/login/", {"username": "officer", "password": PASSWORD})
    assert "账号已锁定" in page.content.decode()


@pytest.mark.db_sensitive
def test_web_lockout_also_blocks_tokens_until_it_ends(client, people, settings):
    settings.LOGIN_MAX_FAILURES = 2
    client.post("/login/", {"username": "officer", "password": "x"})
    client.post("/login/", {"username": "officer", "password": "x"})
    assert issue(client).status_code == 423
    Person.objects.filter(username="officer").update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert issue(client).status_code == 200


def test_token_request_for_an_unknown_person_is_401(client, people):
    assert issue(client, username="nobody").status_code == 401


def test_token_request_with_missing_fields_is_422(client, db):
    response = client.post(TOKEN_URL, {"username": "officer"}, content_type="application/json")
    assert response.status_code == 422
    assert "password" in response.content.decode()


def test_token_request_for_a_deactivated_person_is_401(client, people):
    actions.update_person(actor="system:test", person=people["officer"], is_active=False)
    assert issue(client).status_code == 401


def test_me_with_a_person_token(client, token, people):
    response = client.get("/api/v1/me", **bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "officer" and body["name"] == "王五"
    assert body["roles"] == ["officer"] and body["unit_code"] == "350203000101"
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("jpt_not-a-real-token"),
        bearer("jst_not-a-real-token"),
        bearer(""),
        {"HTTP_AUTHORIZATION": "Basic b2ZmaWNlcjpwdw=="},
    ],
    ids=["none", "unknown-person-token", "unknown-station-token", "empty", "basic"],
)
def test_requests_without_a_valid_token_are_401(client, people, headers):
    assert client.get("/api/v1/me", **headers).status_code == 401


def test_expired_token_is_401(client, token):
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/me", **bearer(token)).status_code == 401


def test_revoked_token_is_401(client, token):
    ApiToken.objects.update(revoked_at=timezone.now())
    assert client.get("/api/v1/me", **bearer(token)).status_code == 401


def test_token_of_a_deactivated_person_stops_working(client, token, people):
    actions.update_person(actor="system:test", person=people["officer"], is_active=False)
    assert client.get("/api/v1/me", **bearer(token)).status_code == 401


def test_token_is_not_a_web_session(client, token):
    """A bearer token opens the API only; the web pages still ask to sign in."""
    response = client.get("/", **bearer(token))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- station tokens ------------------------------------------------------------


def test_station_token_identifies_the_workstation(client, station):
    ws, raw = station
    assert raw.startswith("jst_")
    response = client.get("/api/v1/station/me", **bearer(raw))
    assert response.status_code == 200
    assert response.json() == {
        "id": ws.pk,
        "name": "中华中队工作站",
        "unit_code": "350203000101",
        "unit_name": "中华中队",
    }
    ws.refresh_from_db()
    assert ws.last_seen_at is not None


def test_station_token_is_refused_on_person_endpoints(client, station):
    _, raw = station
    for url in ("/api/v1/me", "/api/v1/people", "/api/v1/units"):
        response = client.get(url, **bearer(raw))
        assert response.status_code == 403, url
        assert "工作站令牌不可用" in response.json()["detail"]


def test_person_token_is_refused_on_station_endpoints(client, token):
    response = client.get("/api/v1/station/me", **bearer(token))
    assert response.status_code == 403


def test_revoked_station_token_is_401(client, station):
    ws, raw = station
    device_actions.revoke_workstation(actor="system:test", station=ws)
    assert client.get("/api/v1/station/me", **bearer(raw)).status_code == 401


def test_demo_station_token_works_after_seeding(client, db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    response = client.get("/api/v1/station/me", **bearer("jst_demo-siming-squad1-station-token"))
    assert response.status_code == 200
    assert response.json()["unit_code"] == "350203000101"


# --- the OpenAPI document --------------------------------------------------------


def test_openapi_document_is_served_without_a_token(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "Jilu API"
    assert "post" in doc["paths"][TOKEN_URL]
    assert {"/api/v1/me", "/api/v1/station/me"} <= set(doc["paths"])
    schemes = doc["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values())
    assert "security" not in doc["paths"][TOKEN_URL]["post"]  # the one way in needs no token


def test_every_operation_that_declares_security_refuses_anonymous_calls(client, db):
    """Walk the OpenAPI document: anything that says it needs a token answers 401 without one."""
    doc = client.get("/api/v1/openapi.json").json()
    checked = 0
    for path, operations in doc["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method, op in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"} or not op.get("security"):
                continue
            response = getattr(client, method)(url, content_type="application/json")
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked >= 3
