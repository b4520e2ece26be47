"""Back-off while the server is unreachable, and the HTTP client's errors."""

from __future__ import annotations

import json
import random
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from jilu_station.http import Http, Unreachable, normalise_server, retry_after
from jilu_station.retry import Backoff, GaveUp, Stopped


def test_retries_with_growing_waits_then_succeeds():
    said: list[str] = []
    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 4:
            raise Unreachable("connection refused")
        return "ok"

    backoff = Backoff(retry_for=10, say=said.append, stop=threading.Event(), first=0.01, cap=0.02)
    assert backoff(flaky, "asking") == "ok"
    assert calls["n"] == 4 and len(said) == 4
    assert "server not available (asking)" in said[0] and "the spool keeps the files" in said[0]
    assert "attempt 1," in said[0] and "attempt 3," in said[2]
    assert said[3].startswith("server available again (asking) after")


def test_gives_up_after_retry_for():
    def down() -> None:
        raise Unreachable("connection refused")

    backoff = Backoff(retry_for=0.05, say=lambda s: None, stop=threading.Event(), first=0.01)
    with pytest.raises(GaveUp, match="unreachable for .* run again"):
        backoff(down)


def test_stops_when_asked():
    stop = threading.Event()
    stop.set()
    with pytest.raises(Stopped):
        Backoff(retry_for=60, say=lambda s: None, stop=stop)(lambda: None)


def test_closed_port_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Unreachable):
        Http(f"http://127.0.0.1:{port}", "jst_x", timeout=2).request("GET", "/api/v1/station/me")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://10.0.0.5:8000/", "http://10.0.0.5:8000"),
        ("https://jilu.example/api/v1", "https://jilu.example"),
    ],
)
def test_server_urls(given, expected):
    assert normalise_server(given) == expected


def test_bad_server_url():
    with pytest.raises(ValueError, match="http://host:port"):
        normalise_server("10.0.0.5:8000")


def test_never_gives_up_by_default_while_the_server_is_down():
    """retry_for 0 (jilu-station's default): a long outage is waited out, not an exit 1."""
    said: list[str] = []
    calls = {"n": 0}

    def down_for_a_while() -> str:
        calls["n"] += 1
        if calls["n"] <= 40:
            raise Unreachable("HTTP 503 证据存储暂时无法连接", status=503)
        return "ok"

    backoff = Backoff(retry_for=0, say=said.append, stop=threading.Event(), first=0.001, cap=0.002)
    assert backoff(down_for_a_while, "uploading") == "ok"
    assert calls["n"] == 41
    assert "attempt 40," in said[39] and "server available again (uploading)" in said[40]


def test_waits_are_jittered_bounded_and_honour_retry_after():
    backoff = Backoff(retry_for=0, say=lambda s: None, stop=threading.Event(), rng=random.Random(7))
    plain = [backoff.wait_for(8.0, Unreachable("refused")) for _ in range(50)]
    assert all(4.0 <= w <= 8.0 for w in plain) and len(set(plain)) > 1
    asked = [backoff.wait_for(0.5, Unreachable("503", retry_after=10)) for _ in range(50)]
    assert all(10.0 <= w <= 12.0 for w in asked)
    capped = [backoff.wait_for(1000.0, Unreachable("503", retry_after=3600)) for _ in range(50)]
    assert all(w <= 30.0 for w in capped)


def test_retry_after_header_values():
    from email.utils import format_datetime

    assert retry_after("10") == 10.0
    assert retry_after("") is None and retry_after("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=120)
    assert 60 < retry_after(format_datetime(later, usegmt=True)) <= 120


class _Answer503(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.dumps({"detail": "证据存储暂时无法连接，请约 10 秒后重试"}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "10")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_a_503_is_unreachable_with_the_servers_detail_and_retry_after():
    server = HTTPServer(("127.0.0.1", 0), _Answer503)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        http = Http(f"http://127.0.0.1:{server.server_port}", "jst_x", timeout=10)
        with pytest.raises(Unreachable, match="HTTP 503 证据存储暂时无法连接") as caught:
            http.request("GET", "/api/v1/station/me")
    finally:
        server.shutdown()
        server.server_close()
    assert caught.value.status == 503 and caught.value.retry_after == 10.0
