"""Fixity alarms over the API (C6.5.3, C6.5.4): administrators and inspectors read
them; only administrators acknowledge, with a note, audited; the alarm stays on record."""

from __future__ import annotations

import io

import pytest

from conftest import api_auth
from jilu.audit.models import AuditEntry
from jilu.evidence import fixity
from jilu.evidence.actions import store_object
from jilu.evidence.models import FixityAlarm
from jilu.evidence.tests.conftest import Behind, use_store

pytestmark = pytest.mark.django_db

URL = "/api/v1/fixity-alarms"


@pytest.fixture
def alarm(settings, tmp_path):
    """A stored object whose bytes went missing, found by the fixity check (C6.5.4)."""
    store = use_store(settings, tmp_path, "file")
    obj = store_object(actor="system:test", stream=io.BytesIO(b"clip " * 500))
    Behind(store).remove(obj.sha256)
    assert not fixity.check_object(obj).ok
    return FixityAlarm.objects.get()


@pytest.fixture
def as_(client, people):
    tokens: dict[str, dict] = {}

    def headers(username: str) -> dict:
        if username not in tokens:
            tokens[username] = api_auth(client, username)
        return tokens[username]

    return headers


def acknowledge(client, pk, headers, note="已报告，从备份恢复"):
    return client.post(
        f"{URL}/{pk}/acknowledge", {"note": note}, content_type="application/json", **headers
    )


def test_administrators_and_inspectors_read_the_alarms(client, as_, alarm):
    for who in ("admin", "inspector", "squad_admin"):
        page = client.get(URL, **as_(who))
        assert page.status_code == 200, who
        (item,) = page.json()["items"]
        assert item["id"] == alarm.pk and item["sha256"] == alarm.stored_object_id
        assert item["acknowledged_at"] is None and item["problem"] == alarm.problem
    for who in ("officer", "squad_leader", "archivist"):
        refused = client.get(URL, **as_(who))
        assert refused.status_code == 403, who
        assert refused.json()["detail"] == "只有系统管理员和督察可以查看固定性告警"


def test_only_an_administrator_acknowledges(client, as_, people, alarm):
    for who in ("officer", "inspector"):
        refused = acknowledge(client, alarm.pk, as_(who))
        assert refused.status_code == 403, who
    alarm.refresh_from_db()
    assert alarm.acknowledged_at is None
    done = acknowledge(client, alarm.pk, as_("admin"))
    assert done.status_code == 200, done.content
    assert done.json()["acknowledged_by"] == people["admin"].name
    assert done.json()["note"] == "已报告，从备份恢复"
    entry = AuditEntry.objects.get(action="evidence.fixity.acknowledge")
    assert entry.actor == people["admin"]
    # It stays on record: gone from the open list, in the full one.
    assert client.get(URL, **as_("inspector")).json()["count"] == 0
    assert client.get(URL, {"show": "all"}, **as_("inspector")).json()["count"] == 1
    again = acknowledge(client, alarm.pk, as_("admin"))
    assert again.status_code == 409 and again.json()["detail"] == "这条告警已经确认过了"


def test_bad_acknowledgements_are_named(client, as_, alarm):
    empty = acknowledge(client, alarm.pk, as_("admin"), note="  ")
    assert empty.status_code == 400 and "处理情况" in empty.json()["detail"]
    missing = client.post(
        f"{URL}/{alarm.pk}/acknowledge", {}, content_type="application/json", **as_("admin")
    )
    assert missing.status_code == 422 and "note" in missing.json()["detail"]
    assert acknowledge(client, alarm.pk + 1000, as_("admin")).status_code == 404
    assert client.get(URL, {"show": "some"}, **as_("admin")).status_code == 422
    assert FixityAlarm.objects.get().acknowledged_at is None


def test_station_tokens_are_refused(client, tree, alarm):
    from jilu.devices import actions as device_actions

    _, raw = device_actions.create_workstation(actor="system:test", unit=tree["squad1"], name="站")
    station = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get(URL, **station).status_code == 403
    assert acknowledge(client, alarm.pk, station).status_code == 403
