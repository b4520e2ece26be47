"""When the store, the database or the task queue cannot be reached: 503 with Retry-After.

Every request that fails because a service Jilu depends on is down answers the
same way, from here: ``503 Service Unavailable`` with ``Retry-After`` and, for
the station, the API and any other program, a JSON ``{"detail": "…"}`` body
(never an HTML page: a station would have nothing to read in it); a person in
the browser gets a short page saying to try again shortly. Clients retry
(``jilu-station`` with a bounded, jittered back-off) and nothing they sent is
lost: what the server acknowledged before the outage stays acknowledged.

Three ways in, all answering through :func:`response`:

- :class:`UnavailableMiddleware` for exceptions raised by a view (pages, the
  tus server, the API when ``DEBUG`` is off);
- the exception handlers that ``jilu/api.py`` registers for :data:`HANDLED`
  (the API when ``DEBUG`` is on, where django-ninja would answer a traceback);
- :func:`server_error`, Django's ``handler500``, for failures outside a view
  (a middleware reaching the database), which Django turns into a 500 itself.

What counts as unavailable is :func:`unavailable`: the store's
:class:`Unavailable` errors, botocore's connection errors and timeouts, the
database's ``OperationalError`` and ``InterfaceError`` (except SQLite's schema
errors, which are bugs, not outages) and Redis's connection errors.
"""

from __future__ import annotations

import logging
import sys
from html import escape

from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)

# Seconds a client is asked to wait before trying again.
RETRY_AFTER = 10

STORE, DATABASE, QUEUE = "store", "database", "queue"


class Unavailable(Exception):
    """A service Jilu depends on cannot be reached right now; retrying later may work.

    ``what`` is one of ``store``, ``database``, ``queue``. The evidence store
    raises its ``StoreUnavailable`` (a subclass) for connection failures.
    """

    what = STORE


def _redis_errors() -> tuple[type[BaseException], ...]:
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # the embedded default needs no Redis
        return ()
    return (RedisConnectionError, RedisTimeoutError)


_REDIS = _redis_errors()
# Exception classes that may mean an outage (see unavailable() for the rest).
HANDLED: tuple[type[BaseException], ...] = (
    Unavailable,
    BotoConnectionError,
    HTTPClientError,
    OperationalError,
    InterfaceError,
    *_REDIS,
)
# SQLite says these when the schema is wrong (a migration missing): a bug to
# see at once, not an outage to wait out.
_SCHEMA_ERRORS = ("no such table", "no such column", "has no column named")


def unavailable(exc: BaseException | None) -> str | None:
    """``store``, ``database`` or ``queue`` when ``exc`` (or what caused it) is an
    outage of that service; None for any other error."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, Unavailable):
            return exc.what
        if isinstance(exc, (BotoConnectionError, HTTPClientError)):
            return STORE
        if _REDIS and isinstance(exc, _REDIS):
            return QUEUE
        if isinstance(exc, (OperationalError, InterfaceError)):
            text = str(exc).lower()
            return None if any(s in text for s in _SCHEMA_ERRORS) else DATABASE
        exc = exc.__cause__
        seen += 1
    return None


_DETAIL = {
    STORE: "证据存储暂时无法连接，请约 {n} 秒后重试；已保存的数据不受影响",
    DATABASE: "数据库暂时无法连接，请约 {n} 秒后重试；已保存的数据不受影响",
    QUEUE: "任务队列暂时无法连接，请约 {n} 秒后重试；已保存的数据不受影响",
}
_PAGE = """<!doctype html>
<html lang="zh-hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>服务暂时不可用</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto; padding: 0 1em">
<h1>服务暂时不可用</h1>
<p>{detail}。</p>
<p>The service is briefly unavailable ({what}); please try again in about {n} seconds.</p>
<p><a href="">重新加载 / Reload</a></p>
</body></html>
"""


# How the API document describes the 503 every operation may answer.
OPENAPI_503 = {
    "description": "证据存储、数据库或任务队列暂时无法连接；按 Retry-After 的秒数稍后重试",
    "headers": {
        "Retry-After": {
            "description": "seconds to wait before trying again",
            "schema": {"type": "integer", "minimum": 1, "maximum": 3600},
        }
    },
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
            }
        }
    },
}


def wants_json(request: HttpRequest) -> bool:
    """Programs get JSON: anything under ``/api/`` and any request not asking for HTML."""
    if request.path.startswith("/api/"):
        return True
    return "text/html" not in request.headers.get("Accept", "")


def response(request: HttpRequest, what: str, exc: BaseException | None = None) -> HttpResponse:
    """The 503 answer for an outage of ``what`` (``store``, ``database``, ``queue``)."""
    detail = _DETAIL[what].format(n=RETRY_AFTER)
    log.warning(
        "%s %s: the %s is unavailable (%s: %s); answered 503",
        request.method,
        request.path,
        what,
        type(exc).__name__ if exc is not None else "-",
        exc,
    )
    if wants_json(request):
        resp: HttpResponse = JsonResponse(
            {"detail": detail}, status=503, json_dumps_params={"ensure_ascii": False}
        )
    else:
        page = _PAGE.format(detail=escape(detail), what=escape(what), n=RETRY_AFTER)
        resp = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    resp["Retry-After"] = str(RETRY_AFTER)
    resp["Cache-Control"] = "no-store"
    if request.path.startswith("/api/v1/uploads/"):
        resp["Tus-Resumable"] = "1.0.0"
    return resp


def handle(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    """The 503 answer if ``exc`` is an outage, else None."""
    what = unavailable(exc)
    return None if what is None else response(request, what, exc)


class UnavailableMiddleware:
    """Turns an outage raised by a view into the 503 answer (see the module's text)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return handle(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an outage outside a view is still a 503; other errors are
    Django's 500 page, or ``{"detail": …}`` for programs."""
    exc = sys.exc_info()[1]
    answer = handle(request, exc) if exc is not None else None
    if answer is not None:
        return answer
    if wants_json(request):
        return JsonResponse(
            {"detail": "服务器内部错误，已记录在服务器日志中；请稍后重试或联系系统管理员"},
            status=500,
            json_dumps_params={"ensure_ascii": False},
        )
    from django.views.defaults import server_error as django_server_error

    return django_server_error(request)
