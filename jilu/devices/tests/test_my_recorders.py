"""An officer's own recorders: checks (C1.4) and incidents (C6.5.5–6) they report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jilu.devices import actions
from jilu.devices.models import DeviceEvent

pytestmark = pytest.mark.django_db

MINE = reverse("devices:my_recorders")


@pytest.fixture
def held(people, make_recorder):
    recorder = make_recorder("A000123")
    actions.issue_recorder(
        actor="system:test",
        recorder=recorder,
        person=people["officer"],
        at=timezone.now() - timedelta(days=20),
    )
    return recorder


def test_officer_sees_their_recorder_and_is_reminded_to_check_it(held, as_user):
    """C1.4: a recorder never checked is flagged to its holder."""
    page = as_user("officer").get(MINE).content.decode()
    assert "A000123" in page
    assert "从未检查，请检查" in page
    assert "上报检查" in page and "上报故障、损坏或遗失" in page


def test_officer_without_recorder_is_told_to_ask_for_one(people, as_user):
    """C1.1: every frontline officer is issued one."""
    page = as_user("officer_b").get(MINE).content.decode()
    assert "当前未领用记录仪" in page and "C1.1" in page


def test_officer_reports_a_check(held, as_user, people):
    """C1.4: battery % and free storage, entered as the recorder's screen shows them."""
    client = as_user("officer")
    url = reverse("devices:my_check", args=["A000123"])
    response = client.post(
        url,
        {"A000123-check-battery_pct": "76", "A000123-check-storage_free_gb": "20.5"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == MINE
    assert "已记录 A000123 的检查结果" in response.content.decode()
    battery = DeviceEvent.objects.get(kind="battery")
    storage = DeviceEvent.objects.get(kind="storage")
    assert battery.battery_pct == 76 and battery.reported_by == people["officer"]
    assert storage.storage_free_bytes == 20_500_000_000
    page = response.content.decode()
    assert "电量 76%" in page and "20.50 GB" in page
    assert "从未检查" not in page


def test_officer_check_errors_are_shown(held, as_user):
    client = as_user("officer")
    url = reverse("devices:my_check", args=["A000123"])
    response = client.post(url, {"A000123-check-battery_pct": "120"})
    assert response.status_code == 400
    assert "确保该值小于或等于100" in response.content.decode()
    response = client.post(url, {})
    assert response.status_code == 400 and "请至少填写电量或剩余存储" in response.content.decode()
    assert not DeviceEvent.objects.exists()


def test_officer_reports_a_loss(held, as_user):
    """C6.5.6: losing a recorder is reported by its holder, with an account of it."""
    client = as_user("officer")
    url = reverse("devices:my_incident", args=["A000123"])
    no_note = client.post(url, {"A000123-incident-kind": "loss"})
    assert no_note.status_code == 400 and "必须说明经过" in no_note.content.decode()
    assert not DeviceEvent.objects.exists()

    response = client.post(
        url,
        {"A000123-incident-kind": "loss", "A000123-incident-note": "中山路巡查时遗失"},
        follow=True,
    )
    assert "请同时报告中队长" in response.content.decode()
    held.refresh_from_db()
    assert held.status == "lost"
    assert DeviceEvent.objects.get().note == "中山路巡查时遗失"


def test_officer_cannot_log_repairs_or_finds(held, as_user):
    """Only leaders put a recorder back in service."""
    client = as_user("officer")
    url = reverse("devices:my_incident", args=["A000123"])
    response = client.post(url, {"A000123-incident-kind": "repair"})
    assert response.status_code == 400
    assert not DeviceEvent.objects.exists()


def test_officer_sees_past_holdings(held, as_user, people):
    actions.return_recorder(actor="system:test", recorder=held)
    page = as_user("officer").get(MINE).content.decode()
    assert "曾经持有" in page and "A000123" in page
