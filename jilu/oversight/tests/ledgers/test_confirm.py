"""Confirming a month (C6.1): who may, when, once; the frozen rows and the
amendments that later changes show as; who reads which squad's ledgers."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from conftest import api_auth
from jilu.audit.models import AuditEntry
from jilu.evidence.timeline import SHANGHAI
from jilu.oversight import ledger
from jilu.oversight.ledger_actions import AlreadyConfirmed, confirm_month
from jilu.oversight.ledger_models import LedgerConfirmation
from jilu.oversight.tests.ledgers.conftest import MONTH

YEAR, MON = MONTH
PAGE = "/oversight/ledgers/"


@pytest.fixture
def other_leader(make_person):
    return make_person("leader2", unit="squad2", roles=("squad_leader",), name="鹭江中队长")


def client_for(person) -> Client:
    c = Client()
    c.force_login(person)
    return c


def test_the_leader_confirms_a_month_that_has_ended(november, tree, people):
    squad, leader = tree["squad1"], people["squad_leader"]
    rows = ledger.build_rows(squad, *MONTH)
    confirmation = confirm_month(actor=leader, unit=squad, year=YEAR, month=MON)
    assert confirmation.snapshot == rows
    assert confirmation.sha256 == ledger.digest(rows) == ledger.digest(confirmation.snapshot)
    entry = AuditEntry.objects.get(action="oversight.ledger.confirm")
    assert entry.actor_id == leader.pk
    assert entry.details["sha256"] == confirmation.sha256
    assert (entry.details["unit"], entry.details["year"], entry.details["month"]) == (
        squad.code,
        YEAR,
        MON,
    )
    assert entry.details["recordings"] == 5


def test_confirming_twice_is_refused(november, tree, people):
    confirm_month(actor=people["squad_leader"], unit=tree["squad1"], year=YEAR, month=MON)
    with pytest.raises(AlreadyConfirmed):
        confirm_month(actor=people["brigade_leader"], unit=tree["squad1"], year=YEAR, month=MON)
    assert LedgerConfirmation.objects.count() == 1
    assert AuditEntry.objects.filter(action="oversight.ledger.confirm").count() == 1


def test_not_before_the_month_ends(tree, people):
    """The month in progress, and November on its last evening in Beijing."""
    now = timezone.localtime(timezone.now(), SHANGHAI)
    with pytest.raises(ValidationError, match="尚未结束"):
        confirm_month(
            actor=people["squad_leader"], unit=tree["squad1"], year=now.year, month=now.month
        )
    last_evening = datetime(2026, 11, 30, 15, 59, tzinfo=UTC)  # 23:59 on 30 November
    with pytest.raises(ValidationError, match="尚未结束"):
        confirm_month(
            actor=people["squad_leader"], unit=tree["squad1"], year=2026, month=11, now=last_evening
        )
    confirmation = confirm_month(
        actor=people["squad_leader"],
        unit=tree["squad1"],
        year=2026,
        month=11,
        now=last_evening + timedelta(minutes=1),
    )
    assert confirmation.confirmed_at == last_evening + timedelta(minutes=1)


@pytest.mark.parametrize("who", ["officer", "inspector", "admin", "other_leader"])
def test_only_the_squads_leader_or_above_confirms(tree, people, other_leader, who):
    actor = other_leader if who == "other_leader" else people[who]
    with pytest.raises(PermissionDenied):
        confirm_month(actor=actor, unit=tree["squad1"], year=YEAR, month=MON)
    assert not LedgerConfirmation.objects.exists()


def test_the_brigade_leader_above_may_confirm(tree, people):
    confirm_month(actor=people["brigade_leader"], unit=tree["squad2"], year=YEAR, month=MON)
    assert LedgerConfirmation.objects.get().unit == tree["squad2"]


def test_a_change_after_confirmation_is_an_amendment(november, tree, people, make_recording):
    squad = tree["squad1"]
    confirmation = confirm_month(actor=people["squad_leader"], unit=squad, year=YEAR, month=MON)
    frozen = ledger.build_rows(squad, *MONTH)
    # Later: a recording of 26 November docked only now, and another annotated late.
    from jilu.casework.actions import annotate

    t0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    make_recording("officer", start=t0 + timedelta(hours=3), minutes=6)
    annotate(
        actor="system:test",
        recording=november["own"][4],
        activity=november["activity"],
        step="site_check",
    )
    book = ledger.ledger(squad, *MONTH)
    assert book.rows == frozen == confirmation.snapshot  # the confirmed figures stay
    wang = next(r for r in book.rows["recordings"] if r["officer"] == "王五")
    assert wang["count"] == 3 and book.totals["count"] == 5
    by_key = {a.key: a for a in book.amendments}
    wang_key = f"2026-11-26/{people['officer'].pk}"
    li_key = f"2026-11-27/{people['officer_b'].pk}"
    assert set(by_key) == {"A000001", wang_key, li_key}
    changed = {c["field"]: (c["before"], c["after"]) for c in by_key[wang_key].changes}
    assert changed["count"] == ("3", "4")
    assert changed["seconds"] == ("0:35:00", "0:41:00")
    assert changed["unannotated"] == ("1", "2")
    li = {c["field"]: (c["before"], c["after"]) for c in by_key[li_key].changes}
    assert li["unannotated"] == ("1", "0") and li["annotated_late"] == ("0", "1")
    assert {c["field"] for c in by_key["A000001"].changes} == {"recordings"}


def test_page_shows_confirmed_rows_and_amendments(november, tree, people, make_recording):
    squad = tree["squad1"]
    confirm_month(actor=people["squad_leader"], unit=squad, year=YEAR, month=MON)
    make_recording("officer_b", start=datetime(2026, 11, 28, 2, 0, tzinfo=UTC), minutes=4)
    html = (
        client_for(people["squad_leader"])
        .get(PAGE, {"unit": squad.pk, "month": "2026-11"})
        .content.decode()
    )
    assert 'data-confirmed="1"' in html and 'id="confirm-ledger"' not in html
    total = html.split('id="recordings-total"')[1].split("</tr>")[0]
    assert '<td class="count">5</td>' in total  # as confirmed
    amendments = html.split('id="amendments"')[1]
    assert 'data-kind="added"' in amendments and "2026-11-28 李四" in amendments


# --- pages and permissions -------------------------------------------------------


def test_officer_is_refused(people, tree):
    c = client_for(people["officer"])
    assert c.get(PAGE).status_code == 403
    assert c.get(f"/oversight/ledgers/{tree['squad1'].pk}/2026-11.pdf").status_code == 403
    assert c.post(f"/oversight/ledgers/{tree['squad1'].pk}/2026-11/confirm/").status_code == 403


def test_other_squads_leader_gets_not_found(tree, other_leader):
    c = client_for(other_leader)
    squad1 = tree["squad1"].pk
    assert c.get(PAGE, {"unit": squad1}).status_code == 404
    assert c.get(f"/oversight/ledgers/{squad1}/2026-11.xlsx").status_code == 404
    assert c.post(f"/oversight/ledgers/{squad1}/2026-11/confirm/").status_code == 404
    html = c.get(PAGE).content.decode()
    assert "鹭江中队" in html and "中华中队" not in html  # the picker offers their own squad
    assert not LedgerConfirmation.objects.exists()


def test_inspector_reads_every_squad_but_cannot_confirm(november, tree, people):
    c = client_for(people["inspector"])
    html = c.get(PAGE, {"unit": tree["squad3"].pk, "month": "2026-11"}).content.decode()
    assert "湖里中队" in html and "韩一" in html
    assert 'id="confirm-ledger"' not in html
    assert c.get(f"/oversight/ledgers/{tree['squad1'].pk}/2026-11.pdf").status_code == 200
    response = c.post(f"/oversight/ledgers/{tree['squad1'].pk}/2026-11/confirm/")
    assert response.status_code == 403
    assert not LedgerConfirmation.objects.exists()


def test_leader_confirms_from_the_page(november, tree, people):
    c = client_for(people["squad_leader"])
    html = c.get(PAGE, {"unit": tree["squad1"].pk, "month": "2026-11"}).content.decode()
    assert 'id="confirm-ledger"' in html
    response = c.post(f"/oversight/ledgers/{tree['squad1'].pk}/2026-11/confirm/", follow=True)
    html = response.content.decode()
    assert "已确认" in html and 'data-confirmed="1"' in html
    again = c.post(f"/oversight/ledgers/{tree['squad1'].pk}/2026-11/confirm/", follow=True)
    assert "不能重复确认" in again.content.decode()
    assert LedgerConfirmation.objects.count() == 1


def test_bad_month_is_said_and_out_of_range_paths_are_not_found(tree, people):
    c = client_for(people["squad_leader"])
    html = c.get(PAGE, {"month": "1999-12"}).content.decode()
    assert "2000-01 至 2099-12" in html
    assert c.get(f"/oversight/ledgers/{tree['squad1'].pk}/2026-13.pdf").status_code == 404


# --- API ---------------------------------------------------------------------------


def test_api_ledger_json_and_files(november, client, tree, people):
    from openpyxl import load_workbook

    headers = api_auth(client, "squad_leader")
    url = f"/api/v1/ledgers/{tree['squad1'].pk}/2026/11"
    body = client.get(url, **headers).json()
    assert body["state"] == "ended" and body["confirmation"] is None
    assert body["totals"]["count"] == 5
    assert [r["serial"] for r in body["recorders"]] == ["A000001", "A000002"]
    xlsx = client.get(url + "/download/xlsx", **headers)
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[1] == "声像记录台账"
    pdf = client.get(url + "/download/pdf", **headers)
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert client.get(url + "/download/docx", **headers).status_code == 422
    for bad in ("/1999/11", "/2100/1", "/2026/0", "/2026/13"):
        assert client.get(f"/api/v1/ledgers/{tree['squad1'].pk}{bad}", **headers).status_code == 422


def test_api_confirm_and_permissions(november, client, tree, people, other_leader):
    url = f"/api/v1/ledgers/{tree['squad1'].pk}/2026/11"
    assert client.get(url, **api_auth(client, "officer")).status_code == 403
    assert client.get(url, **api_auth(client, "leader2")).status_code == 404
    inspector = api_auth(client, "inspector")
    assert client.get(url, **inspector).status_code == 200
    assert client.post(url + "/confirm", **inspector).status_code == 403
    leader = api_auth(client, "squad_leader")
    now = timezone.localtime(timezone.now(), SHANGHAI)
    this_month = f"/api/v1/ledgers/{tree['squad1'].pk}/{now.year}/{now.month}/confirm"
    assert client.post(this_month, **leader).status_code == 400
    response = client.post(url + "/confirm", **leader)
    assert response.status_code == 201
    assert response.json()["sha256"] == LedgerConfirmation.objects.get().sha256
    assert client.post(url + "/confirm", **leader).status_code == 409
    body = client.get(url, **leader).json()
    assert body["state"] == "confirmed" and body["amendments"] == []


def test_api_documents_every_response():
    from jilu.api import api as ninja_api

    paths = ninja_api.get_openapi_schema()["paths"]
    ours = {p: v for p, v in paths.items() if p.startswith("/api/v1/ledgers/")}
    assert len(ours) == 3
    for operations in ours.values():
        for op in operations.values():
            assert {"401", "403", "404", "422"} <= {str(k) for k in op["responses"]}
            for code, response in op["responses"].items():
                assert response.get("description"), code
    download = ours["/api/v1/ledgers/{unit_id}/{year}/{month}/download/{fmt}"]["get"]
    assert set(download["responses"]["200"]["content"]) == {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    params = {p["name"]: p["schema"] for p in download["parameters"]}
    assert (params["year"]["minimum"], params["year"]["maximum"]) == (2000, 2099)
    assert (params["month"]["minimum"], params["month"]["maximum"]) == (1, 12)
    assert params["fmt"]["enum"] == ["pdf", "xlsx"]


def test_the_page_in_english(november, tree, people):
    c = client_for(people["squad_leader"])
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = c.get(PAGE, {"unit": tree["squad1"].pk, "month": "2026-11"}).content.decode()
    assert '<html lang="en">' in html
    for text in ("Recorder ledger", "Recordings ledger", "Confirm this month's ledgers", "Ledgers"):
        assert text in html
    assert "2026-11" in html and "Not confirmed" in html
