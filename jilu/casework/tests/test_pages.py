"""Every casework page: who may open it (permission tests), and what it does."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jilu.casework import actions
from jilu.casework.models import Activity, Annotation, Case, Power

from .conftest import T0


def _client(client, person):
    """A client of its own, signed in as ``person`` (the fixture's is left alone)."""
    fresh = Client()
    fresh.force_login(person)
    return fresh


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def case(tree, people):
    return actions.create_case(
        actor=people["case_handler"],
        number="思城执罚〔2026〕9号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
    )


def test_anonymous_is_sent_to_sign_in(client, db):
    for name in ("casework:queue", "casework:activity_list", "casework:case_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_officer_queue_shows_time_left(client, people, make_recording):
    now = timezone.now()
    make_recording(start=now - timedelta(hours=50), docked_at=now - timedelta(hours=47))
    make_recording(start=now - timedelta(hours=52), docked_at=now - timedelta(hours=49))
    page = _client(client, people["officer"]).get(reverse("casework:queue")).content.decode()
    assert "剩余 0 小时" in page or "剩余 1 小时" in page
    assert "已超期 1 小时" in page
    # Someone else's queue is empty.
    other = _client(client, people["officer_b"]).get(reverse("casework:queue")).content.decode()
    assert "没有待标注的声像记录" in other


def test_squad_queue_permissions_and_overdue(client, people, make_recording):
    now = timezone.now()
    rec = make_recording(start=now - timedelta(hours=52), docked_at=now - timedelta(hours=49))
    url = reverse("casework:squad_queue") + "?overdue=1"
    assert _client(client, people["officer"]).get(url).status_code == 403
    page = _client(client, people["squad_leader"]).get(url)
    assert page.status_code == 200 and f'data-recording="{rec.pk}"' in page.content.decode()
    other = _client(client, people["squad_admin"]).get(url).content.decode()
    assert f'data-recording="{rec.pk}"' not in other


def test_annotate_page_accepts_the_suggestion(client, people, make_recording, make_activity):
    rec = make_recording()
    act = make_activity()
    c = _client(client, people["officer"])
    page = c.get(reverse("casework:annotate", args=[rec.pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["activity"] == act.pk
    response = c.post(
        reverse("casework:annotate", args=[rec.pk]),
        {"activity": act.pk, "step": "site_survey", "run": [rec.pk]},
    )
    assert response.status_code == 302
    page = c.get(response["Location"]).content.decode()
    assert "思明区城管执法大队_厦门某某餐饮有限公司_20261126_现场勘验.mp4" in page


def test_annotate_permissions(client, people, make_recording, make_activity):
    rec = make_recording()
    act = make_activity()
    url = reverse("casework:annotate", args=[rec.pk])
    data = {"activity": act.pk, "step": "site_check"}
    # Another squad's officer cannot even see it.
    assert _client(client, people["officer_other"]).get(url).status_code == 404
    # A colleague in the same activity sees the recording only once annotated.
    assert _client(client, people["officer_b"]).post(url, data).status_code == 404
    # The inspector reads but does not annotate.
    assert _client(client, people["inspector"]).post(url, data).status_code == 403
    # The squad leader corrects.
    assert _client(client, people["squad_leader"]).post(url, data).status_code == 302
    assert Annotation.objects.get().annotated_by == people["squad_leader"]
    detail = reverse("casework:annotation", args=[rec.pk])
    assert _client(client, people["officer_b"]).get(detail).status_code == 200


def test_create_activity_on_the_annotate_page(client, people, make_recording):
    rec = make_recording()
    c = _client(client, people["officer"])
    response = c.post(
        reverse("casework:annotate_new_activity", args=[rec.pk]),
        {
            "kind": "S1",
            "category": "inspection",
            "new_party_kind": "organisation",
            "new_party_name": "厦门某某餐饮有限公司",
            "unit": people["officer"].unit_id,
            "place_name": "某某餐厅",
            "other_officers": [people["officer_b"].pk],
            "step": "site_survey",
        },
    )
    assert response.status_code == 302, response.content.decode()
    ann = Annotation.objects.get()
    assert ann.standard_name == "中华中队_厦门某某餐饮有限公司_20261126_现场勘验"


def test_quick_activity_needs_a_second_officer(client, people, make_recording):
    rec = make_recording()
    response = _client(client, people["officer"]).post(
        reverse("casework:annotate_new_activity", args=[rec.pk]),
        {
            "kind": "S1",
            "category": "inspection",
            "new_party_kind": "organisation",
            "unit": people["officer"].unit_id,
            "step": "site_survey",
        },
    )
    assert response.status_code == 400
    assert "至少两名执法人员" in response.content.decode()  # C4.1
    assert not Activity.objects.exists()


def test_activity_create_edit_detail(client, people):
    c = _client(client, people["officer"])
    data = {
        "kind": "S1",
        "category": "inspection",
        "new_party_kind": "person",
        "new_party_name": "张三",
        "officers": [people["officer"].pk],
        "unit": people["officer"].unit_id,
        "place_name": "中山路",
        "planned_start": _local(T0),
        "planned_end": _local(T0 + timedelta(hours=1)),
    }
    response = c.post(reverse("casework:activity_create"), data)
    assert response.status_code == 400 and "C4.1" in response.content.decode()
    data["officers"] = [people["officer"].pk, people["officer_b"].pk]
    response = c.post(reverse("casework:activity_create"), data)
    assert response.status_code == 302
    act = Activity.objects.get()
    assert act.party.name == "张三" and act.span_start == T0
    detail = c.get(reverse("casework:activity_detail", args=[act.pk])).content.decode()
    assert "无任何声像记录（C2.1）" in detail
    data["place_name"] = "思明南路"
    assert c.post(reverse("casework:activity_edit", args=[act.pk]), data).status_code == 302
    act.refresh_from_db()
    assert act.place_name == "思明南路"
    # Officers outside it neither see nor edit it.
    other = _client(client, people["officer_other"])
    assert other.get(reverse("casework:activity_detail", args=[act.pk])).status_code == 404
    inspector = _client(client, people["inspector"])
    assert inspector.get(reverse("casework:activity_detail", args=[act.pk])).status_code == 200
    assert inspector.get(reverse("casework:activity_edit", args=[act.pk])).status_code == 403


def test_activity_list_is_scoped(client, people, make_activity):
    act = make_activity()
    url = reverse("casework:activity_list")
    assert f"/activities/{act.pk}/" in _client(client, people["officer"]).get(url).content.decode()
    assert f"/activities/{act.pk}/" not in (
        _client(client, people["officer_other"]).get(url).content.decode()
    )


def test_case_pages(client, people, tree, make_activity, make_recording):
    c = _client(client, people["case_handler"])
    assert (
        _client(client, people["officer"]).get(reverse("casework:case_create")).status_code == 403
    )
    response = c.post(
        reverse("casework:case_create"),
        {
            "number": "思城执罚〔2026〕10号",
            "category": "penalty",
            "unit": tree["brigade"].pk,
            "handler": people["case_handler"].pk,
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.retention == "30y"
    act = make_activity()
    add = reverse("casework:case_add_activity", args=[case.pk])
    assert c.post(add, {"activity": act.pk}).status_code == 302
    actions.annotate(
        actor=people["officer"], recording=make_recording(), activity=act, step="site_survey"
    )
    page = c.get(reverse("casework:case_detail", args=[case.pk])).content.decode()
    assert "01_思明区城管执法大队_厦门某某餐饮有限公司_20261126_现场勘验.mp4" in page
    assert "全程录制" in page or "处未录制的时段" in page
    edit = reverse("casework:case_edit", args=[case.pk])
    assert c.post(edit, {"title": "占道经营", "category": "penalty"}).status_code == 302
    case.refresh_from_db()
    assert case.title == "占道经营"
    status = reverse("casework:case_status", args=[case.pk])
    # The officer of the activity sees the case but cannot change it.
    officer = _client(client, people["officer"])
    assert officer.get(reverse("casework:case_detail", args=[case.pk])).status_code == 200
    assert officer.post(status, {"status": "closed"}).status_code == 403
    # C5.5: a case goes to legal only by handing over its package, never by hand.
    response = c.post(status, {"status": "transferred"}, follow=True)
    assert "只能通过" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "open"
    # C5.4/C5.5: the case has a recording in its list and never went to legal
    # review: one click does not close it; a reason, an explanation and an
    # explicit confirmation do (see test_case_close.py).
    response = c.post(status, {"status": "closed", "confirm": "1"}, follow=True)
    assert "未经法制审核" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "open"
    closing = {"status": "closed", "reason": "no_penalty", "note": "违法行为轻微并及时改正"}
    assert c.post(status, {**closing, "confirm": "1"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "closed" and case.close_reason == "no_penalty"
    assert (
        _client(client, people["squad_admin"])
        .get(reverse("casework:case_detail", args=[case.pk]))
        .status_code
        == 404
    )


def test_case_activity_order_and_removal(client, people, case, make_activity):
    a = make_activity(case=case)
    b = make_activity(case=case, start=T0 + timedelta(hours=1))
    c = _client(client, people["case_handler"])
    assert (
        c.post(reverse("casework:case_move_activity", args=[case.pk, b.pk, "up"])).status_code
        == 302
    )
    assert list(case.activities.order_by("case_order")) == [b, a]
    assert c.post(reverse("casework:case_remove_activity", args=[case.pk, a.pk])).status_code == 302
    assert list(case.activities.all()) == [b]
    officer = _client(client, people["officer"])
    assert (
        officer.post(reverse("casework:case_move_activity", args=[case.pk, b.pk, "up"])).status_code
        == 403
    )


def test_case_list_is_scoped(client, people, case):
    url = reverse("casework:case_list")
    assert case.number in _client(client, people["legal_reviewer"]).get(url).content.decode()
    assert case.number not in _client(client, people["officer"]).get(url).content.decode()


def _xlsx(rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "powers.xlsx"
    return buf


def test_power_import(client, people, tree):
    url = reverse("casework:power_import")
    assert _client(client, people["officer"]).get(url).status_code == 403
    c = _client(client, people["admin"])
    good = _xlsx(
        [
            ["事项编码", "事项名称", "执法类别", "设定依据"],
            ["330217001000", "对擅自占用城市道路的处罚", "行政处罚", "《城市道路管理条例》"],
            ["330217002000", "城市道路占用检查", "行政检查", ""],
        ]
    )
    response = c.post(url, {"unit": tree["brigade"].pk, "file": good})
    assert response.status_code == 302
    assert Power.objects.filter(unit=tree["brigade"], active=True).count() == 2
    bad = _xlsx([["事项编码", "事项名称", "执法类别"], ["X1", "某事项", "不存在的类别"]])
    response = c.post(url, {"unit": tree["brigade"].pk, "file": bad})
    assert response.status_code == 400 and "第2行" in response.content.decode()
    assert Power.objects.filter(unit=tree["brigade"], active=True).count() == 2
    listing = _client(client, people["officer"]).get(reverse("casework:power_list"))
    assert "对擅自占用城市道路的处罚" in listing.content.decode()


def test_other_views_refuse_outsiders(client, people, case, make_activity, make_recording):
    act = make_activity(case=case)
    rec = make_recording()
    other = _client(client, people["officer_other"])
    officer = _client(client, people["officer"])
    inspector = _client(client, people["inspector"])
    quick = reverse("casework:annotate_new_activity", args=[rec.pk])
    assert other.post(quick, {}).status_code == 404
    assert inspector.post(quick, {}).status_code == 403
    assert officer.get(quick).status_code == 405
    edit = reverse("casework:case_edit", args=[case.pk])
    assert officer.get(edit).status_code == 403  # sees the case, may not edit it
    assert other.get(edit).status_code == 404
    assert inspector.get(edit).status_code == 403
    add = reverse("casework:case_add_activity", args=[case.pk])
    assert officer.post(add, {"activity": act.pk}).status_code == 403
    remove = reverse("casework:case_remove_activity", args=[case.pk, act.pk])
    assert officer.post(remove).status_code == 403
    assert other.post(remove).status_code == 404
    assert _client(client, people["case_handler"]).get(remove).status_code == 405
    assert case.activities.count() == 1


def test_bulk_link_on_the_annotate_page(client, people, make_recording, make_activity):
    a = make_recording(start=T0, minutes=10)
    b = make_recording(start=T0 + timedelta(minutes=10), minutes=10)
    c = make_recording(start=T0 + timedelta(minutes=20), minutes=10)
    act = make_activity()
    officer = _client(client, people["officer"])
    page = officer.get(reverse("casework:annotate", args=[b.pk]))
    # The whole run of consecutive segments is offered and pre-selected.
    assert page.context["form"].initial["run"] == [a.pk, b.pk, c.pk]
    response = officer.post(
        reverse("casework:annotate", args=[b.pk]),
        {"activity": act.pk, "step": "evidence", "run": [a.pk, b.pk]},
    )
    assert response.status_code == 302
    linked = dict(Annotation.objects.values_list("recording_id", "step"))
    assert linked == {a.pk: "evidence", b.pk: "evidence"}  # c was left out by the officer


def test_import_powers_command(tree, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "powers.xlsx"
    path.write_bytes(_xlsx([["编码", "名称", "类别"], ["A1", "某事项", "行政检查"]]).getvalue())
    out = io.StringIO()
    call_command("import_powers", tree["brigade"].code, str(path), stdout=out)
    assert "新增 1 项" in out.getvalue()
    with pytest.raises(CommandError, match="没有单位编号"):
        call_command("import_powers", "999999999999", str(path))


def test_activity_page_lists_unlinked_recordings_of_its_officers(
    client, people, make_activity, make_recording
):
    act = make_activity(minutes=60)
    mine = make_recording(start=T0 + timedelta(minutes=5))
    theirs = make_recording("officer_b", start=T0 + timedelta(minutes=5))
    url = reverse("casework:activity_detail", args=[act.pk])
    page = _client(client, people["officer"]).get(url)
    assert [r.pk for r in page.context["unlinked"]] == [mine.pk]  # not officer_b's: not visible
    leader = _client(client, people["squad_leader"]).get(url)
    assert {r.pk for r in leader.context["unlinked"]} == {mine.pk, theirs.pk}
    actions.annotate(actor=people["officer"], recording=mine, activity=act, step="site_check")
    page = _client(client, people["officer"]).get(url)
    assert page.context["unlinked"] == []


def test_fellow_officers_are_offered_with_the_name_of_their_number(people):
    """同行执法人员 says which number it shows: the 执法证号 the two officers state
    on arrival (C4.1), else the 警号."""
    from jilu.casework.forms import OfficerChoices
    from jilu.org.models import Person

    field = OfficerChoices(queryset=Person.objects.all())
    officer = people["officer"]
    officer.cert_no, officer.user_no = "35020012345", "350211"
    assert field.label_from_instance(officer) == f"{officer.name}（执法证号 35020012345）"
    officer.cert_no = ""
    assert field.label_from_instance(officer) == f"{officer.name}（警号 350211）"
