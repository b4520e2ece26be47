"""The web shell: a home page per role, navigation by role, error pages, languages.

Permission tests for the shell: every navigation link a role is shown opens
for that role, and an officer is refused the administrators' pages.
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from jilu.audit import labels
from jilu.devices import actions as device_actions
from jilu.web import context, home

JILU = Path(home.__file__).resolve().parent.parent
LOCALE = JILU / "locale"

# fixture person -> (role whose home page is shown, its heading)
HOMES = {
    "officer": ("officer", "执法队员工作台"),
    "squad_leader": ("squad_leader", "中队长工作台"),
    "brigade_leader": ("brigade_leader", "大队长工作台"),
    "archivist": ("archivist", "档案管理员工作台"),
    "case_handler": ("case_handler", "案件承办人工作台"),
    "legal_reviewer": ("legal_reviewer", "法制审核员工作台"),
    "inspector": ("inspector", "督察工作台"),
    "admin": ("admin", "系统管理工作台"),
    "squad_admin": ("admin", "系统管理工作台"),
}

OVERSIGHT = ["单位", "人员", "记录仪", "采集工作站", "配备缺口", "台账"]
NAV = {
    "officer": [
        "工作台",
        "待标注",
        "我的记录仪",
        "声像记录",
        "执法活动",
        "案件",
        "调用申请",
        "执勤日志",
        "督察发现",
        "数据采集",
    ],
    "squad_leader": [
        "工作台",
        "待标注",
        "我的记录仪",
        "声像记录",
        "执法活动",
        "案件",
        "调用申请",
        "执勤日志",
        "标注督办",
        "执勤时间轴",
    ]
    + OVERSIGHT
    + ["通报", "督察发现", "数据采集", "权责清单", "保存与销毁"],
    "brigade_leader": [
        "工作台",
        "声像记录",
        "执法活动",
        "案件",
        "调用申请",
        "执勤日志",
        "标注督办",
        "执勤时间轴",
    ]
    + OVERSIGHT
    + ["通报", "督察发现", "数据采集", "权责清单", "保存与销毁"],
    "archivist": [
        "工作台",
        "声像记录",
        "执法活动",
        "案件",
        "调用申请",
        "执勤日志",
        "单位",
        "人员",
        "记录仪",
        "数据采集",
        "保存与销毁",
    ],
    "case_handler": [
        "工作台",
        "声像记录",
        "执法活动",
        "案件",
        "调用申请",
        "执勤日志",
        "数据采集",
        "权责清单",
    ],
    "legal_reviewer": [
        "工作台",
        "声像记录",
        "执法活动",
        "案件",
        "调用申请",
        "执勤日志",
        "数据采集",
        "法制审核",
    ],
    "inspector": [
        "工作台",
        "声像记录",
        "执法活动",
        "案件",
        "调用申请",
        "执勤日志",
        "标注督办",
        "执勤时间轴",
    ]
    + OVERSIGHT
    + ["通报", "督察发现", "抽检", "数据采集", "保存与销毁", "固定性告警", "后台任务", "审计日志"],
    "admin": [
        "工作台",
        "声像记录",
        "执法活动",
        "案件",
        "调用申请",
        "执勤日志",
        "标注督办",
        "执勤时间轴",
    ]
    + OVERSIGHT
    + [
        "督察发现",
        "数据采集",
        "法制审核",
        "权责清单",
        "保存与销毁",
        "固定性告警",
        "后台任务",
        "审计日志",
    ],
}

ADMIN_PAGES = ["/audit/", "/devices/workstations/", "/devices/gaps/", "/org/people/", "/org/units/"]


def nav_labels(html: str) -> list[str]:
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav)


def h1(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1).strip()


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """Requests here switch the thread's language; leave it at the default for other tests."""
    yield
    translation.deactivate()


@pytest.fixture
def as_person(people):
    def client_for(key: str) -> Client:
        c = Client()
        c.force_login(people[key])
        return c

    return client_for


@pytest.mark.parametrize("key", list(HOMES))
def test_each_role_gets_its_own_home_page_in_chinese(as_person, key):
    role, heading = HOMES[key]
    response = as_person(key).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert f'<h1 class="home-title" data-role="{role}">{heading}</h1>' in html
    assert response.context["role"] == role


