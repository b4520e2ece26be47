"""Pages for cases: list, register, change, status and their activities.

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.casework.actions``. An object outside the user's view scope
is a 404; one the user sees but may not change is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jilu.casework import actions, queries, review_hook
from jilu.casework.coverage import activity_coverage
from jilu.casework.forms import CaseForm, StatusForm
from jilu.casework.models import CASE_EDITORS, Activity, Case
from jilu.casework.views_common import _page
from jilu.org.widgets import apply_errors

# --- cases -----------------------------------------------------------------------------


def _get_case(request: HttpRequest, pk: int, action: str = "view") -> Case:
    case = (
        Case.objects.restrict(request.user, "view")
        .select_related("unit", "handler", "party", "power")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404(_("没有这个案件，或它不在你的管辖范围内"))
    if action != "view" and not Case.objects.restrict(request.user, action).filter(pk=pk).exists():
        raise PermissionDenied(_("你可以查看这个案件，但不能修改它"))
    return case


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    qs = Case.objects.restrict(request.user, "view").select_related("unit", "handler", "party")
    status = request.GET.get("status", "")
    if status:
        qs = qs.filter(status=status)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(title__icontains=q) | Q(party__name__icontains=q))
    return render(
        request,
        "casework/case_list.html",
        {
            "page_obj": _page(request, qs.order_by("-created_at", "-pk")),
            "statuses": Case.Status.choices,
            "status": status,
            "q": q,
            "can_create": request.user.has_role(*CASE_EDITORS),
        },
    )


@login_required
def case_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_role(*CASE_EDITORS):
        raise PermissionDenied(_("只有案件承办人、中队长、大队长和系统管理员可以立案登记"))
    form = CaseForm(
        request.POST or None,
        user=request.user,
        initial={"unit": request.user.unit_id, "handler": request.user.pk},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = actions.create_case(
                actor=request.user,
                number=data["number"],
                title=data["title"],
                category=data["category"],
                power=data["power"],
                matter_text=data["matter_text"],
                party=data["party"],
                unit=data["unit"],
                handler=data["handler"],
                retention=data["retention"] or None,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记案件 %(n)s") % {"n": case.number})
            return redirect("casework:case_detail", pk=case.pk)
    return render(
        request,
        "casework/case_form.html",
        {"form": form, "case": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk, "change")
    initial = {
        "title": case.title,
        "category": case.category,
        "power": case.power_id,
        "matter_text": case.matter_text,
        "party": case.party_id,
        "handler": case.handler_id,
        "retention": case.retention,
    }
    form = CaseForm(request.POST or None, user=request.user, case=case, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["retention"] = data["retention"] or actions.retention_for(data["category"])
        try:
            actions.update_case(actor=request.user, case=case, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存案件"))
            return redirect("casework:case_detail", pk=case.pk)
    return render(
        request,
        "casework/case_form.html",
        {"form": form, "case": case},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    can_change = Case.objects.restrict(request.user, "change").filter(pk=pk).exists()
    activities = [
        {"activity": a, "coverage": activity_coverage(a)} for a in queries.case_activities(case)
    ]
    addable = []
    if can_change and case.editable:
        addable = (
            Activity.objects.restrict(request.user, "change")
            .filter(case__isnull=True)
            .select_related("party")
            .order_by("-span_start")[:50]
        )
    return render(
        request,
        "casework/case_detail.html",
        {
            "case": case,
            "activities": activities,
            "rows": queries.case_recordings(case),
            # C5.5: what legal review decided, with its note and row marks.
            "review": review_hook.latest_review(case),
            "can_change": can_change,
            "addable": addable,
            "status_form": StatusForm(),
            "next_statuses": [
                (s, Case.Status(s).label)
                for s in Case.Status.values
                if s in actions.CASE_TRANSITIONS[case.status] and s in actions.MANUAL_STATUSES
            ],
        },
    )


def _back_to_case(request: HttpRequest, case: Case, exc: ValidationError | None = None):
    if exc is not None:
        for m in exc.messages:
            messages.error(request, m)
    return redirect("casework:case_detail", pk=case.pk)


@login_required
@require_POST
def case_status(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk, "change")
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _back_to_case(request, case, ValidationError(_("请选择新状态")))
    if form.cleaned_data["status"] not in actions.MANUAL_STATUSES:
        return _back_to_case(
            request,
            case,
            ValidationError(
                _("移送法制部门和审核结论只能通过“光盘包与移送”和法制审核办理（C5.5）")
            ),
        )
    if not form.cleaned_data["confirm"]:
        # An explicit confirmation: a closed case never changes again.
        return _back_to_case(
            request, case, ValidationError(_("请勾选“我确认结案后案件不能再修改”后再结案"))
        )
    try:
        actions.set_case_status(
            actor=request.user,
            case=case,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        return _back_to_case(request, case, exc)
    return _back_to_case(request, case)


@login_required
@require_POST
def case_add_activity(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk, "change")
    activity = (
        Activity.objects.restrict(request.user, "change")
        .filter(pk=request.POST.get("activity") or 0)
        .first()
    )
    if activity is None:
        raise Http404(_("没有这项执法活动，或你不能修改它"))
    try:
        actions.add_activity_to_case(actor=request.user, case=case, activity=activity)
    except ValidationError as exc:
        return _back_to_case(request, case, exc)
    return _back_to_case(request, case)


@login_required
@require_POST
def case_remove_activity(request: HttpRequest, pk: int, activity_pk: int) -> HttpResponse:
    case = _get_case(request, pk, "change")
    activity = case.activities.filter(pk=activity_pk).first()
    if activity is None:
        raise Http404(_("该活动不属于本案件"))
    try:
        actions.remove_activity_from_case(actor=request.user, activity=activity)
    except ValidationError as exc:
        return _back_to_case(request, case, exc)
    return _back_to_case(request, case)


def _moved(ids: list[int], pk: int, direction: str) -> list[int]:
    if pk not in ids:
        raise Http404(_("没有这一项"))
    i = ids.index(pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
    return ids


@login_required
@require_POST
def case_move_activity(
    request: HttpRequest, pk: int, activity_pk: int, direction: str
) -> HttpResponse:
    case = _get_case(request, pk, "change")
    ids = [a.pk for a in queries.case_activities(case)]
    try:
        actions.reorder_case_activities(
            actor=request.user, case=case, activity_ids=_moved(ids, activity_pk, direction)
        )
    except ValidationError as exc:
        return _back_to_case(request, case, exc)
    return _back_to_case(request, case)
