"""Who may change what in casework: every role × every casework view that changes data.

Inspectors read every unit but change nothing (C6.4: "督察可查看所有单位，但不做修改");
legal reviewers review what is handed to them (C5.5) and archivists provide
copies (C6.3): neither writes activities, cases or annotations. Officers write
down and annotate their own work (C2, C5.2); squad and brigade leaders, case
handlers and administrators organise enforcement within their own unit subtree.
A refused request changes nothing: no row and no audit entry.

The views that change data (all POST):

============================  =====================================  ==========================
view                          check                                  scope
============================  =====================================  ==========================
activity_create               may_write_activities (ACTIVITY_CREATORS) units_for / officers_for
activity_edit                 Activity.restrict("change")            units_for / officers_for
annotate                      may_annotate (recording)               activities the user sees
annotate_new_activity         may_annotate + may_write_activities    units_for / officers_for
case_create                   CASE_EDITORS                           units_for(above=False)
case_edit, case_status,       Case.restrict("change")                the case's unit subtree
case_add_activity,            (+ Activity.restrict("change") for     or its handler
case_remove_activity,         the activity added)
case_move_activity
record_list_move              Case.restrict("change")                as above
power_import                  Role.ADMIN                             Unit.restrict("change")
============================  =====================================  ==========================
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jilu.audit.models import AuditEntry
from jilu.casework import actions
from jilu.casework.forms import officers_for, units_for
from jilu.casework.models import Activity, Annotation, Case, Party, Power

from .conftest import T0

ROLES = (
    "officer",
    "officer_other",
    "squad_leader",
    "brigade_leader",
    "archivist",
    "case_handler",
    "legal_reviewer",
    "inspector",
    "admin",
    "squad_admin",
)
OK = 302


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M:%S")


def _xlsx():
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["事项编码", "事项名称", "执法类别"])
    wb.active.append(["P1", "占道经营", "行政处罚"])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "powers.xlsx"
    return buf


@pytest.fixture
def world(tree, people, make_activity, make_recording):
    """A brigade case (handler: case_handler) with two activities of the squad-1
    officers and two listed recordings, a free activity, and an unannotated
    recording of 王五 (squad 1)."""
    case = actions.create_case(
        actor="system:test",
        number="思城执罚〔2026〕30号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
    )
    a1 = make_activity(case=case)
    a2 = make_activity(case=case, start=T0 + timedelta(hours=2))
    free = make_activity(start=T0 + timedelta(hours=5))
    listed = [
        actions.annotate(
            actor="system:test",
            recording=make_recording(start=T0 + timedelta(minutes=m)),
            activity=a1,
            step="site_check",
        )
        for m in (5, 20)
    ]
    rec = make_recording(start=T0 + timedelta(hours=5, minutes=5))
    return {"case": case, "a1": a1, "a2": a2, "free": free, "listed": listed, "rec": rec}


def _snapshot():
    return (
        AuditEntry.objects.count(),
        Activity.objects.count(),
        Case.objects.count(),
        Annotation.objects.count(),
        Party.objects.count(),
        Power.objects.count(),
        list(Case.objects.order_by("pk").values_list("status", "title")),
        list(Activity.objects.order_by("pk").values_list("place_name", "case_id", "case_order")),
        list(Annotation.objects.order_by("pk").values_list("activity_id", "list_no")),
    )


def _activity_data(people, unit):
    return {
        "kind": "S1",
        "category": "inspection",
        "new_party_kind": "organisation",
        "officers": [people["officer"].pk, people["officer_b"].pk],
        "unit": unit.pk,
        "place_name": "新地点",
        "planned_start": _local(T0 + timedelta(days=1)),
        "planned_end": _local(T0 + timedelta(days=1, hours=1)),
    }


def _request(name, world, people, tree):
    """(url, POST data) for one changing view on the world's objects."""
    case, a2 = world["case"], world["a2"]
    listed = world["listed"]
    if name == "activity_create":
        return reverse("casework:activity_create"), _activity_data(people, tree["squad1"])
    if name == "activity_edit":
        url = reverse("casework:activity_edit", args=[world["free"].pk])
        return url, _activity_data(people, tree["brigade"])
    if name == "case_create":
        data = {"number": "思城执罚〔2026〕31号", "category": "penalty", "unit": tree["squad1"].pk}
        return reverse("casework:case_create"), data
    if name == "case_edit":
        return reverse("casework:case_edit", args=[case.pk]), {
            "title": "改过的案由",
            "category": "penalty",
        }
    if name == "case_status":
        return reverse("casework:case_status", args=[case.pk]), {
            "status": "closed",
            "reason": "revoked",
            "note": "重复立案",
            "confirm": "1",
        }
    if name == "case_add_activity":
        url = reverse("casework:case_add_activity", args=[case.pk])
        return url, {"activity": world["free"].pk}
    if name == "case_remove_activity":
        return reverse("casework:case_remove_activity", args=[case.pk, a2.pk]), {}
    if name == "case_move_activity":
        return reverse("casework:case_move_activity", args=[case.pk, a2.pk, "up"]), {}
    if name == "record_list_move":
        url = reverse("casework_docs:record_list_move", args=[case.pk])
        return url, {
            "expected": ",".join(str(a.pk) for a in listed),
            "annotation": listed[1].pk,
            "to": 1,
        }
    if name == "annotate":
        url = reverse("casework:annotate", args=[world["rec"].pk])
        return url, {"activity": world["free"].pk, "step": "site_check"}
    if name == "annotate_new_activity":
        url = reverse("casework:annotate_new_activity", args=[world["rec"].pk])
        return url, {
            "kind": "S1",
            "category": "inspection",
            "new_party_kind": "organisation",
            "unit": tree["squad1"].pk,
            "other_officers": [people["officer_b"].pk],
            "step": "site_check",
        }
    if name == "power_import":
        return reverse("casework:power_import"), {"unit": tree["squad3"].pk, "file": _xlsx()}
    raise AssertionError(name)


