"""A strict Content-Security-Policy on every page, error pages included.

Scripts come from the site's static files only: no inline <script>, no on*=""
handlers, no eval. Styles likewise, except the <style> of the two printable
forms, which carries the response's nonce (WeasyPrint renders the same
templates into PDFs without a server to fetch a stylesheet from). The
templates are checked as written, and the pages as served.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import path

import jilu
from jilu.urls import urlpatterns as jilu_urlpatterns

JILU = Path(jilu.__file__).parent
# Not served by Django: the disc's offline index (a file on a disc), the
# printed record list and the printed disposal list (only ever PDFs).
NOT_SERVED = {
    JILU / "transfer" / "templates" / "transfer" / "disc_index.html",
    JILU / "casework" / "templates" / "casework" / "recordlist_print.html",
    JILU / "retention" / "templates" / "retention" / "disposal_print.html",
    JILU / "oversight" / "templates" / "oversight" / "ledger_print.html",
    JILU / "oversight" / "templates" / "oversight" / "report_print.html",
}
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)
STYLE_ATTR = re.compile(r"""\sstyle\s*=\s*["']""", re.I)
STYLE_ELEMENT = re.compile(r"<style\b([^>]*)>", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def boom(request: HttpRequest):
    raise RuntimeError("a failing page for the test")


urlpatterns = [path("boom/", boom), *jilu_urlpatterns]


def templates() -> list[Path]:
    return sorted(p for p in JILU.rglob("templates/**/*.html") if p not in NOT_SERVED)


def test_templates_carry_no_inline_script_handler_or_style_attribute():
    found = []
    for tpl in templates():
        text = tpl.read_text()
        name = tpl.relative_to(JILU)
        for what, pattern in (
            ("inline <script>", INLINE_SCRIPT),
            ("on*= handler", HANDLER),
            ("style= attribute", STYLE_ATTR),
            ("javascript: URL", JS_URL),
        ):
            if pattern.search(text):
                found.append(f"{name}: {what}")
        for attrs in STYLE_ELEMENT.findall(text):
            if "nonce=" not in attrs:
                found.append(f"{name}: <style> without the response's nonce")
    assert templates(), "no templates found"
    assert not found, found


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_strict(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    policy = directives(header)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    for name, sources in policy.items():
        assert "'unsafe-inline'" not in sources, name
        assert "'unsafe-eval'" not in sources, name
        assert "'unsafe-hashes'" not in sources, name
        assert "*" not in sources, name
    style = policy["style-src"]
    assert style[0] == "'self'" and all(s.startswith("'nonce-") for s in style[1:])
    html = response.content.decode()
    if "text/html" in response.get("Content-Type", ""):
        assert not INLINE_SCRIPT.search(html)
        assert not HANDLER.search(html)
        assert not STYLE_ATTR.search(html)
        nonces = {s[len("'nonce-") : -1] for s in style[1:]}
        for attrs in STYLE_ELEMENT.findall(html):
            match = re.search(r'nonce="([^"]+)"', attrs)
            assert match and match.group(1) in nonces, attrs
    return policy


ROLES = [
    "officer",
    "squad_leader",
    "archivist",
    "case_handler",
    "legal_reviewer",
    "inspector",
    "admin",
]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_in_each_roles_navigation_has_the_strict_policy(client, people, role):
    client.force_login(people[role])
    home = client.get("/")
    assert_strict(home)
    nav = re.search(r'<nav class="mainnav".*?</nav>', home.content.decode(), re.S).group(0)
    links = re.findall(r'href="([^"]+)"', nav)
    assert len(links) >= 5
    for url in links:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)


def test_sign_in_page_and_api_answers_have_the_policy(client, db):
    assert_strict(client.get("/login/"))
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert_strict(response)


def test_error_pages_have_the_policy(client, people):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_strict(response)
    response = client.get("/logout/")  # takes a form submission only
    assert response.status_code == 405
    assert_strict(response)
    client.force_login(people["officer"])
    response = client.get("/org/people/")
    assert response.status_code == 403
    assert_strict(response)
    csrf = Client(enforce_csrf_checks=True)
    response = csrf.post("/login/", {"username": "officer", "password": "x"})
    assert response.status_code == 403 and "页面已过期" in response.content.decode()
    assert_strict(response)


@pytest.mark.urls(__name__)
def test_server_error_page_has_the_policy(db):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "服务器错误" in response.content.decode()
    assert_strict(response)


def test_printable_form_styles_carry_the_nonce_of_their_response(client, people, tree):
    from jilu.casework.actions import create_activity
    from jilu.casework.tests.conftest import T0

    activity = create_activity(
        actor="system:test",
        officers=[people["officer"], people["officer_b"]],
        kind="S1",
        planned_start=T0,
        unit=tree["squad1"],
        category="inspection",
        place_name="某某餐厅",
        address="思明区中山路1号",
    )
    client.force_login(people["officer"])
    response = client.get(f"/casework/docs/activities/{activity.pk}/script/card/")
    assert response.status_code == 200
    policy = assert_strict(response)
    assert len(policy["style-src"]) == 2  # 'self' and this response's nonce
    assert "<style nonce=" in response.content.decode()
    again = client.get(f"/casework/docs/activities/{activity.pk}/script/card/")
    assert directives(again["Content-Security-Policy"])["style-src"] != policy["style-src"]


def test_media_from_the_object_store_is_allowed_only_when_it_serves_plays(tmp_path):
    from jilu import conf

    s3 = conf.S3Config(
        endpoint_url="https://minio.example:9000/",
        bucket="evidence",
        access_key=None,
        secret_key=None,
        region="us-east-1",
        object_lock_days=0,
    )
    assert conf.store_origins(s3) == ["https://minio.example:9000"]
    assert conf.store_origins(None) == []
    aws = conf.S3Config(None, "evidence", None, None, "cn-north-1", 0)
    assert conf.store_origins(aws) == [
        "https://evidence.s3.cn-north-1.amazonaws.com",
        "https://s3.cn-north-1.amazonaws.com",
    ]
