"""Recorder register pages: list, register, detail, issue/return, status,
checks and incidents (C1.1, C1.3, C1.4)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jilu.devices import actions, queries
from jilu.devices.forms import (
    HOLDER_INCIDENTS,
    MANAGER_INCIDENTS,
    CheckForm,
    HolderAtForm,
    IncidentForm,
    IssueForm,
    RegisterRecorderForm,
    ReturnForm,
    StatusForm,
    apply_errors,
)
from jilu.devices.labels import STATUS_LABELS, kind_label, status_label
from jilu.devices.models import DeviceEvent, Holding, Recorder
from jilu.devices.views_common import (
    EVENTS_PAGE_SIZE,
    PAGE_SIZE,
    RECORDER_READERS,
    _detail_url,
    _get_recorder,
    _may,
    _querystring_without_page,
    _require,
)

# --- recorders ------------------------------------------------------------


@login_required
def recorder_list(request: HttpRequest) -> HttpResponse:
    _require(
        request, RECORDER_READERS, _("你的角色不能查看记录仪台账；请在“我的记录仪”查看自己的记录仪")
    )
    user = request.user
    visible = Recorder.objects.restrict(user, "view")
    units = queries.visible_units(user)
    unit_code = request.GET.get("unit", "").strip()
    unit = units.filter(code=unit_code).first() if unit_code else None
    status = request.GET.get("status", "")
    status = status if status in Recorder.Status.values else ""
    held = request.GET.get("held", "")
    held = held if held in ("yes", "no") else ""
    q = request.GET.get("q", "").strip()[:50]
    matching = queries.filter_recorders(visible, unit=unit, status=status, q=q, held=held)
    if unit_code and unit is None:
        matching = matching.none()  # a unit outside the user's scope has nothing to show
    rows = queries.with_current_holder(matching.select_related("unit")).order_by("serial")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    current = Holding.objects.filter(recorder=OuterRef("pk"), ended_at__isnull=True)
    totals = visible.aggregate(
        total=Count("pk"),
        in_service=Count("pk", filter=Q(status=Recorder.Status.IN_SERVICE)),
        idle=Count("pk", filter=Q(status=Recorder.Status.IN_SERVICE) & ~Q(Exists(current))),
        attention=Count(
            "pk", filter=Q(status__in=[Recorder.Status.UNDER_REPAIR, Recorder.Status.LOST])
        ),
    )
    return render(
        request,
        "devices/recorder_list.html",
        {
            "page_obj": page,
            "querystring_without_page": _querystring_without_page(request),
            "units": units,
            "unit_code": unit.code if unit else "",
            "status": status,
            "held": held,
            "q": q,
            "statuses": list(STATUS_LABELS.items()),
            "totals": totals,
            "can_register": queries.units_for_recorders(user).exists(),
            "filtered": bool(unit_code or status or held or q),
        },
    )


@login_required
def recorder_create(request: HttpRequest) -> HttpResponse:
    if not queries.units_for_recorders(request.user).exists():
        raise PermissionDenied(_("只有系统管理员和中队长、大队长可以登记记录仪"))
    form = RegisterRecorderForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            recorder = actions.register_recorder(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记记录仪 %(serial)s") % {"serial": recorder.serial})
            return redirect(_detail_url(recorder))
    return render(
        request,
        "devices/recorder_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def _neighbours(holdings: list[Holding], at: Any) -> tuple[Holding | None, Holding | None]:
    """The holdings just before and just after a moment nobody held the recorder."""
    before = [h for h in holdings if h.ended_at is not None and h.ended_at <= at]
    after = [h for h in holdings if h.started_at > at]
    return (
        max(before, key=lambda h: h.ended_at) if before else None,
        min(after, key=lambda h: h.started_at) if after else None,
    )


def _render_detail(
    request: HttpRequest, recorder: Recorder, *, status: int = 200, **forms: Any
) -> HttpResponse:
    user = request.user
    can_change = _may(user, recorder, "change")
    holdings = list(
        Holding.objects.restrict(user, "view")
        .filter(recorder=recorder)
        .select_related("person", "person__unit", "issued_by", "returned_to")
        .order_by("-started_at", "-pk")
    )
    current = next((h for h in holdings if h.ended_at is None), None)
    is_holder = current is not None and current.person_id == user.pk

    events = (
        DeviceEvent.objects.restrict(user, "view")
        .filter(recorder=recorder)
        .select_related("reported_by", "workstation")
        .order_by("-at", "-pk")
    )
    events_page = Paginator(events, EVENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    for event in events_page:
        # C1.3 / C6.5.6: who answered for the recorder when it happened.
        event.holder = next((h.person for h in holdings if h.covers(event.at)), None)

    lookup: dict[str, Any] | None = None
    lookup_form = HolderAtForm(request.GET if "at" in request.GET else None)
    if lookup_form.is_bound and lookup_form.is_valid():
        at = lookup_form.cleaned_data["at"]
        holding = queries.holding_at(recorder, at)
        before, after = _neighbours(holdings, at) if holding is None else (None, None)
        lookup = {"at": at, "holding": holding, "before": before, "after": after}

    usable = recorder.status == Recorder.Status.IN_SERVICE
    context: dict[str, Any] = {
        "recorder": recorder,
        "current": current,
        "holdings": holdings,
        "events_page": events_page,
        "page_obj": events_page,
        "querystring_without_page": _querystring_without_page(request),
        "lookup_form": lookup_form,
        "lookup": lookup,
        "can_change": can_change,
        "is_holder": is_holder,
        "last_check_at": queries.last_check_at(recorder),
        "issue_form": IssueForm(user=user, recorder=recorder, prefix="issue")
        if can_change and current is None and usable
        else None,
        "return_form": ReturnForm(prefix="return") if can_change and current is not None else None,
        "status_form": StatusForm(recorder=recorder, prefix="status")
        if can_change and recorder.status != Recorder.Status.RETIRED
        else None,
        "check_form": CheckForm(with_clock=can_change, prefix="check")
        if can_change or is_holder
        else None,
        "incident_form": IncidentForm(
            kinds=MANAGER_INCIDENTS if can_change else HOLDER_INCIDENTS, prefix="incident"
        )
        if can_change or is_holder
        else None,
    }
    context.update(forms)
    return render(request, "devices/recorder_detail.html", context, status=status)


@login_required
def recorder_detail(request: HttpRequest, serial: str) -> HttpResponse:
    _require(
        request, RECORDER_READERS, _("你的角色不能查看记录仪台账；请在“我的记录仪”查看自己的记录仪")
    )
    return _render_detail(request, _get_recorder(request, serial))


def _run(
    request: HttpRequest,
    recorder: Recorder,
    form: Any,
    form_key: str,
    run: Any,
) -> HttpResponse:
    """Validate ``form``, call the action; on success back to the detail page with a
    message, on failure the detail page again with the errors (nothing saved)."""
    if form.is_valid():
        try:
            message = run(form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect(_detail_url(recorder))
    messages.error(request, _("未能保存，请按提示修改后重新提交"))
    return _render_detail(request, recorder, status=400, **{form_key: form})


@login_required
@require_POST
def recorder_issue(request: HttpRequest, serial: str) -> HttpResponse:
    recorder = _get_recorder(request, serial, "change")
    form = IssueForm(request.POST, user=request.user, recorder=recorder, prefix="issue")

    def run(d: dict) -> str:
        holding = actions.issue_recorder(
            actor=request.user, recorder=recorder, person=d["person"], at=d["at"], note=d["note"]
        )
        return _("记录仪 %(serial)s 已配发给 %(name)s") % {
            "serial": recorder.serial,
            "name": holding.person.name,
        }

    return _run(request, recorder, form, "issue_form", run)


@login_required
@require_POST
def recorder_return(request: HttpRequest, serial: str) -> HttpResponse:
    recorder = _get_recorder(request, serial, "change")
    form = ReturnForm(request.POST, prefix="return")

    def run(d: dict) -> str:
        holding = actions.return_recorder(
            actor=request.user, recorder=recorder, at=d["at"], note=d["note"]
        )
        return _("%(name)s 已归还记录仪 %(serial)s") % {
            "serial": recorder.serial,
            "name": holding.person.name,
        }

    return _run(request, recorder, form, "return_form", run)


@login_required
@require_POST
def recorder_status(request: HttpRequest, serial: str) -> HttpResponse:
    recorder = _get_recorder(request, serial, "change")
    form = StatusForm(request.POST, recorder=recorder, prefix="status")

    def run(d: dict) -> str:
        updated = actions.set_recorder_status(
            actor=request.user, recorder=recorder, status=d["status"], note=d["note"]
        )
        return _("记录仪 %(serial)s 状态已改为“%(status)s”") % {
            "serial": recorder.serial,
            "status": status_label(updated.status),
        }

    return _run(request, recorder, form, "status_form", run)


def _may_report(request: HttpRequest, recorder: Recorder) -> bool:
    """Leaders and administrators in scope, or the current holder (C1.4)."""
    if _may(request.user, recorder, "change"):
        return True
    return Holding.objects.filter(
        recorder=recorder, person=request.user, ended_at__isnull=True
    ).exists()


@login_required
@require_POST
def recorder_check(request: HttpRequest, serial: str) -> HttpResponse:
    _require(request, RECORDER_READERS, _("请在“我的记录仪”上报自己记录仪的检查"))
    recorder = _get_recorder(request, serial)
    if not _may_report(request, recorder):
        raise PermissionDenied(_("只有持有人或本单位领导、系统管理员可以登记检查"))
    form = CheckForm(
        request.POST, with_clock=_may(request.user, recorder, "change"), prefix="check"
    )

    def run(d: dict) -> str:
        actions.record_check(
            actor=request.user, recorder=recorder, at=d["at"], note=d["note"], **form.readings()
        )
        return _("已记录 %(serial)s 的检查结果") % {"serial": recorder.serial}

    return _run(request, recorder, form, "check_form", run)


@login_required
@require_POST
def recorder_incident(request: HttpRequest, serial: str) -> HttpResponse:
    _require(request, RECORDER_READERS, _("请在“我的记录仪”上报自己记录仪的事件"))
    recorder = _get_recorder(request, serial)
    if not _may_report(request, recorder):
        raise PermissionDenied(_("只有持有人或本单位领导、系统管理员可以登记事件"))
    can_change = _may(request.user, recorder, "change")
    form = IncidentForm(
        request.POST,
        kinds=MANAGER_INCIDENTS if can_change else HOLDER_INCIDENTS,
        prefix="incident",
    )

    def run(d: dict) -> str:
        event = actions.record_device_event(
            actor=request.user, recorder=recorder, kind=d["kind"], at=d["at"], note=d["note"]
        )
        recorder.refresh_from_db(fields=["status"])
        return _("已登记 %(serial)s 的“%(kind)s”，当前状态：%(status)s") % {
            "serial": recorder.serial,
            "kind": kind_label(event.kind),
            "status": status_label(recorder.status),
        }

    return _run(request, recorder, form, "incident_form", run)
