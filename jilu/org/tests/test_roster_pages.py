"""The roster pages: import (check → preview → confirm) and export download."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jilu.org.models import Person, Unit
from jilu.org.roster import SHEET_PEOPLE, SHEET_UNITS, XLSX_MIME
from jilu.org.tests.xlsx import person_row, read_sheets, roster_bytes

SQUAD1 = "350203000101"


def _upload(data: bytes, name: str = "名册.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX_MIME)


def _login(client, person):
    client.force_login(person)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["officer", "squad_leader", "brigade_leader", "inspector"])
def test_only_administrators_open_the_import_pages(client, people, who):
    client = _login(client, people[who])
    assert client.get(reverse("org:roster_import")).status_code == 403
    data = roster_bytes(people=[person_row("x1", "某", SQUAD1, user_no="360001")])
    response = client.post(reverse("org:roster_import"), {"file": _upload(data)})
    assert response.status_code == 403
    assert client.post(reverse("org:roster_confirm"), {"digest": "x"}).status_code == 403
    assert not Person.objects.filter(username="x1").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["officer", "case_handler", "legal_reviewer"])
def test_export_is_refused_to_roles_without_the_people_list(client, people, who):
    assert _login(client, people[who]).get(reverse("org:roster_export")).status_code == 403


@pytest.mark.django_db
def test_export_download_is_an_xlsx_of_the_users_scope(client, people, tree):
    response = _login(client, people["brigade_leader"]).get(reverse("org:roster_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_MIME
    assert response["Content-Disposition"].startswith("attachment;")
    sheets = read_sheets(response.content)
    assert [r[0] for r in sheets[SHEET_UNITS][1:]] == [
        "350203000001",
        "350203000101",
        "350203000102",
    ]
    assert {r[1] for r in sheets[SHEET_PEOPLE][1:]} == {
        "officer",
        "officer_b",
        "squad_leader",
        "brigade_leader",
        "archivist",
        "case_handler",
    }
    one = client.get(reverse("org:roster_export"), {"unit": tree["squad2"].pk})
    assert [r[0] for r in read_sheets(one.content)[SHEET_UNITS][1:]] == ["350203000102"]


@pytest.mark.django_db
def test_good_roster_is_previewed_then_imported_on_confirmation(client, people, tree):
    client = _login(client, people["admin"])
    data = roster_bytes(
        units=[
            [
                "350203000103",
                "思明区城管执法大队新华中队",
                "思明区新华中队",
                "中队",
                "350203000001",
                "否",
            ]
        ],
        people=[
            person_row("xin1", "新一", "350203000103", user_no="360101", cert_no="X1"),
            person_row("xin2", "新二", "350203000103", user_no="360102", roles="中队长、执法队员"),
        ],
    )
    response = client.post(reverse("org:roster_import"), {"file": _upload(data)})
    assert response.status_code == 200
    plan = response.context["plan"]
    assert (
        plan.ok and plan.summary() == "单位：新建 1，更新 0，不变 0；人员：新建 2，更新 0，不变 0"
    )
    html = response.content.decode()
    assert "预览：确认后将做以下变更" in html and 'data-username="xin2"' in html
    assert not Person.objects.filter(username="xin1").exists()  # nothing before confirming

    response = client.post(reverse("org:roster_confirm"), {"digest": plan.digest})
    assert response.status_code == 200
    assert response.context["result"].ok
    assert {p.username for p in response.context["new_people"]} == {"xin1", "xin2"}
    assert Unit.objects.get(code="350203000103").parent == tree["brigade"]
    assert Person.objects.get(username="xin2").roles == {"officer", "squad_leader"}
    assert "名册已导入" in response.content.decode()

    again = client.post(reverse("org:roster_confirm"), {"digest": plan.digest}, follow=True)
    assert "没有待确认的名册" in again.content.decode()


@pytest.mark.django_db
def test_bad_roster_shows_row_errors_and_imports_nothing(client, people):
    client = _login(client, people["admin"])
    data = roster_bytes(
        people=[
            person_row("ok1", "好", SQUAD1, user_no="360201", cert_no="C123"),
            person_row("ok2", "好二", SQUAD1, user_no="360202", cert_no="C123"),
            person_row("ok3", "", "350200009999", user_no="3602"),
        ]
    )
    response = client.post(reverse("org:roster_import"), {"file": _upload(data)})
    html = response.content.decode()
    assert "名册有 2 行错误，未导入任何数据" in html
    assert "人员表第3行：执法证号 C123 与第2行重复" in html
    assert "人员表第4行：姓名为空；警号 3602 应为6位数字或字母" in html
    assert "单位编号 350200009999 不存在" in html
    assert "confirm-import" not in html
    assert not Person.objects.filter(username__startswith="ok").exists()
    # No preview is kept, so nothing can be confirmed afterwards.
    response = client.post(reverse("org:roster_confirm"), {"digest": ""}, follow=True)
    assert "没有待确认的名册" in response.content.decode()


@pytest.mark.django_db
def test_a_file_that_is_not_a_roster_gets_a_clear_message(client, people):
    client = _login(client, people["admin"])
    response = client.post(
        reverse("org:roster_import"), {"file": _upload(b"name,user\n", "roster.csv")}
    )
    html = response.content.decode()
    assert "无法读取这个文件，未导入任何数据" in html
    assert "文件不是 Excel 工作簿（.xlsx）" in html
    response = client.post(reverse("org:roster_import"), {})
    assert response.context["form"].errors["file"]


@pytest.mark.django_db
def test_unchanged_roster_says_there_is_nothing_to_import(client, people):
    client = _login(client, people["admin"])
    exported = client.get(reverse("org:roster_export")).content
    response = client.post(reverse("org:roster_import"), {"file": _upload(exported)})
    assert "名册与系统中的数据一致，无需导入" in response.content.decode()
    assert "confirm-import" not in response.content.decode()


@pytest.mark.django_db
def test_confirming_after_the_data_changed_shows_a_new_preview(client, people, tree):
    from jilu.org import actions

    client = _login(client, people["admin"])
    data = roster_bytes(people=[person_row("late", "迟", SQUAD1, user_no="360301")])
    preview = client.post(reverse("org:roster_import"), {"file": _upload(data)}).context["plan"]
    actions.create_person(actor="system:test", username="late", name="早", unit=tree["squad1"])
    response = client.post(reverse("org:roster_confirm"), {"digest": preview.digest})
    assert response.context["changed_since_preview"] is True
    assert "上次预览之后，系统中的数据有了变化" in response.content.decode()
    assert Person.objects.get(username="late").name == "早"
    response = client.post(
        reverse("org:roster_confirm"), {"digest": response.context["plan"].digest}
    )
    assert response.context["result"].ok
    assert Person.objects.get(username="late").name == "迟"
