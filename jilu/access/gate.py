"""The copy gate (C6.3, C6.5.7): the single check in front of every download of
an original, on the web and in the API. Playing and viewing are not gated here
(they stay within ``restrict(user, "view")``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from jilu.access import actions, scope
from jilu.access.models import AccessRequest

REFUSAL = gettext_lazy("复制原始文件须经负责领导审批调用单（C6.3）")


def _request_id(request: HttpRequest) -> int | None:
    value = request.GET.get("request", "")
    return int(value) if value.isdigit() else None


def _continues(request: HttpRequest) -> bool:
    """A ranged request past byte 0 resumes a copy already recorded."""
    header = (request.headers.get("Range") or "").replace(" ", "").lower()
    return bool(header) and not header.startswith("bytes=0-")


def authorise_copy(
    request: HttpRequest, recording: Any, *, via: str = "web"
) -> AccessRequest | None:
    """The request under which this download is made, recorded against it; None
    when there is none (the caller refuses and audits the refusal)."""
    grant = scope.copy_grant(request.user, recording, _request_id(request))
    if grant is not None and not _continues(request):
        actions.record_copy(actor=request.user, request=grant, recording=recording, via=via)
    return grant
