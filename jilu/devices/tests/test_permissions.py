"""Who may open and post to every device page (NetBox-style permission tests).

Scope is the unit tree: out-of-scope objects are 404, visible but not
actionable ones are 403; inspectors read everything and change nothing (C6.4).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from jilu.devices import actions
from jilu.devices.models import DeviceEvent, Holding, Recorder, Workstation

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people, make_recorder, make_station):
    ours = make_recorder("A000001", unit="squad1")
    theirs = make_recorder("B000001", unit="squad3")
    actions.issue_recorder(actor="system:test", recorder=ours, person=people["officer"])
    station, _ = make_station("中华中队采集工作站", unit="squad1")
    other_station, _ = make_station("湖里中队采集工作站", unit="squad3")
    return {"ours": ours, "theirs": theirs, "station": station, "other_station": other_station}


def _url(name: str, world: dict, target: str | None) -> str:
    if target is None:
        return reverse(f"devices:{name}")
    obj = world[target]
    arg = obj.serial if isinstance(obj, Recorder) else obj.pk
    return reverse(f"devices:{name}", args=[arg])


GET_CASES = [
    # (url name, target, user, expected status)
    ("my_recorders", None, "officer", 200),
    ("my_recorders", None, "inspector", 200),
    ("recorder_list", None, "officer", 403),
    ("recorder_list", None, "squad_leader", 200),
    ("recorder_list", None, "brigade_leader", 200),
    ("recorder_list", None, "archivist", 200),
    ("recorder_list", None, "case_handler", 200),
    ("recorder_list", None, "legal_reviewer", 200),
    ("recorder_list", None, "inspector", 200),
    ("recorder_list", None, "admin", 200),
    ("recorder_create", None, "officer", 403),
    ("recorder_create", None, "inspector", 403),
    ("recorder_create", None, "archivist", 403),
    ("recorder_create", None, "squad_leader", 200),
    ("recorder_create", None, "brigade_leader", 200),
    ("recorder_create", None, "admin", 200),
    ("recorder_detail", "ours", "officer", 403),
    ("recorder_detail", "ours", "squad_leader", 200),
    ("recorder_detail", "ours", "inspector", 200),
    ("recorder_detail", "ours", "admin", 200),
    ("recorder_detail", "ours", "squad_admin", 404),
    ("recorder_detail", "theirs", "squad_leader", 404),
    ("recorder_detail", "theirs", "brigade_leader", 404),
    ("recorder_detail", "theirs", "squad_admin", 200),
    ("workstation_list", None, "officer", 403),
    ("workstation_list", None, "archivist", 403),
    ("workstation_list", None, "squad_leader", 200),
    ("workstation_list", None, "brigade_leader", 200),
    ("workstation_list", None, "inspector", 200),
    ("workstation_list", None, "admin", 200),
    ("workstation_create", None, "officer", 403),
    ("workstation_create", None, "squad_leader", 403),
    ("workstation_create", None, "brigade_leader", 403),
    ("workstation_create", None, "inspector", 403),
    ("workstation_create", None, "admin", 200),
    ("workstation_create", None, "squad_admin", 200),
    ("workstation_detail", "station", "officer", 403),
    ("workstation_detail", "station", "brigade_leader", 200),
    ("workstation_detail", "station", "inspector", 200),
    ("workstation_detail", "station", "squad_admin", 404),
    ("workstation_detail", "other_station", "brigade_leader", 404),
    ("workstation_revoke", "station", "admin", 200),
    ("workstation_revoke", "station", "inspector", 403),
    ("workstation_revoke", "station", "brigade_leader", 403),
    ("workstation_revoke", "station", "squad_admin", 404),
    ("workstation_reissue", "station", "admin", 200),
    ("workstation_reissue", "station", "inspector", 403),
    ("workstation_reissue", "other_station", "admin", 200),
    ("workstation_reissue", "station", "squad_admin", 404),
    ("gaps", None, "officer", 403),
    ("gaps", None, "archivist", 403),
    ("gaps", None, "squad_leader", 200),
    ("gaps", None, "brigade_leader", 200),
    ("gaps", None, "inspector", 200),
    ("gaps", None, "admin", 200),
]


@pytest.mark.parametrize(("name", "target", "username", "expected"), GET_CASES)
def test_get_permissions(world, as_user, name, target, username, expected):
    client = as_user(username)
    assert client.get(_url(name, world, target)).status_code == expected


POST_CASES = [
    # Changing a recorder: leaders and administrators in scope only.
    ("recorder_issue", "ours", "inspector", 403),
    ("recorder_issue", "ours", "archivist", 403),
    ("recorder_issue", "ours", "case_handler", 403),
    ("recorder_issue", "ours", "officer", 403),  # sees it (holds it), may not issue it
    ("recorder_issue", "ours", "officer_b", 404),
    ("recorder_issue", "ours", "squad_admin", 404),
    ("recorder_issue", "theirs", "squad_leader", 404),
    ("recorder_return", "ours", "inspector", 403),
    ("recorder_return", "ours", "officer", 403),
    ("recorder_return", "ours", "squad_admin", 404),
    ("recorder_status", "ours", "inspector", 403),
    ("recorder_status", "ours", "legal_reviewer", 403),
    ("recorder_status", "theirs", "brigade_leader", 404),
    ("recorder_check", "ours", "inspector", 403),
    ("recorder_check", "ours", "archivist", 403),
    ("recorder_check", "ours", "officer", 403),  # holders use "my recorders"
    ("recorder_check", "ours", "officer_b", 403),
    ("recorder_check", "theirs", "squad_leader", 404),
    ("recorder_incident", "ours", "inspector", 403),
    ("recorder_incident", "ours", "officer_b", 403),
    ("recorder_create", None, "inspector", 403),
    ("recorder_create", None, "officer", 403),
    ("my_check", "theirs", "officer", 404),
    ("my_incident", "theirs", "officer", 404),
    ("my_check", "ours", "officer_b", 404),
    ("workstation_create", None, "brigade_leader", 403),
    ("workstation_create", None, "inspector", 403),
    ("workstation_revoke", "station", "inspector", 403),
    ("workstation_revoke", "station", "brigade_leader", 403),
    ("workstation_revoke", "station", "squad_admin", 404),
    ("workstation_reissue", "station", "inspector", 403),
    ("workstation_reissue", "other_station", "squad_leader", 404),
]


@pytest.mark.parametrize(("name", "target", "username", "expected"), POST_CASES)
def test_post_permissions_change_nothing(world, as_user, people, name, target, username, expected):
    """A refused POST leaves every table as it was."""
    client = as_user(username)
    before = (
        Holding.objects.count(),
        DeviceEvent.objects.count(),
        list(Recorder.objects.values_list("status", flat=True)),
        list(Workstation.objects.values_list("revoked_at", "token_digest")),
        Recorder.objects.count(),
        Workstation.objects.count(),
    )
    data = {
        "issue-person": people["officer_b"].pk,
        "status-status": "retired",
        "status-note": "x",
        "check-battery_pct": "50",
        "incident-kind": "loss",
        "incident-note": "遗失",
        "serial": "Z000009",
        "unit": world["ours"].unit_id,
        "name": "新站",
        f"{world['ours'].serial}-check-battery_pct": "50",
        f"{world['theirs'].serial}-check-battery_pct": "50",
        f"{world['theirs'].serial}-incident-kind": "loss",
        f"{world['theirs'].serial}-incident-note": "遗失",
    }
    assert client.post(_url(name, world, target), data).status_code == expected
    after = (
        Holding.objects.count(),
        DeviceEvent.objects.count(),
        list(Recorder.objects.values_list("status", flat=True)),
        list(Workstation.objects.values_list("revoked_at", "token_digest")),
        Recorder.objects.count(),
        Workstation.objects.count(),
    )
    assert after == before


@pytest.mark.parametrize(
    "name",
    ["recorder_issue", "recorder_return", "recorder_status", "recorder_check", "recorder_incident"],
)
def test_change_endpoints_accept_post_only(world, as_user, name):
    assert as_user("admin").get(_url(name, world, "ours")).status_code == 405


def test_anonymous_is_sent_to_sign_in(world, client):
    for name, target in [
        ("my_recorders", None),
        ("recorder_list", None),
        ("recorder_create", None),
        ("recorder_detail", "ours"),
        ("workstation_list", None),
        ("workstation_create", None),
        ("workstation_detail", "station"),
        ("gaps", None),
    ]:
        response = client.get(_url(name, world, target))
        assert response.status_code == 302 and "/login/" in response["Location"], name
    response = client.post(_url("recorder_issue", world, "ours"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_inspector_reads_the_detail_without_any_form(world, as_user):
    """C6.4: inspectors see everything, read-only."""
    page = as_user("inspector").get(_url("recorder_detail", world, "ours")).content.decode()
    assert "王五" in page
    for label in ("确认归还", "确认配发", "保存检查结果", "变更状态</button>", "登记</button>"):
        assert label not in page
    theirs = as_user("inspector").get(_url("recorder_detail", world, "theirs"))
    assert theirs.status_code == 200


def test_a_reader_who_holds_a_recorder_may_report_on_it_from_the_detail_page(
    world, as_user, people, make_recorder
):
    """C1.4: the holder reports checks on their own recorder; an archivist who holds
    one may do so though they cannot change recorders."""
    recorder = make_recorder("C000001", unit="brigade")
    actions.issue_recorder(actor="system:test", recorder=recorder, person=people["archivist"])
    client = as_user("archivist")
    url = reverse("devices:recorder_check", args=[recorder.serial])
    response = client.post(url, {"check-battery_pct": "64"})
    assert response.status_code == 302
    assert DeviceEvent.objects.get().battery_pct == 64
    other = reverse("devices:recorder_check", args=["A000001"])
    assert client.post(other, {"check-battery_pct": "64"}).status_code == 403
