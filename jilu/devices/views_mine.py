"""The holder's own page: "my recorders", with checks and incidents (C1.4)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jilu.devices import actions, queries
from jilu.devices.forms import HOLDER_INCIDENTS, CheckForm, IncidentForm, apply_errors
from jilu.devices.labels import kind_label
from jilu.devices.models import DeviceEvent, Holding, Recorder

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
