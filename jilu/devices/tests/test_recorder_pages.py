"""The recorder ledger, register form and detail page (C1.3 issuing and history,
C1.4 checks, C6.5.5–6 incidents), as squad leaders and administrators use them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from jilu.devices import actions
from jilu.devices.models import DeviceEvent, Holding, Recorder

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def detail(serial: str) -> str:
    return reverse("devices:recorder_detail", args=[serial])


def test_list_shows_current_holder_and_filters(people, make_recorder, as_user):
    held = make_recorder("A000001")
    make_recorder("A000002")
    lost = make_recorder("A000003")
    make_recorder("B000001", unit="squad3")
    actions.issue_recorder(actor="system:test", recorder=held, person=people["officer"])
    actions.record_device_event(actor="system:test", recorder=lost, kind="loss", note="遗失")
    client = as_user("squad_leader")
    url = reverse("devices:recorder_list")

    page = client.get(url).content.decode()
    assert "A000001" in page and "王五" in page and "A000003" in page
    assert "B000001" not in page  # another brigade's recorder: out of scope

    def serials(**params) -> set[str]:
        response = client.get(url, params)
        return {r.serial for r in response.context["page_obj"]}

    assert serials(held="yes") == {"A000001"}
    assert serials(held="no") == {"A000002", "A000003"}
    assert serials(status="lost") == {"A000003"}
    assert serials(q="a00000") == {"A000001", "A000002", "A000003"}
    assert serials(q="王五") == {"A000001"}
    assert serials(q="900001") == {"A000001"}  # the holder's 警号
    assert serials(unit="350203000101") == {"A000001", "A000002", "A000003"}  # squad1
    assert serials(unit="350203000102") == set()  # squad2: outside a squad1 leader's scope
    assert serials(unit="350206000101") == set()  # squad3: another brigade
    assert serials(status="nonsense") == {"A000001", "A000002", "A000003"}
    assert (
        as_user("inspector").get(url, {"unit": "350206000101"}).context["page_obj"].paginator.count
        == 1
    )


def test_list_is_paginated(make_recorder, as_user):
    for i in range(55):
        make_recorder(f"P{i:06d}")
    client = as_user("admin")
    first = client.get(reverse("devices:recorder_list"), {"status": "in_service"})
    assert len(first.context["page_obj"]) == 50
    assert "status=in_service&amp;page=2" in first.content.decode()
    second = client.get(reverse("devices:recorder_list"), {"status": "in_service", "page": 2})
    assert len(second.context["page_obj"]) == 5


def test_register_recorder(as_user, tree):
    client = as_user("squad_leader")
    response = client.post(
        reverse("devices:recorder_create"),
        {"serial": "a123456", "vendor": "海康威视", "model": "DSJ-K3", "unit": tree["squad1"].pk},
    )
    assert response.status_code == 302 and response["Location"] == detail("A123456")
    recorder = Recorder.objects.get()
    assert (recorder.serial, recorder.unit) == ("A123456", tree["squad1"])

    again = client.post(
        reverse("devices:recorder_create"), {"serial": "A123456", "unit": tree["squad1"].pk}
    )
    assert again.status_code == 400
    assert "产品序号 A123456 已登记，不能重复登记" in again.content.decode()

    bad = client.post(
        reverse("devices:recorder_create"), {"serial": "A12", "unit": tree["squad1"].pk}
    )
    assert bad.status_code == 400 and "7" in bad.content.decode()

    # A squad leader cannot register into another brigade's squad.
    out = client.post(
        reverse("devices:recorder_create"), {"serial": "B123456", "unit": tree["squad3"].pk}
    )
    assert out.status_code == 400 and "选择一个有效的选项" in out.content.decode()
    assert Recorder.objects.count() == 1


def test_issue_from_the_detail_page_and_history(people, make_recorder, as_user):
    """C1.3: a squad leader issues a recorder to an officer of the squad."""
    recorder = make_recorder("A000001")
    client = as_user("squad_leader")
    page = client.get(detail("A000001"))
    choices = {p.username for p in page.context["issue_form"].fields["person"].queryset}
    assert {"officer", "officer_b", "squad_leader"} <= choices
    assert "officer_other" not in choices  # squad3: not in the recorder's unit subtree
    assert "admin" not in choices  # city level: above the recorder's unit

    response = client.post(
        reverse("devices:recorder_issue", args=["A000001"]),
        {"issue-person": people["officer"].pk, "issue-note": "新领"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == detail("A000001")
    body = response.content.decode()
    assert "记录仪 A000001 已配发给 王五" in body
    assert response.context["current"].person == people["officer"]
    assert response.context["issue_form"] is None and response.context["return_form"] is not None
    holding = Holding.objects.get(recorder=recorder)
    assert holding.issued_by == people["squad_leader"] and holding.note == "新领"


def test_issue_errors_are_shown_and_nothing_is_saved(people, make_recorder, as_user):
    recorder = make_recorder("A000001")
    actions.issue_recorder(actor="system:test", recorder=recorder, person=people["officer"])
    client = as_user("squad_leader")
    url = reverse("devices:recorder_issue", args=["A000001"])

    taken = client.post(url, {"issue-person": people["officer_b"].pk})
    assert taken.status_code == 400
    assert "记录仪 A000001 已由 王五 持有，请先办理归还" in taken.content.decode()

    # A person outside the picker (another brigade) is refused by the form.
    outside = client.post(url, {"issue-person": people["officer_other"].pk})
    assert outside.status_code == 400 and "选择一个有效的选项" in outside.content.decode()

    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    actions.return_recorder(actor="system:test", recorder=recorder)
    late = client.post(url, {"issue-person": people["officer_b"].pk, "issue-at": future})
    assert late.status_code == 400 and "晚于当前时间" in late.content.decode()
    assert Holding.objects.filter(recorder=recorder).count() == 1


def test_return_and_status_from_the_detail_page(people, make_recorder, as_user):
    recorder = make_recorder("A000001")
    actions.issue_recorder(actor="system:test", recorder=recorder, person=people["officer"])
    client = as_user("brigade_leader")

    retire = client.post(
        reverse("devices:recorder_status", args=["A000001"]),
        {"status-status": "retired", "status-note": "老化"},
    )
    assert retire.status_code == 400 and "请先由 王五 归还再报废" in retire.content.decode()
    no_reason = client.post(
        reverse("devices:recorder_status", args=["A000001"]), {"status-status": "under_repair"}
    )
    assert no_reason.status_code == 400
    recorder.refresh_from_db()
    assert recorder.status == "in_service"

    back = client.post(
        reverse("devices:recorder_return", args=["A000001"]), {"return-note": "配件齐全"}
    )
    assert back.status_code == 302
    assert Holding.objects.get().ended_at is not None
    done = client.post(
        reverse("devices:recorder_status", args=["A000001"]),
        {"status-status": "retired", "status-note": "老化"},
        follow=True,
    )
    assert "状态已改为“报废”" in done.content.decode()
    assert done.context["status_form"] is None and done.context["issue_form"] is None


def test_checks_and_incidents_from_the_detail_page(people, make_recorder, as_user):
    """C1.4 checks and C6.5.6 loss, recorded by the squad leader."""
    recorder = make_recorder("A000001")
    actions.issue_recorder(actor="system:test", recorder=recorder, person=people["officer"])
    client = as_user("squad_leader")
    check = reverse("devices:recorder_check", args=["A000001"])

    bad = client.post(check, {"check-battery_pct": "150", "check-storage_free_gb": "3"})
    assert bad.status_code == 400 and "100" in bad.content.decode()
    empty = client.post(check, {})
    assert empty.status_code == 400 and "请至少填写电量或剩余存储" in empty.content.decode()
    assert not DeviceEvent.objects.exists()

    ok = client.post(
        check,
        {
            "check-battery_pct": "80",
            "check-storage_free_gb": "12.5",
            "check-storage_total_gb": "64",
            "check-clock_offset_seconds": "-2",
        },
    )
    assert ok.status_code == 302
    kinds = dict(DeviceEvent.objects.values_list("kind", "pk"))
    assert set(kinds) == {"battery", "storage", "clock"}
    storage = DeviceEvent.objects.get(kind="storage")
    assert (storage.storage_free_bytes, storage.storage_total_bytes) == (12_500_000_000, 64 * 10**9)

    incident = reverse("devices:recorder_incident", args=["A000001"])
    no_note = client.post(incident, {"incident-kind": "loss"})
    assert no_note.status_code == 400 and "必须说明经过" in no_note.content.decode()
    lost = client.post(
        incident, {"incident-kind": "loss", "incident-note": "王五报告在中山路遗失"}, follow=True
    )
    recorder.refresh_from_db()
    assert recorder.status == "lost"
    page = lost.content.decode()
    assert "当前状态：遗失" in page
    events = list(lost.context["events_page"])
    assert events[0].kind == "loss" and events[0].holder == people["officer"]


def test_who_held_it_at_a_time_in_beijing_time(people, make_recorder, as_user):
    """C1.3: the lookup reads the entered time as Asia/Shanghai and answers from history."""
    recorder = make_recorder("A000001")
    start = datetime(2026, 3, 1, 8, 0, tzinfo=SHANGHAI)
    end = datetime(2026, 3, 1, 18, 0, tzinfo=SHANGHAI)
    actions.issue_recorder(
        actor="system:test", recorder=recorder, person=people["officer"], at=start
    )
    actions.return_recorder(actor="system:test", recorder=recorder, at=end)
    actions.issue_recorder(
        actor="system:test",
        recorder=recorder,
        person=people["officer_b"],
        at=datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI),
    )
    client = as_user("squad_leader")

    during = client.get(detail("A000001"), {"at": "2026-03-01T08:00"})
    assert during.context["lookup"]["holding"].person == people["officer"]
    assert "2026-03-01 08:00:00 的持有人：<strong>王五</strong>" in during.content.decode()

    # 07:59 Beijing is 23:59 UTC the day before: nobody yet.
    before = client.get(detail("A000001"), {"at": "2026-03-01T07:59:59"})
    assert before.context["lookup"]["holding"] is None
    assert before.context["lookup"]["after"].person == people["officer"]

    between = client.get(detail("A000001"), {"at": "2026-03-01T20:00"})
    body = between.content.decode()
    assert between.context["lookup"]["holding"] is None
    assert "无人持有这台记录仪" in body
    assert "此前由 王五 持有，2026-03-01 18:00:00 归还" in body
    assert "之后于 2026-03-02 08:00:00 配发给 李四" in body

    after = client.get(detail("A000001"), {"at": "2026-03-05T10:00"})
    assert after.context["lookup"]["holding"].person == people["officer_b"]

    bad = client.get(detail("A000001"), {"at": "昨天"})
    assert bad.status_code == 200 and bad.context["lookup"] is None
    assert "输入一个有效的日期/时间" in bad.content.decode()


def test_history_table_lists_every_holding(people, make_recorder, as_user):
    recorder = make_recorder("A000001")
    t = timezone.now() - timedelta(days=3)
    actions.issue_recorder(actor="system:test", recorder=recorder, person=people["officer"], at=t)
    actions.return_recorder(actor="system:test", recorder=recorder, at=t + timedelta(days=1))
    actions.issue_recorder(actor="system:test", recorder=recorder, person=people["officer_b"])
    response = as_user("admin").get(detail("a000001"))  # serials are case-insensitive
    holdings = response.context["holdings"]
    assert [h.person.name for h in holdings] == ["李四", "王五"]
    assert "持有中" in response.content.decode()


def test_pages_are_available_in_english(people, make_recorder, as_user):
    """Chinese is the default; English is available (DESIGN quality bars)."""
    recorder = make_recorder("A000001")
    actions.issue_recorder(actor="system:test", recorder=recorder, person=people["officer"])
    client = as_user("squad_leader")
    # A browser asking for English still gets Chinese until English is chosen.
    zh = client.get(detail("A000001"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "当前持有人" in zh and "持有记录" in zh
    client.cookies["django_language"] = "en"
    en = client.get(detail("A000001")).content.decode()
    assert "Current holder" in en and "Holder history" in en and "In service" in en
    assert "Recorder ledger" in client.get(reverse("devices:recorder_list")).content.decode()
