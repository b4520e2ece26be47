"""People pages: list with filters, detail, create/edit with roles, deactivate,
password reset. Everything goes through restrict(): an administrator of a
squad cannot touch people of another unit (404).

Frontline officers are each issued a recorder (C1.1); 警号 is the 6-character
user number recorders store.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import PASSWORD
from jilu.audit.models import AuditEntry
from jilu.org import actions
from jilu.org.models import Person

READERS = ["admin", "inspector", "brigade_leader", "squad_leader", "archivist", "squad_admin"]
NOT_READERS = ["officer", "case_handler", "legal_reviewer"]
NOT_ADMINS = [
    "officer",
    "squad_leader",
    "brigade_leader",
    "archivist",
    "case_handler",
    "legal_reviewer",
    "inspector",
]


def _login(client, person):
    client.force_login(person)
    return client


def _listed(response) -> list[str]:
    return [p.username for p in response.context["page_obj"]]


# --- permissions for every view -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", READERS)
def test_list_and_detail_open_for_readers(client, people, who):
    client = _login(client, people[who])
    assert client.get(reverse("org:person_list")).status_code == 200
    own = people[who]
    assert client.get(reverse("org:person_detail", args=[own.pk])).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("who", NOT_READERS)
def test_list_and_detail_refused_to_other_roles(client, people, who):
    client = _login(client, people[who])
    assert client.get(reverse("org:person_list")).status_code == 403
    assert client.get(reverse("org:person_detail", args=[people[who].pk])).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("who", NOT_ADMINS)
def test_only_administrators_open_create_edit_deactivate_and_password(client, people, who):
    client = _login(client, people[who])
    target = people["officer_b"]
    assert client.get(reverse("org:person_create")).status_code == 403
    assert client.get(reverse("org:person_edit", args=[target.pk])).status_code == 403
    assert client.get(reverse("org:person_password", args=[target.pk])).status_code == 403
    response = client.post(reverse("org:person_set_active", args=[target.pk]), {"active": "0"})
    assert response.status_code == 403
    assert Person.objects.get(pk=target.pk).is_active


@pytest.mark.django_db
def test_pages_need_sign_in(client, people):
    pk = people["officer"].pk
    for url in (
        reverse("org:person_list"),
        reverse("org:person_detail", args=[pk]),
        reverse("org:person_create"),
        reverse("org:person_edit", args=[pk]),
        reverse("org:person_password", args=[pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_squad_admin_gets_404_for_a_person_in_another_unit(client, people):
    client = _login(client, people["squad_admin"])
    other = people["officer"]  # squad1; squad_admin administers squad3
    assert client.get(reverse("org:person_detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("org:person_edit", args=[other.pk])).status_code == 404
    assert client.get(reverse("org:person_password", args=[other.pk])).status_code == 404
    response = client.post(reverse("org:person_set_active", args=[other.pk]), {"active": "0"})
    assert response.status_code == 404
    response = client.post(
        reverse("org:person_password", args=[other.pk]),
        {"password1": "Another-pass-2026", "password2": "Another-pass-2026"},
    )
    assert response.status_code == 404
    assert Person.objects.get(pk=other.pk).is_active
    # Their own squad's officer they may edit.
    mine = people["officer_other"]
    assert client.get(reverse("org:person_edit", args=[mine.pk])).status_code == 200


@pytest.mark.django_db
def test_a_leader_sees_detail_in_scope_without_edit_buttons(client, people):
    client = _login(client, people["brigade_leader"])
    response = client.get(reverse("org:person_detail", args=[people["officer"].pk]))
    assert response.status_code == 200
    assert response.context["can_change"] is False
    assert reverse("org:person_edit", args=[people["officer"].pk]) not in response.content.decode()
    other = people["officer_other"]
    assert client.get(reverse("org:person_detail", args=[other.pk])).status_code == 404


@pytest.mark.django_db
def test_set_active_accepts_only_post(client, people):
    client = _login(client, people["admin"])
    response = client.get(reverse("org:person_set_active", args=[people["officer"].pk]))
    assert response.status_code == 405


# --- the list -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_is_scoped_by_the_unit_tree(client, people):
    response = _login(client, people["brigade_leader"]).get(reverse("org:person_list"))
    assert set(_listed(response)) == {
        "officer",
        "officer_b",
        "squad_leader",
        "brigade_leader",
        "archivist",
        "case_handler",
    }


@pytest.mark.django_db
def test_list_filters(client, people, tree):
    client = _login(client, people["admin"])
    url = reverse("org:person_list")
    actions.update_person(actor="system:test", person=people["officer_b"], is_active=False)

    brigade = tree["brigade"].pk
    assert set(_listed(client.get(url, {"unit": brigade}))) == {
        "officer",
        "officer_b",
        "squad_leader",
        "brigade_leader",
        "archivist",
        "case_handler",
    }
    assert set(_listed(client.get(url, {"unit": tree["squad3"].pk}))) == {
        "officer_other",
        "squad_admin",
    }
    assert set(_listed(client.get(url, {"role": "squad_leader"}))) == {"squad_leader"}
    assert set(_listed(client.get(url, {"frontline": "1", "unit": brigade}))) == {
        "officer",
        "officer_b",
        "squad_leader",
    }
    assert "officer" not in _listed(client.get(url, {"frontline": "0"}))
    assert _listed(client.get(url, {"active": "0"})) == ["officer_b"]
    assert "officer_b" not in _listed(client.get(url, {"active": "1"}))
    officer = people["officer"]
    assert _listed(client.get(url, {"q": "王五"})) == ["officer"]
    assert _listed(client.get(url, {"q": officer.user_no})) == ["officer"]
    assert _listed(client.get(url, {"q": officer.cert_no})) == ["officer"]
    assert _listed(client.get(url, {"q": "squad_lea"})) == ["squad_leader"]
    response = client.get(url, {"q": "王五", "role": "officer"})
    assert "王五" in response.content.decode()
    assert "已停用" in client.get(url, {"active": "0"}).content.decode()


@pytest.mark.django_db
def test_list_is_paginated_and_keeps_filters(client, people, make_person):
    for i in range(55):
        make_person(f"extra{i:02d}", unit="squad2")
    client = _login(client, people["admin"])
    url = reverse("org:person_list")
    first = client.get(url, {"unit": people["officer"].unit.parent_id, "page": 1})
    page = first.context["page_obj"]
    assert page.paginator.count == 55 + 6 and len(page.object_list) == 50
    assert "unit=" in first.context["querystring_without_page"]
    assert "page=2" in first.content.decode()
    second = client.get(url, {"unit": people["officer"].unit.parent_id, "page": 2})
    assert len(second.context["page_obj"].object_list) == 11


# --- create and edit ------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_creates_a_person_with_roles(client, people, tree):
    client = _login(client, people["admin"])
    page = client.get(reverse("org:person_create"))
    html = page.content.decode()
    assert 'type="checkbox" name="roles" value="squad_leader"' in html
    response = client.post(
        reverse("org:person_create"),
        {
            "username": "zhang3",
            "name": "张三",
            "user_no": "350211",
            "cert_no": "35020019",
            "unit": tree["squad2"].pk,
            "frontline": "on",
            "phone": "13800000001",
            "roles": ["officer", "squad_leader"],
            "password1": "Zhang-san-2026!",
            "password2": "Zhang-san-2026!",
        },
    )
    assert response.status_code == 302
    person = Person.objects.get(username="zhang3")
    assert response["Location"] == reverse("org:person_detail", args=[person.pk])
    assert person.roles == {"officer", "squad_leader"}
    assert person.frontline and person.unit == tree["squad2"]
    assert person.check_password("Zhang-san-2026!")
    entry = AuditEntry.objects.get(action="org.person.create", object_id=str(person.pk))
    assert entry.actor_id == people["admin"].pk
    assert entry.details["roles"] == ["officer", "squad_leader"]


@pytest.mark.django_db
def test_create_shows_clear_errors(client, people, tree):
    client = _login(client, people["admin"])
    response = client.post(
        reverse("org:person_create"),
        {
            "username": "officer",
            "name": "重复",
            "user_no": "12345",
            "cert_no": people["officer_b"].cert_no,
            "unit": tree["squad1"].pk,
            "roles": ["officer"],
            "password1": "Abcdef-2026!",
            "password2": "Abcdef-2026?",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["username"] == ["登录名 officer 已被 王五（officer） 使用"]
    assert errors["cert_no"] == [
        f"执法证号 {people['officer_b'].cert_no} 已被 李四（officer_b） 使用"
    ]
    assert "user_no" in errors
    assert errors["password2"] == ["两次输入的密码不一致"]
    assert Person.objects.filter(name="重复").count() == 0


@pytest.mark.django_db
def test_squad_admin_creates_only_in_their_squad_and_cannot_make_inspectors(client, people, tree):
    client = _login(client, people["squad_admin"])
    form = client.get(reverse("org:person_create")).context["form"]
    assert list(form.fields["unit"].queryset) == [tree["squad3"]]
    assert "inspector" not in dict(form.fields["roles"].choices)
    base = {
        "username": "han9",
        "name": "韩九",
        "password1": "Han-jiu-2026!",
        "password2": "Han-jiu-2026!",
    }
    response = client.post(
        reverse("org:person_create"), {**base, "unit": tree["squad1"].pk, "roles": ["officer"]}
    )
    assert "unit" in response.context["form"].errors
    response = client.post(
        reverse("org:person_create"), {**base, "unit": tree["squad3"].pk, "roles": ["inspector"]}
    )
    assert "roles" in response.context["form"].errors
    assert not Person.objects.filter(username="han9").exists()
    response = client.post(
        reverse("org:person_create"), {**base, "unit": tree["squad3"].pk, "roles": ["officer"]}
    )
    assert response.status_code == 302
    assert Person.objects.get(username="han9").unit == tree["squad3"]


@pytest.mark.django_db
def test_admin_edits_roles_and_unit(client, people, tree):
    client = _login(client, people["admin"])
    officer = people["officer"]
    page = client.get(reverse("org:person_edit", args=[officer.pk]))
    assert page.context["form"].initial["roles"] == ["officer"]
    response = client.post(
        reverse("org:person_edit", args=[officer.pk]),
        {
            "username": "officer",
            "name": "王五",
            "user_no": officer.user_no,
            "cert_no": officer.cert_no,
            "unit": tree["squad2"].pk,
            "frontline": "on",
            "roles": ["officer", "archivist"],
        },
    )
    assert response.status_code == 302
    officer = Person.objects.get(pk=officer.pk)
    assert officer.roles == {"officer", "archivist"} and officer.unit == tree["squad2"]
    entry = AuditEntry.objects.filter(action="org.person.update", object_id=str(officer.pk)).last()
    assert set(entry.details["changed"]) == {"unit", "roles"}
    detail = client.get(reverse("org:person_detail", args=[officer.pk])).content.decode()
    assert "修改人员信息" in detail and "单位、角色" in detail


@pytest.mark.django_db
def test_an_administrator_cannot_remove_their_own_admin_role(client, people, tree):
    admin = people["admin"]
    client = _login(client, admin)
    response = client.post(
        reverse("org:person_edit", args=[admin.pk]),
        {
            "username": "admin",
            "name": admin.name,
            "user_no": admin.user_no,
            "cert_no": admin.cert_no,
            "unit": tree["city"].pk,
            "roles": ["inspector"],
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["roles"] == [
        "不能取消你自己的系统管理员角色，请由其他系统管理员操作"
    ]
    assert Person.objects.get(pk=admin.pk).roles == {"admin"}


# --- deactivate and password ------------------------------------------------------------------


@pytest.mark.django_db
def test_deactivate_and_reactivate(client, people):
    client = _login(client, people["admin"])
    officer = people["officer"]
    url = reverse("org:person_set_active", args=[officer.pk])
    response = client.post(url, {"active": "0"}, follow=True)
    assert "已停用账号：王五" in response.content.decode()
    officer.refresh_from_db()
    assert officer.is_active is False
    assert not client.__class__().login(username="officer", password=PASSWORD)
    client.post(url, {"active": "1"})
    officer.refresh_from_db()
    assert officer.is_active is True
    changes = [
        e.details["changed"]["is_active"]
        for e in AuditEntry.objects.filter(action="org.person.update", object_id=str(officer.pk))
    ]
    assert changes == [[True, False], [False, True]]


@pytest.mark.django_db
def test_an_administrator_cannot_deactivate_themselves(client, people):
    admin = people["admin"]
    client = _login(client, admin)
    response = client.post(
        reverse("org:person_set_active", args=[admin.pk]), {"active": "0"}, follow=True
    )
    assert "不能停用你自己的账号" in response.content.decode()
    assert Person.objects.get(pk=admin.pk).is_active


@pytest.mark.django_db
def test_admin_resets_a_password_and_lifts_a_lockout(client, people, settings):
    officer = people["officer"]
    for _ in range(settings.LOGIN_MAX_FAILURES):
        actions.login_failed(username="officer", ip="127.0.0.1")
    officer.refresh_from_db()
    assert actions.is_locked(officer)
    client = _login(client, people["admin"])
    url = reverse("org:person_password", args=[officer.pk])
    response = client.post(url, {"password1": "New-pass-2026!", "password2": "Other-2026!"})
    assert response.context["form"].errors["password2"] == ["两次输入的密码不一致"]
    response = client.post(url, {"password1": "New-pass-2026!", "password2": "New-pass-2026!"})
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password("New-pass-2026!") and not actions.is_locked(officer)
    entry = AuditEntry.objects.filter(action="org.person.password_reset").last()
    assert entry.object_id == str(officer.pk) and entry.actor_id == people["admin"].pk
    assert "New-pass" not in str(entry.details)
