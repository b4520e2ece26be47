"""restrict(user, action) on units and people, for every role.

Access is scoped by the unit tree (DESIGN.md "Users and what they do"): a role
acts on its own unit and the units below it, inspectors read everywhere (C6.4),
officers see their own unit's colleagues (to name the second officer, C4.1).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from jilu.org import actions
from jilu.org.models import Person, Unit

ALL_UNITS = {
    "city",
    "district",
    "brigade",
    "squad1",
    "squad2",
    "district2",
    "brigade2",
    "squad3",
}
SQUAD1 = {"officer", "officer_b", "squad_leader"}
BRIGADE = SQUAD1 | {"brigade_leader", "archivist", "case_handler"}
SQUAD3 = {"officer_other", "squad_admin"}
EVERYONE = BRIGADE | SQUAD3 | {"legal_reviewer", "inspector", "admin"}

# role -> (people they view, people they change, units they change)
EXPECTED = {
    "officer": (SQUAD1, set(), set()),
    "officer_b": (SQUAD1, set(), set()),
    "officer_other": (SQUAD3, set(), set()),
    "squad_leader": (SQUAD1, set(), set()),
    "brigade_leader": (BRIGADE, set(), set()),
    "archivist": (BRIGADE, set(), set()),
    "case_handler": (BRIGADE, set(), set()),
    "legal_reviewer": (EVERYONE, set(), set()),
    "inspector": (EVERYONE, set(), set()),
    "admin": (EVERYONE, EVERYONE, ALL_UNITS),
    "squad_admin": (SQUAD3, SQUAD3, {"squad3"}),
}


def _usernames(qs) -> set[str]:
    return set(qs.values_list("username", flat=True))


def _unit_names(tree, qs) -> set[str]:
    by_pk = {u.pk: name for name, u in tree.items()}
    return {by_pk[pk] for pk in qs.values_list("pk", flat=True)}


@pytest.mark.django_db
@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_restrict_people_and_units_per_role(people, tree, who):
    user = people[who]
    view, change, unit_change = EXPECTED[who]
    assert _usernames(Person.objects.restrict(user, "view")) == view
    assert _usernames(Person.objects.restrict(user, "change")) == change
    assert _usernames(Person.objects.restrict(user, "add")) == change
    # Units are not secret: everyone signed in reads the whole tree.
    assert _unit_names(tree, Unit.objects.restrict(user, "view")) == ALL_UNITS
    assert _unit_names(tree, Unit.objects.restrict(user, "change")) == unit_change
    assert _unit_names(tree, Unit.objects.restrict(user, "add")) == unit_change


@pytest.mark.django_db
def test_anonymous_sees_nothing(people):
    anon = AnonymousUser()
    assert not Person.objects.restrict(anon, "view").exists()
    assert not Unit.objects.restrict(anon, "view").exists()
    assert not Unit.objects.restrict(anon, "change").exists()


@pytest.mark.django_db
def test_a_deactivated_administrator_loses_all_access(people):
    admin = actions.update_person(actor="system:test", person=people["admin"], is_active=False)
    assert not Person.objects.restrict(admin, "change").exists()
    assert not Unit.objects.restrict(admin, "view").exists()
    assert not Unit.objects.restrict(admin, "change").exists()


@pytest.mark.django_db
def test_a_deactivated_person_sees_no_colleagues(people):
    officer = actions.update_person(actor="system:test", person=people["officer"], is_active=False)
    assert not Person.objects.restrict(officer, "view").exists()


@pytest.mark.django_db
def test_superuser_acts_everywhere(people, tree):
    root = Person(username="root", name="超级管理员", is_superuser=True)
    root.set_unusable_password()
    root.save()
    assert _usernames(Person.objects.restrict(root, "change")) == EVERYONE | {"root"}
    assert _unit_names(tree, Unit.objects.restrict(root, "change")) == ALL_UNITS


@pytest.mark.django_db
def test_scope_follows_a_unit_that_moves(people, tree):
    """Moving squad2 under brigade2 puts it in squad_admin's neighbourhood, not scope,
    but into brigade2's subtree: a brigade admin there now administers it."""
    b2_admin = actions.create_person(
        actor="system:test",
        username="b2_admin",
        name="湖里管理员",
        unit=tree["brigade2"],
        roles=["admin"],
    )
    assert tree["squad2"].pk not in Unit.objects.restrict(b2_admin, "change").values_list(
        "pk", flat=True
    )
    actions.update_unit(actor="system:test", unit=tree["squad2"], parent=tree["brigade2"])
    assert tree["squad2"].pk in Unit.objects.restrict(b2_admin, "change").values_list(
        "pk", flat=True
    )
    roaming = actions.create_person(
        actor="system:test", username="roam", name="游", unit=tree["squad2"], roles=["officer"]
    )
    assert "roam" in _usernames(Person.objects.restrict(b2_admin, "change"))
    assert "roam" not in _usernames(Person.objects.restrict(people["brigade_leader"], "view"))
    assert roaming.unit_id == tree["squad2"].pk
