"""What the case and activity forms offer and refuse.

- 承办人 (case handler): only people who handle cases — case handlers and the
  leaders who may edit cases too — within the user's scope; never the
  archivist, an officer or anyone outside the unit subtree (C5.5: the handling
  unit assembles the case file; C6.3: archivists only provide copies).
- 执法类别 on the activity and quick-activity forms: no silent preselection; it
  fixes the record list's 执法类别 (C5.4, A2) and the retention (C5.6).
"""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from jilu.casework import actions
from jilu.casework.forms import ActivityForm, CaseForm, QuickActivityForm
from jilu.casework.models import Activity, Case


def _client(person):
    c = Client()
    c.force_login(person)
    return c


def _handler_options(html: str) -> set[str]:
    select = re.search(r'<select name="handler"[^>]*>(.*?)</select>', html, re.S)
    assert select, "no handler select"
    return set(re.findall(r'<option value="(\d+)"', select.group(1)))


def test_case_form_offers_only_case_handlers_and_leaders_in_scope(people):
    """C5.5: 承办人 is someone who handles cases, not the archivist (C6.3)."""
    html = _client(people["case_handler"]).get(reverse("casework:case_create")).content.decode()
    offered = _handler_options(html)
    expected = {people[k].pk for k in ("case_handler", "squad_leader", "brigade_leader")}
    assert offered == {str(pk) for pk in expected}
    form = CaseForm(user=people["case_handler"])
    assert set(form.fields["handler"].queryset.values_list("pk", flat=True)) == expected


def test_case_form_refuses_the_archivist_on_post(people, tree):
    """C5.5 / C6.3: a forged POST naming the archivist as handler is refused."""
    c = _client(people["case_handler"])
    data = {
        "number": "思城执罚〔2026〕11号",
        "category": "penalty",
        "unit": tree["brigade"].pk,
        "handler": people["archivist"].pk,
    }
    response = c.post(reverse("casework:case_create"), data)
    assert response.status_code == 400
    assert "承办人须是" in response.content.decode()
    assert not Case.objects.exists()
    data["handler"] = people["officer"].pk
    assert c.post(reverse("casework:case_create"), data).status_code == 400
    data["handler"] = people["brigade_leader"].pk
    assert c.post(reverse("casework:case_create"), data).status_code == 302
    assert Case.objects.get().handler == people["brigade_leader"]


def test_actions_refuse_a_handler_who_does_not_handle_cases(people, tree):
    """C5.5: the rule holds below the form too (API, commands)."""
    with pytest.raises(ValidationError) as exc:
        actions.create_case(
            actor=people["case_handler"],
            number="X-2",
            category="penalty",
            unit=tree["brigade"],
            handler=people["archivist"],
        )
    assert "handler" in exc.value.message_dict
    case = actions.create_case(
        actor=people["case_handler"],
        number="X-3",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
    )
    with pytest.raises(ValidationError):
        actions.update_case(actor=people["case_handler"], case=case, handler=people["inspector"])
    actions.update_case(actor=people["case_handler"], case=case, handler=people["squad_leader"])
    case.refresh_from_db()
    assert case.handler == people["squad_leader"]


def test_case_edit_refuses_the_archivist(people, tree):
    case = actions.create_case(
        actor=people["case_handler"],
        number="X-4",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
    )
    c = _client(people["case_handler"])
    edit = reverse("casework:case_edit", args=[case.pk])
    assert str(people["archivist"].pk) not in _handler_options(c.get(edit).content.decode())
    r = c.post(edit, {"category": "penalty", "handler": people["archivist"].pk})
    assert r.status_code == 400
    case.refresh_from_db()
    assert case.handler == people["case_handler"]


def test_activity_form_has_no_preselected_category(people):
    """C5.4 / A2: 执法类别 is chosen, never taken silently."""
    form = ActivityForm(user=people["officer"])
    assert form.fields["category"].initial is None
    html = _client(people["officer"]).get(reverse("casework:activity_create")).content.decode()
    select = re.search(r'<select name="category"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert "selected" not in select.replace('value="" selected', "")
    data = {"kind": "S1", "officers": [people["officer"].pk, people["officer_b"].pk]}
    form = ActivityForm(data, user=people["officer"])
    assert not form.is_valid()
    assert form.errors["category"] == ["请选择执法类别"]


def test_quick_activity_form_needs_a_category(people, make_recording):
    """C5.4 / A2: the quick form on the annotate page also makes the category a choice."""
    rec = make_recording()
    form = QuickActivityForm(user=people["officer"], recording=rec)
    assert form.fields["category"].initial is None
    response = _client(people["officer"]).post(
        reverse("casework:annotate_new_activity", args=[rec.pk]),
        {
            "kind": "S1",
            "new_party_kind": "organisation",
            "new_party_name": "厦门某某餐饮有限公司",
            "unit": people["officer"].unit_id,
            "place_name": "某某餐厅",
            "other_officers": [people["officer_b"].pk],
            "step": "site_survey",
        },
    )
    assert response.status_code == 400
    assert "请选择执法类别" in response.content.decode()
    assert not Activity.objects.exists()
