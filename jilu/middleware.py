"""The interface language: Chinese unless the person chose another in the footer."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class ChosenLanguageMiddleware:
    """Like Django's LocaleMiddleware but ignoring the browser's Accept-Language:
    zh-hans is the default for everyone; the language cookie set by the footer's
    picker (``/i18n/setlang/``) switches to English."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.available = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch = response.headers.get("Vary", "")
        if "Cookie" not in patch:
            response.headers["Vary"] = f"{patch}, Cookie" if patch else "Cookie"
        return response


class SessionRefreshMiddleware(SessionMiddleware):
    """Django's session middleware, except on views marked ``keeps_session``.

    Every page a person opens slides the idle timeout forward
    (SESSION_SAVE_EVERY_REQUEST), but a video being played sends many Range
    requests a second: writing the session row for each of them would cost a
    database write per request for nothing, since the page that started
    playback already extended the session.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if getattr(request, "keeps_session", False) and session is not None:
            if not session.modified:
                return response
        return super().process_response(request, response)


def keeps_session(view: Callable) -> Callable:
    """Mark a view whose requests do not extend the session (byte streaming)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        request.keeps_session = True
        return view(request, *args, **kwargs)

    return wrapper


class ClientAddressMiddleware:
    """The client's address behind a trusted front server (audit log, station list).

    nginx (``jilu nginx-conf``) sets ``X-Real-IP`` to the address it accepted
    the connection from. The header is believed only when the request arrives
    from one of ``JILU_TRUSTED_PROXIES``; from anywhere else it is ignored, so a
    client cannot write someone else's address into the audit log, nor spread
    its sign-in attempts over made-up addresses. ``X-Forwarded-Proto`` likewise
    counts only from a trusted proxy.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        proxies = settings.TRUSTED_PROXIES
        peer = _address(request.META.get("REMOTE_ADDR", "")) if proxies else None
        trusted = peer is not None and any(peer in net for net in proxies)
        if not trusted:
            # Only a trusted front server may say that the browser came over
            # HTTPS (SECURE_PROXY_SSL_HEADER): Secure cookies and HSTS follow it.
            request.META.pop("HTTP_X_FORWARDED_PROTO", None)
            return self.get_response(request)
        client = _address(request.META.get("HTTP_X_REAL_IP", ""))
        if client is not None:
            request.META["JILU_PROXY_ADDR"] = request.META["REMOTE_ADDR"]
            request.META["REMOTE_ADDR"] = str(client)
        return self.get_response(request)


class SecureCookiesMiddleware:
    """Every cookie set in answer to an HTTPS request is Secure.

    Django's SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE are fixed for the
    process; here the request decides, so one configuration serves the embedded
    default on http://127.0.0.1 (plain cookies, or signing in would fail) and a
    deployment behind HTTPS (cookies never sent over plain HTTP). Whether a
    request is HTTPS comes from the connection or, behind a trusted proxy, from
    its X-Forwarded-Proto (see ClientAddressMiddleware).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.is_secure():
            for morsel in response.cookies.values():
                morsel["secure"] = True
        return response


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class MethodNotAllowedPageMiddleware:
    """A page instead of an empty body when an address that only takes a form
    submission is opened directly (405): say so and lead back. The API and
    non-HTML clients keep Django's bare answer and its Allow header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and not response.content
            and not request.path.startswith("/api/")
            and "text/html" in request.headers.get("Accept", "text/html")
        ):
            from django.shortcuts import render

            page = render(request, "405.html", status=405)
            if "Allow" in response.headers:
                page.headers["Allow"] = response.headers["Allow"]
            return page
        return response
