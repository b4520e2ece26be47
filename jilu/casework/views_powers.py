"""Pages for the list of powers and its import.

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.casework.actions``. An object outside the user's view scope
is a 404; one the user sees but may not change is a 403.
"""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jilu.casework import powers, tasks
from jilu.casework.forms import PowerImportForm
from jilu.casework.models import Power
from jilu.casework.views_common import _page
from jilu.org import uploads
from jilu.org.models import Unit, WorkbookUpload
from jilu.org.roles import Role
from jilu.org.widgets import apply_errors
from jilu.workbooks import WorkbookRefused, inspect

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
        file, unit = form.cleaned_data["file"], form.cleaned_data["unit"]
        data = file.read(powers.LIMITS.max_bytes + 1)
        try:
            # The zip directory only: whether the workbook is refused, or so
            # large that it is read in the background instead of on this thread.
            info = inspect(data, powers.LIMITS)
            if not info.inline:
                upload = uploads.start_upload(
                    actor=request.user,
                    kind=WorkbookUpload.Kind.POWERS,
                    name=file.name,
                    data=data,
                    unit=unit,
                    language=get_language() or "zh-hans",
                    total_bytes=info.uncompressed,
                )
                transaction.on_commit(
                    partial(tasks.import_powers_upload.enqueue, upload.pk), robust=True
                )
                return redirect("casework:power_upload", pk=upload.pk)
            items = powers.read_powers(data)
            result = powers.apply_powers(actor=request.user, unit=unit, items=items)
        except WorkbookRefused as exc:
            apply_errors(form, ValidationError(str(exc)))
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


@login_required
def power_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """A large list of powers imported in the background: progress, then the outcome."""
    upload = WorkbookUpload.objects.filter(
        pk=pk, person=request.user, kind=WorkbookUpload.Kind.POWERS
    ).first()
    if upload is None or not request.user.has_role(Role.ADMIN):
        raise Http404
    return render(request, "casework/power_upload.html", {"upload": upload})
