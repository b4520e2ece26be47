"""Workstations (C1.2): registering with a token shown once, revoking, replacing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jilu.audit.models import AuditEntry
from jilu.devices import actions
from jilu.devices.models import Workstation

pytestmark = pytest.mark.django_db


def _create(client, unit, name="中华中队采集工作站"):
    return client.post(
        reverse("devices:workstation_create"),
        {"unit": unit.pk, "name": name, "location": "值班室"},
    )


def test_token_is_shown_exactly_once_and_works(tree, as_user, api):
    client = as_user("admin")
    response = _create(client, tree["squad1"])
    station = Workstation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("devices:workstation_detail", args=[station.pk])

    first = client.get(response["Location"])
    token = first.context["token"]
    assert token.startswith("jst_")
    body = first.content.decode()
    assert token in body and "只显示这一次" in body
    assert "no-cache" in first["Cache-Control"] or "no-store" in first["Cache-Control"]
    assert token not in station.token_digest  # only the digest is stored

    second = client.get(response["Location"])
    assert second.context["token"] is None
    assert token not in second.content.decode()
    assert station.token_prefix in second.content.decode()
    assert token not in str(AuditEntry.objects.values_list("details", flat=True))

    me = api.get("/station/me", token)
    assert me.status_code == 200 and me.json()["name"] == "中华中队采集工作站"


def test_revoke_asks_for_confirmation_then_the_token_is_rejected(tree, as_user, api):
    station, raw = actions.create_workstation(
        actor="system:test", unit=tree["squad1"], name="一号站"
    )
    client = as_user("admin")
    url = reverse("devices:workstation_revoke", args=[station.pk])
    confirm = client.get(url)
    assert "吊销工作站“一号站”的令牌？" in confirm.content.decode()
    station.refresh_from_db()
    assert station.revoked_at is None  # looking at the question changes nothing

    done = client.post(url, follow=True)
    assert "已吊销工作站“一号站”的令牌" in done.content.decode()
    station.refresh_from_db()
    assert station.revoked_at is not None
    assert api.get("/station/me", raw).status_code == 401

    again = client.post(url, follow=True)
    assert "已经吊销" in again.content.decode()
    # A revoked station offers no more actions.
    assert "吊销令牌</a>" not in again.content.decode()


def test_reissue_replaces_the_token_and_shows_the_new_one_once(tree, as_user, api):
    station, old = actions.create_workstation(
        actor="system:test", unit=tree["squad1"], name="一号站"
    )
    client = as_user("admin")
    response = client.post(reverse("devices:workstation_reissue", args=[station.pk]), follow=True)
    new = response.context["token"]
    assert new and new != old and new in response.content.decode()
    assert api.get("/station/me", old).status_code == 401
    assert api.get("/station/me", new).status_code == 200
    assert (
        client.get(reverse("devices:workstation_detail", args=[station.pk])).context["token"]
        is None
    )


def test_create_errors_and_scope(tree, as_user):
    actions.create_workstation(actor="system:test", unit=tree["squad3"], name="湖里站")
    client = as_user("squad_admin")  # administrator of squad3 only
    outside = _create(client, tree["squad1"])
    assert outside.status_code == 400 and "选择一个有效的选项" in outside.content.decode()
    duplicate = _create(client, tree["squad3"], name="湖里站")
    assert duplicate.status_code == 400
    assert "已有名为“湖里站”的在用工作站" in duplicate.content.decode()
    assert Workstation.objects.count() == 1
    assert (
        "湖里中队采集工作站"
        in client.get(
            reverse("devices:workstation_create"), {"unit": tree["squad3"].code}
        ).content.decode()
    )


def test_list_shows_status_and_last_seen(tree, as_user, api):
    seen, raw = actions.create_workstation(actor="system:test", unit=tree["squad1"], name="常用站")
    never, _ = actions.create_workstation(actor="system:test", unit=tree["squad2"], name="新站")
    gone, _ = actions.create_workstation(actor="system:test", unit=tree["squad2"], name="旧站")
    actions.revoke_workstation(actor="system:test", station=gone)
    api.get("/station/me", raw)
    client = as_user("brigade_leader")
    page = client.get(reverse("devices:workstation_list")).content.decode()
    assert "常用站" in page and "新站" in page and "旧站" in page
    assert "从未连接" in page and "已吊销" in page
    seen.refresh_from_db()
    assert seen.last_seen_at is not None and seen.last_seen_ip == "127.0.0.1"
    active = client.get(reverse("devices:workstation_list"), {"state": "active"})
    assert {s.name for s in active.context["page_obj"]} == {"常用站", "新站"}
    revoked = client.get(reverse("devices:workstation_list"), {"state": "revoked"})
    assert {s.name for s in revoked.context["page_obj"]} == {"旧站"}
    squad2 = client.get(reverse("devices:workstation_list"), {"unit": tree["squad2"].code})
    assert {s.name for s in squad2.context["page_obj"]} == {"新站", "旧站"}
    # Leaders read, only administrators act.
    assert "登记工作站" not in page
