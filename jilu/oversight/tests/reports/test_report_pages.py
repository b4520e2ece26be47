"""Report pages, dashboards and their API (C6.4): who reads what, the charts as
SVG images, the published files as frozen, every operation in the document."""

from __future__ import annotations

import hashlib

import pytest

from conftest import api_auth
from jilu.oversight import report_actions
from jilu.oversight.report_models import Report
from jilu.oversight.tests.reports.conftest import AS_OF


def _draft(people, unit=None) -> Report:
    return report_actions.draft_report(
        actor=people["inspector"], kind="month", year=2026, number=11, unit=unit, now=AS_OF
    )


@pytest.fixture
def published(november, people):
    report = _draft(people)
    return report_actions.publish_report(actor=people["inspector"], report=report)


def test_leaders_see_published_reports_of_their_unit_not_drafts(
    november, people, tree, client, published
):
    draft = report_actions.draft_report(
        actor=people["inspector"], kind="quarter", year=2026, number=3, now=AS_OF
    )
    other = _draft(people, unit=tree["district2"])
    report_actions.publish_report(actor=people["inspector"], report=other)
    client.force_login(people["squad_leader"])
    page = client.get("/oversight/reports/").content.decode()
    assert f'data-report="{published.pk}"' in page
    assert f'data-report="{draft.pk}"' not in page  # a draft
    assert f'data-report="{other.pk}"' not in page  # 湖里区's, not over 中华中队
    assert client.get(f"/oversight/reports/{draft.pk}/").status_code == 404
    assert client.get(f"/oversight/reports/{other.pk}/").status_code == 404
    detail = client.get(f"/oversight/reports/{published.pk}/").content.decode()
    assert "中华中队" in detail and "66.7%" in detail and 'id="publish"' not in detail
    # The home page shows it too.
    home = client.get("/").content.decode()
    assert f'data-report="{published.pk}"' in home and f'data-report="{draft.pk}"' not in home
    # The brigade leader of 湖里 (a leader over its subtree) reads 湖里's.
    client.force_login(people["inspector"])
    assert client.get(f"/oversight/reports/{draft.pk}/").status_code == 200


def test_officers_and_others_cannot_see_reports(november, people, client, published):
    for who in ("officer", "archivist", "case_handler", "legal_reviewer"):
        client.force_login(people[who])
        assert client.get("/oversight/reports/").status_code == 403, who
        assert client.get(f"/oversight/reports/{published.pk}/").status_code == 403, who
        assert client.get(f"/oversight/reports/{published.pk}/file.pdf").status_code == 403
        assert 'id="reports-card"' not in client.get("/").content.decode()
    client.force_login(people["officer"])
    assert client.get("/oversight/dashboard/").status_code == 403


def test_downloads_are_the_frozen_bytes_and_charts_are_svg(november, people, client, published):
    client.force_login(people["brigade_leader"])
    for fmt in ("pdf", "xlsx"):
        response = client.get(f"/oversight/reports/{published.pk}/file.{fmt}")
        assert response.status_code == 200
        stored = published.files.get(fmt=fmt)
        assert hashlib.sha256(response.content).hexdigest() == stored.sha256
    for name in ("rates", "drift", "findings"):
        response = client.get(f"/oversight/reports/{published.pk}/chart/{name}.svg")
        assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
        assert response.content.lstrip().startswith(b"<?xml") and b"<svg" in response.content
    assert client.get(f"/oversight/reports/{published.pk}/chart/other.svg").status_code == 404
    assert client.get(f"/oversight/reports/{published.pk}/file.doc").status_code == 404


def test_inspector_drafts_and_publishes_through_the_pages(november, people, client):
    client.force_login(people["inspector"])
    response = client.post(
        "/oversight/reports/draft/", {"kind": "month", "year": "2026", "month": "11", "unit": ""}
    )
    report = Report.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/oversight/reports/{report.pk}/"
    )
    page = client.get(response["Location"]).content.decode()
    assert 'id="publish"' in page and "80.0%" in page
    client.post(f"/oversight/reports/{report.pk}/publish/")
    report.refresh_from_db()
    assert report.published
    again = client.post(f"/oversight/reports/{report.pk}/publish/", follow=True)
    assert "不能重复发布" in again.content.decode()
    bad = client.post(
        "/oversight/reports/draft/", {"kind": "month", "year": "2026", "month": "13"}, follow=True
    )
    assert "期间不正确" in bad.content.decode()
    client.force_login(people["squad_leader"])
    assert (
        client.post(
            "/oversight/reports/draft/", {"kind": "month", "year": "2026", "month": "10"}
        ).status_code
        == 403
    )


