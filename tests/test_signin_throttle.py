"""Password spraying is slowed: failed sign-ins are counted per client address,
on the sign-in page and the API's token endpoint together; past the limit the
address is refused until the window ends, told when to retry (429 with
Retry-After), and the moment it was stopped is in the audit log. Another address
is not affected, and the per-account lockout still works beside it."""

from __future__ import annotations

import ipaddress
import re

import pytest
from django.test import Client

from conftest import PASSWORD
from jilu.audit.models import AuditEntry
from jilu.org import throttle

LIMIT = 5
PAUSED = "从你所在的网络地址登录失败的次数过多，已暂停登录"


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.SIGNIN_THROTTLE_FAILURES = LIMIT
    settings.SIGNIN_THROTTLE_MINUTES = 10


def web(client, username, password="wrong-password-1", **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def token(client, username, password="wrong-password-1", **extra):
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
        **extra,
    )


def throttled_entries():
    return list(AuditEntry.objects.filter(action="auth.throttled").order_by("seq"))


def test_spraying_many_usernames_from_one_address_is_stopped(client, people):
    for n in range(LIMIT - 1):
        response = web(client, f"guess{n}")
        assert response.status_code == 200
        assert "登录名或密码不正确" in response.content.decode()
    assert throttled_entries() == []

    response = web(client, "officer_b")  # the failure that reaches the limit
    assert response.status_code == 429
    page = response.content.decode()
    assert PAUSED in page
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 600
    assert re.search(r"请在 \d{2}:\d{2}（北京时间，约 \d+ 分钟后）再试", page)

    # Even the right password is refused now, without being checked.
    response = web(client, "officer", PASSWORD)
    assert response.status_code == 429
    assert PAUSED in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= 600
    assert "_auth_user_id" not in client.session
    assert not AuditEntry.objects.filter(action="auth.login").exists()

    [entry] = throttled_entries()
    assert entry.actor_label == "address:127.0.0.1"
    assert entry.details["ip"] == "127.0.0.1"
    assert entry.details["failures"] == LIMIT
    assert entry.details["via"] == "web"
    assert entry.details["until"] > entry.details["since"]
    # Refusals while stopped add no further entries.
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == LIMIT


def test_a_different_address_is_not_throttled(client, people):
    for n in range(LIMIT):
        web(client, f"guess{n}")
    assert web(client, "officer", PASSWORD).status_code == 429
    other = Client(REMOTE_ADDR="192.0.2.44")
    response = web(other, "officer", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert AuditEntry.objects.get(action="auth.login").details["ip"] == "192.0.2.44"


def test_the_address_is_the_trusted_proxys_client_not_a_forged_header(client, people, settings):
    # Without trusted proxies a forged X-Real-IP does not spread the attempts.
    for n in range(LIMIT):
        web(client, f"guess{n}", HTTP_X_REAL_IP=f"198.51.100.{n}")
    assert web(client, "officer", PASSWORD, HTTP_X_REAL_IP="198.51.100.99").status_code == 429

    # Behind nginx the client's address (X-Real-IP) is what counts.
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.20.0.0/16")]
    behind = Client(REMOTE_ADDR="10.20.0.5")
    for n in range(LIMIT):
        web(behind, f"guess{n}", HTTP_X_REAL_IP="203.0.113.7")
    assert web(behind, "officer", PASSWORD, HTTP_X_REAL_IP="203.0.113.7").status_code == 429
    response = web(behind, "officer_b", PASSWORD, HTTP_X_REAL_IP="203.0.113.8")
    assert response.status_code == 302
    assert throttled_entries()[-1].details["ip"] == "203.0.113.7"


def test_token_endpoint_is_throttled_with_429_and_retry_after(client, people):
    for n in range(LIMIT - 1):
        assert token(client, f"guess{n}").status_code == 401
    response = token(client, "officer_b")
    assert response.status_code == 429
    body = response.json()
    assert "已暂停登录" in body["detail"] and "再试" in body["detail"]
    assert int(response["Retry-After"]) == body["retry_after"]
    assert 0 < body["retry_after"] <= 600

    response = token(client, "officer", PASSWORD)
    assert response.status_code == 429 and "token" not in response.json()
    [entry] = throttled_entries()
    assert entry.details["via"] == "api" and entry.details["ip"] == "127.0.0.1"

    other = Client(REMOTE_ADDR="192.0.2.45")
    assert token(other, "officer", PASSWORD).status_code == 200


def test_pages_and_api_count_together(client, people):
    for n in range(LIMIT - 1):
        web(client, f"guess{n}")
    assert token(client, "guess-api").status_code == 429
    assert web(client, "officer", PASSWORD).status_code == 429


def test_locked_accounts_count_as_failures_and_the_lockout_still_works(client, people, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.SIGNIN_THROTTLE_FAILURES = 4
    web(client, "officer")
    response = web(client, "officer")
    assert "账号已锁定" in response.content.decode()  # the per-account lockout, as before
    response = web(client, "officer", PASSWORD)
    assert response.status_code == 200 and "账号已锁定" in response.content.decode()
    response = web(client, "officer", PASSWORD)  # the fourth failure from this address
    assert response.status_code == 429


def test_the_address_may_try_again_once_the_window_has_passed(client, people, monkeypatch):
    for n in range(LIMIT):
        web(client, f"guess{n}")
    assert web(client, "officer", PASSWORD).status_code == 429
    later = throttle.time.time() + 10 * 60 + 1
    monkeypatch.setattr(throttle.time, "time", lambda: later)
    response = web(client, "officer", PASSWORD)
    assert response.status_code == 302
    # A new window starts from scratch.
    assert throttle.check("127.0.0.1") is None
    throttle.failed("127.0.0.1", via="web")
    assert throttle.check("127.0.0.1") is None


def test_the_message_is_in_english_for_english_pages(client, people, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for n in range(LIMIT):
        response = web(client, f"guess{n}")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-ins from your network address" in page
    assert re.search(r"Try again at \d{2}:\d{2} \(Beijing time, in about \d+ minutes\)", page)


def test_ipv6_clients_count_per_64_block(db):
    for n in range(LIMIT):
        throttle.failed(f"2001:db8:0:1::{n + 1:x}", via="web")
    assert throttle.check("2001:db8:0:1:ffff::9") is not None
    assert throttle.check("2001:db8:0:2::1") is None
    assert throttle.check("::ffff:192.0.2.1") is None
    assert throttled_entries()[0].details["counted_as"] == "2001:db8:0:1::/64"


# --- where the counters live -------------------------------------------------


def test_cache_url_chooses_process_memory_or_redis():
    from jilu import conf

    assert conf.parse_cache_url("JILU_CACHE_URL", "locmem://")["BACKEND"].endswith("LocMemCache")
    redis = conf.parse_cache_url("JILU_CACHE_URL", "redis://:pw@cache.internal:6379/2")
    assert redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert redis["LOCATION"] == "redis://:pw@cache.internal:6379/2"
    assert conf.parse_cache_url("JILU_CACHE_URL", "rediss://cache.internal")["BACKEND"].endswith(
        "RedisCache"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("memcached://cache:11211", "unsupported cache"),
        ("redis:///0", "the Redis host is missing"),
        ("redis://cache:port/0", "the port is not a number"),
        ("redis://cache:6379/zero", "database must be a number"),
    ],
)
def test_malformed_cache_url_names_the_variable(url, message):
    from jilu import conf

    with pytest.raises(conf.ConfigError, match=f"JILU_CACHE_URL=.*{message}"):
        conf.parse_cache_url("JILU_CACHE_URL", url)
