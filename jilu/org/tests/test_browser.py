"""In a real browser: an administrator imports a roster XLSX and sees the new
people listed; a bad roster shows its row errors and imports nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.org.models import Person
from jilu.org.tests.xlsx import person_row, roster_bytes

NEW_SQUAD = "350203000103"


@pytest.mark.browser
def test_admin_imports_a_roster_and_sees_the_new_people(transactional_db, people, page, tmp_path):
    good = tmp_path / "名册.xlsx"
    good.write_bytes(
        roster_bytes(
            units=[
                [
                    NEW_SQUAD,
                    "思明区城管执法大队新华中队",
                    "思明区新华中队",
                    "中队",
                    "350203000001",
                    "否",
                ]
            ],
            people=[
                person_row("xinhua1", "林新一", NEW_SQUAD, user_no="380001", cert_no="XM380001"),
                person_row(
                    "xinhua2", "林新二", NEW_SQUAD, user_no="380002", roles="中队长、执法队员"
                ),
            ],
        )
    )
    bad = tmp_path / "错误名册.xlsx"
    bad.write_bytes(
        roster_bytes(
            people=[
                person_row("dup1", "甲", "350203000101", user_no="380101", cert_no="C123"),
                person_row("dup2", "乙", "350203000101", user_no="380102", cert_no="C123"),
                person_row("nounit", "丙", "350299999999", user_no="380103"),
                person_row("noname", "", "350203000101", user_no="380104"),
            ]
        )
    )

    sign_in(page, "admin")
    page.goto(page.base_url + "/org/people/")
    page.click("text=导入名册")
    page.wait_for_url("**/org/roster/import/")

    # A bad roster: one message per bad row, nothing imported, no confirm button.
    page.set_input_files("input[name=file]", str(bad))
    page.click("#check-roster")
    errors = page.locator("#roster-errors li")
    expect(errors).to_have_count(3)  # waits for the checked page
    texts = errors.all_inner_texts()
    assert texts == [
        "人员表第3行：执法证号 C123 与第2行重复",
        "人员表第4行：单位编号 350299999999 不存在（单位表和系统中都没有）",
        "人员表第5行：姓名为空",
    ]
    assert "名册有 3 行错误，未导入任何数据" in page.inner_text("#roster-errors h2")
    assert page.locator("#confirm-import").count() == 0
    assert not Person.objects.filter(username__in=["dup1", "dup2", "nounit", "noname"]).exists()

    # A good roster: preview first, then confirm.
    page.set_input_files("input[name=file]", str(good))
    page.click("#check-roster")
    preview = page.locator("#roster-preview")
    assert "单位：新建 1，更新 0，不变 0；人员：新建 2，更新 0，不变 0" in preview.inner_text()
    assert page.locator('#preview-people tr[data-username="xinhua2"]').count() == 1
    assert not Person.objects.filter(username="xinhua1").exists()
    page.click("#confirm-import")
    result = page.locator("#roster-result")
    assert "名册已导入" in result.inner_text()
    assert "林新一" in result.inner_text() and "林新二" in result.inner_text()

    page.click("text=查看人员")
    page.wait_for_url("**/org/people/")
    page.fill("input[name=q]", "林新")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/org/people/?*q=*")  # the filtered list, not the one before it
    rows = page.locator("#people tbody tr")
    assert sorted(rows.all_inner_texts())[0].startswith("林新一")
    assert page.locator('#people tr[data-username="xinhua1"]').count() == 1
    assert page.locator('#people tr[data-username="xinhua2"]').count() == 1
    assert "思明区城管执法大队新华中队" in page.inner_text('#people tr[data-username="xinhua2"]')

    # The new squad appears in the tree, indented under its brigade.
    page.goto(page.base_url + "/org/units/")
    row = page.locator(f'#unit-tree tr[data-code="{NEW_SQUAD}"]')
    assert row.get_attribute("data-depth") == "3"
    assert "思明区新华中队" in row.inner_text()


@pytest.mark.browser
def test_admin_manages_units_and_people_in_the_browser(transactional_db, people, page):
    sign_in(page, "admin")

    # A new squad under the brigade, from the tree's "新建下级" link.
    page.goto(page.base_url + "/org/units/")
    page.locator('#unit-tree tr[data-code="350203000001"]').locator("text=新建下级").click()
    page.fill("input[name=code]", NEW_SQUAD)
    page.fill("input[name=name]", "思明区城管执法大队新华中队")
    page.fill("input[name=short_name]", "思明区/新华中队")
    page.click("button.primary")
    assert "不能含有这些字符：/" in page.inner_text(".field-error")  # C5.3 file names
    page.fill("input[name=short_name]", "思明区新华中队")
    page.click("button.primary")
    page.wait_for_url("**/org/units/")
    assert page.locator(f'#unit-tree tr[data-code="{NEW_SQUAD}"]').count() == 1

    # A new person with two roles (checkboxes).
    page.goto(page.base_url + "/org/people/new/")
    page.fill("input[name=username]", "linxin")
    page.fill("input[name=name]", "林新")
    page.fill("input[name=user_no]", "380201")
    page.fill("input[name=cert_no]", "XM380201")
    page.select_option("select[name=unit]", label="　　　思明区城管执法大队新华中队（中队）")
    page.check("input[name=frontline]")
    page.check("input[name=roles][value=officer]")
    page.check("input[name=roles][value=squad_leader]")
    page.fill("input[name=password1]", "Lin-xin-2026!")
    page.fill("input[name=password2]", "Lin-xin-2026!")
    page.click("button.primary")
    page.wait_for_url("**/org/people/*/")
    assert "已新建人员：林新" in page.inner_text(".messages")
    assert "执法队员" in page.inner_text("main") and "中队长" in page.inner_text("main")

    # Edit: take the squad-leader role away.
    page.click("text=编辑")
    page.uncheck("input[name=roles][value=squad_leader]")
    page.click("button.primary")
    assert "已保存人员信息：林新" in page.inner_text(".messages")
    assert "中队长" not in page.inner_text("dl.meta")

    # Reset the password, then deactivate (confirming the dialog).
    page.click("text=重置密码")
    page.fill("input[name=password1]", "Reset-pass-2026!")
    page.fill("input[name=password2]", "Reset-pass-2026!")
    page.click("button.primary")
    assert "已为 林新 设置新密码" in page.inner_text(".messages")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=停用账号")
    # The page before already shows a message: wait for the new one.
    expect(page.locator(".messages")).to_contain_text("已停用账号：林新")
    assert Person.objects.get(username="linxin").is_active is False

    # The deactivated person cannot sign in.
    page.click("#sign-out")
    sign_in(page, "linxin", "Reset-pass-2026!")
    assert page.url.endswith("/login/")

    # An administrator of another squad gets "not found" for this person.
    sign_in(page, "squad_admin")
    response = page.goto(page.base_url + f"/org/people/{people['officer'].pk}/edit/")
    assert response.status == 404
    assert "页面不存在" in page.inner_text("main")
