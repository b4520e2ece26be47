"""Back-off while the server is unreachable, and the HTTP client's errors."""

from __future__ import annotations

import socket
import threading

import pytest

from jilu_station.http import Http, Unreachable, normalise_server
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
    assert calls["n"] == 4 and len(said) == 3
    assert "server not available (asking)" in said[0] and "the spool keeps the files" in said[0]


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
