"""The workstation pages: dockings in progress and recent, quarantined files, C5.1 reminders.

Every list is narrowed with ``restrict(user, action)``; every change goes
through ``jilu.ingest.actions``. An object outside the user's view scope is a
404; one the user sees but may not resolve is a 403 on POST.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from jilu.evidence.models import Recording
from jilu.ingest import actions, naming, queries
from jilu.ingest.forms import AttributeForm, CloseForm, RegisterForm
from jilu.ingest.models import DockingSession, QuarantineItem, Upload
from jilu.org.roles import LEADERS, UNIT_READERS, Role

# Who opens which page (the rows they then see come from restrict()).
QUARANTINE_READERS = (Role.INSPECTOR, *UNIT_READERS)
DUE_READERS = (Role.ADMIN, Role.INSPECTOR, *LEADERS)
PAGE_SIZE = 50
# The live part of the workstation page is fetched again this often.
REFRESH_SECONDS = 3


def _live_context(request: HttpRequest) -> dict:
    now = timezone.now()
    return {
        "in_progress": list(queries.sessions_in_progress(request.user, now)),
        "recent": queries.recent_sessions(request.user, now),
        "now": now,
        "refresh_seconds": REFRESH_SECONDS,
    }


@login_required
@never_cache
def workstation(request: HttpRequest) -> HttpResponse:
    """Docking sessions in progress (refreshed live), recent sessions, what needs attention."""
    user = request.user
    ctx = _live_context(request)
    can_quarantine = user.has_role(*QUARANTINE_READERS)
    can_due = user.has_role(*DUE_READERS)
    ctx.update(
        {
            "can_quarantine": can_quarantine,
            "quarantine_open": queries.open_quarantine(user).count() if can_quarantine else 0,
            "can_due": can_due,
            "due": queries.recorders_due(user) if can_due else [],
            "status_labels": queries.STATUS_LABELS,
        }
    )
    return render(request, "ingest/workstation.html", ctx)


@login_required
@never_cache
def live(request: HttpRequest) -> HttpResponse:
    """The live fragment of the workstation page (fetched every few seconds)."""
    return render(request, "ingest/_live.html", _live_context(request))


@login_required
@never_cache
def docking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = (
        DockingSession.objects.restrict(request.user, "view")
        .select_related("station", "station__unit", "recorder", "holder")
        .filter(pk=pk)
        .first()
    )
    if session is None:
        raise Http404(_("没有这个对接会话，或它不在你的管辖范围内"))
    recordings = (
        Recording.objects.restrict(request.user, "view")
        .filter(docking=session)
        .select_related("officer")
        .order_by("started_at")
    )
    quarantined = QuarantineItem.objects.restrict(request.user, "view").filter(docking=session)
    uploads = Upload.objects.restrict(request.user, "view").filter(docking=session)
    return render(
        request,
        "ingest/docking_detail.html",
        {
            "session": session,
            "totals": session.progress_totals(),
            "recordings": recordings,
            "quarantined": quarantined,
            "uploads": uploads,
            "hidden_recordings": Recording.objects.filter(docking=session).count()
            - recordings.count(),
        },
    )


@login_required
def quarantine_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_role(*QUARANTINE_READERS):
        raise PermissionDenied(_("你的角色不能查看待处理文件"))
    show = request.GET.get("show", "open")
    show = show if show in ("open", "resolved", "all") else "open"
    reason = request.GET.get("reason", "")
    reason = reason if reason in QuarantineItem.Reason.values else ""
    qs = QuarantineItem.objects.restrict(request.user, "view").select_related(
        "station", "unit", "docking", "resolved_by"
    )
    if show == "open":
        qs = qs.filter(resolved_at__isnull=True)
    elif show == "resolved":
        qs = qs.filter(resolved_at__isnull=False)
    if reason:
        qs = qs.filter(reason=reason)
    page = Paginator(qs.order_by("-created_at"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "ingest/quarantine_list.html",
        {
            "page_obj": page,
            "show": show,
            "reason": reason,
            "reasons": QuarantineItem.Reason.choices,
            "querystring_without_page": query.urlencode() + "&" if query else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def quarantine_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    if not user.has_role(*QUARANTINE_READERS):
        raise PermissionDenied(_("你的角色不能查看待处理文件"))
    item = (
        QuarantineItem.objects.restrict(user, "view")
        .select_related("station", "unit", "docking", "resolved_by", "recording")
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise Http404(_("没有这个待处理文件，或它不在你的管辖范围内"))
    may_resolve = (
        item.is_open and QuarantineItem.objects.restrict(user, "change").filter(pk=pk).exists()
    )
    parsed = naming.parse(item.original_name)
    kind = parsed.kind if parsed else naming.kind_for(item.original_name)
    attribute_form = AttributeForm(
        user=user,
        initial={"serial": parsed.serial if parsed else "", "kind": kind},
        prefix="attr",
    )
    register_form = RegisterForm(user=user, prefix="reg")
    close_form = CloseForm(prefix="close")
    if request.method == "POST":
        if not may_resolve:
            raise PermissionDenied(
                _("只有管辖该工作站的系统管理员可以处理待处理文件")
                if item.is_open
                else _("该文件已经处理")
            )
        op = request.POST.get("op")
        try:
            if op == "attribute":
                attribute_form = AttributeForm(request.POST, user=user, prefix="attr")
                if attribute_form.is_valid():
                    data = attribute_form.cleaned_data
                    recording = actions.attribute_quarantined(
                        actor=user,
                        item=item,
                        recorder=data["serial"],
                        officer=data["officer_user_no"],
                        started_at=data["started_at"],
                        kind=data["kind"],
                        note=data["note"],
                    )
                    messages.success(request, _("已归属为声像记录 #%(id)s") % {"id": recording.pk})
                    return redirect(reverse("ingest:quarantine_detail", args=[item.pk]))
            elif op == "register":
                register_form = RegisterForm(request.POST, user=user, prefix="reg")
                if register_form.is_valid():
                    data = register_form.cleaned_data
                    recordings = actions.register_and_attribute(
                        actor=user,
                        item=item,
                        unit=data["unit"],
                        vendor=data["vendor"],
                        model=data["model"],
                        holder=data["holder_user_no"],
                        holder_since=data["holder_since"],
                        note=data["note"],
                    )
                    messages.success(
                        request,
                        _("已登记记录仪，并将 %(n)s 个文件归属为声像记录") % {"n": len(recordings)},
                    )
                    return redirect(reverse("ingest:quarantine_detail", args=[item.pk]))
            elif op == "close":
                close_form = CloseForm(request.POST, prefix="close")
                if close_form.is_valid():
                    actions.close_quarantined(
                        actor=user, item=item, note=close_form.cleaned_data["note"]
                    )
                    messages.success(request, _("已结案；原始字节仍完整保存"))
                    return redirect(reverse("ingest:quarantine_detail", args=[item.pk]))
            else:
                messages.error(request, _("未知操作"))
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
    return render(
        request,
        "ingest/quarantine_detail.html",
        {
            "item": item,
            "parsed": parsed,
            "may_resolve": may_resolve,
            "attribute_form": attribute_form,
            "register_form": register_form,
            "close_form": close_form,
            "can_register": item.reason == QuarantineItem.Reason.UNKNOWN_SERIAL and parsed,
        },
    )


@login_required
@never_cache
def due(request: HttpRequest) -> HttpResponse:
    """C5.1: which recorders have not docked within 24 hours (squad leader's view)."""
    if not request.user.has_role(*DUE_READERS):
        raise PermissionDenied(_("只有中队长、大队长、督察和系统管理员可以查看采集时限"))
    return render(
        request,
        "ingest/due.html",
        {"due": queries.recorders_due(request.user), "status_labels": queries.STATUS_LABELS},
    )
