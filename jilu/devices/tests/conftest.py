"""Fixtures for device tests: recorders, workstations, signed-in clients, API tokens."""

from __future__ import annotations

import pytest

from conftest import PASSWORD
from jilu.devices import actions

SYSTEM = "system:test"


@pytest.fixture
def make_recorder(tree):
    counter = {"n": 0}

    def make(serial: str | None = None, *, unit: str = "squad1", **extra):
        counter["n"] += 1
        return actions.register_recorder(
            actor=SYSTEM,
            serial=serial or f"T{counter['n']:06d}",
            unit=tree[unit],
            vendor=extra.pop("vendor", "海康威视"),
            model=extra.pop("model", "DSJ-K3"),
        )

    return make


@pytest.fixture
def make_station(tree):
    def make(name: str = "中华中队采集工作站", *, unit: str = "squad1"):
        return actions.create_workstation(
            actor=SYSTEM, unit=tree[unit], name=name, location="值班室"
        )

    return make


@pytest.fixture
def as_user(client, people):
    """A test client signed in as one of the named people."""

    def sign_in(username: str):
        client.logout()
        client.force_login(people[username])
        return client

    return sign_in


@pytest.fixture
def api(client, people):
    """A JSON API caller: api.token(username) gets a person token by password."""

    class Api:
        def token(self, username: str) -> str:
            r = client.post(
                "/api/v1/auth/token",
                {"username": username, "password": PASSWORD},
                content_type="application/json",
            )
            assert r.status_code == 200, r.content
            return r.json()["token"]

        def get(self, path: str, token: str, **params):
            return client.get("/api/v1" + path, params, HTTP_AUTHORIZATION=f"Bearer {token}")

        def post(self, path: str, token: str, body: dict | None = None):
            return client.post(
                "/api/v1" + path,
                body or {},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )

    return Api()