def test_leader_home_shows_rates_against_goals_and_the_dashboard_drills_down(
    november, people, tree, client
):
    client.force_login(people["squad_leader"])
    home = client.get("/").content.decode()
    assert 'id="unit-rates-card"' in home and 'data-rate="coverage"' in home
    page = client.get("/oversight/dashboard/").content.decode()
    assert "中华中队" in page
    assert f'data-officer="{people["officer"].pk}"' in page
    assert f'data-officer="{people["officer_other"].pk}"' not in page  # 湖里中队's
    assert client.get(f"/oversight/dashboard/?unit={tree['squad3'].pk}").status_code == 404
    chart = client.get(f"/oversight/dashboard/{tree['squad1'].pk}/rates.svg")
    assert chart.status_code == 200 and b"<svg" in chart.content
    assert client.get(f"/oversight/dashboard/{tree['squad3'].pk}/rates.svg").status_code == 404
    assert client.get("/oversight/dashboard/trend.svg").status_code == 403
    # The officer's findings (the drill-down's link).
    findings = client.get(f"/oversight/findings/?state=open&person={people['officer'].pk}")
    assert findings.status_code == 200
    client.force_login(people["inspector"])
    home = client.get("/").content.decode()
    assert 'id="findings-trend-card"' in home and "/oversight/dashboard/trend.svg" in home
    assert b"<svg" in client.get("/oversight/dashboard/trend.svg").content


def test_api_reports(november, people, tree, client):
    inspector = api_auth(client, "inspector")
    leader = api_auth(client, "squad_leader")
    officer = api_auth(client, "officer")
    response = client.post(
        "/api/v1/reports",
        {"kind": "month", "year": 2026, "number": 11},
        content_type="application/json",
        **inspector,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    report_id = body["id"]
    assert body["state"] == "draft" and body["files"] == []
    assert body["figures"]["total"]["coverage"] == 66.7
    assert client.get(f"/api/v1/reports/{report_id}", **leader).status_code == 404
    assert client.get("/api/v1/reports", **leader).json() == {"count": 0, "items": []}
    assert client.get("/api/v1/reports", **officer).status_code == 403
    assert client.post(f"/api/v1/reports/{report_id}/publish", **leader).status_code == 404
    published = client.post(f"/api/v1/reports/{report_id}/publish", **inspector)
    assert published.status_code == 200, published.content
    files = {f["fmt"]: f for f in published.json()["files"]}
    assert set(files) == {"pdf", "xlsx"}
    assert client.post(f"/api/v1/reports/{report_id}/publish", **inspector).status_code == 409
    again = client.post(
        "/api/v1/reports",
        {"kind": "month", "year": 2026, "number": 11},
        content_type="application/json",
        **inspector,
    )
    assert again.status_code == 409
    listed = client.get("/api/v1/reports", **leader).json()
    assert [r["id"] for r in listed["items"]] == [report_id]
    pdf = client.get(f"/api/v1/reports/{report_id}/download/pdf", **leader)
    assert hashlib.sha256(pdf.content).hexdigest() == files["pdf"]["sha256"]
    bad = client.post(
        "/api/v1/reports",
        {"kind": "week", "year": 2026, "number": 11},
        content_type="application/json",
        **inspector,
    )
    assert bad.status_code == 422
    early = client.post(
        "/api/v1/reports",
        {"kind": "quarter", "year": 2099, "number": 1},
        content_type="application/json",
        **inspector,
    )
    assert early.status_code == 400 and "尚未结束" in early.json()["detail"]


def test_api_dashboard(november, people, tree, client):
    leader = api_auth(client, "squad_leader")
    inspector = api_auth(client, "inspector")
    response = client.get(f"/api/v1/dashboard/units/{tree['squad1'].pk}", **leader)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["unit"]["name"] == "中华中队" and body["goals"]["annotation"] == 90
    assert {o["name"] for o in body["officers"]} == {"王五", "李四", "何中队"}
    assert client.get(f"/api/v1/dashboard/units/{tree['squad3'].pk}", **leader).status_code == 404
    assert client.get("/api/v1/dashboard/findings-trend", **leader).status_code == 403
    trend = client.get("/api/v1/dashboard/findings-trend?months=2", **inspector)
    assert trend.status_code == 200 and len(trend.json()) == 2
    assert client.get("/api/v1/dashboard/findings-trend?months=99", **inspector).status_code == 422


def test_findings_filter_by_person_for_the_drill_down(november, people, client):
    inspector = api_auth(client, "inspector")
    mine = client.get(f"/api/v1/findings?person={people['officer'].pk}", **inspector).json()
    assert mine["count"] == 3
    assert (
        client.get(f"/api/v1/findings?person={people['officer_b'].pk}", **inspector).json()["count"]
        == 0
    )
    client.force_login(people["squad_leader"])
    # The leader reads the C3.2 and C5.1 findings of 中华中队 (the C2.1 one is the brigade's).
    page = client.get(f"/oversight/findings/?person={people['officer'].pk}").content.decode()
    assert page.count("data-finding=") == 2
    page = client.get(f"/oversight/findings/?person={people['officer_b'].pk}").content.decode()
    assert page.count("data-finding=") == 0
