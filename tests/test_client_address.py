"""The client's address in the audit log behind nginx (C6.5.7: who, when, from where).

X-Real-IP is believed only from JILU_TRUSTED_PROXIES; anyone else sending it
is recorded under their own address.
"""

from __future__ import annotations

import ipaddress

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from jilu import conf
from jilu.audit.models import AuditEntry
from jilu.middleware import ClientAddressMiddleware


def _seen(settings, remote: str, real_ip: str | None) -> str:
    seen = {}

    def view(request):
        seen["addr"] = request.META["REMOTE_ADDR"]
        return HttpResponse()

    extra = {"HTTP_X_REAL_IP": real_ip} if real_ip is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **extra)
    ClientAddressMiddleware(view)(request)
    return seen["addr"]


def test_header_believed_only_from_trusted_proxies(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.1.0.0/16")]
    assert _seen(settings, "10.1.2.3", "172.16.5.9") == "172.16.5.9"
    assert _seen(settings, "203.0.113.7", "172.16.5.9") == "203.0.113.7"  # not a proxy
    assert _seen(settings, "10.1.2.3", "not-an-address") == "10.1.2.3"
    assert _seen(settings, "10.1.2.3", None) == "10.1.2.3"
    settings.TRUSTED_PROXIES = []
    assert _seen(settings, "10.1.2.3", "172.16.5.9") == "10.1.2.3"


def test_sign_in_behind_nginx_audits_the_client_address(client, settings, people):
    from conftest import PASSWORD

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    client.post(
        "/login/",
        {"username": "officer", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_REAL_IP="192.0.2.44",
    )
    entry = AuditEntry.objects.filter(action__startswith="auth.login").latest("seq")
    assert "192.0.2.44" in str(entry.details)


def test_trusted_proxies_setting_names_a_bad_entry(monkeypatch):
    monkeypatch.setenv("JILU_TRUSTED_PROXIES", "127.0.0.1, nginx.local")
    with pytest.raises(conf.ConfigError, match="'nginx.local' is not an IP address"):
        conf.env_networks("JILU_TRUSTED_PROXIES", [])
    monkeypatch.setenv("JILU_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8, ::1")
    assert len(conf.env_networks("JILU_TRUSTED_PROXIES", [])) == 3
