"""The findings list's filters (C6.4) on the page and through the API: a value
that cannot be read (a unit that does not exist or lies outside the reader's
scope, a period that is no month or day) is said, naming the filter, and never
dropped, which would widen the list to everything in scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from conftest import PASSWORD, api_auth
from jilu.casework.tests.conftest import T0
from jilu.oversight import actions
from jilu.oversight.actions import Fact, Subject
from jilu.oversight.periods import day
from jilu.oversight.queries import period_error

URL = "/api/v1/findings"
PAGE = "/oversight/findings/"
UNKNOWN = 99999999


@pytest.fixture
def own(db, people, tree, make_recording):
    """A late collection (C5.1) of officer 王五 in squad1 (2026-11-26)."""
    rec = make_recording(start=T0, docked_at=T0 + timedelta(hours=30))
    made, _n = actions.note_finding(
        actor=actions.SYSTEM,
        rule="late_collection",
        subject=Subject("officer", people["officer"].pk, str(people["officer"])),
        period=day(rec.docked_at),
        unit=tree["squad1"],
        person=people["officer"],
        facts=[Fact("recording", rec.pk, rec.docked_at, {"hours": 29.8})],
    )
    return made


@pytest.fixture
def elsewhere(db, people, tree):
    """A finding of squad3, in the other district."""
    made, _n = actions.note_finding(
        actor=actions.SYSTEM,
        rule="no_workstation",
        subject=Subject("unit", tree["squad3"].pk, tree["squad3"].name),
        period=day(T0),
        unit=tree["squad3"],
        person=None,
        facts=[Fact("unit", tree["squad3"].pk, T0, {"day": "2026-11-26"})],
    )
    return made


def client_for(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password=PASSWORD)
    return c


@pytest.mark.parametrize(
    "value, said",
    [
        ("2026-11", None),
        ("2026-11-26", None),
        ("2026-02-28", None),
        ("2026-13", "2026-13 不是有效的月份"),
        ("2026-00", "2026-00 不是有效的月份"),
        ("2026-02-30", "2026-02-30 不是有效的日期"),
        ("2026-11-31", "2026-11-31 不是有效的日期"),
        ("1999-12", "年份应在 2000–2099 之间"),
        ("2026/11", "格式不对"),
        ("2026-1", "格式不对"),
        ("11月", "格式不对"),
    ],
)
def test_a_period_is_a_real_month_or_day(value, said):
    problem = period_error(value)
    if said is None:
        assert problem is None
    else:
        assert problem is not None and said in problem and "期间" in problem


# --- the API ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, said",
    [
        ({"unit": UNKNOWN}, f"没有这个单位（{UNKNOWN}）"),
        ({"period": "2026-13"}, "期间 2026-13 不是有效的月份"),
        ({"period": "2026-02-30"}, "期间 2026-02-30 不是有效的日期"),
        ({"period": "1999-11"}, "年份应在 2000–2099 之间"),
        ({"unit": UNKNOWN, "period": "2026-13"}, "；期间 2026-13 不是有效的月份"),
    ],
)
def test_api_refuses_an_unknown_unit_or_an_impossible_period(client, own, elsewhere, params, said):
    response = client.get(URL, params, **api_auth(client, "inspector"))
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert detail.startswith("筛选条件有误：") and said in detail


@pytest.mark.django_db
def test_api_a_unit_outside_the_scope_is_refused_not_widened(client, tree, own, elsewhere):
    """A squad leader of squad1 may filter by squad1 only (their visible units):
    squad3 and the city above them answer like a unit that does not exist."""
    leader = api_auth(client, "squad_leader")
    for unit in (tree["squad3"], tree["city"], tree["brigade"]):
        response = client.get(URL, {"unit": unit.pk}, **leader)
        assert response.status_code == 400, (unit.name, response.content)
        assert "没有这个单位" in response.json()["detail"]
        assert "不在你的权限范围内" in response.json()["detail"]
    listed = client.get(URL, {"unit": tree["squad1"].pk, "period": "2026-11"}, **leader).json()
    assert [f["id"] for f in listed["items"]] == [own.pk]
    # An officer has no units to choose from: the filter is refused, not ignored.
    officer = api_auth(client, "officer")
    assert client.get(URL, {"unit": tree["squad1"].pk}, **officer).status_code == 400


@pytest.mark.django_db
def test_api_good_filters_still_narrow(client, tree, own, elsewhere):
    inspector = api_auth(client, "inspector")

    def ids(**params):
        response = client.get(URL, params, **inspector)
        assert response.status_code == 200, response.content
        return {f["id"] for f in response.json()["items"]}

    assert ids() == {own.pk, elsewhere.pk}
    assert ids(unit=tree["district"].pk) == {own.pk}  # with the units below it
    assert ids(unit=tree["squad3"].pk, period="2026-11-26") == {elsewhere.pk}
    assert ids(period="2026-12") == set()


@pytest.mark.django_db
def test_api_documents_the_refusal():
    from jilu.api import api as ninja_api

    op = ninja_api.get_openapi_schema()["paths"]["/api/v1/findings"]["get"]
    assert "400" in op["responses"]


# --- the page --------------------------------------------------------------------


def test_page_says_what_is_wrong_and_keeps_the_input(own, elsewhere):
    c = client_for("inspector")
    response = c.get(PAGE, {"unit": str(UNKNOWN), "period": "2026-13", "state": "open"})
    assert response.status_code == 400
    html = response.content.decode()
    assert f"没有这个单位（{UNKNOWN}），或它不在你的权限范围内" in html
    assert "期间 2026-13 不是有效的月份" in html
    assert "没有符合条件的发现" not in html  # not an empty list
    assert f'data-finding="{own.pk}"' not in html and f'data-finding="{elsewhere.pk}"' not in html
    assert "筛选条件有误，改正后再筛选。" in html
    # The form keeps what was typed.
    assert 'name="period" value="2026-13"' in html
    assert f'<option value="{UNKNOWN}" selected>' in html
    assert '<option value="open" selected>' in html


def test_page_refuses_a_unit_outside_the_leaders_scope(tree, own, elsewhere):
    c = client_for("squad_leader")
    response = c.get(PAGE, {"unit": tree["squad3"].pk})
    assert response.status_code == 400
    html = response.content.decode()
    assert "不在你的权限范围内" in html
    assert f'data-finding="{own.pk}"' not in html
    ok = c.get(PAGE, {"unit": tree["squad1"].pk})
    assert ok.status_code == 200 and f'data-finding="{own.pk}"' in ok.content.decode()


def test_page_refuses_choices_that_are_not_in_the_lists(own):
    c = client_for("inspector")
    for params, said in (
        ({"rule": "nonsense"}, "没有这条规则：nonsense"),
        ({"clause": "C9.9"}, "没有这个条款：C9.9"),
        ({"state": "lost"}, "没有这个状态：lost"),
        ({"person": "王五"}, "责任人应写人员编号"),
    ):
        response = c.get(PAGE, params)
        assert response.status_code == 400, params
        assert said in response.content.decode()


def test_page_errors_in_english(own):
    c = client_for("inspector")
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = c.get(PAGE, {"unit": str(UNKNOWN), "period": "2026-13"}).content.decode()
    assert f"There is no such unit ({UNKNOWN}), or it is outside your scope" in html
    assert "Period 2026-13 is not a valid month" in html
    assert "Some filters are not valid; correct them and filter again." in html
