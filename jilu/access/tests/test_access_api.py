"""The access-request API (C6.3): create, approve, refuse, fulfil, the package's
progress and download, the copy register and identifying a copy (C6.5.2); in
the OpenAPI document with every response declared and every integer bounded."""

from __future__ import annotations

import hashlib

import pytest

from conftest import api_auth, streamed
from jilu.access.models import AccessRequest
from jilu.access.tests.copies_data import not_media, video_recording

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
BASE = "/api/v1"


def _post(client, url, body, auth):
    return client.post(BASE + url, body, content_type="application/json", **auth)


def test_c6_3_the_whole_procedure_through_the_api(
    client, people, recs, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    video = video_recording(people, recs["a"].recorder, tmp_path)
    not_media(recs["b"])
    officer, leader = api_auth(client, "officer"), api_auth(client, "squad_leader")
    archivist, inspector = api_auth(client, "archivist"), api_auth(client, "inspector")

    bad = _post(client, "/access-requests", {"purpose": "x", "recording_ids": [0]}, officer)
    assert bad.status_code == 422
    bad = _post(
        client, "/access-requests", {"purpose": "x", "recording_ids": [1], "use": "sell"}, officer
    )
    assert bad.status_code == 422
    created = _post(
        client,
        "/access-requests",
        {"purpose": "市民投诉复核", "recording_ids": [video.pk, recs["b"].pk], "use": "viewing"},
        officer,
    )
    assert created.status_code == 201, created.content
    req = created.json()
    assert req["status"] == "pending" and req["use"] == "viewing"
    assert req["recording_ids"] == sorted([video.pk, recs["b"].pk])
    rid = req["id"]

    # Only a covering leader approves; the archivist may not fulfil before that.
    assert _post(client, f"/access-requests/{rid}/approve", {}, officer).status_code == 403
    early = _post(
        client, f"/access-requests/{rid}/fulfil", {"recipient": "王五", "medium": "usb"}, archivist
    )
    assert early.status_code == 400 and "待审批" in early.json()["detail"]
    approved = _post(client, f"/access-requests/{rid}/approve", {"note": "同意"}, leader)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    # The requester or a leader cannot fulfil; a bad medium is a 422.
    for auth in (officer, leader, inspector):
        response = _post(
            client, f"/access-requests/{rid}/fulfil", {"recipient": "王五", "medium": "usb"}, auth
        )
        assert response.status_code == 403
    bad = _post(
        client, f"/access-requests/{rid}/fulfil", {"recipient": "王五", "medium": "tape"}, archivist
    )
    assert bad.status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        queued = _post(
            client,
            f"/access-requests/{rid}/fulfil",
            {"recipient": "赵六", "medium": "usb"},
            archivist,
        )
    assert queued.status_code == 202, queued.content
    package_id = queued.json()["id"]
    package = client.get(f"{BASE}/access-packages/{package_id}", **archivist).json()
    assert package["state"] == "ready" and package["percent"] == 100, package
    done = client.get(f"{BASE}/access-requests/{rid}", **officer).json()
    assert done["status"] == "provided" and done["recipient"] == "赵六"
    kinds = sorted((c["kind"], c["recording_id"]) for c in done["copies"])
    assert kinds == sorted(
        [("original", video.pk), ("original", recs["b"].pk), ("viewing", video.pk)]
    )

    # Download: only the archivist; the bytes are the registered zip.
    assert client.get(f"{BASE}/access-packages/{package_id}/download", **officer).status_code == 403
    download = client.get(f"{BASE}/access-packages/{package_id}/download", **archivist)
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert hashlib.sha256(streamed(download)).hexdigest() == package["zip_sha256"]

    # Identify: inspectors only, by the copy ID or the hash.
    viewing = next(c for c in done["copies"] if c["kind"] == "viewing")
    url = f"{BASE}/access-copies/identify"
    assert client.get(url, {"copy_id": viewing["copy_id"]}, **archivist).status_code == 403
    found = client.get(url, {"copy_id": viewing["copy_id"]}, **inspector).json()
    assert found["found"] and found["traced"]
    assert found["matches"][0]["request_number"] == done["number"]
    assert found["matches"][0]["recipient"] == "赵六"
    by_hash = client.get(url, {"hash": viewing["sha256"]}, **inspector).json()
    assert [m["copy_id"] for m in by_hash["matches"]] == [viewing["copy_id"]]
    assert client.get(url, {"hash": "00" * 32}, **inspector).json() == {
        "found": False,
        "traced": False,
        "matches": [],
    }
    assert client.get(url, {"hash": "nope"}, **inspector).status_code == 400

    # The copy comes back destroyed; the register says so.
    close = f"/access-copies/{viewing['copy_id']}/close"
    assert _post(client, close, {"state": "destroyed"}, archivist).status_code == 400
    assert _post(client, close, {"state": "returned"}, officer).status_code == 403
    closed = _post(
        client, close, {"state": "destroyed", "note": "光盘已粉碎，何中队见证"}, archivist
    )
    assert closed.status_code == 200 and closed.json()["state"] == "destroyed"


def test_refuse_needs_a_reason_and_unknown_ids_are_404(client, people, recs):
    officer, leader = api_auth(client, "officer"), api_auth(client, "squad_leader")
    rid = _post(
        client, "/access-requests", {"purpose": "另案", "recording_ids": [recs["a"].pk]}, officer
    ).json()["id"]
    assert _post(client, f"/access-requests/{rid}/refuse", {"note": ""}, leader).status_code == 400
    refused = _post(client, f"/access-requests/{rid}/refuse", {"note": "与本案无关"}, leader)
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert AccessRequest.objects.get(pk=rid).status == "refused"
    other = api_auth(client, "officer_other")
    assert client.get(f"{BASE}/access-requests/{rid}", **other).status_code == 404
    assert client.get(f"{BASE}/access-requests/0", **officer).status_code == 422
    assert client.get(f"{BASE}/access-requests", {"limit": 1000}, **officer).status_code == 422
    assert client.get(f"{BASE}/access-packages/999", **officer).status_code == 404
    assert client.get(f"{BASE}/access-requests/{rid}").status_code == 401


def _integers(node, where=""):
    """Every integer schema under ``node`` (with where it is)."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            yield where, node
        for key, value in node.items():
            yield from _integers(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _integers(value, f"{where}/{i}")


def test_openapi_documents_every_response_and_bounds_every_integer(client, db):
    doc = client.get(f"{BASE}/openapi.json").json()
    ops = {
        (method, path): op
        for path, methods in doc["paths"].items()
        if "/access-" in path
        for method, op in methods.items()
    }
    assert len(ops) == 10
    schemas = doc["components"]["schemas"]
    for (method, path), op in ops.items():
        assert {"401", "403", "422"} <= set(op["responses"]), (method, path)
        assert any(code.startswith("2") for code in op["responses"]), (method, path)
        for where, integer in _integers(op, f"{method} {path}"):
            assert "minimum" in integer and "maximum" in integer, where
    for name in (
        "RequestOut",
        "CopyPackageOut",
        "IssuedOut",
        "RequestIn",
        "FulfilIn",
        "CopyCloseIn",
    ):
        for where, integer in _integers(schemas[name], name):
            assert "minimum" in integer and "maximum" in integer, where
    assert schemas["FulfilIn"]["properties"]["medium"]["enum"] == ["disc", "usb", "hdd", "network"]
    download = ops[("get", "/api/v1/access-packages/{package_id}/download")]
    assert "application/zip" in download["responses"]["200"]["content"]
