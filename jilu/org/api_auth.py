"""Bearer tokens for people and for stations (workstations).

A person's token (``jpt_…``) comes from ``POST /api/v1/auth/token`` and lasts
``JILU_API_TOKEN_DAYS``; a station's token (``jst_…``) is shown once when its
workstation is registered. Only SHA-256 digests are stored. A missing, unknown,
expired or revoked token, or one of a deactivated person, is answered 401.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

PERSON_TOKEN_PREFIX = "jpt_"

# Other kinds of bearer (a station's token) are resolved by the app that owns
# them, which registers a resolver here from its ``AppConfig.ready()``:
# ``resolver(token, ip=...)`` returns the authenticated object or ``None``.
_resolvers: list[Callable[..., Any]] = []


def register_token_resolver(resolver: Callable[..., Any]) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class BearerAuth(HttpBearer):
    """Sets ``request.user`` (a person) or ``request.station`` (a workstation)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from jilu.org.models import ApiToken

        if not token:
            return None
        if token.startswith(PERSON_TOKEN_PREFIX):
            found = (
                ApiToken.objects.select_related("person", "person__unit")
                .filter(digest=token_digest(token), revoked_at__isnull=True)
                .first()
            )
            if found is None:
                return None
            now = timezone.now()
            if found.expires_at <= now or not found.person.is_active:
                return None
            if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
                ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            request.user = found.person
            request.station = None
            return found.person
        for resolve in _resolvers:
            station = resolve(token, ip=request.META.get("REMOTE_ADDR"))
            if station is not None:
                request.station = station
                return station
        return None


def person_only(request: HttpRequest) -> Any:
    """For handlers that a station token must not reach."""
    return getattr(request, "station", None) is None
