"""In a real browser: a squad leader issues a recorder (C1.3); an administrator
registers a workstation and sees its token exactly once (C1.2)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.devices import actions
from jilu.devices.models import Holding, Workstation


@pytest.mark.browser
def test_squad_leader_issues_and_admin_creates_a_workstation(
    transactional_db, page, people, make_recorder, tree
):
    make_recorder("A000123")
    actions.create_workstation(actor="system:test", unit=tree["squad2"], name="鹭江站")

    # The squad leader finds the recorder in the ledger and issues it (C1.3).
    sign_in(page, "squad_leader")
    page.get_by_role("navigation", name="主导航").get_by_role(
        "link", name="记录仪", exact=True
    ).click()
    expect(page.get_by_role("heading", name="记录仪台账")).to_be_visible()
    page.get_by_role("link", name="A000123").click()
    expect(page.get_by_test_id("current-holder")).to_contain_text("当前未配发")
    page.select_option("#id_issue-person", str(people["officer"].pk))
    page.fill("#id_issue-note", "新领")
    page.get_by_role("button", name="确认配发").click()

    expect(page.get_by_text("记录仪 A000123 已配发给 王五")).to_be_visible()
    expect(page.get_by_test_id("current-holder")).to_contain_text("王五")
    history = page.get_by_test_id("history")
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history.locator("tbody tr").first).to_contain_text("王五")
    expect(history.locator("tbody tr").first).to_contain_text("持有中")
    expect(history.locator("tbody tr").first).to_contain_text("何中队")
    assert Holding.objects.get().person == people["officer"]

    # The same page answers who held it at a moment (Beijing time).
    page.fill("#id_at", "2020-01-01T08:00")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("lookup-answer")).to_contain_text("无人持有这台记录仪")

    page.get_by_role("button", name="退出").click()

    # The administrator registers a workstation and sees its token once (C1.2).
    sign_in(page, "admin")
    page.get_by_role("navigation", name="主导航").get_by_role(
        "link", name="采集工作站", exact=True
    ).click()
    page.get_by_role("link", name="登记工作站").click()
    page.select_option("#id_unit", str(tree["squad1"].pk))
    page.fill("#id_name", "中华中队采集工作站")
    page.fill("#id_location", "值班室")
    page.get_by_role("button", name="登记并生成令牌").click()

    expect(page.get_by_test_id("new-token")).to_contain_text("只显示这一次")
    token = page.locator("#station-token").inner_text().strip()
    assert re.fullmatch(r"jst_[A-Za-z0-9_-]{40,}", token)
    station = Workstation.objects.get(name="中华中队采集工作站")
    assert station.token_prefix == token[:8]

    page.reload()
    expect(page.get_by_role("heading", name=re.compile("中华中队采集工作站"))).to_be_visible()
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    assert token not in page.content()
