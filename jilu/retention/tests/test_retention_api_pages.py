"""Retention's pages and API: who sees and does what (C5.6, C6.4), bad input
answered with what is wrong, never a server error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD, api_auth
from jilu.casework.tests.conftest import T0
from jilu.retention import actions
from jilu.retention.models import Disposal, Hold

pytestmark = pytest.mark.django_db
LATER = T0 + timedelta(days=400)


def _client(person) -> Client:
    c = Client()
    c.force_login(person)
    return c


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("officer", 403),
        ("case_handler", 403),
        ("legal_reviewer", 403),
        ("archivist", 200),
        ("squad_leader", 200),
        ("brigade_leader", 200),
        ("inspector", 200),
        ("admin", 200),
    ],
)
def test_who_sees_the_retention_page(people, who, status):
    assert _client(people[who]).get(reverse("retention:disposal_list")).status_code == status


def test_a_disposal_is_only_seen_within_the_unit(people, tree, make_recording, make_person):
    rec = make_recording(start=T0)
    actions.recompute([rec.pk])
    disposal = actions.propose_disposal(actor="system:test", unit=tree["squad1"], now=LATER)
    url = reverse("retention:disposal_detail", args=[disposal.pk])
    assert _client(people["archivist"]).get(url).status_code == 200
    other = make_person("archivist3", unit="squad3", roles=("archivist",))
    assert _client(other).get(url).status_code == 404
    assert _client(people["inspector"]).get(url).status_code == 200
    # The inspector reads but does not act (C6.4).
    response = _client(people["inspector"]).post(
        reverse("retention:disposal_review", args=[disposal.pk])
    )
    assert response.status_code == 404
    assert Disposal.objects.get().state == Disposal.State.PROPOSED
    pdf = _client(people["archivist"]).get(
        reverse("retention:disposal_print", args=[disposal.pk, "pdf"])
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    bad = _client(people["archivist"]).get(
        reverse("retention:disposal_print", args=[disposal.pk, "doc"])
    )
    assert bad.status_code == 404


def test_the_recording_page_says_why_it_is_kept(people, make_recording):
    rec = make_recording(start=T0)
    html = _client(people["officer"]).get(reverse("evidence:recording_detail", args=[rec.pk]))
    text = html.content.decode()
    assert "保存至 2027-11-26" in text and "C5.6" in text
    assert 'id="place-hold"' not in text  # an officer places no holds
    html = _client(people["inspector"]).get(reverse("evidence:recording_detail", args=[rec.pk]))
    assert 'id="place-hold"' in html.content.decode()


def test_hold_pages_place_and_release(people, make_recording):
    rec = make_recording(start=T0)
    inspector = _client(people["inspector"])
    url = reverse("retention:hold_create") + f"?recording={rec.pk}"
    assert inspector.get(url).status_code == 200
    refused = inspector.post(
        reverse("retention:hold_create"), {"recording": rec.pk, "kind": "inspection", "reason": ""}
    )
    assert refused.status_code == 400 and "请写明保全理由" in refused.content.decode()
    placed = inspector.post(
        reverse("retention:hold_create"),
        {"recording": rec.pk, "kind": "inspection", "reason": "举报"},
    )
    hold = Hold.objects.get()
    assert placed.status_code == 302 and hold.state == Hold.State.ACTIVE
    release = reverse("retention:hold_release", args=[hold.pk])
    inspector.post(release, {"reason": "核查完毕"})
    inspector.post(release)  # the same person cannot approve their own request
    assert Hold.objects.get().state == Hold.State.RELEASE_REQUESTED
    _client(people["brigade_leader"]).post(release)
    assert Hold.objects.get().state == Hold.State.RELEASED
    assert _client(people["officer"]).get(url).status_code == 403
    assert (
        inspector.get(
            reverse("retention:hold_create") + "?recording=99999999999999999999"
        ).status_code
        == 404
    )


def test_api_keep_until_holds_and_disposals(client, people, tree, make_recording):
    rec = make_recording(start=T0)
    officer = api_auth(client, "officer", PASSWORD)
    got = client.get(f"/api/v1/recordings/{rec.pk}/keep-until", **officer)
    assert got.status_code == 200
    body = got.json()
    assert body["until"] == "2027-11-26" and body["reasons"][0]["clause"] == "C5.6"
    assert client.get(
        "/api/v1/recordings/9223372036854775808/keep-until", **officer
    ).status_code in (400, 422)
    inspector = api_auth(client, "inspector", PASSWORD)
    made = client.post(
        "/api/v1/holds",
        {"kind": "inspection", "reason": "举报核查", "recording_id": rec.pk},
        content_type="application/json",
        **inspector,
    )
    assert made.status_code == 201, made.content
    assert client.get(f"/api/v1/recordings/{rec.pk}/keep-until", **officer).json()["until"] is None
    hold_id = made.json()["id"]
    bad = client.post(
        "/api/v1/holds",
        {"kind": "nope", "reason": "x", "recording_id": rec.pk},
        content_type="application/json",
        **inspector,
    )
    assert bad.status_code in (400, 422)
    two = client.post(
        "/api/v1/holds",
        {"kind": "inspection", "reason": "x"},
        content_type="application/json",
        **inspector,
    )
    assert two.status_code == 400 and "保全对象" in two.json()["detail"]
    assert (
        client.post(
            "/api/v1/holds",
            {"kind": "inspection", "reason": "x", "recording_id": rec.pk},
            content_type="application/json",
            **officer,
        ).status_code
        == 403
    )
    asked = client.post(
        f"/api/v1/holds/{hold_id}/release",
        {"reason": "完毕"},
        content_type="application/json",
        **inspector,
    )
    assert asked.json()["state"] == "release_requested"
    again = client.post(
        f"/api/v1/holds/{hold_id}/release", {}, content_type="application/json", **inspector
    )
    assert again.status_code == 403
    assert client.get("/api/v1/disposals", **officer).status_code == 403
    archivist = api_auth(client, "archivist", PASSWORD)
    Hold.objects.update(state=Hold.State.RELEASED)  # as if released long ago
    actions.recompute([rec.pk])
    actions.propose_disposal(actor="system:test", unit=tree["squad1"], now=LATER)
    listed = client.get("/api/v1/disposals", **archivist).json()
    assert len(listed) == 1 and listed[0]["items"][0]["recording_id"] == rec.pk
    doc = client.get("/api/v1/openapi.json").json()
    kinds = doc["components"]["schemas"]["HoldIn"]["properties"]["kind"]
    assert "enum" in str(kinds) or "$ref" in str(kinds)
