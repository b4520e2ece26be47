"""Answers that say what is wrong, for what no view could serve.

- :func:`page_not_found` (Django's ``handler404``): a person sees the reason the
  view gave (an invalid month, a format that does not exist, a unit outside
  their scope), not only "page not found"; a program under ``/api/`` gets JSON.
- :class:`ApiErrorsAsJsonMiddleware`: every error answer under ``/api/`` is
  ``{"detail": "…"}`` JSON, including the ones django-ninja and Django give as
  HTML or bare text (an address that is no operation, a method it does not
  take). The tus upload server keeps its protocol's own answers.
- :class:`QueryEncodingMiddleware`: a query string that is not UTF-8 (a GBK
  name from a Windows tool) is refused with 400 saying so, instead of being
  read as replacement characters and used as a filter value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import unquote_to_bytes

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from jilu.outage import wants_json

# Django's own messages (get_object_or_404) name model classes in English; a
# person is told the general "not found" instead.
_DJANGO_DEFAULT = re.compile(r"^No .* matches the given query\.$")
TUS_PREFIX = "/api/v1/uploads/"


def not_found_reason(exception: BaseException | None) -> str:
    """The reason a view gave with its Http404, or "" when it gave none to show."""
    if not isinstance(exception, Http404) or isinstance(exception, Resolver404):
        return ""
    if not exception.args or not isinstance(exception.args[0], str):
        return ""
    text = str(exception.args[0])
    return "" if _DJANGO_DEFAULT.match(text) else text


def page_not_found(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        detail = not_found_reason(exception) or _api_not_found(request)
        return _json(detail, 404)
    context = {"request_path": request.path, "reason": not_found_reason(exception)}
    return render(request, "404.html", context, status=404)


def _api_not_found(request: HttpRequest) -> str:
    text = _("没有这个接口：%(method)s %(path)s") % {
        "method": request.method,
        "path": request.path,
    }
    if request.path.endswith("/") and _resolves(request.path.rstrip("/")):
        text += _("（接口地址末尾没有斜杠：%(path)s）") % {"path": request.path.rstrip("/")}
    return text + _("；接口说明见 /api/v1/docs")


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _json(detail: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"detail": detail}, status=status, json_dumps_params={"ensure_ascii": False}
    )


class ApiErrorsAsJsonMiddleware:
    """Error answers under ``/api/`` that are not JSON become ``{"detail": "…"}``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith("/api/")
            or request.path.startswith(TUS_PREFIX)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        if response.status_code == 404:
            detail = _api_not_found(request)
        elif response.status_code == 405:
            detail = _("%(path)s 不接受 %(method)s 请求；可用的方法：%(allowed)s") % {
                "path": request.path,
                "method": request.method,
                "allowed": response.get("Allow", "") or "—",
            }
        else:
            try:
                detail = HTTPStatus(response.status_code).phrase
            except ValueError:
                detail = str(response.status_code)
        answer = _json(detail, response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                answer[header] = response[header]
        return answer


def undecodable_parameter(query_string: str) -> str | None:
    """The first parameter of ``query_string`` (as the WSGI server gave it) whose
    name or value is not UTF-8 once percent-decoded, shown as best it can be;
    None when every one is UTF-8."""
    for part in query_string.split("&"):
        raw = unquote_to_bytes(part.replace("+", " ").encode("latin-1", "replace"))
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            name = raw.partition(b"=")[0]
            return name.decode("utf-8", "replace") or "?"
    return None


class QueryEncodingMiddleware:
    """400 for a query string that is not UTF-8, before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        name = undecodable_parameter(query) if query else None
        if name is None:
            return self.get_response(request)
        detail = _(
            "地址中的参数 %(name)s 不是 UTF-8 编码：请把参数按 UTF-8 编码（百分号编码）后再试"
        ) % {"name": name}
        if wants_json(request):
            return _json(detail, 400)
        return render(
            request, "400.html", {"reason": detail, "request_path": request.path}, status=400
        )
