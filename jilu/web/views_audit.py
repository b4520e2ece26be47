"""The audit log, for administrators and inspectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from jilu.audit import labels
from jilu.org.audit_scope import visible_entries
from jilu.org.roles import Role


@login_required
def log(request: HttpRequest) -> HttpResponse:
    entries = visible_entries(request.user)
    if not request.user.has_role(Role.ADMIN, Role.INSPECTOR):
        raise PermissionDenied(_("只有系统管理员和督察可以查看审计日志"))
    action = request.GET.get("action", "").strip()
    obj = request.GET.get("object", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    if obj:
        kind, _sep, ident = obj.partition(":")
        entries = (
            entries.filter(object_type=kind, object_id=ident)
            if ident
            else entries.filter(object_type=kind)
        )
    page = Paginator(entries.order_by("-seq"), 50).get_page(request.GET.get("page"))
    for entry in page:
        # In words for people; the codes stay visible for filtering and for tools.
        entry.action_text = labels.action_label(entry.action, entry.details)
        entry.actor_text = labels.actor_text(entry.actor_label)
        entry.details_text = labels.details_text(entry.details)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {
            "page_obj": page,
            "action": action,
            "object": obj,
            "known_actions": sorted(
                (code, str(text)) for code, text in labels.ACTION_LABELS.items()
            ),
            "querystring_without_page": query.urlencode() + "&" if query else "",
        },
    )
