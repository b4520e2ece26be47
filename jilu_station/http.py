"""A small HTTP/1.1 client on ``http.client``: keep-alive per thread, bearer token, clear errors.

The station needs nothing more: JSON calls and tus PATCHes with a bytes body.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from jilu_station import __version__

USER_AGENT = f"jilu-station/{__version__}"
_IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "DELETE"}
# Retry later: proxy errors, store unavailable (503), upload busy (423), server spool full (507).
_UNREACHABLE_STATUS = {423, 502, 503, 504, 507}


class Unreachable(Exception):
    """The server cannot be reached or asks to be retried later (423, 502–504, 507).

    ``status`` is the HTTP status (None when no answer came at all) and
    ``retry_after`` the seconds the server asked the station to wait, if it did.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class AuthRefused(Exception):
    """The server refused the station token (revoked or unknown) or this station."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class HttpError(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str]) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail
        self.headers = headers


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def detail(self) -> str:
        try:
            data = self.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict) and "detail" in data:
            detail = data["detail"]
            return detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
        reason = http.client.responses.get(self.status, "")
        text = self.body.decode("utf-8", "replace").strip()
        if "html" in self.headers.get("content-type", "") or text.startswith("<"):
            return f"{reason} (the server sent an HTML page; see the server's log)"
        return text[:300] or reason


def normalise_server(url: str) -> str:
    """``http://host:port`` (a trailing ``/api/v1`` or slash is dropped)."""
    url = url.strip().rstrip("/")
    if url.endswith("/api/v1"):
        url = url[: -len("/api/v1")]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"server URL must look like http://host:port, got {url!r}")
    return url


class Http:
    """One keep-alive connection per thread to one server."""

    def __init__(self, server: str, token: str, *, timeout: float = 600.0) -> None:
        self.server = normalise_server(server)
        self.token = token
        self.timeout = timeout
        parts = urlsplit(self.server)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path
        self._local = threading.local()

    def url(self, path: str) -> str:
        return urljoin(self.server + "/", path.lstrip("/")) if not path.startswith("http") else path

    def _conn(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        last = getattr(self._local, "last", 0.0)
        if conn is not None and time.monotonic() - last > 1.5:
            # Servers drop idle keep-alive connections (gunicorn after 2 s): start afresh
            # rather than have a POST or PATCH meet a closed socket.
            conn.close()
            conn = None
        if conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(
                    self._host,
                    self._port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | memoryview | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
    ) -> Response:
        """Send one request; raises :class:`Unreachable` or :class:`AuthRefused`, else answers."""
        url = urlsplit(self.url(path))
        target = url.path + (f"?{url.query}" if url.query else "")
        all_headers = {
            "Authorization": f"Bearer {self.token}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        if body is not None or method in ("POST", "PATCH", "PUT"):
            all_headers["Content-Length"] = str(len(body) if body is not None else 0)
        attempts = 2 if method in _IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                conn = self._conn()
                conn.putrequest(method, target, skip_accept_encoding=True)
                for name, value in all_headers.items():
                    conn.putheader(name, value)
                conn.endheaders()
                if body is not None and len(body):
                    conn.send(body)
                raw = conn.getresponse()
                data = raw.read()
                headers_out = {k.lower(): v for k, v in raw.getheaders()}
                self._local.last = time.monotonic()
                if raw.will_close:
                    self.close()
                break
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt + 1 < attempts:
                    continue
                raise Unreachable(f"{self.server}: {type(exc).__name__}: {exc}") from exc
        response = Response(raw.status, headers_out, data)
        if response.status == 401:
            raise AuthRefused(response.status, response.detail())
        if response.status in _UNREACHABLE_STATUS:
            raise Unreachable(
                f"{self.server}: HTTP {response.status} {response.detail()}",
                status=response.status,
                retry_after=retry_after(response.headers.get("retry-after")),
            )
        return response

    def json(self, method: str, path: str, *, ok: tuple[int, ...], json_body: Any = None) -> Any:
        response = self.request(method, path, json_body=json_body)
        if response.status not in ok:
            raise HttpError(response.status, response.detail(), response.headers)
        return response.json()
