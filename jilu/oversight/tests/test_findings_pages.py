"""The findings pages as people use them (C6.4, C6.5): a refused explanation or
decision keeps what was typed; the counts by clause say how they are counted
and the list names every clause; a drill-down to one person is shown and kept;
undecided findings stay in sight once explained; an activity's kind is read in
the reader's language."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import PASSWORD, api_auth
from jilu.casework.tests.conftest import T0
from jilu.oversight import actions
from jilu.oversight.actions import Fact, Subject
from jilu.oversight.finding_models import Finding
from jilu.oversight.periods import day
from jilu.oversight.subjects import activity_text

PAGE = "/oversight/findings/"
NOT_A_PNG = b"GIF89a this is not a png at all"


def client_for(username: str, language: str = "zh-hans") -> Client:
    c = Client()
    assert c.login(username=username, password=PASSWORD)
    c.cookies["django_language"] = language
    return c


def _note(rule, subject, unit, person, at=T0, fact=("unit", 1)) -> Finding:
    made, _n = actions.note_finding(
        actor=actions.SYSTEM,
        rule=rule,
        subject=subject,
        period=day(at),
        unit=unit,
        person=person,
        facts=[Fact(fact[0], fact[1], at, {})],
    )
    return made


@pytest.fixture
def late(db, people, tree, make_recording):
    """A late collection (C5.1) for officer 王五 of squad1."""
    rec = make_recording(start=T0, docked_at=T0 + timedelta(hours=30))
    officer = people["officer"]
    return _note(
        "late_collection",
        Subject("officer", officer.pk, str(officer)),
        tree["squad1"],
        officer,
        at=rec.docked_at,
        fact=("recording", rec.pk),
    )


@pytest.fixture
def identity(db, people, tree):
    """A spot check's breach citing two clauses (C4.1 and A1), for 李四."""
    officer = people["officer_b"]
    return _note(
        "spot_identity", Subject("officer", officer.pk, str(officer)), tree["squad1"], officer
    )


def _textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, f"no textarea {name}"
    return found.group(1)


# --- 1. a refused explanation or decision keeps what was typed -------------------


