"""Unit pages: the tree, creating and editing units; moving a subtree.

Units carry the short name used in standard file names (C5.3) and whether a
brigade is independently housed (C1.2, it then needs its own workstation).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jilu.audit.models import AuditEntry
from jilu.org import actions
from jilu.org.models import Unit

READERS = ["admin", "inspector", "brigade_leader", "squad_leader", "archivist", "squad_admin"]
NOT_READERS = ["officer", "case_handler", "legal_reviewer"]


def _login(client, person):
    client.force_login(person)
    return client


# --- the tree ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", READERS)
def test_unit_tree_opens_for_readers(client, people, who):
    response = _login(client, people[who]).get(reverse("org:unit_list"))
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("who", NOT_READERS)
def test_unit_tree_is_refused_to_other_roles(client, people, who):
    response = _login(client, people[who]).get(reverse("org:unit_list"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_unit_tree_needs_sign_in(client, tree):
    response = client.get(reverse("org:unit_list"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_unit_tree_is_indented_with_levels_codes_short_names_and_counts(client, people, tree):
    response = _login(client, people["admin"]).get(reverse("org:unit_list"))
    rows = response.context["rows"]
    assert [r["unit"].code for r in rows][:4] == [
        "350200000000",
        "350203000000",
        "350203000001",
        "350203000101",
    ]
    by_code = {r["unit"].code: r for r in rows}
    assert by_code["350200000000"]["indent"] == 0
    assert by_code["350203000101"]["indent"] == 3
    # squad1: officer, officer_b, squad_leader (all frontline officers, C1.1)
    assert by_code["350203000101"]["counts"] == {
        "n": 3,
        "frontline": 3,
        "total": 3,
        "total_frontline": 3,
    }
    # brigade: 3 of its own + 3 in squad1
    assert by_code["350203000001"]["counts"]["n"] == 3
    assert by_code["350203000001"]["counts"]["total"] == 6
    assert by_code["350200000000"]["counts"]["total"] == 11
    html = response.content.decode()
    assert "思明区城管执法大队" in html  # short name, used in file names (C5.3)
    assert 'data-code="350206000001" data-depth="2"' in html
    assert "需配工作站" in html  # C1.2: squads and the independently housed brigade


@pytest.mark.django_db
def test_a_squad_leader_sees_their_subtree_and_may_show_all_without_counts(client, people):
    client = _login(client, people["squad_leader"])
    rows = client.get(reverse("org:unit_list")).context["rows"]
    assert [r["unit"].code for r in rows] == ["350203000101"]
    rows = client.get(reverse("org:unit_list") + "?scope=all").context["rows"]
    assert len(rows) == 8
    counts = {r["unit"].code: r["counts"] for r in rows}
    assert counts["350203000101"]["n"] == 3
    assert counts["350206000101"] is None  # outside their view: shown as "—"
    assert not any(r["can_change"] for r in rows)


# --- create and edit -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["officer", "squad_leader", "inspector", "brigade_leader"])
def test_only_administrators_open_create_and_edit(client, people, tree, who):
    client = _login(client, people[who])
    assert client.get(reverse("org:unit_create")).status_code == 403
    assert client.get(reverse("org:unit_edit", args=[tree["squad1"].pk])).status_code == 403
    response = client.post(
        reverse("org:unit_create"),
        {"code": "350203000103", "name": "X", "short_name": "X", "level": "squad"},
    )
    assert response.status_code == 403
    assert not Unit.objects.filter(code="350203000103").exists()


@pytest.mark.django_db
def test_admin_creates_a_squad_under_a_brigade(client, people, tree):
    client = _login(client, people["admin"])
    page = client.get(reverse("org:unit_create") + f"?parent={tree['brigade'].pk}")
    assert page.context["form"].initial == {"parent": tree["brigade"].pk, "level": "squad"}
    response = client.post(
        reverse("org:unit_create"),
        {
            "code": "350203000103",
            "name": "思明区城管执法大队新华中队",
            "short_name": "思明区新华中队",
            "level": "squad",
            "parent": tree["brigade"].pk,
        },
    )
    assert response.status_code == 302
    unit = Unit.objects.get(code="350203000103")
    assert unit.parent == tree["brigade"] and unit.path.startswith(tree["brigade"].path)
    entry = AuditEntry.objects.get(action="org.unit.create", object_id=str(unit.pk))
    assert entry.actor_id == people["admin"].pk


@pytest.mark.django_db
def test_create_shows_clear_errors(client, people, tree):
    client = _login(client, people["admin"])
    response = client.post(
        reverse("org:unit_create"),
        {
            "code": "350203000101",  # squad1's
            "name": "新中队",
            "short_name": "新/中队",
            "level": "brigade",
            "parent": tree["brigade"].pk,
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["code"] == ["单位编号 350203000101 已被“中华中队”使用"]
    assert "不能含有这些字符：/" in form.errors["short_name"][0]
    html = response.content.decode()
    assert "已被“中华中队”使用" in html


@pytest.mark.django_db
def test_level_order_error_from_the_action_is_shown_on_the_form(client, people, tree):
    client = _login(client, people["admin"])
    response = client.post(
        reverse("org:unit_create"),
        {
            "code": "350203000199",
            "name": "错层级",
            "short_name": "错层级",
            "level": "district",
            "parent": tree["brigade"].pk,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["level"] == ["区局/支队不能隶属于大队"]
    assert "区局/支队不能隶属于大队" in response.content.decode()


@pytest.mark.django_db
def test_a_squad_administrator_cannot_reach_other_units(client, people, tree):
    client = _login(client, people["squad_admin"])
    assert client.get(reverse("org:unit_edit", args=[tree["squad1"].pk])).status_code == 404
    assert client.get(reverse("org:unit_edit", args=[tree["brigade2"].pk])).status_code == 404
    # Their own squad they may edit (it keeps its parent, which lies above them).
    page = client.get(reverse("org:unit_edit", args=[tree["squad3"].pk]))
    assert page.status_code == 200
    assert list(page.context["form"].fields["parent"].queryset) == [tree["brigade2"]]
    # No unit may be created under a squad, and other parents are not offered.
    response = client.post(
        reverse("org:unit_create"),
        {
            "code": "350203000103",
            "name": "X",
            "short_name": "X",
            "level": "squad",
            "parent": tree["brigade"].pk,
        },
    )
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    assert not Unit.objects.filter(code="350203000103").exists()


@pytest.mark.django_db
def test_admin_edits_short_name_and_housing(client, people, tree):
    client = _login(client, people["admin"])
    brigade = tree["brigade"]
    response = client.post(
        reverse("org:unit_edit", args=[brigade.pk]),
        {
            "code": brigade.code,
            "name": brigade.name,
            "short_name": "思明执法大队",
            "level": "brigade",
            "parent": brigade.parent_id,
            "independently_housed": "on",
            "active": "on",
        },
    )
    assert response.status_code == 302
    brigade.refresh_from_db()
    assert brigade.short_name == "思明执法大队"
    assert brigade.independently_housed and brigade.needs_workstation()  # C1.2
    entry = AuditEntry.objects.filter(action="org.unit.update", object_id=str(brigade.pk)).last()
    assert entry.details["changed"]["short_name"] == ["思明区城管执法大队", "思明执法大队"]


@pytest.mark.django_db
def test_a_unit_with_people_cannot_be_deactivated(client, people, tree):
    client = _login(client, people["admin"])
    squad = tree["squad1"]
    response = client.post(
        reverse("org:unit_edit", args=[squad.pk]),
        {
            "code": squad.code,
            "name": squad.name,
            "short_name": squad.short_name,
            "level": "squad",
            "parent": squad.parent_id,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["active"] == [
        "单位中还有在岗人员，请先调走或停用这些人员"
    ]
    squad.refresh_from_db()
    assert squad.active


@pytest.mark.django_db
def test_demoting_a_unit_above_its_children_is_refused(tree):
    with pytest.raises(ValidationError) as caught:
        actions.update_unit(actor="system:test", unit=tree["brigade"], level="squad")
    assert "下级单位 中华中队（中队）不能隶属于中队" in str(caught.value)


# --- moving a subtree ---------------------------------------------------------------------


@pytest.mark.django_db
def test_update_unit_moving_a_subtree_updates_descendants_paths(tree):
    brigade, squad1, squad2 = tree["brigade"], tree["squad1"], tree["squad2"]
    district2 = tree["district2"]
    actions.update_unit(actor="system:test", unit=brigade, parent=district2)
    for unit in (brigade, squad1, squad2):
        unit.refresh_from_db()
    assert brigade.path == f"{district2.path}{brigade.pk}/"
    assert squad1.path == f"{brigade.path}{squad1.pk}/"
    assert squad2.path == f"{brigade.path}{squad2.pk}/"
    assert {u.pk for u in district2.subtree()} == {
        district2.pk,
        tree["brigade2"].pk,
        tree["squad3"].pk,
        brigade.pk,
        squad1.pk,
        squad2.pk,
    }
    assert not tree["district"].subtree().filter(pk=squad1.pk).exists()
    assert [u.pk for u in squad1.ancestors()] == [tree["city"].pk, district2.pk, brigade.pk]


@pytest.mark.django_db
def test_moving_a_unit_under_its_own_descendant_is_refused(tree):
    with pytest.raises(ValidationError):
        actions.update_unit(actor="system:test", unit=tree["district"], parent=tree["squad1"])


@pytest.mark.django_db
def test_moving_a_brigade_through_the_page_moves_its_people_with_it(client, people, tree):
    client = _login(client, people["admin"])
    brigade = tree["brigade"]
    response = client.post(
        reverse("org:unit_edit", args=[brigade.pk]),
        {
            "code": brigade.code,
            "name": brigade.name,
            "short_name": brigade.short_name,
            "level": "brigade",
            "parent": tree["district2"].pk,
            "active": "on",
        },
    )
    assert response.status_code == 302
    # The officer of squad1 is now in district2's subtree.
    from jilu.org.models import Person

    district2 = Unit.objects.get(pk=tree["district2"].pk)
    assert Person.objects.filter(username="officer", unit__path__startswith=district2.path).exists()


@pytest.mark.django_db
def test_the_top_unit_is_edited_without_a_parent_field(client, people, tree):
    client = _login(client, people["admin"])
    city = tree["city"]
    page = client.get(reverse("org:unit_edit", args=[city.pk]))
    assert "parent" not in page.context["form"].fields
    response = client.post(
        reverse("org:unit_edit", args=[city.pk]),
        {
            "code": city.code,
            "name": city.name,
            "short_name": "厦门城管",
            "level": "city",
            "active": "on",
        },
    )
    assert response.status_code == 302
    city.refresh_from_db()
    assert city.short_name == "厦门城管" and city.parent_id is None
