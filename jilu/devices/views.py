"""Pages for recorders, workstations and equipment gaps."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jilu.devices import queries
from jilu.devices.models import Recorder, Workstation
from jilu.org.roles import LEADERS, Role


@login_required
def my_recorders(request: HttpRequest) -> HttpResponse:
    recorders = queries.recorders_held_by(request.user)
    return render(request, "devices/my_recorders.html", {"recorders": recorders})


@login_required
def recorder_list(request: HttpRequest) -> HttpResponse:
    recorders = Recorder.objects.restrict(request.user, "view").select_related("unit")
    return render(request, "devices/recorder_list.html", {"recorders": recorders})


@login_required
def workstation_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_role(Role.ADMIN, Role.INSPECTOR, *LEADERS):
        raise PermissionDenied("你的角色不能查看采集工作站")
    stations = Workstation.objects.restrict(request.user, "view").select_related("unit")
    return render(request, "devices/workstation_list.html", {"stations": stations})


@login_required
def gaps(request: HttpRequest) -> HttpResponse:
    if not request.user.has_role(Role.ADMIN, Role.INSPECTOR, *LEADERS):
        raise PermissionDenied("你的角色不能查看配备缺口")
    return render(
        request,
        "devices/gaps.html",
        {
            "without_recorder": queries.officers_without_recorder(request.user),
            "without_workstation": queries.units_without_workstation(request.user),
        },
    )
