"""The audit log, for administrators and inspectors (C6.4): entries in words,
filtered by date, person, unit, family of actions and object, and exported."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.org.audit_scope import visible_entries
from jilu.org.models import Unit
from jilu.org.roles import Role
from jilu.web import audit_export, audit_filters
from jilu.web.audit_text import describe

PAGE_SIZE = 50
READERS = (Role.ADMIN, Role.INSPECTOR)


def _readable(request: HttpRequest):
    if not (request.user.is_superuser or request.user.has_role(*READERS)):
        raise PermissionDenied(_("只有系统管理员和督察可以查看审计日志"))
    return visible_entries(request.user)


def _query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
def log(request: HttpRequest) -> HttpResponse:
    filtered = audit_filters.apply(_readable(request), request.GET)
    page = Paginator(filtered.entries.order_by("-seq"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = _query(request)
    form = filtered.form
    return render(
        request,
        "audit/log.html",
        {
            "page_obj": page,
            "rows": describe(page.object_list),
            "form": form,
            "values": {name: form.data.get(name, "") for name in form.fields},
            "units": Unit.objects.order_by("path").values_list("pk", "name", "path"),
            "families": audit_filters.family_choices()[1:],
            "object_types": audit_filters.object_type_choices()[1:],
            "errors": filtered.errors,
            "said": filtered.said,
            "max_rows": audit_export.MAX_ROWS,
            "query": query,
            "querystring_without_page": query + "&" if query else "",
        },
    )


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """The filtered view as XLSX; refused, with the reason, beyond ``MAX_ROWS``."""
    filtered = audit_filters.apply(_readable(request), request.GET)
    back = reverse("audit:log") + (f"?{_query(request)}" if request.GET else "")
    if filtered.errors:
        messages.error(request, _("筛选条件有误，未导出。请先改正筛选条件。"))
        return redirect(back)
    total = filtered.entries.count()
    if total > audit_export.MAX_ROWS:
        messages.error(
            request,
            _(
                "筛选结果共 %(n)s 条，超过一次导出的上限 %(max)s 条，未导出。"
                "请缩短日期范围或增加筛选条件后再导出。"
            )
            % {"n": f"{total:,}", "max": f"{audit_export.MAX_ROWS:,}"},
        )
        return redirect(back)
    data, _count = audit_export.export(
        actor=request.user, entries=filtered.entries, description=filtered.description
    )
    name = f"audit-{timezone.localtime().strftime('%Y%m%d-%H%M%S')}.xlsx"
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
