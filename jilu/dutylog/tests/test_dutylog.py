"""Duty log (执勤日志): periods that could not be recorded, noted by the officer and
confirmed by the leader (C6.2); who sees which notes (C6.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jilu.audit.models import AuditEntry
from jilu.dutylog import actions
from jilu.dutylog.models import UnrecordedNote
from jilu.dutylog.views import local_input

SH = ZoneInfo("Asia/Shanghai")


def client_for(person) -> Client:
    c = Client()
    c.force_login(person)
    return c


def period(hours_ago: int = 5, hours: int = 2) -> tuple[datetime, datetime]:
    end = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=hours_ago)
    return end - timedelta(hours=hours), end


def form(start: datetime, end: datetime, **extra) -> dict:
    data = {
        "start": local_input(start),
        "end": local_input(end),
        "reason": "weather",
        "description": "暴雨，记录仪进水风险，未开机",
        "recorder": "",
    }
    data.update(extra)
    return data


def audit_codes() -> list[str]:
    return list(
        AuditEntry.objects.filter(action__startswith="dutylog.")
        .order_by("seq")
        .values_list("action", flat=True)
    )


@pytest.fixture
def note(people):
    start, end = period()
    return actions.create_note(
        actor=people["officer"],
        start=start,
        end=end,
        reason="device_fault",
        description="记录仪无法开机",
    )


def test_officer_writes_leader_confirms_with_audit(people):
    """C6.2: the officer notes it; the squad leader confirms; both audited."""
    officer = client_for(people["officer"])
    start, end = period()
    response = officer.post(reverse("dutylog:create"), form(start, end))
    assert response.status_code == 302
    note = UnrecordedNote.objects.get()
    assert note.officer == people["officer"] and note.unit == people["officer"].unit
    assert note.start == start and note.end == end  # entered in Shanghai time, stored UTC
    assert note.state == "pending"
    assert audit_codes() == ["dutylog.note.create"]

    leader = client_for(people["squad_leader"])
    assert leader.get("/").context["dutylog_to_confirm"] == 1
    html = leader.get(reverse("dutylog:list") + "?tab=confirm").content.decode()
    assert reverse("dutylog:detail", args=[note.pk]) in html
    detail = leader.get(reverse("dutylog:detail", args=[note.pk])).content.decode()
    assert 'id="confirm"' in detail
    leader.post(reverse("dutylog:confirm", args=[note.pk]), {"note": "已知悉"})
    note.refresh_from_db()
    assert note.state == "confirmed" and note.confirmed_by == people["squad_leader"]
    assert note.confirmed_at is not None and note.leader_note == "已知悉"
    assert audit_codes() == ["dutylog.note.create", "dutylog.note.confirm"]
    assert leader.get("/").context["dutylog_to_confirm"] == 0
    # A confirmed note is final: no more edits.
    assert officer.get(reverse("dutylog:edit", args=[note.pk])).status_code == 403


def test_return_edit_resubmit_confirm(people, note):
    """C6.2: returned with a reason, the officer corrects it, the brigade leader confirms."""
    leader = client_for(people["brigade_leader"])
    leader.post(reverse("dutylog:return", args=[note.pk]), {"note": ""})  # reason required
    note.refresh_from_db()
    assert note.state == "pending"
    leader.post(reverse("dutylog:return", args=[note.pk]), {"note": "请写明故障现象"})
    note.refresh_from_db()
    assert note.state == "returned" and note.return_reason == "请写明故障现象"
    officer = client_for(people["officer"])
    assert "请写明故障现象" in officer.get(reverse("dutylog:edit", args=[note.pk])).content.decode()
    response = officer.post(
        reverse("dutylog:edit", args=[note.pk]),
        form(note.start, note.end, reason="device_fault", description="按键失灵，无法开机"),
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.state == "pending" and note.description == "按键失灵，无法开机"
    leader.post(reverse("dutylog:confirm", args=[note.pk]))
    note.refresh_from_db()
    assert note.state == "confirmed" and note.confirmed_by == people["brigade_leader"]
    assert audit_codes() == [
        "dutylog.note.create",
        "dutylog.note.return",
        "dutylog.note.update",
        "dutylog.note.confirm",
    ]


def test_who_sees_what(people, make_person, note):
    """C6.2, C6.4: the officer their own, leaders their subtree, inspectors all."""
    other = actions.create_note(
        actor=people["officer_other"],
        start=note.start,
        end=note.end,
        reason="battery",
        description="电量耗尽",
    )
    leader_sq3 = make_person("leader_sq3", unit="squad3", roles=("squad_leader",))

    def visible(key_or_person) -> set[int]:
        person = people.get(key_or_person) if isinstance(key_or_person, str) else key_or_person
        return set(UnrecordedNote.objects.restrict(person, "view").values_list("pk", flat=True))

    assert visible("officer") == {note.pk}
    assert visible("officer_b") == set()
    assert visible("squad_leader") == {note.pk}
    assert visible("brigade_leader") == {note.pk}
    assert visible("archivist") == {note.pk}
    assert visible("inspector") == {note.pk, other.pk}
    assert visible(leader_sq3) == {other.pk}
    # The other squad's leader gets a 404, and cannot confirm.
    c = client_for(leader_sq3)
    assert c.get(reverse("dutylog:detail", args=[note.pk])).status_code == 404
    assert c.post(reverse("dutylog:confirm", args=[note.pk])).status_code == 404
    assert (
        client_for(people["officer_b"]).get(reverse("dutylog:detail", args=[note.pk])).status_code
        == 404
    )
    # The inspector reads but does not confirm (C6.4: read-only).
    insp = client_for(people["inspector"])
    assert (
        'id="confirm"' not in insp.get(reverse("dutylog:detail", args=[note.pk])).content.decode()
    )
    assert insp.post(reverse("dutylog:confirm", args=[note.pk])).status_code == 403
    note.refresh_from_db()
    assert note.state == "pending"


def test_officer_cannot_confirm_own_note(people):
    """C6.2: the leader confirms, never the officer themself (even a squad leader)."""
    start, end = period()
    own = actions.create_note(
        actor=people["squad_leader"], start=start, end=end, reason="other", description="x"
    )
    c = client_for(people["squad_leader"])
    assert 'id="confirm"' not in c.get(reverse("dutylog:detail", args=[own.pk])).content.decode()
    assert c.post(reverse("dutylog:confirm", args=[own.pk])).status_code == 403
    assert c.post(reverse("dutylog:return", args=[own.pk]), {"note": "x"}).status_code == 403
    own.refresh_from_db()
    assert own.state == "pending" and own.confirmed_by is None
    assert audit_codes() == ["dutylog.note.create"]
    # The brigade leader above may.
    client_for(people["brigade_leader"]).post(reverse("dutylog:confirm", args=[own.pk]))
    own.refresh_from_db()
    assert own.state == "confirmed"


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"end_offset": -3}, "end", "结束时间必须晚于开始时间"),
        ({"future": True}, "end", "不能填写未来的时间"),
        ({"hours": 25}, "end", "最长 24 小时"),
        ({"description": "   "}, "description", "请说明无法记录的具体情况"),
        ({"reason": "aliens"}, "reason", "请选择无法记录的原因"),
        ({"start_text": "昨天"}, "start", "时间格式不正确"),
        ({"recorder": "Z999999"}, "recorder", "不是你持有过的记录仪"),
    ],
)
def test_bad_input_changes_nothing(people, change, field, message):
    """C6.2: bad input gives a clear error and saves nothing."""
    start, end = period(hours=change.pop("hours", 2))
    if change.pop("future", False):
        end = timezone.now() + timedelta(hours=3)
    if "end_offset" in change:
        end = start + timedelta(hours=change.pop("end_offset"))
    data = form(start, end, **change)
    if "start_text" in data:
        data["start"] = data.pop("start_text")
    c = client_for(people["officer"])
    response = c.post(reverse("dutylog:create"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and f'data-field="{field}"' in html
    assert UnrecordedNote.objects.count() == 0
    assert audit_codes() == []


def test_bad_edit_changes_nothing(people, note):
    c = client_for(people["officer"])
    before = (note.start, note.end, note.description)
    response = c.post(
        reverse("dutylog:edit", args=[note.pk]), form(note.end, note.start, description="")
    )
    assert response.status_code == 400
    note.refresh_from_db()
    assert (note.start, note.end, note.description) == before
    assert audit_codes() == ["dutylog.note.create"]
    # Someone else may not edit it at all.
    assert (
        client_for(people["squad_leader"]).get(reverse("dutylog:edit", args=[note.pk])).status_code
        == 403
    )


def test_new_form_prefilled_and_list_filters(people, note):
    c = client_for(people["officer"])
    html = c.get(
        reverse("dutylog:create") + "?start=2026-01-02T08:30&end=2026-01-02T09:15"
    ).content.decode()
    assert 'value="2026-01-02T08:30"' in html and 'value="2026-01-02T09:15"' in html
    day = note.start.astimezone(SH).date().isoformat()
    html = c.get(reverse("dutylog:list") + f"?state=pending&day={day}").content.decode()
    assert f'data-note="{note.pk}"' in html
    html = c.get(reverse("dutylog:list") + "?state=confirmed").content.decode()
    assert f'data-note="{note.pk}"' not in html
    html = c.get(reverse("dutylog:list") + "?day=2000-01-01").content.decode()
    assert f'data-note="{note.pk}"' not in html
    assert "日期格式" in c.get(reverse("dutylog:list") + "?day=bad").content.decode()


def test_timeline_shows_notes_and_prefilled_links(settings, tmp_path, people, tree):
    """C6.2 on the officer's day (C4.3): the day's notes, and a link from each
    unrecorded period to a prefilled note, for the officer themself only."""
    from jilu.evidence.tests.conftest import use_store
    from jilu.evidence.tests.recordings import make_recording, recorder_for

    use_store(settings, tmp_path, "file")
    day = (timezone.now().astimezone(SH) - timedelta(days=1)).date()
    at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=SH).astimezone(UTC)
    rec = recorder_for(people["officer"], tree["squad1"], "A000001")
    make_recording(officer=people["officer"], recorder=rec, start=at, seconds=600)
    make_recording(officer=people["officer"], recorder=rec, start=at + timedelta(hours=2))
    note = actions.create_note(
        actor=people["officer"],
        start=at - timedelta(hours=2),
        end=at - timedelta(hours=1),
        reason="storage_full",
        description="存储已满",
        recorder="A000001",
    )
    url = reverse("evidence:timeline_officer", args=[people["officer"].pk, day.isoformat()])
    html = client_for(people["officer"]).get(url).content.decode()
    assert 'id="dutylog-notes"' in html and f'data-note="{note.pk}"' in html
    assert "存储已满" in html and "待确认" in html
    assert "记入执勤日志（C6.2）" in html
    # The unrecorded period between the two recordings, 10:10 to 12:00.
    d = day.isoformat()
    assert f"/dutylog/new/?start={d}T10%3A10&amp;end={d}T12%3A00" in html
    leader_html = client_for(people["squad_leader"]).get(url).content.decode()
    assert f'data-note="{note.pk}"' in leader_html
    assert "记入执勤日志（C6.2）" not in leader_html


@pytest.mark.django_db
def test_who_may_decide_is_checked_before_the_input(people, note):
    """An officer returning a note without a reason is told they may not (403),
    not that the reason is missing; nothing changes (C6.2)."""
    from django.core.exceptions import PermissionDenied

    before = audit_codes()
    with pytest.raises(PermissionDenied):
        actions.return_note(note, actor=people["officer_b"], reason="")
    with pytest.raises(PermissionDenied):
        actions.confirm_note(note, actor=people["officer_b"], leader_note="x" * 5000)
    note.refresh_from_db()
    assert note.state == note.State.PENDING and audit_codes() == before


def test_recorder_must_be_held_during_the_period(people, tree):
    """C6.2, C1.3: a note names the recorder the officer held at the time; one handed
    back before the period is refused with a clear message, one held then is kept."""
    from jilu.devices import actions as devices
    from jilu.evidence.tests.recordings import recorder_for

    start, end = period(hours_ago=5)
    earlier = recorder_for(
        people["officer"], tree["squad1"], "A000011", at=start - timedelta(days=30)
    )
    devices.return_recorder(actor="system:test", recorder=earlier, at=start - timedelta(days=2))
    recorder_for(people["officer"], tree["squad1"], "A000012", at=start - timedelta(days=1))
    c = client_for(people["officer"])

    response = c.post(reverse("dutylog:create"), form(start, end, recorder="A000011"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "这段时间你没有持有这台记录仪" in html and 'data-field="recorder"' in html
    assert UnrecordedNote.objects.count() == 0 and audit_codes() == []

    response = c.post(reverse("dutylog:create"), form(start, end, recorder="a000012"))
    assert response.status_code == 302
    assert UnrecordedNote.objects.get().recorder.serial == "A000012"


def test_a_period_is_noted_once(people, note):
    """C6.2: a second note over time already noted is refused, naming the first;
    the first can still be corrected; a returned note does not block a new one."""
    c = client_for(people["officer"])
    inside = (note.start + timedelta(minutes=10), note.end - timedelta(minutes=10))
    response = c.post(reverse("dutylog:create"), form(*inside))
    assert response.status_code == 400
    assert "重叠" in response.content.decode()
    assert UnrecordedNote.objects.count() == 1
    # Correcting the note itself is not a clash with itself.
    actions.update_note(
        note,
        actor=people["officer"],
        start=note.start,
        end=note.end + timedelta(minutes=5),
        reason="device_fault",
        description="记录仪无法开机，已送修",
    )
    actions.return_note(note, actor=people["squad_leader"], reason="请写明送修单号")
    assert c.post(reverse("dutylog:create"), form(*inside)).status_code == 302
