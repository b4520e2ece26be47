"""The annotation form never offers what it would then refuse (C5.2, C5.5).

An activity whose case went to legal review or was closed takes no more
recordings; it is neither suggested nor among the choices, and when it is the
best match the page says why it is not offered instead of leaving the officer
to write a duplicate activity.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from jilu.casework import actions, queries
from jilu.casework.models import Annotation

from .conftest import T0


def _client(person):
    c = Client()
    c.force_login(person)
    return c


@pytest.fixture
def case(tree, people):
    return actions.create_case(
        actor=people["case_handler"],
        number="思城执罚〔2026〕77号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
    )


def _radio_values(page: str) -> set[str]:
    form = page.split('id="annotate-form"')[1].split("</form>")[0]
    return {
        chunk.split('value="')[1].split('"')[0]
        for chunk in form.split('name="activity"')[1:]
        if 'value="' in chunk
    }


@pytest.mark.parametrize("status", ["transferred", "closed"])
def test_activity_of_a_locked_case_is_neither_suggested_nor_offered(
    people, case, make_activity, make_recording, status
):
    locked = make_activity(start=T0, minutes=60, case=case)
    other = make_activity(start=T0 + timedelta(minutes=40), minutes=60)
    rec = make_recording(start=T0 + timedelta(minutes=10), minutes=20)
    # Before the hand-over the best match is the case's activity.
    assert queries.suggestions(rec, people["officer"])[0] == locked
    assert queries.withheld_suggestions(rec, people["officer"]) == []

    if status == "closed":
        actions.set_case_status(
            actor=people["case_handler"], case=case, status="closed", reason="no_penalty", note="x"
        )
    else:
        actions.set_case_status(actor="system:test", case=case, status="transferred")

    assert queries.suggestions(rec, people["officer"]) == [other]
    assert queries.withheld_suggestions(rec, people["officer"]) == [locked]
    page = (
        _client(people["officer"]).get(reverse("casework:annotate", args=[rec.pk])).content.decode()
    )
    assert _radio_values(page) == {str(other.pk)}
    withheld = page.split('class="sub warn withheld"')[1].split("</p>")[0]
    assert case.number in withheld and "因此未列出" in withheld
    assert "不要为此另建重复的执法活动" in withheld
    if status == "closed":
        assert "已结案" in withheld
    else:
        assert "法制审核退回补正后才能补充" in withheld


def test_a_posted_locked_activity_is_refused_by_the_form(
    people, case, make_activity, make_recording
):
    """A stale page posting the locked activity gets the form's own error, not a 500."""
    locked = make_activity(start=T0, minutes=60, case=case)
    rec = make_recording(start=T0 + timedelta(minutes=10), minutes=20)
    actions.set_case_status(actor="system:test", case=case, status="transferred")
    response = _client(people["officer"]).post(
        reverse("casework:annotate", args=[rec.pk]),
        {"activity": locked.pk, "step": "site_survey", "run": [rec.pk]},
    )
    assert response.status_code == 400
    assert "该选择不在可用的选项中" in response.content.decode()
    assert not Annotation.objects.filter(recording=rec).exists()


def test_the_best_match_offered_means_no_withheld_note(people, case, make_activity, make_recording):
    """A locked activity ranked below an open one is simply left out, without a note."""
    best = make_activity(start=T0, minutes=60)
    make_activity(start=T0 + timedelta(minutes=25), minutes=10, case=case)
    rec = make_recording(start=T0 + timedelta(minutes=10), minutes=30)
    actions.set_case_status(actor="system:test", case=case, status="transferred")
    assert queries.suggestions(rec, people["officer"]) == [best]
    assert queries.withheld_suggestions(rec, people["officer"]) == []
    page = (
        _client(people["officer"]).get(reverse("casework:annotate", args=[rec.pk])).content.decode()
    )
    assert "withheld" not in page
