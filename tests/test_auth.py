"""Sign-in with lockout, session timeout, sign-out and password change (web)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from conftest import PASSWORD
from jilu.audit.models import AuditEntry
from jilu.org.models import Person

WRONG = "登录名或密码不正确"
LOCKED = "账号已锁定"


def sign_in(client, username: str, password: str = PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password, **extra})


def actions_for(person: Person) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="org.person", object_id=str(person.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_login_page_is_chinese(client, db):
    response = client.get("/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "执法记录仪声像资料管理平台" in html
    assert "空闲超过 30 分钟会自动退出登录" in html


def test_sign_in_lands_on_home_and_is_audited(client, people):
    officer = people["officer"]
    response = sign_in(client, "officer")
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert 'data-role="officer"' in home.content.decode()
    entry = AuditEntry.objects.filter(action="auth.login").get()
    assert entry.actor_id == officer.pk
    assert entry.details == {"ip": "127.0.0.1", "via": "web"}
    officer.refresh_from_db()
    assert officer.last_login is not None


def test_sign_in_follows_a_safe_next_only(client, people):
    response = sign_in(client, "admin", next="/audit/")
    assert response["Location"] == "/audit/"
    client.post("/logout/")
    response = sign_in(client, "admin", next="https://evil.example/")
    assert response["Location"] == "/"


def test_pages_need_sign_in_and_say_so(client, db):
    response = client.get("/devices/mine/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/devices/mine/"
    page = client.get(response["Location"]).content.decode()
    assert "请先登录" in page


def test_signed_in_person_visiting_login_goes_home(client, people):
    client.force_login(people["officer"])
    response = client.get("/login/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_wrong_password_shows_the_error_and_is_audited(client, people):
    response = sign_in(client, "officer", "not-the-password")
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(action="auth.login_failed").get()
    assert entry.actor_id == people["officer"].pk
    assert entry.details["failures"] == 1
    assert "not-the-password" not in str(entry.details)


def test_unknown_username_gets_the_same_message_and_is_audited(client, people):
    response = sign_in(client, "nobody", "whatever")
    assert WRONG in response.content.decode()
    entry = AuditEntry.objects.filter(action="auth.login_failed").get()
    assert entry.actor_id is None
    assert entry.actor_label == "anonymous:nobody"


def test_empty_form_asks_for_both_fields(client, db):
    response = client.post("/login/", {"username": "", "password": ""})
    assert response.status_code == 200
    assert response.content.decode().count('class="field-error"') == 2
    assert not AuditEntry.objects.filter(action__startswith="auth.").exists()


def test_deactivated_person_cannot_sign_in(client, people):
    from jilu.org import actions

    actions.update_person(actor="system:test", person=people["officer"], is_active=False)
    response = sign_in(client, "officer")
    assert response.status_code == 200
    assert WRONG in response.content.decode()


@pytest.mark.db_sensitive
def test_lockout_after_max_failures_refuses_even_the_right_password(client, people, settings):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_LOCKOUT_MINUTES = 15
    officer = people["officer"]
    for n in range(1, 3):
        response = sign_in(client, "officer", f"wrong-{n}")
        assert WRONG in response.content.decode()
    response = sign_in(client, "officer", "wrong-3")
    page = response.content.decode()
    assert LOCKED in page and WRONG not in page
    officer.refresh_from_db()
    assert officer.locked_until is not None
    lock = officer.locked_until - timezone.now()
    assert timedelta(minutes=14) < lock <= timedelta(minutes=15)
    assert actions_for(officer)[-3:] == [
        "auth.login_failed",
        "auth.login_failed",
        "auth.locked_out",
    ]

    # Locked: the right password is refused too, with the minutes left, and nothing is logged in.
    response = sign_in(client, "officer")
    page = response.content.decode()
    assert "连续登录失败次数过多，账号已锁定，请 15 分钟后再试" in page
    assert "_auth_user_id" not in client.session
    assert not AuditEntry.objects.filter(action="auth.login").exists()
    assert actions_for(officer)[-1] == "auth.login_locked"  # the refused attempt is on record

    # The lock ends by itself: move its end into the past.
    Person.objects.filter(pk=officer.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    response = sign_in(client, "officer")
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.locked_until is None and officer.failed_logins == 0
    assert actions_for(officer)[-1] == "auth.login"


@pytest.mark.db_sensitive
def test_default_lockout_threshold_comes_from_settings(client, people):
    assert django_settings.LOGIN_MAX_FAILURES == 5
    for _ in range(django_settings.LOGIN_MAX_FAILURES - 1):
        sign_in(client, "officer", "wrong")
    people["officer"].refresh_from_db()
    assert people["officer"].locked_until is None
    response = sign_in(client, "officer", "wrong")
    assert LOCKED in response.content.decode()


@pytest.mark.db_sensitive
def test_a_successful_sign_in_resets_the_failure_count(client, people, settings):
    settings.LOGIN_MAX_FAILURES = 3
    sign_in(client, "officer", "wrong")
    sign_in(client, "officer", "wrong")
    assert sign_in(client, "officer").status_code == 302
    client.post("/logout/")
    sign_in(client, "officer", "wrong")
    response = sign_in(client, "officer", "wrong")
    assert WRONG in response.content.decode()
    people["officer"].refresh_from_db()
    assert people["officer"].locked_until is None and people["officer"].failed_logins == 2


def test_lockout_of_one_person_leaves_others_alone(client, people, settings):
    settings.LOGIN_MAX_FAILURES = 2
    sign_in(client, "officer", "wrong")
    sign_in(client, "officer", "wrong")
    assert sign_in(client, "officer_b").status_code == 302


# --- session ---------------------------------------------------------------


def test_session_timeout_settings():
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60  # JILU_SESSION_IDLE_MINUTES default
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is True
    assert django_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert django_settings.SESSION_COOKIE_HTTPONLY is True


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_each_request_extends_the_session_and_idleness_ends_it(client, people):
    sign_in(client, "officer")
    row = _session_row(client)
    remaining = row.expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)

    # Activity slides the expiry forward.
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() + timedelta(minutes=5))
    assert client.get("/").status_code == 200
    assert _session_row(client).expire_date - timezone.now() > timedelta(minutes=29)

    # Idle past the limit: the next request is sent to sign in again.
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- sign-out --------------------------------------------------------------


def test_sign_out_is_post_only_and_audited(client, people):
    sign_in(client, "officer")
    assert client.get("/logout/").status_code == 405
    assert client.get("/").status_code == 200  # still signed in
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "已退出登录" in client.get("/login/").content.decode()
    assert client.get("/").status_code == 302
    assert actions_for(people["officer"])[-1] == "auth.logout"


# --- password change -------------------------------------------------------

NEW_PASSWORD = "蓝色-夹克-2027-xyz"


def test_password_change_needs_sign_in(client, db):
    response = client.get("/password/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_password_change_requires_the_old_password(client, people):
    client.force_login(people["officer"])
    response = client.post(
        "/password/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "你的旧密码不正确" in response.content.decode()
    people["officer"].refresh_from_db()
    assert people["officer"].check_password(PASSWORD)
    assert "org.person.password_change" not in actions_for(people["officer"])


@pytest.mark.parametrize(
    ("new1", "new2", "message"),
    [
        (NEW_PASSWORD, NEW_PASSWORD + "x", "输入的两个密码不一致"),
        ("1234567890", "1234567890", "密码只包含数字"),
        # Django 5.2's own catalogue lacks this one; jilu/locale/zh_Hans supplies it.
        ("short", "short", "密码太短：至少需要 8 个字符"),
    ],
    ids=["mismatch", "numeric", "short"],
)
def test_password_change_rejects_bad_new_passwords(client, people, new1, new2, message):
    client.force_login(people["officer"])
    response = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": new1, "new_password2": new2}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    people["officer"].refresh_from_db()
    assert people["officer"].check_password(PASSWORD)


def test_password_change_then_sign_in_with_the_new_password(client, people):
    officer = people["officer"]
    sign_in(client, "officer")
    page = client.get("/password/").content.decode()
    assert "请先输入当前密码" in page
    response = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain == [("/", 302)]
    assert "密码已修改" in response.content.decode()  # and still signed in
    entry = AuditEntry.objects.filter(action="org.person.password_change").get()
    assert entry.actor_id == officer.pk and entry.object_id == str(officer.pk)
    assert NEW_PASSWORD not in str(entry.details)

    client.post("/logout/")
    assert WRONG in sign_in(client, "officer", PASSWORD).content.decode()
    assert sign_in(client, "officer", NEW_PASSWORD).status_code == 302


def test_password_change_ends_other_sessions(client, people):
    from django.test import Client

    other_device = Client()
    sign_in(other_device, "officer")
    assert other_device.get("/").status_code == 200
    sign_in(client, "officer")
    client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 302