# Expected answer per role (absent: 404, outside the view scope). 400: the
# role may use the page but the POSTed unit/officers lie outside its scope.
_CASE = {
    "officer": 403,  # sees the case of an activity he took part in
    "brigade_leader": OK,
    "archivist": 403,
    "case_handler": OK,
    "legal_reviewer": 403,
    "inspector": 403,
    "admin": OK,
}
_ANNOTATE = {
    "officer": OK,  # his own recording (C5.2)
    "squad_leader": OK,
    "brigade_leader": OK,
    "archivist": 403,
    "case_handler": OK,
    "legal_reviewer": 403,
    "inspector": 403,
    "admin": OK,
}
EXPECTED = {
    "activity_create": {
        "officer": OK,
        "officer_other": 400,  # squad 1 and its officers are not his
        "squad_leader": OK,
        "brigade_leader": OK,
        "archivist": 403,
        "case_handler": OK,
        "legal_reviewer": 403,
        "inspector": 403,
        "admin": OK,
        "squad_admin": 400,
    },
    "activity_edit": {
        "officer": OK,  # took part in it
        "squad_leader": 403,  # sees it (his officers took part); brigade's to change
        "brigade_leader": OK,
        "archivist": 403,
        "case_handler": OK,
        "legal_reviewer": 403,
        "inspector": 403,
        "admin": OK,
    },
    "case_create": {
        "officer": 403,
        "officer_other": 403,
        "squad_leader": OK,
        "brigade_leader": OK,
        "archivist": 403,
        "case_handler": OK,
        "legal_reviewer": 403,
        "inspector": 403,
        "admin": OK,
        "squad_admin": 400,  # squad 1 is not in his subtree
    },
    "case_edit": _CASE,
    "case_status": _CASE,
    "case_add_activity": _CASE,
    "case_remove_activity": _CASE,
    "case_move_activity": _CASE,
    "record_list_move": _CASE,
    "annotate": _ANNOTATE,
    "annotate_new_activity": _ANNOTATE,
    "power_import": {
        "officer": 403,
        "officer_other": 403,
        "squad_leader": 403,
        "brigade_leader": 403,
        "archivist": 403,
        "case_handler": 403,
        "legal_reviewer": 403,
        "inspector": 403,
        "admin": OK,
        "squad_admin": OK,
    },
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", sorted(EXPECTED))
def test_role_matrix(view, role, world, people, tree):
    """Each role × each changing view: allowed, or refused with nothing changed."""
    expected = EXPECTED[view].get(role, 404)
    url, data = _request(view, world, people, tree)
    client = Client()
    client.force_login(people[role])
    before = _snapshot()
    response = client.post(url, data)
    assert response.status_code == expected, (view, role, response.status_code)
    if expected == OK:
        assert AuditEntry.objects.count() > before[0], (view, role)
    else:
        assert _snapshot() == before, (view, role)


@pytest.mark.parametrize("role", ("inspector", "legal_reviewer", "archivist"))
def test_readers_cannot_open_the_activity_form(client, people, role):
    """The defect: an inspector opened /casework/activities/new/ and wrote an
    activity in another unit naming officers of other units."""
    client.force_login(people[role])
    assert client.get(reverse("casework:activity_create")).status_code == 403
    assert not units_for(people[role]).exists()
    assert not officers_for(people[role]).exists()
    for name in ("casework:activity_list", "casework:queue"):
        page = client.get(reverse(name)).content.decode()
        assert reverse("casework:activity_create") not in page, name


def test_writers_see_the_new_activity_button(client, people):
    client.force_login(people["officer"])
    page = client.get(reverse("casework:activity_list")).content.decode()
    assert reverse("casework:activity_create") in page


def test_activity_form_offers_only_units_and_officers_in_scope(client, people, tree):
    client.force_login(people["officer_other"])  # 湖里中队
    page = client.get(reverse("casework:activity_create")).content.decode()
    assert "韩一" in page
    assert "王五" not in page and "李四" not in page
    assert set(units_for(people["officer_other"])) == {tree["squad3"], tree["brigade2"]}
    # A squad officer writes under his squad or the enforcing brigade, never
    # the district or city bureau above it.
    assert set(units_for(people["officer"])) == {tree["squad1"], tree["brigade"]}
    # A brigade's case handler names the people of the brigade subtree only.
    names = set(officers_for(people["case_handler"]).values_list("username", flat=True))
    assert {"officer", "officer_b", "squad_leader"} <= names
    assert "officer_other" not in names and "inspector" not in names


def test_officer_cannot_name_officers_of_another_unit(client, people, tree):
    client.force_login(people["officer"])
    data = _activity_data(people, tree["squad1"])
    data["officers"] = [people["officer"].pk, people["officer_other"].pk]
    response = client.post(reverse("casework:activity_create"), data)
    assert response.status_code == 400
    assert not Activity.objects.exists()


def test_inspector_who_wrote_an_activity_cannot_change_it(people, make_activity):
    """Activities written before the fix by a reader stay read-only for them."""
    act = make_activity(actor=people["inspector"])
    assert not Activity.objects.restrict(people["inspector"], "change").filter(pk=act.pk).exists()
    # ...while the officers who took part still may.
    assert Activity.objects.restrict(people["officer"], "change").filter(pk=act.pk).exists()


def test_api_refuses_readers(client, people, tree):
    from jilu.casework.api import create_activity

    class Body:
        kind = "S1"

    request = type("R", (), {"user": people["inspector"], "station": None})()
    from ninja.errors import HttpError

    with pytest.raises(HttpError) as err:
        create_activity(request, Body())
    assert err.value.status_code == 403