@pytest.mark.parametrize("key", list(NAV))
def test_navigation_is_by_role_and_every_link_opens(as_person, key):
    client = as_person(key)
    html = client.get("/").content.decode()
    assert nav_labels(html) == NAV[key]
    for url in re.findall(
        r'<a href="([^"]+)"', re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)
    ):
        assert client.get(url).status_code == 200, (key, url)


def test_navigation_marks_the_current_page(as_person):
    html = as_person("admin").get("/devices/recorders/").content.decode()
    assert '<a href="/devices/recorders/" class="active" aria-current="page">记录仪</a>' in html
    assert '<a href="/">工作台</a>' in html


def test_signed_out_pages_have_no_navigation(client, db):
    assert context.nav_items(None) == []
    assert 'class="mainnav"' not in client.get("/login/").content.decode()


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_officer_is_refused_administrator_pages_with_a_chinese_403(as_person, url):
    response = as_person("officer").get(url)
    html = response.content.decode()
    assert response.status_code == 403
    assert '<html lang="zh-hans">' in html
    assert h1(html) == "无权访问此页面"
    assert "你的角色不能打开此页面" in html
    assert '<a class="button" href="/">返回工作台</a>' in html
    assert nav_labels(html) == NAV["officer"]  # the layout and its navigation still work


def test_403_explains_which_rule_refused(as_person):
    html = as_person("officer").get("/audit/").content.decode()
    assert "只有系统管理员和督察可以查看审计日志" in html


def test_case_handler_is_refused_the_people_list(as_person):
    assert as_person("case_handler").get("/org/people/").status_code == 403


def test_404_page_is_chinese(as_person, client, db):
    response = as_person("officer").get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert h1(html) == "页面不存在" and "/no-such-page/" in html
    anonymous = client.get("/no-such-page/").content.decode()
    assert '<a class="button" href="/login/">登录</a>' in anonymous


def test_expired_form_gets_a_chinese_403(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["officer"])
    response = client.post("/logout/")
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


def test_500_page_renders_without_a_database_or_request(rf):
    from django.views.defaults import server_error

    with translation.override("zh-hans"):
        response = server_error(rf.get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "服务器错误" in html and '<html lang="zh-hans">' in html


# --- what each home page shows ----------------------------------------------


def gap_counts(html: str) -> tuple[int, int]:
    c11 = re.search(r'id="gap-c1-1" data-count="(\d+)"', html)
    c12 = re.search(r'id="gap-c1-2" data-count="(\d+)"', html)
    return int(c11.group(1)), int(c12.group(1))


def test_officer_home_shows_the_checklist_and_asks_for_a_recorder_c1_1(as_person):
    html = as_person("officer").get("/").content.decode()
    assert 'data-gap="C1.1"' in html and "请联系中队长配发" in html
    assert "24 小时内在采集工作站导入" in html and "48 小时内完成信息关联或标注" in html
    assert 'id="gap-c1-1"' not in html  # officers see their own state, not the unit's gaps


def test_officer_home_shows_their_recorder_and_recent_actions_c1_3(client, people, tree):
    officer = people["officer"]
    recorder = device_actions.register_recorder(
        actor="system:test",
        serial="A123456",
        unit=tree["squad1"],
        vendor="海康威视",
        model="DSJ-K3",
    )
    device_actions.issue_recorder(actor="system:test", recorder=recorder, person=officer)
    client.post("/login/", {"username": "officer", "password": "correct-horse-battery"})
    html = client.get("/").content.decode()
    assert 'data-gap="C1.1"' not in html
    section = re.search(r'<section class="card" id="my-recorders">.*?</section>', html, re.S).group(
        0
    )
    assert "A123456" in section and "海康威视 DSJ-K3" in section and "在用" in section
    assert "起由本人保管" in section
    assert '<a href="/devices/mine/">' in section
    recent = re.search(r'id="my-recent">.*?</section>', html, re.S).group(0)
    assert "登录" in recent and "auth.login" not in recent


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("squad_leader", (3, 1)),
        ("brigade_leader", (3, 2)),
        ("inspector", (4, 4)),
        ("admin", (4, 4)),
        ("squad_admin", (1, 1)),
    ],
)
def test_leaders_and_oversight_see_equipment_gaps_with_links(as_person, key, expected):
    html = as_person(key).get("/").content.decode()
    assert gap_counts(html) == expected
    assert html.count('<a href="/devices/gaps/">查看配备缺口</a>') == 2


