"""Pages for recorders (C1.1, C1.3, C1.4), workstations (C1.2) and equipment gaps.

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.devices.actions``. An object outside the user's view scope
is a 404; one the user sees but may not change is a 403 on POST.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
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
    WorkstationForm,
    apply_errors,
)
from jilu.devices.labels import STATUS_LABELS, kind_label, status_label
from jilu.devices.models import DeviceEvent, Holding, Recorder, Workstation
from jilu.org.models import Person, Unit
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


# --- my recorders (the holder's own page) ---------------------------------


def _my_context(request: HttpRequest, bound: dict[str, dict[str, Any]] | None = None) -> dict:
    user = request.user
    bound = bound or {}
    entries = []
    for recorder in queries.recorders_held_by(user).order_by("serial"):
        holding = queries.current_holding(recorder)
        last = queries.last_check_at(recorder)
        forms = bound.get(recorder.serial, {})
        entries.append(
            {
                "recorder": recorder,
                "holding": holding,
                "events": DeviceEvent.objects.restrict(user, "view")
                .filter(recorder=recorder)
                .select_related("workstation", "reported_by")
                .order_by("-at", "-pk")[:10],
                "last_check_at": last,
                "check_form": forms.get("check_form")
                or CheckForm(with_clock=False, prefix=f"{recorder.serial}-check"),
                "incident_form": forms.get("incident_form")
                or IncidentForm(kinds=HOLDER_INCIDENTS, prefix=f"{recorder.serial}-incident"),
            }
        )
    past = (
        Holding.objects.restrict(user, "view")
        .filter(person=user, ended_at__isnull=False)
        .select_related("recorder")
        .order_by("-ended_at")[:20]
    )
    return {"entries": entries, "past": past}


@login_required
def my_recorders(request: HttpRequest) -> HttpResponse:
    return render(request, "devices/my_recorders.html", _my_context(request))


def _my_recorder(request: HttpRequest, serial: str) -> Recorder:
    recorder = queries.recorders_held_by(request.user).filter(serial=serial.upper()).first()
    if recorder is None:
        raise Http404(_("你当前没有持有这台记录仪"))
    return recorder


def _my_run(
    request: HttpRequest, recorder: Recorder, form: Any, key: str, run: Any
) -> HttpResponse:
    if form.is_valid():
        try:
            message = run(form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect("devices:my_recorders")
    messages.error(request, _("未能保存，请按提示修改后重新提交"))
    context = _my_context(request, {recorder.serial: {key: form}})
    return render(request, "devices/my_recorders.html", context, status=400)


@login_required
@require_POST
def my_check(request: HttpRequest, serial: str) -> HttpResponse:
    """C1.4: the holder reports battery and free storage of their own recorder."""
    recorder = _my_recorder(request, serial)
    form = CheckForm(request.POST, with_clock=False, prefix=f"{recorder.serial}-check")

    def run(d: dict) -> str:
        actions.record_check(
            actor=request.user, recorder=recorder, at=d["at"], note=d["note"], **form.readings()
        )
        return _("已记录 %(serial)s 的检查结果") % {"serial": recorder.serial}

    return _my_run(request, recorder, form, "check_form", run)


@login_required
@require_POST
def my_incident(request: HttpRequest, serial: str) -> HttpResponse:
    """C6.5.5–6: the holder reports a fault, damage or loss of their own recorder."""
    recorder = _my_recorder(request, serial)
    form = IncidentForm(request.POST, kinds=HOLDER_INCIDENTS, prefix=f"{recorder.serial}-incident")

    def run(d: dict) -> str:
        event = actions.record_device_event(
            actor=request.user, recorder=recorder, kind=d["kind"], at=d["at"], note=d["note"]
        )
        return _("已上报 %(serial)s 的“%(kind)s”，请同时报告中队长") % {
            "serial": recorder.serial,
            "kind": kind_label(event.kind),
        }

    return _my_run(request, recorder, form, "incident_form", run)


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


# --- gaps (C1.1, C1.2) ----------------------------------------------------


@login_required
def gaps(request: HttpRequest) -> HttpResponse:
    _require(request, GAP_READERS, _("你的角色不能查看配备缺口"))
    user = request.user

    # C1.1: frontline officers without a recorder in service, by unit.
    held = Holding.objects.filter(person=OuterRef("pk"), ended_at__isnull=True).order_by(
        "-started_at"
    )
    without = list(
        queries.officers_without_recorder(user)
        .annotate(
            # A recorder they hold that is not in service (under repair, lost).
            held_serial=Subquery(held.values("recorder__serial")[:1]),
            held_status=Subquery(held.values("recorder__status")[:1]),
        )
        .order_by("unit__path", "name")
    )
    for person in without:
        person.held_status_label = status_label(person.held_status) if person.held_status else ""
    frontline_total = (
        Person.objects.restrict(user, "view").filter(is_active=True, frontline=True).count()
    )
    current = Holding.objects.filter(recorder=OuterRef("pk"), ended_at__isnull=True)
    idle_paths = Counter(
        Recorder.objects.restrict(user, "view")
        .filter(status=Recorder.Status.IN_SERVICE)
        .exclude(Exists(current))
        .values_list("unit__path", flat=True)
    )
    groups: dict[int, dict[str, Any]] = {}
    for person in without:
        group = groups.setdefault(
            person.unit_id,
            {"unit": person.unit, "people": [], "idle": 0},
        )
        group["people"].append(person)
    for group in groups.values():
        # A recorder can go to anyone in its unit or below, so idle ones
        # registered at this unit or any unit above it are available here.
        group["idle"] = sum(
            n for path, n in idle_paths.items() if group["unit"].path.startswith(path)
        )

    # C1.2: squads and independently housed brigades without an active workstation.
    needing = queries.units_needing_workstation(user)
    missing = list(
        queries.units_without_workstation(user)
        .annotate(revoked=Count("workstations", filter=Q(workstations__revoked_at__isnull=False)))
        .order_by("path")
    )
    addable = set(queries.units_for_workstations(user).values_list("pk", flat=True))
    for unit in missing:
        unit.can_add = unit.pk in addable
        unit.reason = _("中队") if unit.level == Unit.Level.SQUAD else _("独立驻点大队")
    return render(
        request,
        "devices/gaps.html",
        {
            "groups": list(groups.values()),
            "without_count": len(without),
            "frontline_total": frontline_total,
            "missing": missing,
            "needing_count": needing.count(),
            "can_issue": queries.units_for_recorders(user).exists(),
        },
    )