def test_a_refused_attachment_keeps_the_explanation_and_says_so_beside_the_file(late):
    c = client_for("officer")
    upload = SimpleUploadedFile("照片.png", NOT_A_PNG, content_type="image/png")
    r = c.post(
        f"{PAGE}{late.pk}/explain/", {"text": "记录仪电量耗尽，次日才采集", "attachment": upload}
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert _textarea(html, "text") == "记录仪电量耗尽，次日才采集"
    error = re.search(r'data-error="attachment">([^<]*)<', html)
    assert error and "附件只能是 PDF、JPEG 或 PNG 文件" in error.group(1)
    late.refresh_from_db()
    assert late.state == Finding.State.OPEN and not late.explanation


def test_a_decision_refused_because_another_decided_keeps_the_reason(late, people):
    actions.decide_finding(late, actor=people["inspector"], outcome="dismissed", reason="已核实")
    r = client_for("inspector").post(
        f"{PAGE}{late.pk}/decide/", {"outcome": "confirmed", "reason": "未按规定及时充电"}
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert _textarea(html, "reason") == "未按规定及时充电"
    assert 'data-error="form"' in html and "这项发现已经认定" in html
    assert 'id="confirm"' not in html  # nothing left to decide
    late.refresh_from_db()
    assert late.state == Finding.State.DISMISSED and late.decision_reason == "已核实"


def test_an_empty_reason_is_said_beside_the_reason(late):
    r = client_for("inspector").post(f"{PAGE}{late.pk}/decide/", {"outcome": "confirmed"})
    assert r.status_code == 400
    assert 'data-error="reason">请写明认定理由' in r.content.decode()


# --- 2. counts by clause --------------------------------------------------------


def test_list_names_every_clause_and_explains_the_counts(late, identity):
    html = client_for("inspector").get(PAGE, {"state": "open"}).content.decode()
    row = re.search(rf'data-finding="{identity.pk}".*?</tr>', html, re.S).group(0)
    assert re.search(r'class="clauses"[^>]*>C4.1 A1<', row)
    # C5.1 1, C4.1 1, A1 1: three counts for two findings, and the note says why.
    note = re.search(r'id="by-clause-note">([^<]*)<', html).group(1)
    assert "每个条款下各计一次" in note and "共 2 项" in note
    a1 = client_for("inspector").get(PAGE, {"state": "open", "clause": "A1"}).content.decode()
    assert f'data-finding="{identity.pk}"' in a1 and f'data-finding="{late.pk}"' not in a1


def test_home_card_explains_the_counts_by_clause(late, identity):
    html = client_for("inspector").get("/").content.decode()
    note = re.search(r'id="findings-by-clause-note">([^<]*)<', html).group(1)
    assert "每个条款下各计一次" in note and "共 2 项" in note


# --- 3. a drill-down to one person ------------------------------------------------


def test_a_person_filter_is_shown_kept_by_the_form_and_links_and_removable(late, identity, people):
    officer = people["officer"]
    html = (
        client_for("squad_leader")
        .get(PAGE, {"state": "open", "person": officer.pk})
        .content.decode()
    )
    chip = re.search(r'id="person-filter".*?</p>', html, re.S).group(0)
    assert "人员：王五" in chip
    assert f'<input type="hidden" name="person" value="{officer.pk}">' in html
    remove = re.search(r'href="\?([^"]*)" id="person-filter-remove"', html).group(1)
    assert "person" not in remove and "state=open" in remove
    clause_link = re.search(r'data-clause="C5.1"><a href="\?([^"]*)"', html).group(1)
    assert f"person={officer.pk}" in clause_link and "clause=C5.1" in clause_link
    assert f'data-finding="{late.pk}"' in html and f'data-finding="{identity.pk}"' not in html


def test_a_person_out_of_scope_is_not_named(late, people):
    other = people["officer_other"]  # squad3: not the squad leader's
    html = client_for("squad_leader").get(PAGE, {"person": other.pk}).content.decode()
    assert "韩一" not in html and f"人员：#{other.pk}" in html


# --- 4. explained but not decided stays in sight ---------------------------------


def test_explained_findings_stay_counted_on_the_dashboard_and_home(late, identity, people):
    actions.explain_finding(late, actor=people["officer"], text="电量耗尽")
    c = client_for("squad_leader")
    html = c.get("/oversight/dashboard/").content.decode()
    row = re.search(rf'data-officer="{people["officer"].pk}".*?</tr>', html, re.S).group(0)
    assert re.search(r'class="num findings-open">0<', row)
    explained = re.search(r'class="num findings-explained"><a href="([^"]*)">1<', row)
    assert explained and "state=explained" in explained.group(1)
    assert re.search(r'id="unit-findings-open" data-count="1"', html)
    assert re.search(r'id="unit-findings-explained" data-count="1"', html)
    home = c.get("/").content.decode()
    card = re.search(r'id="findings-unit".*?</section>', home, re.S).group(0)
    assert '<strong data-state="open">1</strong>' in card
    assert '<strong data-state="explained">1</strong>' in card


# --- 6. an activity's kind in the reader's language --------------------------------


@pytest.fixture
def activity_finding(db, people, tree, make_activity):
    activity = make_activity(start=T0)
    return _note(
        "no_recording",
        Subject("activity", activity.pk, f"{activity} 2026-11-26 09:00"),
        tree["squad1"],
        people["officer"],
        fact=("activity", activity.pk),
    )


def test_activity_kind_is_shown_in_english(activity_finding):
    assert activity_finding.subject_label.startswith("巡查检查、现场勘验、取证 某某餐厅")
    c = client_for("inspector", "en")
    detail = c.get(f"{PAGE}{activity_finding.pk}/").content.decode()
    subject = re.search(r'id="subject">([^<]*)<', detail).group(1)
    assert "Patrol and inspection, site survey, evidence gathering 某某餐厅" in subject
    assert "巡查检查" not in subject
    listed = c.get(PAGE).content.decode()
    assert "Patrol and inspection, site survey, evidence gathering 某某餐厅" in listed
    zh = client_for("inspector").get(f"{PAGE}{activity_finding.pk}/").content.decode()
    assert "执法活动 · 巡查检查、现场勘验、取证 某某餐厅" in zh


def test_api_keeps_the_stored_label_and_adds_the_text_to_show(client, activity_finding):
    headers = api_auth(client, "inspector")
    client.cookies["django_language"] = "en"
    body = client.get(f"/api/v1/findings/{activity_finding.pk}", **headers).json()
    assert body["subject_label"] == activity_finding.subject_label
    assert "Patrol and inspection" in body["subject_text"]


def test_activity_text_recognises_the_kind_only_at_the_start():
    from django.utils import translation

    with translation.override("en"):
        assert activity_text("#3 其他 某地") == "#3 Other 某地"
        assert activity_text("某地 其他") == "某地 其他"
        assert activity_text("其他") == "Other"
    with translation.override("zh-hans"):
        assert activity_text("#3 Other 某地") == "#3 其他 某地"


# --- 7. words ------------------------------------------------------------------------


def test_a_city_wide_reader_is_told_of_the_city_not_a_unit(people, tree, make_recording):
    make_recording(start=T0, docked_at=T0 + timedelta(hours=1))  # never annotated
    city = client_for("inspector").get("/").content.decode()
    said = re.search(r'id="overdue-in-scope">([^<]*)<', city).group(1)
    assert said.startswith("全市有 1 条")
    squad = client_for("squad_leader").get("/").content.decode()
    assert re.search(r'id="overdue-in-scope">([^<]*)<', squad).group(1).startswith("本单位有 1 条")


def test_the_seed_field_says_its_rule(people):
    html = client_for("inspector").get("/oversight/spot-checks/new/").content.decode()
    field = re.search(r'<label>([^<]*)<input type="text" name="seed"[^>]*>', html)
    assert "8–64 位十六进制" in field.group(1)
    assert re.search(r'name="seed"[^>]*title="[^"]*8–64 位十六进制', field.group(0))


def test_ledger_items_start_unanswered_and_an_unanswered_item_is_named(
    draw, make_recording, people
):
    from jilu.oversight.spotcheck_checklist import items_for

    make_recording("officer", start=T0)
    spot = draw(kind="ledgers", per_stratum=1)
    item = spot.items.get()
    c = client_for("inspector")
    html = c.get(f"/oversight/spot-checks/{spot.pk}/").content.decode()
    assert 'name="mark-' in html and " checked" not in html
    assert 'class="muted suggested" data-suggested="pass"' in html  # the comparison, as a hint
    checklist = items_for("ledgers")
    marks = {f"mark-{c.code}": "pass" for c in checklist[1:]}
    r = c.post(f"/oversight/spot-checks/{spot.pk}/items/{item.position}/", marks)
    page = c.get(r["Location"]).content.decode()
    assert f"请对每一项作出判断：{checklist[0].label}" in page
    item.refresh_from_db()
    assert item.reviewed_at is None
