"""The explanation workflow (open → explained → confirmed or dismissed), who
sees and does what on every page and through the API, the settings page, and
the home cards (C6.4, C6.5)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.test import Client

from conftest import PASSWORD, api_auth
from jilu.audit.models import AuditEntry
from jilu.casework.tests.conftest import T0
from jilu.oversight import actions
from jilu.oversight.actions import Fact, Subject
from jilu.oversight.periods import day

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def finding(db, people, tree, make_recording):
    """A late collection (C5.1) of officer 王五 in squad1."""
    rec = make_recording(start=T0, docked_at=T0 + timedelta(hours=30))
    made, _n = actions.note_finding(
        actor=actions.SYSTEM,
        rule="late_collection",
        subject=Subject("officer", people["officer"].pk, str(people["officer"])),
        period=day(rec.docked_at),
        unit=tree["squad1"],
        person=people["officer"],
        facts=[Fact("recording", rec.pk, rec.docked_at, {"hours": 29.8})],
    )
    return made


@pytest.fixture
def elsewhere(db, people, tree):
    """A finding of squad3 (another district), with nobody named."""
    made, _n = actions.note_finding(
        actor=actions.SYSTEM,
        rule="no_workstation",
        subject=Subject("unit", tree["squad3"].pk, tree["squad3"].name),
        period=day(T0),
        unit=tree["squad3"],
        person=None,
        facts=[Fact("unit", tree["squad3"].pk, T0, {"day": "2026-11-26"})],
    )
    return made


def client_for(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password=PASSWORD)
    return c


# who sees the list and the page: (user, sees squad1's finding, sees squad3's)
SCOPE = [
    ("officer", True, False),  # their own
    ("officer_b", False, False),
    ("squad_leader", True, False),
    ("brigade_leader", True, False),
    ("inspector", True, True),
    ("admin", True, True),  # city administrator: the whole subtree
    ("squad_admin", False, True),
    ("archivist", False, False),
    ("case_handler", False, False),
    ("legal_reviewer", False, False),
]


@pytest.mark.parametrize("username,sees_own,sees_other", SCOPE)
def test_list_and_detail_follow_the_scope(username, sees_own, sees_other, finding, elsewhere):
    c = client_for(username)
    page = c.get("/oversight/findings/")
    assert page.status_code == 200
    html = page.content.decode()
    assert (f'data-finding="{finding.pk}"' in html) == sees_own
    assert (f'data-finding="{elsewhere.pk}"' in html) == sees_other
    for f, sees in ((finding, sees_own), (elsewhere, sees_other)):
        assert c.get(f"/oversight/findings/{f.pk}/").status_code == (200 if sees else 404)


def test_signed_out_is_sent_to_sign_in(client, finding):
    for url in (
        "/oversight/findings/",
        f"/oversight/findings/{finding.pk}/",
        "/oversight/settings/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    "username,allowed",
    [
        ("officer", True),
        ("squad_leader", True),
        ("brigade_leader", True),
        ("officer_b", False),
        ("inspector", False),
        ("admin", False),
        ("archivist", False),
    ],
)
def test_who_may_explain(username, allowed, finding):
    c = client_for(username)
    c.post(f"/oversight/findings/{finding.pk}/explain/", {"text": "设备故障，次日才采集"})
    finding.refresh_from_db()
    assert (finding.state == "explained") == allowed


@pytest.mark.parametrize(
    "username,allowed",
    [("inspector", True), ("squad_leader", False), ("officer", False), ("admin", False)],
)
def test_only_inspectors_decide(username, allowed, finding):
    actions.explain_finding(finding, actor=finding.person, text="说明")
    c = client_for(username)
    c.post(
        f"/oversight/findings/{finding.pk}/decide/", {"outcome": "confirmed", "reason": "核实属实"}
    )
    finding.refresh_from_db()
    assert (finding.state == "confirmed") == allowed


def test_workflow_is_audited_with_an_attachment_read_with_a_limit(finding, people):
    c = client_for("officer")
    upload = io.BytesIO(PDF)
    upload.name = "维修单.pdf"
    c.post(
        f"/oversight/findings/{finding.pk}/explain/", {"text": "记录仪送修", "attachment": upload}
    )
    finding.refresh_from_db()
    assert finding.state == "explained" and finding.attachment_type == "application/pdf"
    got = client_for("squad_leader").get(f"/oversight/findings/{finding.pk}/attachment/")
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert got["Content-Disposition"].startswith("attachment")
    assert (
        client_for("officer_b").get(f"/oversight/findings/{finding.pk}/attachment/").status_code
        == 404
    )
    # Explaining twice is refused; the inspector decides with a reason.
    again = c.post(f"/oversight/findings/{finding.pk}/explain/", {"text": "再说一次"}, follow=True)
    assert "已经说明" in again.content.decode()
    refused = client_for("inspector").post(
        f"/oversight/findings/{finding.pk}/decide/",
        {"outcome": "dismissed", "reason": ""},
        follow=True,
    )
    assert "请写明认定理由" in refused.content.decode()
    client_for("inspector").post(
        f"/oversight/findings/{finding.pk}/decide/", {"outcome": "dismissed", "reason": "送修属实"}
    )
    finding.refresh_from_db()
    assert finding.state == "dismissed" and finding.decided_by == people["inspector"]
    codes = list(
        AuditEntry.objects.filter(object_type="oversight.finding", object_id=str(finding.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert codes == [
        "oversight.finding.open",
        "oversight.finding.explain",
        "oversight.finding.dismiss",
    ]


def test_attachments_too_large_or_of_another_type_are_refused(finding, settings, monkeypatch):
    c = client_for("officer")
    monkeypatch.setattr(actions, "MAX_ATTACHMENT_BYTES", 64)
    big = io.BytesIO(PDF + b"x" * 100)
    big.name = "big.pdf"
    page = c.post(
        f"/oversight/findings/{finding.pk}/explain/",
        {"text": "说明", "attachment": big},
        follow=True,
    )
    assert "附件不能超过" in page.content.decode()
    script = io.BytesIO(b"<script>alert(1)</script>")
    script.name = "x.pdf"
    page = c.post(
        f"/oversight/findings/{finding.pk}/explain/",
        {"text": "说明", "attachment": script},
        follow=True,
    )
    assert "附件只能是 PDF、JPEG 或 PNG 文件" in page.content.decode()
    finding.refresh_from_db()
    assert finding.state == "open"


def test_list_filters_and_counts_by_clause(finding, elsewhere):
    c = client_for("inspector")
    html = c.get("/oversight/findings/?clause=C5.1").content.decode()
    assert f'data-finding="{finding.pk}"' in html and f'data-finding="{elsewhere.pk}"' not in html
    assert 'data-clause="C5.1"' in html and 'data-clause="C1.2"' in html  # counts ignore the clause
    html = c.get(
        f"/oversight/findings/?unit={finding.unit.pk}&state=open&period=2026-11"
    ).content.decode()
    assert f'data-finding="{finding.pk}"' in html and f'data-finding="{elsewhere.pk}"' not in html
    html = c.get("/oversight/findings/?state=confirmed").content.decode()
    assert f'data-finding="{finding.pk}"' not in html


def test_detail_links_the_facts(finding):
    html = client_for("squad_leader").get(f"/oversight/findings/{finding.pk}/").content.decode()
    rec_id = finding.facts.get().object_id
    assert f'href="/recordings/{rec_id}/"' in html
    assert "C5.1" in html


# --- settings -------------------------------------------------------------------


@pytest.mark.parametrize(
    "username,reads,changes",
    [
        ("admin", True, True),
        ("inspector", True, False),
        ("squad_admin", True, False),  # an administrator of one squad: not the bureau's
        ("squad_leader", False, False),
        ("officer", False, False),
    ],
)
def test_settings_page_permissions(username, reads, changes, people):
    c = client_for(username)
    assert c.get("/oversight/settings/").status_code == (200 if reads else 403)
    response = c.post(
        "/oversight/settings/", {"key": "clock_drift_seconds", "value": "90", "note": "试行"}
    )
    assert (response.status_code == 302) == changes
    from jilu.oversight import thresholds

    assert thresholds.get("clock_drift_seconds") == (90 if changes else 60)


def test_settings_history_and_bad_values(people):
    c = client_for("admin")
    c.post("/oversight/settings/", {"key": "duty_start", "value": "06:30", "note": "夏令时"})
    bad = c.post("/oversight/settings/", {"key": "duty_start", "value": "6点半"})
    assert bad.status_code == 400 and "HH:MM" in bad.content.decode()
    html = c.get("/oversight/settings/").content.decode()
    assert "06:30" in html and "夏令时" in html and people["admin"].name in html
    assert AuditEntry.objects.filter(action="oversight.setting.change").count() == 1


# --- the API --------------------------------------------------------------------


def test_api_list_explain_decide(client, finding, elsewhere, people):
    officer = api_auth(client, "officer")
    listed = client.get("/api/v1/findings", **officer).json()
    assert [f["id"] for f in listed["items"]] == [finding.pk] and listed["count"] == 1
    assert listed["items"][0]["clause"] == "C5.1"
    assert client.get(f"/api/v1/findings/{elsewhere.pk}", **officer).status_code == 404
    assert client.get("/api/v1/findings?rule=nonsense", **officer).status_code == 422
    assert client.get("/api/v1/findings?limit=501", **officer).status_code == 422
    explained = client.post(
        f"/api/v1/findings/{finding.pk}/explain",
        {"text": "设备故障", "attachment": io.BytesIO(PDF)},
        **officer,
    )
    assert explained.status_code == 200, explained.content
    body = explained.json()
    assert body["state"] == "explained" and body["has_attachment"]
    assert body["facts"][0]["url"].startswith("/recordings/")
    leader = api_auth(client, "squad_leader")
    assert (
        client.get(f"/api/v1/findings/{finding.pk}", **leader).json()["explanation"] == "设备故障"
    )
    decide = {"outcome": "confirmed", "reason": "核实属实"}
    refused = client.post(
        f"/api/v1/findings/{finding.pk}/decide", decide, content_type="application/json", **leader
    )
    assert refused.status_code == 403
    inspector = api_auth(client, "inspector")
    done = client.post(
        f"/api/v1/findings/{finding.pk}/decide",
        decide,
        content_type="application/json",
        **inspector,
    )
    assert done.status_code == 200 and done.json()["state"] == "confirmed"
    again = client.post(
        f"/api/v1/findings/{finding.pk}/decide",
        decide,
        content_type="application/json",
        **inspector,
    )
    assert again.status_code == 400
    assert (
        client.get("/api/v1/findings?state=confirmed&clause=C5.1", **inspector).json()["count"] == 1
    )


def test_api_settings_read(client, people):
    rows = client.get("/api/v1/findings-settings", **api_auth(client, "inspector")).json()
    assert {"key": "clock_drift_seconds", "value": "60"}.items() <= next(
        r for r in rows if r["key"] == "clock_drift_seconds"
    ).items()
    assert client.get("/api/v1/findings-settings", **api_auth(client, "officer")).status_code == 403
    assert client.get("/api/v1/findings-settings").status_code == 401


def test_api_documents_every_response(client, db):
    doc = client.get("/api/v1/openapi.json").json()
    for path, ops in doc["paths"].items():
        if "finding" not in path:
            continue
        for op in ops.values():
            assert {"200", "401", "403"} <= set(op["responses"]), path
    rule = doc["components"]["schemas"]["FindingOut"]["properties"]["rule"]
    assert "late_collection" in rule["enum"]


# --- home cards -------------------------------------------------------------------


def test_home_cards(finding, elsewhere):
    inspector = client_for("inspector").get("/").content.decode()
    assert 'id="findings-open" data-count="2"' in inspector
    assert 'data-clause="C5.1"' in inspector and 'data-clause="C1.2"' in inspector
    assert f'data-unit="{finding.unit.pk}"' in inspector
    leader = client_for("squad_leader").get("/").content.decode()
    assert 'id="findings-unit" data-count="1"' in leader
    officer = client_for("officer").get("/").content.decode()
    assert 'id="findings-waiting" data-count="1"' in officer
    assert "findings-waiting" not in client_for("officer_b").get("/").content.decode()
    actions.explain_finding(finding, actor=finding.person, text="已说明")
    assert "findings-waiting" not in client_for("officer").get("/").content.decode()
