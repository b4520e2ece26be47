"""Cookies are Secure whenever the browser came over HTTPS, HSTS then too, and
plain HTTP (the embedded default on http://127.0.0.1) keeps working.

Behind a front server, HTTPS is known from its X-Forwarded-Proto, believed only
from JILU_TRUSTED_PROXIES (as X-Real-IP is)."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import Client

from conftest import PASSWORD
from jilu import conf

PROXY = "10.20.0.5"


@pytest.fixture
def behind_nginx(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.20.0.0/16")]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def sign_in(client, **extra):
    page = client.get("/login/", **extra)
    assert page.status_code == 200
    return client.post(
        "/login/",
        {
            "username": "officer",
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
        **extra,
    )


def test_plain_http_signs_in_with_plain_cookies_and_no_hsts(people):
    client = Client(enforce_csrf_checks=True)
    response = sign_in(client)
    assert response.status_code == 302 and response["Location"] == "/"
    assert not response.cookies["sessionid"]["secure"]
    assert not client.cookies["csrftoken"]["secure"]
    assert "Strict-Transport-Security" not in response
    home = client.get("/")
    assert home.status_code == 200 and 'data-role="officer"' in home.content.decode()


def test_behind_an_https_proxy_cookies_are_secure_and_hsts_is_sent(people, behind_nginx, settings):
    settings.ALLOWED_HOSTS = ["jilu.example"]
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=PROXY)
    https = {
        "HTTP_HOST": "jilu.example",  # nginx passes the browser's Host on
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_REAL_IP": "192.0.2.10",
        "HTTP_ORIGIN": "https://jilu.example",
    }
    page = client.get("/login/", **https)
    assert page.cookies["csrftoken"]["secure"]
    assert page["Strict-Transport-Security"] == "max-age=31536000"
    response = sign_in(client, **https)
    assert response.status_code == 302, response.content.decode()[:500]
    assert response.cookies["sessionid"]["secure"]
    assert response.cookies["sessionid"]["httponly"]
    assert response["Strict-Transport-Security"] == "max-age=31536000"
    home = client.get("/", **https)
    assert home.status_code == 200
    # The footer's language cookie too.
    switched = client.post(
        "/i18n/setlang/",
        {"language": "en", "next": "/", "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
        **https,
    )
    assert switched.cookies["django_language"]["secure"]


def test_x_forwarded_proto_from_anyone_else_is_ignored(people, behind_nginx):
    client = Client(REMOTE_ADDR="192.0.2.77")  # not a trusted proxy
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert not response.cookies["csrftoken"]["secure"]
    assert "Strict-Transport-Security" not in response


def test_plain_http_through_the_proxy_stays_plain(people, behind_nginx):
    client = Client(REMOTE_ADDR=PROXY)
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="http", HTTP_X_REAL_IP="192.0.2.10")
    assert not response.cookies["csrftoken"]["secure"]
    assert "Strict-Transport-Security" not in response


def test_hsts_settings_are_followed(people, behind_nginx, settings):
    settings.SECURE_HSTS_SECONDS = 600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    client = Client(REMOTE_ADDR=PROXY)
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"] == "max-age=600; includeSubDomains"
    settings.SECURE_HSTS_SECONDS = 0
    response = Client(REMOTE_ADDR=PROXY).get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in response


def test_secure_cookies_always_when_tls_ends_without_telling(people, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    response = Client().get("/login/")
    assert response.cookies["csrftoken"]["secure"]


@pytest.mark.parametrize(
    ("raw", "always"),
    [(None, False), ("auto", False), ("false", False), ("always", True), ("true", True)],
)
def test_secure_cookies_setting(monkeypatch, raw, always):
    if raw is None:
        monkeypatch.delenv("JILU_SECURE_COOKIES", raising=False)
    else:
        monkeypatch.setenv("JILU_SECURE_COOKIES", raw)
    assert conf.env_secure_cookies("JILU_SECURE_COOKIES") is always


def test_secure_cookies_setting_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("JILU_SECURE_COOKIES", "sometimes")
    with pytest.raises(conf.ConfigError, match="JILU_SECURE_COOKIES='sometimes'.*auto, always"):
        conf.env_secure_cookies("JILU_SECURE_COOKIES")
