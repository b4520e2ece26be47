"""Closing cases (C5.4, C5.5), the case category (C5.6), suggestion wording
(C5.2), locks on transferred cases (C5.5) and the powers import message."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from jilu.audit.models import AuditEntry
from jilu.casework import actions, queries
from jilu.casework.models import Case

from .conftest import T0


def _client(person):
    c = Client()
    c.force_login(person)
    return c


@pytest.fixture
def case(tree, people):
    return actions.create_case(
        actor=people["case_handler"],
        number="思城执罚〔2026〕40号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
    )


# --- C5.4/C5.5: closing without legal review -----------------------------------


def test_open_case_with_recordings_is_not_closed_without_a_reason(
    people, case, make_activity, make_recording
):
    act = make_activity(case=case)
    actions.annotate(actor="system:test", recording=make_recording(), activity=act, step="other")
    with pytest.raises(ValidationError) as err:
        actions.set_case_status(actor=people["case_handler"], case=case, status="closed")
    assert set(err.value.message_dict) == {"reason", "note"}
    with pytest.raises(ValidationError):  # a reason alone is not enough: write why
        actions.set_case_status(
            actor=people["case_handler"], case=case, status="closed", reason="no_penalty"
        )
    with pytest.raises(ValidationError):  # "reviewed" is not a reason an open case can give
        actions.set_case_status(
            actor=people["case_handler"], case=case, status="closed", reason="reviewed", note="x"
        )
    case.refresh_from_db()
    assert case.status == "open"
    actions.set_case_status(
        actor=people["case_handler"],
        case=case,
        status="closed",
        reason="no_penalty",
        note="违法行为轻微并及时改正",
    )
    case.refresh_from_db()
    assert case.status == "closed" and case.closed_without_review
    assert case.close_reason == "no_penalty" and case.close_note == "违法行为轻微并及时改正"
    entry = AuditEntry.objects.filter(action="casework.case.status").latest("seq")
    assert entry.details["reason"] == "no_penalty"
    assert entry.details["without_review"] is True and entry.details["recordings"] == 1
    assert entry.details["note"] == "违法行为轻微并及时改正"


def test_reviewed_case_closes_as_finished(people, case):
    for status in ("transferred", "reviewed"):
        actions.set_case_status(actor="system:test", case=case, status=status)
    actions.set_case_status(actor=people["case_handler"], case=case, status="closed")
    case.refresh_from_db()
    assert case.close_reason == "reviewed" and not case.closed_without_review


def test_case_page_needs_reason_and_confirmation_and_shows_the_reason(people, case):
    c = _client(people["case_handler"])
    detail = reverse("casework:case_detail", args=[case.pk])
    url = reverse("casework:case_status", args=[case.pk])
    page = c.get(detail).content.decode()
    assert 'id="close-form"' in page and "data-confirm=" in page and 'name="confirm"' in page
    assert "不予处罚" in page and "撤销立案" in page
    data = {"status": "closed", "reason": "revoked", "note": "重复立案"}
    # No confirmation: refused with a clear message, nothing changed.
    response = c.post(url, data, follow=True)
    assert "我确认结案后案件不能再修改" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "open"
    # No reason: refused.
    response = c.post(url, {"status": "closed", "confirm": "1"}, follow=True)
    assert "请选择结案原因" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "open"
    assert c.post(url, {**data, "confirm": "1"}).status_code == 302
    page = c.get(detail).content.decode()
    assert "未经法制审核" in page and "撤销立案：重复立案" in page
    assert 'id="close-form"' not in page


# --- C5.6: the case category is chosen, never preselected ------------------------


def test_case_form_does_not_preselect_a_category(people, tree):
    c = _client(people["case_handler"])
    page = c.get(reverse("casework:case_create")).content.decode()
    assert "（请选择执法类别）" in page
    select = page.split('name="category"')[1].split("</select>")[0]
    assert select.count("selected") == 1 and 'value="" selected' in select
    response = c.post(
        reverse("casework:case_create"),
        {"number": "思城执罚〔2026〕41号", "unit": tree["brigade"].pk},
    )
    assert response.status_code == 400
    assert "请选择执法类别" in response.content.decode()
    assert not Case.objects.filter(number="思城执罚〔2026〕41号").exists()


# --- C5.2: "overlapping" means overlapping ---------------------------------------


def test_near_activity_is_called_near_with_the_gap(people, make_activity, make_recording):
    """The reviewer's case: a 09:00–09:20 activity and a 09:25–09:35 recording."""
    act = make_activity(start=T0, minutes=20)
    rec = make_recording(start=T0 + timedelta(minutes=25), minutes=10)
    assert queries.suggestions(rec, people["officer"]) == [act]
    fit = queries.suggestion_fit(rec, act)
    assert not fit.overlaps and fit.gap_minutes == 5
    page = (
        _client(people["officer"]).get(reverse("casework:annotate", args=[rec.pk])).content.decode()
    )
    assert "【推荐·时间相近，相隔 5 分钟】" in page
    assert "时间重叠】" not in page
    assert "重叠或相近" in page