def test_gaps_shrink_as_equipment_is_issued(as_person, people, tree):
    recorder = device_actions.register_recorder(
        actor="system:test", serial="A000001", unit=tree["squad1"]
    )
    device_actions.issue_recorder(actor="system:test", recorder=recorder, person=people["officer"])
    device_actions.create_workstation(
        actor="system:test", unit=tree["squad1"], name="中华中队工作站"
    )
    html = as_person("brigade_leader").get("/").content.decode()
    assert gap_counts(html) == (2, 1)
    assert "王五" not in re.search(r'id="gap-c1-1".*?</section>', html, re.S).group(0)
    assert "鹭江中队" in re.search(r'id="gap-c1-2".*?</section>', html, re.S).group(0)


def test_scope_counts_follow_the_unit_tree(as_person):
    ctx = as_person("brigade_leader").get("/").context
    # squad1: officer, officer_b, squad_leader; brigade: leader, archivist, case handler.
    assert (ctx["unit_count"], ctx["people_count"], ctx["frontline_count"]) == (3, 6, 3)
    city = as_person("inspector").get("/").context
    assert (city["unit_count"], city["people_count"]) == (8, 11)


@pytest.mark.parametrize("key", ["archivist", "case_handler", "legal_reviewer"])
def test_other_roles_see_their_scope_and_duties_but_no_gap_links(as_person, key):
    html = as_person(key).get("/").content.decode()
    assert 'id="scope"' in html and 'id="duties"' in html
    assert "/devices/gaps/" not in html


def test_quick_links_are_the_roles_navigation(as_person):
    html = as_person("archivist").get("/").content.decode()
    links = re.search(r'id="quick-links">.*?</section>', html, re.S).group(0)
    assert re.findall(r">([^<]+)</a>", links) == NAV["archivist"][1:]
    html = as_person("case_handler").get("/").content.decode()
    links = re.search(r'id="quick-links">.*?</section>', html, re.S).group(0)
    assert re.findall(r">([^<]+)</a>", links) == NAV["case_handler"][1:]


# --- languages ---------------------------------------------------------------


