"""In a real browser: an officer annotates a recording within 48 hours (C5.2)
by accepting the suggested activity, and sees the standard name (C5.3); the
case page lists it with its number and 完整 (C5.4, A2)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from jilu.casework import actions
from jilu.evidence.media_models import MediaInfo


@pytest.mark.browser
def test_officer_accepts_suggestion_and_sees_standard_name(
    transactional_db, page, people, tree, make_recording, make_activity
):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=30)
    rec = make_recording(start=start, minutes=20, docked_at=start + timedelta(hours=3))
    MediaInfo.objects.create(recording=rec, integrity="complete", duration_seconds=1200)
    case = actions.create_case(
        actor="system:test",
        number="思城执罚〔2026〕21号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
    )
    activity = make_activity(start=start - timedelta(minutes=5), minutes=40, case=case)
    # A second activity of the officer that does not match in time.
    make_activity(start=start + timedelta(hours=6), minutes=30)

    page.set_viewport_size({"width": 390, "height": 844})  # an officer's phone
    sign_in(page, "officer")
    page.goto(page.base_url + "/casework/annotate/")
    expect(page.get_by_role("heading", name="待标注的声像记录")).to_be_visible()
    card = page.locator(f'[data-recording="{rec.pk}"]')
    expect(card).to_contain_text("剩余 20 小时")  # docked 27 h ago: under 21 h left (C5.2)
    card.get_by_role("link", name="标注").click()

    form = page.locator("#annotate-form")
    expect(form).to_be_visible()  # the annotation page has loaded
    assert page.evaluate("document.documentElement.scrollWidth") <= 391  # fits the phone
    suggested = form.get_by_role("radio", name=re.compile("推荐"))
    expect(suggested).to_be_checked()
    form.get_by_label("记录事项").select_option(label="现场勘验")
    form.get_by_role("button", name="确认标注").click()

    date = timezone.localtime(activity.span_start).strftime("%Y%m%d")
    expected = f"01_思明区城管执法大队_厦门某某餐饮有限公司_{date}_现场勘验"
    expect(page.locator("#standard-name")).to_have_text(f"{expected}.mp4")
    expect(page.locator("#step")).to_have_text("现场勘验")

    page.get_by_role("link", name=case.number).click()
    row = page.locator("#case-recordings tbody tr").first
    expect(row).to_contain_text(expected)
    expect(row).to_contain_text("完整")
    # The activity ran 40 minutes, the recording 20 (C4.3: the gaps are shown).
    expect(page.locator(".coverage").first).to_contain_text("有 2 处未录制的时段")


@pytest.mark.browser
def test_officer_writes_down_an_activity_on_a_phone(transactional_db, page, people, tree):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "officer")
    page.goto(page.base_url + "/casework/activities/new/")
    form = page.locator("#activity-form")
    form.get_by_label("活动类型").select_option("S1")
    form.get_by_label("新相对人名称或姓名").fill("厦门某某餐饮有限公司")
    form.get_by_label("地点名称").fill("某某餐厅")
    form.get_by_label("计划开始").fill("2026-11-26T09:00:00")
    form.get_by_label("计划结束").fill("2026-11-26T10:00:00")
    form.get_by_role("button", name="保存").click()
    # No silent 执法类别 (C5.4, A2): it is chosen, and a form without it says so.
    expect(page.locator(".field-error")).to_contain_text("请选择执法类别")
    form = page.locator("#activity-form")
    form.get_by_label("执法类别").select_option("inspection")
    form.get_by_role("button", name="保存").click()
    # C4.1: two officers on site; the officer is told what to do.
    expect(page.locator(".field-error")).to_contain_text("至少两名执法人员")
    form = page.locator("#activity-form")
    form.get_by_label(re.compile("李四")).check()
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", name="S1 巡查检查、现场勘验、取证")).to_be_visible()
    expect(page.locator(".coverage")).to_contain_text("无任何声像记录（C2.1）")
    # The page fits the phone: nothing wider than the screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1


@pytest.mark.browser
def test_squad_leader_sees_overdue_recordings(transactional_db, page, people, make_recording):
    now = timezone.now()
    late = make_recording(start=now - timedelta(hours=52), docked_at=now - timedelta(hours=49))
    sign_in(page, "squad_leader")
    page.goto(page.base_url + "/casework/annotate/squad/")
    expect(page.locator("#overdue-count")).to_contain_text("超期 1 条")
    row = page.locator(f'tr[data-recording="{late.pk}"]')
    expect(row).to_contain_text("王五")
    expect(row).to_contain_text("已超期 1 小时")


@pytest.mark.browser
def test_case_handler_opens_a_case_and_orders_its_activities(
    transactional_db, page, people, tree, make_activity
):
    first = make_activity()
    second = make_activity(start=first.span_start + timedelta(hours=2), place_name="第二现场")
    sign_in(page, "case_handler")
    page.goto(page.base_url + "/casework/cases/new/")
    form = page.locator("#case-form")
    form.get_by_label("案件编号").fill("思城执罚〔2026〕30号")
    form.get_by_label("案由").fill("占道经营")
    form.get_by_label("执法类别").select_option(label="行政处罚")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", name=re.compile("思城执罚〔2026〕30号"))).to_be_visible()
    expect(page.get_by_text("30年")).to_be_visible()  # retention from the schedule (C5.6)
    for activity in (first, second):
        page.get_by_label("加入执法活动").select_option(str(activity.pk))
        page.get_by_role("button", name="加入", exact=True).click()
    rows = page.locator("tr[data-activity]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-activity", str(first.pk))
    rows.nth(1).get_by_role("button", name="上移").click()
    expect(page.locator("tr[data-activity]").nth(0)).to_have_attribute(
        "data-activity", str(second.pk)
    )


@pytest.mark.browser
def test_closing_an_unreviewed_case_asks_for_reason_and_confirmation(
    transactional_db, page, people, tree
):
    """C5.4/C5.5: an open case never went to legal review; closing it takes a
    reason, an explanation, a ticked confirmation (and the confirm dialog)."""
    case = actions.create_case(
        actor="system:test",
        number="思城执罚〔2026〕22号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
    )
    sign_in(page, "case_handler")
    page.goto(f"{page.base_url}/casework/cases/{case.pk}/")
    # On an open case the next steps come first; closing is folded away at the bottom.
    expect(page.locator("#next-steps")).to_be_visible()
    form = page.locator("#close-form")
    expect(form).to_be_hidden()
    page.locator("#close-case summary").click()
    expect(page.locator("#close-warning")).to_contain_text("尚未移送法制审核")
    form.get_by_label("结案原因").select_option(label="撤销立案")
    form.get_by_label("说明").fill("重复立案")
    form.get_by_label("我确认结案后案件不能再修改").check()
    page.once("dialog", lambda dialog: dialog.accept())
    form.get_by_role("button", name="结案").click()
    expect(page.locator("#close-reason")).to_contain_text("撤销立案：重复立案")
    expect(page.locator("#close-reason")).to_contain_text("未经法制审核")
    expect(page.locator("#close-form")).to_have_count(0)
