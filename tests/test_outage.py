"""Store, database or queue unreachable: 503 with Retry-After, JSON for programs.

Every operation of the API document and every tus resource is asked while the
database refuses connections, and each must answer ``503`` with
``Retry-After`` and a JSON ``{"detail": …}`` (never an HTML page: the station
reads the body). People in the browser get a short page, also 503.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import uuid

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from django.db import connection
from django.db.utils import InterfaceError, OperationalError
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from jilu import outage
from jilu.evidence.store import StoreUnavailable
from jilu.org.api_auth import BearerAuth

STATION_TOKEN = "Bearer jst_" + "x" * 40
PARAM_VALUES = {"integer": "1", "uuid": str(uuid.uuid4())}


def _operations() -> list[tuple[str, str]]:
    """(method, concrete path) of every operation in the OpenAPI document."""
    from jilu.api import api

    doc = api.get_openapi_schema()
    found = []
    for template, operations in doc["paths"].items():
        for method, op in operations.items():
            path = template
            for param in op.get("parameters", []):
                if param["in"] != "path":
                    continue
                schema = param.get("schema", {})
                value = PARAM_VALUES.get(schema.get("format") or schema.get("type"), "a" * 64)
                path = path.replace("{" + param["name"] + "}", value)
            assert "{" not in path, path
            found.append((method.upper(), path))
    return found


TUS = [
    ("POST", "/api/v1/uploads/"),
    ("HEAD", f"/api/v1/uploads/{uuid.uuid4()}"),
    ("PATCH", f"/api/v1/uploads/{uuid.uuid4()}"),
    ("DELETE", f"/api/v1/uploads/{uuid.uuid4()}"),
]


def _ask(client: Client, method: str, path: str, **headers: str):
    extra = {"HTTP_AUTHORIZATION": STATION_TOKEN, "HTTP_TUS_RESUMABLE": "1.0.0", **headers}
    body = json.dumps({"username": "officer", "password": "x" * 10})
    return client.generic(method, path, body, content_type="application/json", **extra)


def _assert_json_503(response, what: str) -> None:
    where = f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']}"
    assert response.status_code == 503, (where, response.status_code, response.content[:300])
    assert response.headers["Retry-After"] == str(outage.RETRY_AFTER), where
    assert response.headers["Content-Type"].startswith("application/json"), where
    if response.request["REQUEST_METHOD"] != "HEAD":
        detail = response.json()["detail"]
        assert {"store": "证据存储", "database": "数据库", "queue": "任务队列"}[what] in detail
        assert "重试" in detail, detail


@contextlib.contextmanager
def _database_down():
    """Every new query fails as it does when PostgreSQL refuses connections."""

    def refuse() -> None:
        raise OperationalError(
            'connection to server at "127.0.0.1", port 5432 failed: Connection refused'
        )

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(connection, "ensure_connection", refuse)
        yield


@pytest.mark.parametrize("debug", [False, True])
def test_every_api_operation_answers_json_503_while_the_database_is_down(db, settings, debug):
    settings.DEBUG = debug  # with DEBUG django-ninja would answer a traceback itself
    client = Client(raise_request_exception=False)
    operations = _operations() + TUS
    assert len(operations) > 40
    with _database_down():
        responses = [_ask(client, method, path) for method, path in operations]
    for response in responses:
        _assert_json_503(response, "database")


def test_the_api_document_lists_the_503_of_every_operation(client, db):
    doc = client.get("/api/v1/openapi.json").json()
    operations = [op for ops in doc["paths"].values() for op in ops.values()]
    assert len(operations) > 40
    for op in operations:
        answer = op["responses"]["503"]
        assert "Retry-After" in answer["headers"], op["operationId"]
        schema = answer["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        assert schema["required"] == ["detail"]


STORE_ERRORS = [
    StoreUnavailable("the store http://minio:9000 (bucket jilu) cannot be reached"),
    EndpointConnectionError(endpoint_url="http://minio:9000/jilu"),
    ConnectTimeoutError(endpoint_url="http://minio:9000/jilu"),
    ReadTimeoutError(endpoint_url="http://minio:9000/jilu"),
    ConnectionClosedError(endpoint_url="http://minio:9000/jilu"),
]


@pytest.mark.parametrize(
    ("error", "what"),
    [(e, "store") for e in STORE_ERRORS]
    + [
        (InterfaceError("connection already closed"), "database"),
        (OperationalError("server closed the connection unexpectedly"), "database"),
        (RedisConnectionError("Error 111 connecting to redis:6379"), "queue"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v,
)
@pytest.mark.parametrize("debug", [False, True])
def test_each_kind_of_outage_is_a_json_503_for_the_api_and_tus(
    db, settings, monkeypatch, error, what, debug
):
    settings.DEBUG = debug

    def fail(self, request, token):
        raise error

    monkeypatch.setattr(BearerAuth, "authenticate", fail)
    client = Client(raise_request_exception=False)
    for method, path in [("GET", "/api/v1/station/me"), ("GET", "/api/v1/recordings"), *TUS]:
        response = _ask(client, method, path)
        _assert_json_503(response, what)
        if path.startswith("/api/v1/uploads/"):
            assert response.headers["Tus-Resumable"] == "1.0.0"


def test_other_errors_are_not_reported_as_outages(db, monkeypatch):
    def fail(self, request, token):
        raise ValueError("a bug")

    monkeypatch.setattr(BearerAuth, "authenticate", fail)
    response = _ask(Client(raise_request_exception=False), "GET", "/api/v1/station/me")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    assert response.json()["detail"].startswith("服务器内部错误")


def test_a_missing_table_is_a_bug_not_an_outage():
    assert outage.unavailable(OperationalError("no such table: org_person")) is None
    assert outage.unavailable(OperationalError("database is locked")) == "database"
    wrapped = RuntimeError("task failed")
    wrapped.__cause__ = EndpointConnectionError(endpoint_url="http://minio:9000")
    assert outage.unavailable(wrapped) == "store"


def test_people_in_the_browser_get_a_short_page(db, people):
    client = Client(raise_request_exception=False)
    client.force_login(people["officer"])
    with _database_down():
        page = client.get("/", HTTP_ACCEPT="text/html,application/xhtml+xml")
        program = client.get("/", HTTP_ACCEPT="application/json")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == str(outage.RETRY_AFTER)
    assert page.headers["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert "服务暂时不可用" in text and "数据库暂时无法连接" in text
    _assert_json_503(program, "database")


def test_an_outage_outside_any_view_is_a_503_too(db, monkeypatch):
    """A middleware reaching the database before the view runs (handler500)."""
    from jilu.middleware import ClientAddressMiddleware

    def fail(self, request):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(ClientAddressMiddleware, "__call__", fail)
    client = Client(raise_request_exception=False)
    _assert_json_503(_ask(client, "GET", "/api/v1/station/me"), "database")
    page = client.get("/login/", HTTP_ACCEPT="text/html")
    assert page.status_code == 503 and b"<h1>" in page.content


# --- the real thing: a store and a database that are not there ------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_s3_store_raises_store_unavailable(tmp_path):
    import boto3
    from botocore.config import Config

    from jilu.conf import S3Config
    from jilu.evidence.store.s3 import S3Store

    endpoint = f"http://127.0.0.1:{_closed_port()}"
    store = S3Store(S3Config(endpoint, "jilu", "k", "s", "us-east-1", 0), tmp_path / "spool")
    store.client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="k",
        aws_secret_access_key="s",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )
    key = "ab" * 32
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        store.exists(key)
    with pytest.raises(StoreUnavailable):
        store.put(io.BytesIO(b"evidence"))
    with pytest.raises(StoreUnavailable):
        store.open_range(key, 0, 10)
    assert outage.unavailable(StoreUnavailable("x")) == "store"


PROBE = """
from django.test import Client
import django, json
django.setup()
client = Client(raise_request_exception=False)
client.cookies["sessionid"] = "s" * 32  # a signed-in person: the session is in the database
out = []
for method, path, accept in [
    ("GET", "/api/v1/station/me", "application/json"),
    ("POST", "/api/v1/uploads/", "application/json"),
    ("GET", "/", "text/html"),
]:
    r = client.generic(method, path, HTTP_AUTHORIZATION="Bearer jst_x", HTTP_ACCEPT=accept,
                       HTTP_TUS_RESUMABLE="1.0.0")
    out.append([r.status_code, r.headers.get("Retry-After"), r.headers["Content-Type"],
                r.content.decode()[:400]])
print(json.dumps(out))
"""


def test_a_postgresql_server_that_is_not_there_is_a_503(tmp_path):
    """A real connection refused from PostgreSQL's driver, in a separate process."""
    from tests.test_settings import clean_env

    env = clean_env(
        tmp_path / "var",
        JILU_DATABASE_URL=f"postgres://jilu@127.0.0.1:{_closed_port()}/jilu",
        JILU_ALLOWED_HOSTS="testserver",
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    (api, tus, page) = json.loads(done.stdout.strip().splitlines()[-1])
    for status, retry_after, ctype, body in (api, tus):
        assert (status, retry_after) == (503, str(outage.RETRY_AFTER)), body
        assert ctype.startswith("application/json") and "数据库暂时无法连接" in body
    assert page[:2] == [503, str(outage.RETRY_AFTER)] and page[2].startswith("text/html")
    assert re.search("服务暂时不可用", page[3])
