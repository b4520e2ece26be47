"""The web shell in a real browser (Playwright + Debian Chromium).

Signs in as each demo role and reaches that role's home page in Chinese; a
wrong password and a lockout show their messages; an officer is refused the
administrators' pages; the footer switches the language; a password change
works end to end.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect
from test_shell import NAV

from conftest import sign_in

pytestmark = [pytest.mark.browser]

DEMO_PASSWORD = "jilu-demo-2026"

# demo username -> (data-role of the home page, heading)
DEMO_HOMES = {
    "admin": ("admin", "系统管理工作台"),
    "inspector": ("inspector", "督察工作台"),
    "legal": ("legal_reviewer", "法制审核员工作台"),
    "archivist": ("archivist", "档案管理员工作台"),
    "handler": ("case_handler", "案件承办人工作台"),
    "brigade": ("brigade_leader", "大队长工作台"),
    "squad1": ("squad_leader", "中队长工作台"),
    "officer": ("officer", "执法队员工作台"),
}


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())


def test_each_demo_role_signs_in_to_its_chinese_home(page, demo):
    for username, (role, heading) in DEMO_HOMES.items():
        sign_in(page, username, DEMO_PASSWORD)
        title = page.locator("h1.home-title")
        expect(title).to_have_text(heading)
        expect(title).to_have_attribute("data-role", role)
        assert page.url == page.base_url + "/"
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        expect(page.locator(".mainnav a").first).to_have_text("工作台")
        page.click("#sign-out")
        expect(page.locator(".messages")).to_contain_text("已退出登录")
        assert page.url == page.base_url + "/login/"


def test_officer_home_shows_recorder_and_checklist(page, demo):
    sign_in(page, "officer", DEMO_PASSWORD)
    expect(page.locator("#my-recorders")).to_contain_text("A000")
    expect(page.locator("#my-recorders")).to_contain_text("在用")
    expect(page.locator("#checklist")).to_contain_text("24 小时内")
    expect(page.locator("#my-recent")).to_contain_text("登录")
    expect(page.locator(".mainnav a")).to_have_text(NAV["officer"])


def test_leader_home_links_to_the_equipment_gaps(page, demo):
    sign_in(page, "brigade", DEMO_PASSWORD)
    expect(page.locator("#gap-c1-1")).to_contain_text("每名一线队员都已配发记录仪")
    page.locator("#gap-c1-2 a").click()
    expect(page.locator("h1")).to_have_text("配备缺口")
    assert page.url.endswith("/devices/gaps/")


def test_wrong_password_shows_the_error_then_lockout(page, demo, settings):
    settings.LOGIN_MAX_FAILURES = 3
    sign_in(page, "officer", "not-the-password")
    expect(page.locator(".error[role=alert]")).to_contain_text("登录名或密码不正确")
    assert page.url.startswith(page.base_url + "/login/")
    expect(page.locator("input[name=username]")).to_have_value("officer")
    sign_in(page, "officer", "not-the-password")
    sign_in(page, "officer", "not-the-password")
    expect(page.locator(".error[role=alert]")).to_contain_text("账号已锁定")
    sign_in(page, "officer", DEMO_PASSWORD)
    expect(page.locator(".error[role=alert]")).to_contain_text("请 15 分钟后再试")
    expect(page.locator("h1.home-title")).to_have_count(0)


def test_officer_cannot_open_administrator_pages(page, demo):
    sign_in(page, "officer", DEMO_PASSWORD)
    expect(page.locator("h1.home-title")).to_have_text("执法队员工作台")
    expect(page.locator(".mainnav")).not_to_contain_text("审计日志")
    for path in ("/audit/", "/devices/workstations/"):
        response = page.goto(page.base_url + path)
        assert response.status == 403, path
        expect(page.locator("h1")).to_have_text("无权访问此页面")
        expect(page.locator("#http-error")).to_contain_text("你的角色不能打开此页面")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.click("text=返回工作台")
    expect(page.locator("h1.home-title")).to_have_text("执法队员工作台")


def test_signed_out_visitor_is_sent_to_sign_in_and_back(page, demo):
    page.goto(page.base_url + "/audit/")
    assert "/login/?next=/audit/" in page.url
    expect(page.locator("#login-needed")).to_contain_text("请先登录")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(page.base_url + "/audit/")
    expect(page.locator("h1")).not_to_have_text("无权访问此页面")


def test_footer_switches_language_to_english_and_back(page, demo):
    sign_in(page, "officer", DEMO_PASSWORD)
    expect(page.locator("h1.home-title")).to_have_text("执法队员工作台")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    expect(page.locator("h1.home-title")).to_have_text("Officer home")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.locator(".mainnav a")).to_have_text(
        [
            "Home",
            "To annotate",
            "My recorders",
            "Recordings",
            "Activities",
            "Cases",
            "Access requests",
            "Duty log",
            "Findings",
            "Data collection",
        ]
    )
    expect(page.locator("#sign-out")).to_have_text("Sign out")
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    expect(page.locator("h1.home-title")).to_have_text("执法队员工作台")
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_password_change_in_the_browser(page, demo):
    new_password = "换一个-密码-2027"
    sign_in(page, "officer", DEMO_PASSWORD)
    page.click("text=修改密码")
    expect(page.locator("h1")).to_have_text("修改密码")
    page.fill("input[name=old_password]", "wrong-old-password")
    page.fill("input[name=new_password1]", new_password)
    page.fill("input[name=new_password2]", new_password)
    page.click("main button[type=submit]")
    expect(page.locator(".field-error")).to_contain_text("你的旧密码不正确")
    page.fill("input[name=old_password]", DEMO_PASSWORD)
    page.fill("input[name=new_password1]", new_password)
    page.fill("input[name=new_password2]", new_password)
    page.click("main button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("密码已修改")
    expect(page.locator("h1.home-title")).to_have_text("执法队员工作台")
    page.click("#sign-out")
    sign_in(page, "officer", DEMO_PASSWORD)
    expect(page.locator(".error[role=alert]")).to_contain_text("登录名或密码不正确")
    sign_in(page, "officer", new_password)
    expect(page.locator("h1.home-title")).to_have_text("执法队员工作台")


def test_a_button_address_opened_directly_shows_a_page(page, demo):
    """Opening a submit-only address from the address bar (a bookmarked or pasted
    confirm link) explains itself and leads back, on a phone too."""
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, "squad1", DEMO_PASSWORD)
    page.wait_for_url(page.base_url + "/")
    response = page.goto(page.base_url + "/dutylog/1/confirm/")
    assert response.status == 405
    expect(page.locator("h1")).to_have_text("不能直接打开这个地址")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_role("link", name="返回工作台").click()
    expect(page.locator("h1.home-title")).to_have_text("中队长工作台")


@pytest.mark.parametrize("username", ["admin", "squad1", "inspector"])
def test_on_a_phone_the_content_comes_first(page, demo, username):
    """At 390 px the menu is one row that scrolls sideways (it took 3 to 7 rows
    before any content): the page's title is on the first screen, high up, and
    the page never scrolls sideways itself."""
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, username, DEMO_PASSWORD)
    expect(page.locator("h1.home-title")).to_be_visible()
    nav = page.locator("nav.mainnav")
    link_height = nav.locator("a").first.bounding_box()["height"]
    assert nav.bounding_box()["height"] < 2 * link_height  # one row
    assert page.evaluate("document.querySelector('nav.mainnav').scrollWidth") > 390  # it scrolls
    assert page.locator("h1.home-title").bounding_box()["y"] < 200
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Every entry is still there, reachable by scrolling the row.
    last = nav.locator("a").last
    last.scroll_into_view_if_needed()
    assert last.is_visible()
