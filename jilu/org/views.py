"""Pages for units and people."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jilu.org.models import Person, Unit
from jilu.org.roles import Role

READERS = (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER, Role.ARCHIVIST)


def _require(request: HttpRequest, *roles: str) -> None:
    if not request.user.has_role(*roles):
        raise PermissionDenied("你的角色不能打开此页面")


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    _require(request, *READERS)
    units = Unit.objects.restrict(request.user, "view").select_related("parent")
    return render(request, "org/unit_list.html", {"units": units})


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    _require(request, *READERS)
    people = (
        Person.objects.restrict(request.user, "view")
        .select_related("unit")
        .prefetch_related("role_grants")
    )
    return render(request, "org/person_list.html", {"people": people})
