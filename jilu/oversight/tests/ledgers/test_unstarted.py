"""A month that has not begun (Beijing time) has no ledgers (C6.1): the pages,
the files and the API refuse it and say so, as drafting a report for an
unfinished period is refused. The month in progress stays readable (a squad
leader watches it fill) but is confirmed only once it has ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from conftest import api_auth
from jilu.evidence.timeline import SHANGHAI
from jilu.oversight import ledger
from jilu.oversight.ledger_actions import confirm_month
from jilu.oversight.ledger_models import LedgerConfirmation

pytestmark = pytest.mark.django_db
PAGE = "/oversight/ledgers/"


def this_month() -> tuple[int, int]:
    today = timezone.localtime(timezone.now(), SHANGHAI).date()
    return today.year, today.month


def next_month() -> tuple[int, int]:
    year, month = this_month()
    return (year + 1, 1) if month == 12 else (year, month + 1)


def client_for(person) -> Client:
    c = Client()
    c.force_login(person)
    return c


def test_a_month_begins_at_beijing_midnight(tree):
    """December 2026 begins at 2026-12-01 00:00 in Beijing, 2026-11-30 16:00 UTC."""
    squad = tree["squad1"]
    start = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    with pytest.raises(ledger.MonthNotStarted, match="该月尚未开始：2026年12月还没有台账"):
        ledger.ledger(squad, 2026, 12, now=start - timedelta(seconds=1))
    book = ledger.ledger(squad, 2026, 12, now=start)
    assert not book.ended  # in progress: readable, not yet confirmable
    assert ledger.month_started(2026, 12, start) and not ledger.month_started(2027, 1, start)


def test_files_of_a_month_not_begun_are_refused_with_a_page(tree, people):
    c = client_for(people["squad_leader"])
    year, month = next_month()
    for ext in ("pdf", "xlsx"):
        response = c.get(f"/oversight/ledgers/{tree['squad1'].pk}/{year}-{month:02d}.{ext}")
        assert response.status_code == 400, ext
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        assert f"该月尚未开始：{year}年{month}月还没有台账" in html
        assert 'id="http-error" data-status="400"' in html
    # Far in the future too (the example from the report: May 2027 and after).
    response = c.get(f"/oversight/ledgers/{tree['squad1'].pk}/2099-05.pdf")
    assert response.status_code == 400 and b"%PDF" not in response.content


def test_the_page_says_a_month_not_begun_and_shows_last_month(tree, people):
    c = client_for(people["squad_leader"])
    year, month = next_month()
    response = c.get(PAGE, {"unit": tree["squad1"].pk, "month": f"{year}-{month:02d}"})
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        f"该月尚未开始：{year}年{month}月还没有台账，请选择本月或以前的月份；已显示上个月" in html
    )
    last_year, last_month = ledger.previous_month()
    assert f'value="{last_year}-{last_month:02d}"' in html


def test_the_month_in_progress_is_read_but_not_confirmed(tree, people):
    year, month = this_month()
    c = client_for(people["squad_leader"])
    response = c.get(PAGE, {"unit": tree["squad1"].pk, "month": f"{year}-{month:02d}"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="not-ended"' in html and 'id="confirm-ledger"' not in html
    pdf = c.get(f"/oversight/ledgers/{tree['squad1'].pk}/{year}-{month:02d}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    refused = c.post(f"/oversight/ledgers/{tree['squad1'].pk}/{year}-{month:02d}/confirm/")
    assert refused.status_code == 302
    page = c.get(refused["Location"]).content.decode()
    assert f"{year}年{month}月尚未结束，月末之后才能确认台账" in page
    assert not LedgerConfirmation.objects.exists()


def test_confirming_a_month_not_begun_or_not_ended_is_refused(tree, people):
    leader, squad = people["squad_leader"], tree["squad1"]
    year, month = next_month()
    with pytest.raises(ValidationError, match="该月尚未开始"):
        confirm_month(actor=leader, unit=squad, year=year, month=month)
    year, month = this_month()
    with pytest.raises(ValidationError, match="尚未结束"):
        confirm_month(actor=leader, unit=squad, year=year, month=month)
    assert not LedgerConfirmation.objects.exists()


def test_api_refuses_a_month_not_begun(client, tree, people):
    headers = api_auth(client, "squad_leader")
    base = f"/api/v1/ledgers/{tree['squad1'].pk}"
    year, month = next_month()
    for url in (f"{base}/{year}/{month}", f"{base}/{year}/{month}/download/pdf"):
        response = client.get(url, **headers)
        assert response.status_code == 400, url
        assert response.json()["detail"].startswith("该月尚未开始")
    confirm = client.post(f"{base}/{year}/{month}/confirm", **headers)
    assert confirm.status_code == 400 and "该月尚未开始" in confirm.json()["detail"]
    year, month = this_month()
    body = client.get(f"{base}/{year}/{month}", **headers).json()
    assert body["state"] == "open"
    confirm = client.post(f"{base}/{year}/{month}/confirm", **headers)
    assert confirm.status_code == 400 and "尚未结束" in confirm.json()["detail"]


def test_api_documents_the_refusal():
    from jilu.api import api as ninja_api

    paths = ninja_api.get_openapi_schema()["paths"]
    assert "400" in paths["/api/v1/ledgers/{unit_id}/{year}/{month}"]["get"]["responses"]
    download = paths["/api/v1/ledgers/{unit_id}/{year}/{month}/download/{fmt}"]["get"]
    assert "400" in download["responses"]


def test_the_refusal_in_english(tree, people):
    c = client_for(people["squad_leader"])
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = c.get(f"/oversight/ledgers/{tree['squad1'].pk}/2099-05.pdf")
    html = response.content.decode()
    assert "That month has not begun yet: there is no ledger for 5/2099" in html
    assert "No ledger for this month" in html
