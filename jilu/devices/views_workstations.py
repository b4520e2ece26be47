"""Collection workstation pages and their upload tokens (C1.2)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from jilu.devices import actions, queries
from jilu.devices.forms import WorkstationForm, apply_errors
from jilu.devices.models import DeviceEvent, Workstation
from jilu.devices.views_common import (
    NEW_TOKEN_KEY,
    PAGE_SIZE,
    STATION_READERS,
    _may,
    _querystring_without_page,
    _require,
)

# --- workstations ---------------------------------------------------------


def _get_station(request: HttpRequest, pk: int, action: str = "view") -> Workstation:
    station = (
        Workstation.objects.restrict(request.user, "view")
        .select_related("unit")
        .filter(pk=pk)
        .first()
    )
    if station is None:
        raise Http404(_("没有这个工作站，或它不在你的管辖范围内"))
    if action != "view" and not _may(request.user, station, action):
        raise PermissionDenied(_("只有本单位的系统管理员可以管理工作站"))
    return station


def _station_url(station: Workstation) -> str:
    return reverse("devices:workstation_detail", args=[station.pk])


@login_required
def workstation_list(request: HttpRequest) -> HttpResponse:
    _require(request, STATION_READERS, _("你的角色不能查看采集工作站"))
    user = request.user
    units = queries.visible_units(user)
    unit_code = request.GET.get("unit", "").strip()
    unit = units.filter(code=unit_code).first() if unit_code else None
    state = request.GET.get("state", "")
    stations = Workstation.objects.restrict(user, "view").select_related("unit")
    if unit is not None:
        stations = stations.filter(unit__path__startswith=unit.path)
    elif unit_code:
        stations = stations.none()
    if state == "active":
        stations = stations.filter(revoked_at__isnull=True)
    elif state == "revoked":
        stations = stations.filter(revoked_at__isnull=False)
    else:
        state = ""
    page = Paginator(stations.order_by("unit__path", "name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "devices/workstation_list.html",
        {
            "page_obj": page,
            "querystring_without_page": _querystring_without_page(request),
            "units": units,
            "unit_code": unit.code if unit else "",
            "state": state,
            "can_create": queries.units_for_workstations(user).exists(),
        },
    )


@login_required
def workstation_create(request: HttpRequest) -> HttpResponse:
    units = queries.units_for_workstations(request.user)
    if not units.exists():
        raise PermissionDenied(_("只有系统管理员可以登记采集工作站"))
    initial = {}
    preset = units.filter(code=request.GET.get("unit", "")).first()
    if preset is not None:
        initial = {"unit": preset, "name": f"{preset.short_name}采集工作站"}
    form = WorkstationForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            station, raw = actions.create_workstation(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            # Kept in the session only until the next page shows it, once.
            request.session[NEW_TOKEN_KEY] = {"station": station.pk, "token": raw}
            return redirect(_station_url(station))
    return render(
        request,
        "devices/workstation_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@login_required
def workstation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, STATION_READERS, _("你的角色不能查看采集工作站"))
    station = _get_station(request, pk)
    token = None
    pending = request.session.get(NEW_TOKEN_KEY)
    if pending and pending.get("station") == station.pk:
        # Shown exactly once: taken out of the session as it is displayed.
        token = request.session.pop(NEW_TOKEN_KEY)["token"]
    events = (
        DeviceEvent.objects.restrict(request.user, "view")
        .filter(workstation=station)
        .select_related("recorder")
        .order_by("-at", "-pk")[:50]
    )
    return render(
        request,
        "devices/workstation_detail.html",
        {
            "station": station,
            "token": token,
            "events": events,
            "can_change": _may(request.user, station, "change"),
        },
    )


def _confirm(request: HttpRequest, station: Workstation, *, what: str) -> HttpResponse:
    return render(request, "devices/workstation_confirm.html", {"station": station, "what": what})


@login_required
def workstation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    station = _get_station(request, pk, "change")
    if request.method != "POST":
        return _confirm(request, station, what="revoke")
    try:
        actions.revoke_workstation(actor=request.user, station=station)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request, _("已吊销工作站“%(name)s”的令牌，它已不能再上传") % {"name": station.name}
        )
    return redirect(_station_url(station))


@login_required
def workstation_reissue(request: HttpRequest, pk: int) -> HttpResponse:
    station = _get_station(request, pk, "change")
    if request.method != "POST":
        return _confirm(request, station, what="reissue")
    try:
        station, raw = actions.reissue_workstation_token(actor=request.user, station=station)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        request.session[NEW_TOKEN_KEY] = {"station": station.pk, "token": raw}
    return redirect(_station_url(station))
