"""Answers that say what is wrong when nothing can be served: the reason a view
gave for its 404 on the page, JSON for every error under /api/, and a query
string that is not UTF-8 refused rather than read as replacement characters
(a filter must never silently mean something else, C6.4)."""

from __future__ import annotations

import pytest

from tests.test_api_base import bearer, issue

pytestmark = pytest.mark.django_db

GBK_ZHANG_SAN = "%D5%C5%C8%FD"  # 张三 in GBK, as a Chinese Windows tool sends it


@pytest.fixture
def token(client, people) -> str:
    return issue(client, "inspector").json()["token"]


def test_a_page_not_found_says_the_reason_the_view_gave(client, people):
    client.force_login(people["inspector"])
    officer = people["officer"]
    page = client.get(f"/recordings/timeline/officer/{officer.pk}/2026-13-45/")
    assert page.status_code == 404
    text = page.content.decode()
    assert "日期格式应为 YYYY-MM-DD" in text and 'role="alert"' in text
    assert "找不到你要打开的页面或记录" not in text

    nowhere = client.get("/no/such/page/")
    assert nowhere.status_code == 404
    text = nowhere.content.decode()
    assert "找不到你要打开的页面或记录" in text and 'role="alert"' not in text
    assert "Resolver404" not in text and "/no/such/page/" in text


def test_a_page_not_found_in_english(client, people):
    client.force_login(people["inspector"])
    client.cookies["django_language"] = "en"
    officer = people["officer"]
    page = client.get(
        f"/recordings/timeline/officer/{officer.pk}/2026-13-45/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 404
    assert "YYYY-MM-DD" in page.content.decode()


def test_an_address_that_is_no_operation_answers_json(client, token):
    answer = client.get("/api/v1/nonexistent", **bearer(token))
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("application/json")
    assert answer.json()["detail"].startswith("没有这个接口：GET /api/v1/nonexistent")

    slash = client.get("/api/v1/findings/", **bearer(token))
    assert slash.status_code == 404 and slash["Content-Type"].startswith("application/json")
    assert "接口地址末尾没有斜杠：/api/v1/findings" in slash.json()["detail"]

    anonymous = client.get("/api/v1/no/such/thing")
    assert anonymous.status_code == 404 and "没有这个接口" in anonymous.json()["detail"]


def test_a_method_an_operation_does_not_take_answers_json(client, token):
    answer = client.delete("/api/v1/findings", **bearer(token))
    assert answer.status_code == 405
    assert answer["Content-Type"].startswith("application/json")
    assert "GET" in answer["Allow"]
    detail = answer.json()["detail"]
    assert "/api/v1/findings 不接受 DELETE 请求" in detail and "GET" in detail


def test_the_pages_keep_their_405_page(client, people):
    client.force_login(people["admin"])
    page = client.get("/logout/", HTTP_ACCEPT="text/html")
    assert page.status_code == 405
    assert "不能直接打开这个地址" in page.content.decode()


def test_tus_answers_stay_the_protocols(client):
    """The tus server's own answers (a station reads their status and headers)."""
    upload = "/api/v1/uploads/00000000-0000-4000-8000-000000000000"
    answer = client.head(upload, HTTP_TUS_RESUMABLE="1.0.0")
    assert answer.status_code in (401, 403, 404)
    assert answer["Tus-Resumable"] == "1.0.0"


def test_a_query_string_that_is_not_utf8_is_refused(client, token, people):
    answer = client.get(f"/api/v1/audit?person={GBK_ZHANG_SAN}", **bearer(token))
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/json")
    assert answer.json()["detail"] == (
        "地址中的参数 person 不是 UTF-8 编码：请把参数按 UTF-8 编码（百分号编码）后再试"
    )

    client.force_login(people["inspector"])
    page = client.get("/audit/?q=%E9%FF&person=x", HTTP_ACCEPT="text/html")
    assert page.status_code == 400
    assert "地址中的参数 q 不是 UTF-8 编码" in page.content.decode()

    export = client.get(f"/audit/export.xlsx?q={GBK_ZHANG_SAN}", HTTP_ACCEPT="text/html")
    assert export.status_code == 400


def test_a_query_string_in_utf8_is_read(client, token):
    answer = client.get("/api/v1/audit?q=%E5%BC%A0%E4%B8%89&page=1", **bearer(token))
    assert answer.status_code == 200, answer.content
    plus = client.get("/api/v1/audit?q=a+b", **bearer(token))
    assert plus.status_code == 200
