"""The responses every API operation can give whatever its handler does, added to
the OpenAPI document so that it lists each status code a client can meet.

An operation declares what its own handler answers (its successes and the 400,
403, 404, 409, 410… it raises). The API itself adds, for every operation:

- 401 when it needs a token (none, unknown, expired or revoked);
- 422 when it reads parameters or a body (the request does not match the document);
- 400 and 413 when it reads a body (not JSON; larger than the server accepts);
- 503 (the database or the evidence store is unavailable; retry after ``Retry-After``).
"""

from __future__ import annotations

from typing import Any

from jilu.org.api_types import Error, InvalidRequest

REF = "#/components/schemas/{model}"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

DESCRIPTIONS = {
    400: "请求体无法解析 (the body is not valid JSON), or the handler's own refusal",
    401: "缺少或无效的令牌 (missing, unknown, expired or revoked bearer token)",
    413: "请求体过大 (request body too large)",
    422: "请求与文档不符：缺项、类型或取值范围不对，errors 逐项列出 (invalid request)",
    503: "数据库或证据存储暂时不可用，请按 Retry-After 稍后重试 (service unavailable)",
}


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(model=schema_name)}}}


def _add(responses: dict[str, Any], code: int, schema_name: str) -> None:
    entry = {"description": DESCRIPTIONS[code], "content": _json(schema_name)}
    declared = responses.get(str(code))
    if declared is not None and code == 422:
        # The handler's own 422 (e.g. the roster's rows) or the API's: either body.
        schema = declared.get("content", {}).get("application/json", {}).get("schema")
        if schema and schema != {"$ref": REF.format(model=schema_name)}:
            declared["content"]["application/json"]["schema"] = {
                "anyOf": [schema, {"$ref": REF.format(model=schema_name)}]
            }
            declared["description"] += "; " + DESCRIPTIONS[code]
        return
    if code == 503:
        entry["headers"] = {
            "Retry-After": {
                "description": "seconds",
                "schema": {"type": "integer", "minimum": 1, "maximum": 3600},
            }
        }
    responses.setdefault(str(code), entry)


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the API-wide responses added to each operation (in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (Error, InvalidRequest):
        found = model.model_json_schema(ref_template=REF)
        for name, definition in found.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas[model.__name__] = found
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            if operation.get("security"):
                _add(responses, 401, "Error")
            if operation.get("parameters") or operation.get("requestBody"):
                _add(responses, 422, "InvalidRequest")
            if operation.get("requestBody"):
                _add(responses, 400, "Error")
                _add(responses, 413, "Error")
            _add(responses, 503, "Error")
            operation["responses"] = dict(sorted(responses.items()))
    return document