def test_footer_switches_to_english_and_back(as_person):
    client = as_person("officer")
    html = client.get("/").content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert '<option value="en" lang="en">English</option>' in html
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert h1(html) == "Officer home"
    assert nav_labels(html) == [
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
    assert "set the recorder" in html and "timestamp overlay (C3.2)" in html
    assert "(Beijing time)" in html
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert h1(client.get("/").content.decode()) == "执法队员工作台"


def test_sign_in_page_and_errors_in_english(client, people):
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    html = client.post("/login/", {"username": "officer", "password": "wrong"}).content.decode()
    assert '<html lang="en">' in html
    assert "Wrong username or password." in html
    assert "Body-worn recorder evidence platform" in html


def test_403_in_english(as_person):
    client = as_person("officer")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/audit/").content.decode()
    assert h1(html) == "You may not open this page"


def _po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr (the first plural form) of a .po file; an entry with a
    context is keyed as gettext stores it, ``context\x04msgid``."""
    entries: dict[str, str] = {}
    text = path.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#")]
        current, parts = None, {"msgctxt": [], "msgid": [], "msgstr": []}
        for line in lines:
            key = line.split(" ", 1)[0]
            if key in ("msgctxt", "msgid", "msgstr", "msgstr[0]"):
                current = "msgstr" if key.startswith("msgstr") else key
                parts[current].append(line.split(" ", 1)[1])
            elif key in ("msgid_plural",) or key.startswith("msgstr["):
                current = None
            elif current is not None:
                parts[current].append(line)
        # PO strings are C-quoted, which Python literals read the same way here.
        msgid = "".join(ast.literal_eval(s) for s in parts["msgid"])
        if parts["msgctxt"]:
            msgid = "".join(ast.literal_eval(s) for s in parts["msgctxt"]) + "\x04" + msgid
        if msgid:
            entries[msgid] = "".join(ast.literal_eval(s) for s in parts["msgstr"])
    return entries


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_compiled_catalogues_match_their_sources(lang):
    """The .mo files are committed (no gettext needed at test or run time): keep them current."""
    po = _po_entries(LOCALE / lang / "LC_MESSAGES" / "django.po")
    with open(LOCALE / lang / "LC_MESSAGES" / "django.mo", "rb") as fh:
        mo = gettext.GNUTranslations(fh)
    assert po, "empty catalogue"
    for msgid, msgstr in po.items():
        if not msgstr:
            # English must be complete; the Chinese supplement may list msgids it leaves as is.
            assert lang != "en", f"untranslated: {msgid}"
            continue
        if "%d" in msgid:
            assert mo.ngettext(msgid, msgid + "s", 1) == msgstr
        else:
            assert mo.gettext(msgid) == msgstr, f"{lang} .mo is stale; run jilu compilemessages"


SHELL_TEMPLATES = [
    *sorted((JILU / "templates" / "home").glob("*.html")),
    *sorted((JILU / "templates" / "auth").glob("*.html")),
    *(
        JILU / "templates" / name
        for name in ("base.html", "403.html", "403_csrf.html", "404.html", "405.html", "500.html")
    ),
]


def test_every_shell_string_has_an_english_translation():
    catalogue = _po_entries(LOCALE / "en" / "LC_MESSAGES" / "django.po")
    missing = []
    for path in SHELL_TEMPLATES:
        for msgid in re.findall(r"""\{% translate ['"](.+?)['"] %\}""", path.read_text()):
            if not catalogue.get(msgid):
                missing.append(f"{path.name}: {msgid}")
    with translation.override("en"):
        for label in [
            *home.ROLE_LABELS.values(),
            *labels.ACTION_LABELS.values(),
            *labels.SYSTEM_ACTORS.values(),
            *home.RECORDER_STATUS_LABELS.values(),
            *(n[0] for n in context.NAV),
        ]:
            if re.search(r"[\u4e00-\u9fff]", str(label)):
                missing.append(str(label))
    assert not missing, missing


def test_superuser_without_a_unit_gets_the_administrator_home(client, people, tree):
    """As ``jilu createsuperuser`` makes them: no unit, no role grants."""
    from jilu.org import actions
    from jilu.org.models import Person

    root = actions.create_person(
        actor="system:test", username="root", name="运维", unit=tree["city"], password="x" * 12
    )
    Person.objects.filter(pk=root.pk).update(is_superuser=True, unit=None)
    client.force_login(Person.objects.get(pk=root.pk))
    response = client.get("/")
    assert response.status_code == 200
    assert 'data-role="admin"' in response.content.decode()
    assert gap_counts(response.content.decode()) == (4, 4)  # the whole bureau


def test_retired_recorders_are_shown_by_status_but_not_counted(as_person, tree):
    for serial in ("A000001", "A000002"):
        device_actions.register_recorder(actor="system:test", serial=serial, unit=tree["squad1"])
    retired = device_actions.register_recorder(
        actor="system:test", serial="A000003", unit=tree["squad1"]
    )
    device_actions.set_recorder_status(
        actor="system:test", recorder=retired, status="retired", note="外壳破裂，无法修复"
    )
    ctx = as_person("squad_leader").get("/").context
    assert ctx["recorder_count"] == 2
    statuses = {s["status"]: s["count"] for s in ctx["recorder_status"]}
    assert statuses == {"in_service": 2, "under_repair": 0, "lost": 0, "retired": 1}


def test_opening_a_submit_only_address_gets_a_page(as_person):
    """A button's address opened from the address bar says what happened instead of
    showing a blank page; the API keeps its bare answer."""
    c = as_person("squad_leader")
    response = c.get("/dutylog/1/confirm/", HTTP_ACCEPT="text/html")
    assert response.status_code == 405
    html = response.content.decode()
    assert 'data-status="405"' in html and "不能直接打开这个地址" in html
    assert "POST" in response.headers["Allow"]
    api = c.get("/api/v1/auth/token", HTTP_ACCEPT="application/json")
    assert api.status_code == 405 and b"data-status" not in api.content
