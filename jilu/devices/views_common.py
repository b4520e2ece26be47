"""Shared helpers and settings for the device pages (see ``jilu.devices.views``).

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.devices.actions``. An object outside the user's view scope
is a 404; one the user sees but may not change is a 403 on POST.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from jilu.devices.models import Recorder, Workstation
from jilu.org.roles import LEADERS, UNIT_READERS, Role

# Who opens which page (the rows they then see come from restrict()).
RECORDER_READERS = (Role.ADMIN, Role.INSPECTOR, *UNIT_READERS)
STATION_READERS = (Role.ADMIN, Role.INSPECTOR, *LEADERS)
GAP_READERS = (Role.ADMIN, Role.INSPECTOR, *LEADERS)

PAGE_SIZE = 50
EVENTS_PAGE_SIZE = 30
NEW_TOKEN_KEY = "devices.new_station_token"


def _require(request: HttpRequest, roles: tuple[str, ...], message: str) -> None:
    if not request.user.has_role(*roles):
        raise PermissionDenied(message)


def _querystring_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode() + "&" if query else ""


def _get_recorder(request: HttpRequest, serial: str, action: str = "view") -> Recorder:
    """The recorder if the user may see it (else 404) and, for ``action`` other
    than view, may act on it (else 403)."""
    recorder = (
        Recorder.objects.restrict(request.user, "view")
        .select_related("unit")
        .filter(serial=serial.upper())
        .first()
    )
    if recorder is None:
        raise Http404(_("没有这台记录仪，或它不在你的管辖范围内"))
    if action != "view" and not _may(request.user, recorder, action):
        raise PermissionDenied(_("你可以查看这台记录仪，但不能对它进行此操作"))
    return recorder


def _may(user: Any, obj: Recorder | Workstation, action: str) -> bool:
    return type(obj).objects.restrict(user, action).filter(pk=obj.pk).exists()


def _detail_url(recorder: Recorder) -> str:
    return reverse("devices:recorder_detail", args=[recorder.serial])
