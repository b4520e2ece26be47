"""Pages for the list of powers and its import.

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.casework.actions``. An object outside the user's view scope
is a 404; one the user sees but may not change is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from jilu.casework import powers
from jilu.casework.forms import PowerImportForm
from jilu.casework.models import Power
from jilu.casework.views_common import _page
from jilu.org.models import Unit
from jilu.org.roles import Role
from jilu.org.widgets import apply_errors

# --- the list of powers --------------------------------------------------------------


@login_required
def power_list(request: HttpRequest) -> HttpResponse:
    qs = Power.objects.restrict(request.user, "view").select_related("unit")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if request.GET.get("all") != "1":
        qs = qs.filter(active=True)
    return render(
        request,
        "casework/power_list.html",
        {"page_obj": _page(request, qs), "q": q, "can_import": request.user.has_role(Role.ADMIN)},
    )


@login_required
def power_import(request: HttpRequest) -> HttpResponse:
    units = Unit.objects.restrict(request.user, "change")
    if not request.user.has_role(Role.ADMIN) or not units.exists():
        raise PermissionDenied(_("只有系统管理员可以导入权责清单"))
    form = PowerImportForm(request.POST or None, request.FILES or None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            result = powers.import_powers(
                actor=request.user, unit=form.cleaned_data["unit"], stream=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已导入：新增 %(created)d 项，更新 %(updated)d 项，停用 %(retired)d 项") % result,
            )
            return redirect(reverse("casework:power_list"))
    return render(
        request,
        "casework/power_import.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
