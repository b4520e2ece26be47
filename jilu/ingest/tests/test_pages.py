"""Permission tests for every workstation page, and what each shows (C5.1 reminders)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jilu.devices import actions as device_actions
from jilu.ingest import actions, queries
from jilu.ingest.models import DockingSession
from jilu.ingest.tests.conftest import hours_ago, mp4, name_for, open_docking

pytestmark = pytest.mark.django_db

ROLES = [
    "officer",
    "squad_leader",
    "brigade_leader",
    "archivist",
    "case_handler",
    "legal_reviewer",
    "inspector",
    "admin",
    "squad_admin",
]


@pytest.fixture
def session(tus, station, recorder):
    docking = open_docking(station, battery_pct=55)
    tus.upload(mp4(70), name_for(hours_ago(2)), docking=docking)
    tus.upload(mp4(71), "DCIM/strange.MP4", docking=docking)
    actions.report_progress(
        actor="station:test",
        session=docking,
        files=[
            {
                "name": "DCIM/20261126/A000123_900001_20261126090000_0001.MP4",
                "size": 1000,
                "done": 250,
                "state": "uploading",
            }
        ],
    )
    return docking


def _get(client, person, url):
    client.force_login(person)
    return client.get(url)


def test_pages_need_sign_in(client, session):
    for url in [
        "/ingest/",
        "/ingest/live/",
        f"/ingest/dockings/{session.pk}/",
        "/ingest/quarantine/",
        "/ingest/quarantine/1/",
        "/ingest/due/",
    ]:
        resp = client.get(url)
        assert resp.status_code == 302 and "/login/" in resp["Location"], url


WORKSTATION = {  # who: (sees the session in progress, sees the quarantine card, sees the C5.1 card)
    "officer": (True, False, False),  # the holder of the docked recorder
    "officer_b": (False, False, False),
    "squad_leader": (True, True, True),
    "brigade_leader": (True, True, True),
    "archivist": (True, True, False),
    "case_handler": (True, True, False),
    "legal_reviewer": (True, True, False),
    "inspector": (True, True, True),
    "admin": (True, True, True),
    "squad_admin": (False, True, True),
}


@pytest.mark.parametrize(("who", "expected"), WORKSTATION.items())
def test_workstation_page_per_role(client, people, session, who, expected):
    sees_session, sees_quarantine, sees_due = expected
    resp = _get(client, people[who], "/ingest/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert (f'data-docking="{session.pk}"' in html) == sees_session
    assert ('id="quarantine-card"' in html) == sees_quarantine
    assert ('id="due-card"' in html) == sees_due
    live = _get(client, people[who], "/ingest/live/")
    assert live.status_code == 200
    assert (f'data-docking="{session.pk}"' in live.content.decode()) == sees_session


def test_the_live_part_shows_per_file_progress(client, people, session):
    html = _get(client, people["squad_leader"], "/ingest/live/").content.decode()
    assert "A000123_900001_20261126090000_0001.MP4" in html
    assert "上传中" in html and "25%" in html
    assert "base.html" not in html and "<html" not in html  # a fragment


DETAIL = {
    "officer": 200,
    "officer_b": 404,
    "officer_other": 404,
    "squad_leader": 200,
    "brigade_leader": 200,
    "archivist": 200,
    "legal_reviewer": 200,
    "inspector": 200,
    "admin": 200,
    "squad_admin": 404,
}


@pytest.mark.parametrize(("who", "status"), DETAIL.items())
def test_docking_detail_per_role(client, people, session, who, status):
    resp = _get(client, people[who], f"/ingest/dockings/{session.pk}/")
    assert resp.status_code == status
    if status == 200:
        html = resp.content.decode()
        assert "A000123" in html and "55%" in html
        assert "strange.MP4" in html  # the session's quarantined file is named


def test_docking_detail_of_a_missing_session_is_404(client, people, session):
    assert _get(client, people["admin"], "/ingest/dockings/99999/").status_code == 404


QUARANTINE_PAGES = {
    "officer": 403,
    "squad_leader": 200,
    "brigade_leader": 200,
    "archivist": 200,
    "case_handler": 200,
    "legal_reviewer": 200,
    "inspector": 200,
    "admin": 200,
    "squad_admin": 200,
}


@pytest.mark.parametrize(("who", "status"), QUARANTINE_PAGES.items())
def test_quarantine_pages_per_role(client, people, session, who, status):
    from jilu.ingest.models import QuarantineItem

    item = QuarantineItem.objects.get()
    resp = _get(client, people[who], "/ingest/quarantine/")
    assert resp.status_code == status
    in_scope = who != "squad_admin"
    if status == 200:
        assert ("strange.MP4" in resp.content.decode()) == in_scope
    detail = _get(client, people[who], f"/ingest/quarantine/{item.pk}/")
    assert detail.status_code == (status if in_scope or status == 403 else 404)
    if detail.status_code == 200:
        html = detail.content.decode()
        assert ('id="attribute"' in html) == (who == "admin")


def test_quarantine_list_filters(client, people, session):
    client.force_login(people["admin"])
    assert (
        "strange.MP4"
        in client.get("/ingest/quarantine/?show=open&reason=bad_name").content.decode()
    )
    assert "strange.MP4" not in client.get("/ingest/quarantine/?reason=zero_byte").content.decode()
    assert "strange.MP4" not in client.get("/ingest/quarantine/?show=resolved").content.decode()


DUE = {
    "officer": 403,
    "archivist": 403,
    "case_handler": 403,
    "legal_reviewer": 403,
    "squad_leader": 200,
    "brigade_leader": 200,
    "inspector": 200,
    "admin": 200,
    "squad_admin": 200,
}


@pytest.mark.parametrize(("who", "status"), DUE.items())
def test_due_page_per_role(client, people, recorder, who, status):
    resp = _get(client, people[who], "/ingest/due/")
    assert resp.status_code == status
    if status == 200:
        # A000123 is held by 王五 and has never docked.
        assert ("A000123" in resp.content.decode()) == (who != "squad_admin")


# --- C5.1: which recorders have not docked within 24 hours ----------------


def _docked(station, hours: float):
    session = open_docking(station)
    DockingSession.objects.filter(pk=session.pk).update(
        started_at=timezone.now() - timedelta(hours=hours)
    )
    return session


def _status(people, serial="A000123"):
    due = {d.recorder.serial: d for d in queries.recorders_due(people["squad_leader"])}
    return due[serial].status if serial in due else None


def test_a_held_recorder_that_never_docked_is_listed(people, recorder):
    assert _status(people) == "never"


def test_a_recorder_docked_25_hours_ago_is_overdue(people, station, recorder):
    """C5.1: more than 24 hours since the holder last brought the recorder to a workstation."""
    _docked(station, 25)
    due = queries.recorders_due(people["squad_leader"])[0]
    assert due.status == "overdue" and due.hours_since_docked == 25
    assert due.holder_name == people["officer"].name


def test_a_recorder_docked_21_hours_ago_is_due_soon(people, station, recorder):
    """The reminder comes before the deadline is missed."""
    _docked(station, 21)
    assert _status(people) == "due_soon"


def test_a_recorder_docked_recently_is_not_listed(people, station, recorder):
    _docked(station, 2)
    assert _status(people) is None


def test_a_late_last_recording_is_listed(people, tus, station, recorder):
    docking = open_docking(station)
    tus.upload(mp4(72), name_for(hours_ago(30)), docking=docking)
    assert _status(people) == "late"


def test_a_recorder_nobody_holds_is_not_expected_to_dock(people, recorder):
    device_actions.return_recorder(actor="system:test", recorder=recorder)
    assert _status(people) is None


def test_the_due_page_shows_the_overdue_recorder(client, people, station, recorder):
    _docked(station, 30)
    html = _get(client, people["squad_leader"], "/ingest/due/").content.decode()
    assert "超过24小时未对接" in html and "30 小时" in html


def test_the_workstation_pages_are_available_in_english(client, people, session):
    """Chinese is the default; English is available (DESIGN quality bars)."""
    client.force_login(people["admin"])
    zh = client.get("/ingest/").content.decode()
    assert "正在对接" in zh
    client.cookies["django_language"] = "en"
    en = client.get("/ingest/").content.decode()
    assert "Docking now" in en and "Recent dockings" in en and "uploading" in en
    item = client.get("/ingest/quarantine/").content.decode()
    assert "Name does not follow the layout" in item