def test_overlapping_activity_is_called_overlapping(people, make_activity, make_recording):
    act = make_activity(start=T0, minutes=60)
    rec = make_recording(start=T0 + timedelta(minutes=25), minutes=10)
    assert queries.suggestion_fit(rec, act).overlaps
    page = (
        _client(people["officer"]).get(reverse("casework:annotate", args=[rec.pk])).content.decode()
    )
    assert "【推荐·时间重叠】" in page and "时间相近" not in page
    assert "且时间与本记录重叠" in page


def test_recording_before_the_activity_is_near(people, make_activity, make_recording):
    act = make_activity(start=T0 + timedelta(minutes=30), minutes=30)
    rec = make_recording(start=T0, minutes=10)  # ends 20 minutes before it begins
    fit = queries.suggestion_fit(rec, act)
    assert not fit.overlaps and fit.gap_minutes == 20


# --- C5.5: locked activities and recordings offer no edit links ------------------


def test_locked_activity_and_recording_hide_their_edit_links(
    people, case, make_activity, make_recording
):
    act = make_activity(case=case)
    rec = make_recording()
    actions.annotate(actor=people["officer"], recording=rec, activity=act, step="other")
    officer = _client(people["officer"])
    detail = officer.get(reverse("casework:activity_detail", args=[act.pk])).content.decode()
    edit_url = reverse("casework:activity_edit", args=[act.pk])
    assert edit_url in detail  # open case: editable
    ann_page = officer.get(reverse("casework:annotation", args=[rec.pk])).content.decode()
    assert "重新标注" in ann_page
    actions.set_case_status(actor="system:test", case=case, status="transferred")

    detail = officer.get(reverse("casework:activity_detail", args=[act.pk])).content.decode()
    assert edit_url not in detail
    assert "本活动已锁定" in detail and case.number in detail
    response = officer.get(edit_url, follow=True)
    assert "本活动已锁定" in response.content.decode()
    ann_page = officer.get(reverse("casework:annotation", args=[rec.pk])).content.decode()
    assert reverse("casework:annotate", args=[rec.pk]) not in ann_page
    assert "标注已锁定" in ann_page
    annotate_page = officer.get(reverse("casework:annotate", args=[rec.pk])).content.decode()
    assert 'id="annotate-form"' not in annotate_page and "标注已锁定" in annotate_page
    before = AuditEntry.objects.count()
    response = officer.post(
        reverse("casework:annotate", args=[rec.pk]),
        {"activity": act.pk, "step": "site_check"},
        follow=True,
    )
    assert "标注已锁定" in response.content.decode()
    assert AuditEntry.objects.count() == before


# --- the powers import explains a file that is not a workbook --------------------


def test_power_import_explains_a_non_xlsx_file(people, tree):
    c = _client(people["admin"])
    bad = io.BytesIO(b"code,name\nA1,x\n")
    bad.name = "powers.csv"
    response = c.post(reverse("casework:power_import"), {"unit": tree["city"].pk, "file": bad})
    assert response.status_code == 400
    page = response.content.decode()
    assert "不是 Excel 工作簿（.xlsx）" in page
    # No word of the zip inside an .xlsx (attribute values such as the random
    # CSRF token are left out: one may hold the letters "zip").
    assert "zip" not in re.sub(r'value="[^"]*"', "", page).lower()


# --- the case page: next steps first, closing last -------------------------------


def test_open_case_page_puts_next_steps_first_and_folds_the_close_form(people, case):
    """A new case opens on what to do next, not on the red close button."""
    c = _client(people["case_handler"])
    page = c.get(reverse("casework:case_detail", args=[case.pk])).content.decode()
    steps = page.index('id="next-steps"')
    activities = page.index("执法活动（按办案顺序）")
    recordings = page.index('id="case-recordings"')
    close = page.index('id="close-form"')
    assert steps < activities < recordings < close
    assert '<details class="card" id="close-case">' in page  # folded (no "open")


def test_reviewed_case_page_offers_closing_as_the_next_step(people, case):
    for status in ("transferred", "reviewed"):
        actions.set_case_status(actor="system:test", case=case, status=status)
    c = _client(people["case_handler"])
    page = c.get(reverse("casework:case_detail", args=[case.pk])).content.decode()
    assert '<section class="card" id="close-case">' in page
    assert page.index('id="close-form"') < page.index("执法活动（按办案顺序）")
    assert 'id="next-steps"' not in page and "案件已经法制审核，可以结案。" in page
