"""In a real browser: the opening script an officer reads from a phone (A1;
C4.1, C4.2) for each of Attachment 1's four steps, and the case's AV record
list (A2; C5.4, C5.5) reordered by the case handler and downloaded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.casework.models import Annotation
from jilu.casework.tests.documents_data import T0, activity, build_case

PHONE = {"width": 390, "height": 844}


def _open_script(page, act) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, "officer")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    page.goto(f"{page.base_url}/casework/docs/activities/{act.pk}/script/")


def _check_phone_page(page, people, title: str) -> None:
    script = page.get_by_test_id("script")
    expect(script.get_by_role("heading", name=title)).to_be_visible()
    facts = page.get_by_test_id("facts")
    for who in ("officer", "officer_b"):
        expect(facts).to_contain_text(people[who].name)
        expect(facts).to_contain_text(people[who].cert_no)
    expect(facts).to_contain_text("思明区中山路1号")
    # Large text to read aloud in the street, no sideways scrolling.
    size = page.locator(".script-text").first.evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)"
    )
    assert size >= 20
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.browser
def test_site_survey_script_on_the_phone(transactional_db, page, people, tree, party):
    """A1 step one, with refusal and two witnesses filled in on the spot (C4.2)."""
    act = activity(
        people, tree, party, kind="S1", start=T0, inspection_items="占道经营情况\n营业执照"
    )
    _open_script(page, act)
    _check_phone_page(page, people, "现场勘察环节")
    script = page.get_by_test_id("script")
    expect(script).to_contain_text("今天是2026年11月26日上午9点")
    expect(script).to_contain_text(
        f"执法人员王五（执法证号{people['officer'].cert_no}）、"
        f"李四（执法证号{people['officer_b'].cert_no}）到某某餐厅进行现场勘察"
    )
    expect(script).to_contain_text("具体地点是思明区中山路1号")
    expect(script).to_contain_text("拟定检查的内容有1.占道经营情况；2.营业执照")
    expect(page.get_by_test_id("missing")).to_contain_text("在场当事人或受托人")

    # The party refused to come: the officer fills in the notification and witnesses.
    form = page.get_by_test_id("script-inputs")
    form.get_by_label("当事人拒不到场，邀请见证人").check()
    form.get_by_label("通知当事人日期").fill("2026-11-20")
    form.get_by_label("见证人单位").fill("中华街道办事处")
    form.get_by_label("见证人一").fill("赵六")
    form.get_by_label("见证人二").fill("钱七")
    form.get_by_role("button", name="更新口述内容").click()
    expect(script).to_contain_text(
        "我们已于2026年11月20日通知当事人到场，但当事人拒不到现场，"
        "我们邀请中华街道办事处的两名见证人赵六、钱七到场见证"
    )
    expect(page.get_by_test_id("missing")).to_have_count(0)

    # The printable card carries the same filled script.
    page.get_by_test_id("card-link").click()
    expect(page.get_by_test_id("card-script")).to_contain_text("赵六、钱七到场见证")
    expect(page.get_by_test_id("card-script")).to_contain_text(people["officer"].cert_no)


@pytest.mark.browser
def test_inquiry_script_on_the_phone(transactional_db, page, people, tree, party):
    """A1 step two: the opening of the inquiry transcript (C4.4)."""
    act = activity(
        people,
        tree,
        party,
        kind="S3",
        start=T0 + timedelta(days=1, hours=5, minutes=30),  # 14:30
        present_person="张三",
    )
    _open_script(page, act)
    _check_phone_page(page, people, "制作询问笔录环节")
    script = page.get_by_test_id("script")
    expect(script).to_contain_text("可参照询问笔录的格式进行口述")
    expect(script).to_contain_text("今天是2026年11月27日下午2点30分，我们是中华中队的执法人员王五")
    expect(script).to_contain_text(people["officer_b"].cert_no)
    expect(script).to_contain_text("现在在思明区中山路1号依法就未经批准占道经营一事向张三进行询问")


@pytest.mark.browser
def test_service_script_on_the_phone(transactional_db, page, people, tree, party):
    """A1 step three: the document to serve is typed on the page."""
    act = activity(people, tree, party, kind="S4", start=T0 + timedelta(days=2))
    _open_script(page, act)
    _check_phone_page(page, people, "送达环节")
    expect(page.get_by_test_id("facts")).to_contain_text("2026年11月28日 09:00")
    page.get_by_test_id("script-inputs").get_by_label("送达文书名称").fill("《责令限期改正通知书》")
    page.get_by_role("button", name="更新口述内容").click()
    expect(page.get_by_test_id("script")).to_contain_text(
        f"今天是2026年11月28日，我们是中华中队，执法人员王五（执法证号{people['officer'].cert_no}）"
    )
    expect(page.get_by_test_id("script")).to_contain_text(
        "现依法向你送达《责令限期改正通知书》。请您签收。"
    )


@pytest.mark.browser
@pytest.mark.parametrize(
    ("kind", "title", "action"),
    [("S6", "强制拆除环节", "强制拆除"), ("S5", "查封扣押环节", "查封扣押")],
)
def test_demolition_and_seizure_scripts_on_the_phone(
    transactional_db, page, people, tree, party, kind, title, action
):
    """A1 step four: the decision number, refusal and witnesses from the activity."""
    act = activity(
        people,
        tree,
        party,
        kind=kind,
        start=T0 + timedelta(days=3, hours=-1),  # 08:00
        decision_no="思城执强决〔2026〕3号",
        party_refused=True,
        party_notified_on=date(2026, 11, 25),
        witness1_name="赵六",
        witness1_unit="中华街道办事处",
        witness2_name="钱七",
        witness2_unit="中华街道办事处",
    )
    _open_script(page, act)
    _check_phone_page(page, people, title)
    script = page.get_by_test_id("script")
    expect(script).to_contain_text(
        f"今天是2026年11月29日上午8点，中华中队依据思城执强决〔2026〕3号决定书实施{action}"
    )
    expect(script).to_contain_text("我们邀请中华街道办事处的两名见证人赵六、钱七到场见证")
    expect(script).to_contain_text("具体地点是思明区中山路1号")
    expect(script).to_contain_text(
        f"这是我们的执法证件，执法人员王五（执法证号{people['officer'].cert_no}）"
    )


@pytest.mark.browser
def test_the_handler_reorders_and_prints_the_record_list(
    transactional_db, page, people, tree, recorders, party
):
    """A2 rule 4: moving a row renumbers it and renames its file; the PDF downloads."""
    data = build_case(people, tree, recorders, party)
    case = data["case"]
    sign_in(page, "case_handler")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    page.goto(f"{page.base_url}/casework/docs/cases/{case.pk}/recordlist/")
    expect(page.get_by_role("heading", name="行政执法音像记录事项清单")).to_be_visible()
    table = page.get_by_test_id("recordlist")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(5)
    for column in ("序号", "执法类别", "执法事项", "记录事项", "记录保存情况"):
        expect(table.locator("thead")).to_contain_text(column)
    expect(rows.nth(4)).to_contain_text("送达")
    expect(rows.nth(4)).to_contain_text("完整")
    last = Annotation.objects.get(case=case, list_no=5)

    # Move the service recording to the top with the number box.
    rows.nth(4).get_by_label("新序号").fill("1")
    rows.nth(4).get_by_role("button", name="移动").click()
    expect(page.get_by_text("清单顺序已更新，序号与标准文件名已同步")).to_be_visible()
    first = page.get_by_test_id("recordlist").locator("tbody tr").first
    expect(first).to_contain_text("送达")
    expect(first.locator("td.no")).to_have_text("1")
    expect(first.get_by_test_id("standard-name")).to_contain_text("01_")
    last.refresh_from_db()
    assert last.list_no == 1 and last.standard_name.startswith("01_")

    # One step down with the arrow.
    first.get_by_role("button", name="下移").click()
    second = page.get_by_test_id("recordlist").locator("tbody tr").nth(1)
    expect(second).to_contain_text("送达")
    expect(second.get_by_test_id("standard-name")).to_contain_text("02_")

    with page.expect_download() as info:
        page.get_by_test_id("download-pdf").click()
    download = info.value
    assert download.suggested_filename == "行政执法音像记录事项清单_思城执罚〔2026〕12号.pdf"
    with open(download.path(), "rb") as fh:
        assert fh.read(4) == b"%PDF"
