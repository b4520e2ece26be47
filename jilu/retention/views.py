"""Pages for retention (C5.6): disposal lists with their two approvals, the dry
run, holds placed and released, and the printed disposal list (PDF, XLSX).

Lists are fetched through ``restrict(user, "view")``; every change goes through
``jilu.retention.actions`` (which re-checks who may act and writes the audit row).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jilu.casework.models import Activity, Case
from jilu.evidence.models import Recording
from jilu.org.models import Unit
from jilu.org.roles import LEADERS, Role
from jilu.retention import actions, printing, rules, tasks
from jilu.retention.models import DISPOSAL_READERS, HOLD_PLACERS, Disposal, DisposalItem, Hold

PAGE_SIZE = 50


def _require(user: Any, roles: frozenset[str] | tuple) -> None:
    if not (user.is_superuser or user.has_role(*roles)):
        raise PermissionDenied(_("只有档案管理员、领导、督察和系统管理员可以查看保存期限与销毁"))


def _errors(request: HttpRequest, exc: ValidationError | PermissionDenied) -> None:
    for message in getattr(exc, "messages", None) or [str(exc)]:
        messages.error(request, message)


def _units(user: Any):
    if user.is_superuser or user.has_role(Role.INSPECTOR, Role.ADMIN):
        return Unit.objects.all()
    if not user.unit_id:
        return Unit.objects.none()
    return Unit.objects.filter(path__startswith=user.unit.path)


@login_required
def disposal_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, DISPOSAL_READERS)
    disposals = Disposal.objects.restrict(request.user, "view").select_related(
        "unit", "reviewed_by", "approved_by"
    )
    page = Paginator(disposals, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "retention/disposal_list.html",
        {"page_obj": page, "units": _units(request.user).order_by("path")},
    )


@login_required
def dry_run(request: HttpRequest) -> HttpResponse:
    """What would be proposed for a unit now, written nowhere (C5.6)."""
    _require(request.user, DISPOSAL_READERS)
    unit = _units(request.user).filter(pk=request.GET.get("unit") or 0).first()
    if unit is None:
        raise Http404(_("请选择你管辖范围内的单位"))
    due = actions.due_for_disposal(unit)
    recordings = Recording.objects.in_bulk([pk for pk, _d in due])
    rows = [
        {"rec": recordings[pk], "until": d.until, "rule": rules.RULES[d.deciding.rule]}
        for pk, d in due
    ]
    return render(request, "retention/dry_run.html", {"unit": unit, "rows": rows})


def _disposal(request: HttpRequest, pk: int, action: str = "view") -> Disposal:
    found = (
        Disposal.objects.restrict(request.user, action)
        .select_related("unit", "reviewed_by", "approved_by", "refused_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(_("没有这份销毁清单，或它不在你的权限范围内"))
    return found


@login_required
def disposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, DISPOSAL_READERS)
    disposal = _disposal(request, pk)
    items = disposal.items.select_related("recording", "recording__officer", "recording__recorder")
    user = request.user
    in_scope = bool(user.unit_id) and disposal.unit.path.startswith(user.unit.path)
    return render(
        request,
        "retention/disposal_detail.html",
        {
            "disposal": disposal,
            "items": [
                {"item": i, "rule": rules.RULES.get(i.rule), "badge": _badge(i.outcome)}
                for i in items
            ],
            "may_review": disposal.state == Disposal.State.PROPOSED
            and user.has_role(Role.ARCHIVIST)
            and in_scope,
            "may_approve": disposal.state == Disposal.State.REVIEWED
            and user.has_role(*LEADERS)
            and in_scope
            and disposal.reviewed_by_id != user.pk,
            "may_refuse": disposal.state in (Disposal.State.PROPOSED, Disposal.State.REVIEWED)
            and user.has_role(Role.ARCHIVIST, *LEADERS)
            and in_scope,
        },
    )


def _badge(outcome: str) -> str:
    return {
        DisposalItem.Outcome.DISPOSED: "bad",
        DisposalItem.Outcome.KEPT: "good",
        DisposalItem.Outcome.EXCLUDED: "warn",
    }.get(outcome, "")


@login_required
@require_POST
def disposal_review(request: HttpRequest, pk: int) -> HttpResponse:
    disposal = _disposal(request, pk, "change")
    exclude = {}
    for key in request.POST.getlist("exclude"):
        if key.isdigit():
            exclude[int(key)] = request.POST.get(f"why-{key}", "")
    try:
        actions.review_disposal(actor=request.user, disposal=disposal, exclude=exclude)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("已审核，等待领导批准"))
    return redirect("retention:disposal_detail", pk=pk)


@login_required
@require_POST
def disposal_approve(request: HttpRequest, pk: int) -> HttpResponse:
    disposal = _disposal(request, pk, "change")
    try:
        actions.approve_disposal(actor=request.user, disposal=disposal)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        tasks.enqueue_execution()
        messages.success(request, _("已批准；逐项重新核对保存期限后在后台执行销毁"))
    return redirect("retention:disposal_detail", pk=pk)


@login_required
@require_POST
def disposal_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    disposal = _disposal(request, pk, "change")
    try:
        actions.refuse_disposal(
            actor=request.user, disposal=disposal, note=request.POST.get("note", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("已驳回销毁清单"))
    return redirect("retention:disposal_detail", pk=pk)


@login_required
def disposal_print(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    _require(request.user, DISPOSAL_READERS)
    disposal = _disposal(request, pk)
    if fmt == "pdf":
        body, content_type = printing.pdf(disposal), "application/pdf"
    elif fmt == "xlsx":
        body = printing.xlsx(disposal)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise Http404(_("只有 PDF 和 XLSX 两种格式"))
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{disposal.number}.{fmt}"'
    return response


# --- holds ---------------------------------------------------------------------------


@login_required
def hold_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, HOLD_PLACERS)
    holds = Hold.objects.restrict(request.user, "view").select_related(
        "recording", "activity", "case", "unit", "placed_by", "release_requested_by"
    )
    state = request.GET.get("state", "")
    if state in Hold.State.values:
        holds = holds.filter(state=state)
    page = Paginator(holds, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "retention/hold_list.html",
        {"page_obj": page, "state": state, "states": Hold.State.choices},
    )


def _hold_target(request: HttpRequest) -> dict[str, Any]:
    """The recording, activity or case named in the query, if the person may see it."""
    source = request.POST if request.method == "POST" else request.GET
    user = request.user
    for name, model in (("recording", Recording), ("activity", Activity), ("case", Case)):
        value = source.get(name, "")
        if value:
            if not value.isdigit() or len(value) > 18:
                break
            found = model.objects.restrict(user, "view").filter(pk=int(value)).first()
            if found is None:
                break
            return {name: found}
    raise Http404(_("没有要保全的声像记录、执法活动或案件，或它不在你的权限范围内"))


@login_required
def hold_create(request: HttpRequest) -> HttpResponse:
    _require(request.user, HOLD_PLACERS)
    target = _hold_target(request)
    values = {"kind": request.POST.get("kind", ""), "reason": request.POST.get("reason", "")}
    errors: list[str] = []
    if request.method == "POST":
        try:
            hold = actions.place_hold(actor=request.user, **values, **target)
        except (ValidationError, PermissionDenied) as exc:
            errors = list(getattr(exc, "messages", None) or [str(exc)])
        else:
            messages.success(request, _("已设置保全：保全期间不会销毁"))
            return redirect("retention:hold_detail", pk=hold.pk)
    kinds = [(k, label) for k, label in Hold.Kind.choices if actions.may_place(request.user, k)]
    ((name, obj),) = target.items()
    return render(
        request,
        "retention/hold_form.html",
        {"target_name": name, "target": obj, "values": values, "errors": errors, "kinds": kinds},
        status=400 if errors else 200,
    )


def _hold(request: HttpRequest, pk: int) -> Hold:
    found = (
        Hold.objects.restrict(request.user, "view")
        .select_related("recording", "activity", "case", "unit", "placed_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(_("没有这项保全，或它不在你的权限范围内"))
    return found


@login_required
def hold_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, HOLD_PLACERS)
    hold = _hold(request, pk)
    return render(request, "retention/hold_detail.html", {"hold": hold})


@login_required
@require_POST
def hold_release(request: HttpRequest, pk: int) -> HttpResponse:
    hold = _hold(request, pk)
    try:
        if hold.state == Hold.State.ACTIVE:
            actions.request_release(
                actor=request.user, hold=hold, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("已申请解除，须由另一人批准"))
        else:
            actions.approve_release(actor=request.user, hold=hold)
            messages.success(request, _("保全已解除"))
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("retention:hold_detail", pk=pk)
