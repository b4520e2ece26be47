"""The OpenAPI document says what the API does (DESIGN contract 4): choices are
enums, integers are bounded, and every status an operation can give is listed
with the body it really has."""

from __future__ import annotations

import pytest

from conftest import api_auth
from jilu.casework.choices import ActivityKind, Category, RecordedStep, RetentionClass
from jilu.dutylog.models import UnrecordedNote
from jilu.ingest.models import QuarantineItem
from jilu.org.api_types import MAX_ID

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def doc(client, db) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _enum(doc: dict, schema: dict) -> list[str] | None:
    schema = _resolve(doc, schema)
    if "enum" in schema:
        return schema["enum"]
    for option in schema.get("anyOf", []):
        found = _enum(doc, option)
        if found is not None:
            return found
    return None


def _body(doc: dict, path: str, method: str = "post") -> dict:
    content = doc["paths"][path][method]["requestBody"]["content"]
    return _resolve(doc, content["application/json"]["schema"])


def _param(doc: dict, path: str, name: str, method: str = "get") -> dict:
    for parameter in doc["paths"][path][method]["parameters"]:
        if parameter["name"] == name:
            return parameter["schema"]
    raise AssertionError(f"{path} has no parameter {name}")


def test_codes_are_enums(doc):
    activity = _body(doc, "/api/v1/activities")["properties"]
    assert _enum(doc, activity["category"]) == Category.values
    assert _enum(doc, activity["kind"]) == ActivityKind.values
    party = _resolve(doc, activity["party"]["anyOf"][0])["properties"]
    assert _enum(doc, party["kind"]) == ["person", "organisation"]
    link = _body(doc, "/api/v1/activities/{activity_id}/recordings")["properties"]
    assert _enum(doc, link["step"]) == RecordedStep.values
    case = _body(doc, "/api/v1/cases")["properties"]
    assert _enum(doc, case["category"]) == Category.values
    assert _enum(doc, case["retention"]) == RetentionClass.values
    assert _enum(doc, _body(doc, "/api/v1/cases/{case_id}/packages")["properties"]["disc"]) == [
        "dvd",
        "dvd-dl",
        "bd",
    ]
    note = _body(doc, "/api/v1/duty-log")["properties"]
    assert _enum(doc, note["reason"]) == UnrecordedNote.Reason.values
    assert _enum(doc, _param(doc, "/api/v1/duty-log", "state")) == UnrecordedNote.State.values
    assert _enum(doc, _param(doc, "/api/v1/duty-log", "tab")) == ["mine", "confirm", "all"]
    quarantine = _param(doc, "/api/v1/quarantine", "reason")
    assert _enum(doc, quarantine) == QuarantineItem.Reason.values
    assert "in_service" in _enum(doc, _param(doc, "/api/v1/recorders", "status"))
    assert "open" in _enum(doc, _param(doc, "/api/v1/cases", "status"))
    assert "" in _enum(doc, _param(doc, "/api/v1/recordings", "kind"))  # empty: every kind


def _integers(doc: dict, schema: dict, where: str, seen: set) -> list[tuple[str, dict]]:
    """Every integer schema reachable from ``schema`` (through refs, unions, arrays, objects)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return []
        return _integers(doc, _resolve(doc, schema), f"{where}→{name}", seen | {name})
    found = [(where, schema)] if schema.get("type") == "integer" else []
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        found += _integers(doc, option, where, seen)
    if "items" in schema:
        found += _integers(doc, schema["items"], f"{where}[]", seen)
    for name, prop in schema.get("properties", {}).items():
        found += _integers(doc, prop, f"{where}.{name}", seen)
    return found


def test_every_integer_a_client_sends_is_bounded(doc):
    integers = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if method not in METHODS:
                continue
            for parameter in op.get("parameters", []):
                where = f"{method} {path} {parameter['name']}"
                integers += _integers(doc, parameter["schema"], where, set())
            for media in op.get("requestBody", {}).get("content", {}).values():
                integers += _integers(doc, media["schema"], f"{method} {path} body", set())
    assert len(integers) > 30
    unbounded = [w for w, s in integers if "minimum" not in s or "maximum" not in s]
    assert unbounded == []
    too_big = [w for w, s in integers if s["maximum"] > MAX_ID or s["minimum"] < -MAX_ID]
    assert too_big == []


def test_every_operation_lists_the_answers_the_api_itself_gives(doc):
    checked = 0
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if method not in METHODS:
                continue
            codes = set(op["responses"])
            where = f"{method} {path}"
            assert "503" in codes, where
            if op.get("security"):
                assert "401" in codes, where
            if op.get("parameters") or op.get("requestBody"):
                schema = op["responses"]["422"]["content"]["application/json"]["schema"]
                refs = [schema] + schema.get("anyOf", [])
                assert {"$ref": "#/components/schemas/InvalidRequest"} in refs, where
            if op.get("requestBody"):
                assert {"400", "413"} <= codes, where
            checked += 1
    assert checked >= 50


def test_the_roster_documents_both_of_its_422_bodies(doc):
    schema = doc["paths"]["/api/v1/roster"]["post"]["responses"]["422"]["content"]
    options = schema["application/json"]["schema"]["anyOf"]
    assert {"$ref": "#/components/schemas/RosterResultOut"} in options
    assert {"$ref": "#/components/schemas/InvalidRequest"} in options


def test_the_roster_without_a_file_answers_the_documented_422(client, people):
    """It used to answer a body its document did not describe."""
    response = client.post("/api/v1/roster", {}, **api_auth(client, "admin"))
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail", "errors"} and "file" in body["detail"]
    assert body["errors"][0]["loc"] == ["file", "file"]


def test_a_label_instead_of_a_code_is_refused_listing_the_codes(client, people):
    body = {
        "kind": "S2",
        "category": "行政检查",
        "unit_code": people["officer"].unit.code,
        "officer_ids": [people["officer"].pk],
    }
    response = client.post(
        "/api/v1/activities", body, content_type="application/json", **api_auth(client, "admin")
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "请求内容不正确：category: 应为以下之一：" + "、".join(Category.values)
    )


def test_a_body_that_is_not_json_is_a_documented_400(client, people):
    response = client.post(
        "/api/v1/activities", b"\x00{", content_type="application/json", **api_auth(client, "admin")
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "请求体无法解析：应为 UTF-8 编码的 JSON"}


def test_an_unavailable_database_is_a_documented_503_with_retry_after(client, people, monkeypatch):
    from django.db import OperationalError

    from jilu.org import api as org_api

    headers = api_auth(client, "officer")

    def locked(request):
        raise OperationalError("database is locked")

    monkeypatch.setattr(org_api, "require_person", locked)
    response = client.get("/api/v1/me", **headers)
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert "数据库暂时无法连接" in response.json()["detail"]


def test_a_body_larger_than_the_server_takes_is_a_documented_413(client, people, settings):
    headers = api_auth(client, "admin")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = {"kind": "S2", "category": "other", "unit_code": "x" * 2000, "officer_ids": [1]}
    response = client.post("/api/v1/activities", body, content_type="application/json", **headers)
    assert response.status_code == 413
    assert response.json() == {"detail": "请求体过大，服务器拒绝接收；请缩小请求内容"}


def test_no_two_api_schemas_share_a_name():
    """The document names each body by its class: two classes of one name would
    make one of them describe the other's operations."""
    from ninja import Schema

    import jilu.api  # noqa: F401  (every router imported)

    seen: dict[str, type] = {}
    clashes = []
    stack = list(Schema.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not cls.__module__.startswith("jilu.") or ".tests" in cls.__module__:
            continue
        other = seen.setdefault(cls.__name__, cls)
        if other is not cls:
            clashes.append(f"{cls.__name__}: {other.__module__} and {cls.__module__}")
    assert clashes == []
