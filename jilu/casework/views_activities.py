"""Pages for activities: list, register, change and detail.

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.casework.actions``. An object outside the user's view scope
is a 404; one the user sees but may not change is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jilu.casework import actions, queries, recordlist
from jilu.casework.coverage import activity_coverage
from jilu.casework.forms import ActivityForm, may_write_activities
from jilu.casework.models import Activity, ActivityKind, Annotation, Category
from jilu.casework.views_common import _page, _party_from
from jilu.org.widgets import apply_errors

# --- activities -----------------------------------------------------------------------


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    qs = (
        Activity.objects.restrict(request.user, "view")
        .select_related("party", "unit", "case")
        .prefetch_related("officers")
    )
    if request.GET.get("mine") == "1":
        qs = qs.filter(officers=request.user)
    kind = request.GET.get("kind", "")
    if kind:
        qs = qs.filter(kind=kind)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(party__name__icontains=q) | Q(place_name__icontains=q) | Q(address__icontains=q)
        )
    page = _page(request, qs.distinct().order_by("-span_start", "-pk"))
    return render(
        request,
        "casework/activity_list.html",
        {
            "can_create": may_write_activities(request.user),
            "page_obj": page,
            "kinds": ActivityKind.choices,
            "kind": kind,
            "q": q,
            "mine": request.GET.get("mine") == "1",
        },
    )


def _get_activity(request: HttpRequest, pk: int, action: str = "view") -> Activity:
    activity = (
        Activity.objects.restrict(request.user, "view")
        .select_related("party", "unit", "case", "power", "created_by")
        .filter(pk=pk)
        .first()
    )
    if activity is None:
        raise Http404(_("没有这项执法活动，或它不在你的管辖范围内"))
    if (
        action != "view"
        and not Activity.objects.restrict(request.user, action).filter(pk=pk).exists()
    ):
        raise PermissionDenied(_("你可以查看这项执法活动，但不能修改它"))
    return activity


def _locked_reason(activity: Activity) -> str:
    """Why the activity can no longer be changed: its case went to legal review
    or was closed, and its record list is fixed (C5.5)."""
    if activity.case_id is None or activity.case.editable:
        return ""
    return _("所属案件 %(n)s %(s)s，本活动已锁定，不能修改（C5.5）") % {
        "n": activity.case.number,
        "s": activity.case.get_status_display(),
    }


_ACTIVITY_KEYS = (
    "kind",
    "category",
    "power",
    "matter_text",
    "address",
    "place_name",
    "unit",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "present_person",
    "party_notified_on",
    "party_refused",
    "witness1_name",
    "witness1_unit",
    "witness2_name",
    "witness2_unit",
    "legal_basis",
    "decision_no",
    "inspection_items",
    "notes",
)


@login_required
def activity_create(request: HttpRequest) -> HttpResponse:
    if not may_write_activities(request.user):
        # Inspectors, legal reviewers and archivists read; they do not write
        # activities (C6.4: "督察可查看所有单位，但不做修改").
        raise PermissionDenied(
            _("只有执法队员、中队长、大队长、案件承办人和系统管理员可以在本单位范围内登记执法活动")
        )
    initial = {"officers": [request.user.pk], "unit": request.user.unit_id}
    form = ActivityForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                party = _party_from(form, actor=request.user, unit=data["unit"])
                activity = actions.create_activity(
                    actor=request.user,
                    officers=list(data["officers"]),
                    party=party,
                    case=data.get("case"),
                    **{k: data[k] for k in _ACTIVITY_KEYS},
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记执法活动"))
            return redirect("casework:activity_detail", pk=activity.pk)
    return render(
        request,
        "casework/activity_form.html",
        {"form": form, "activity": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _get_activity(request, pk, "change")
    locked = _locked_reason(activity)
    if locked:
        messages.error(request, locked)
        return redirect("casework:activity_detail", pk=activity.pk)
    initial = {k: getattr(activity, k) for k in _ACTIVITY_KEYS}
    initial.update(
        power=activity.power_id,
        unit=activity.unit_id,
        party=activity.party_id,
        officers=list(activity.officers.values_list("pk", flat=True)),
    )
    form = ActivityForm(request.POST or None, user=request.user, activity=activity, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                party = _party_from(form, actor=request.user, unit=data["unit"])
                actions.update_activity(
                    actor=request.user,
                    activity=activity,
                    officers=list(data["officers"]),
                    party=party,
                    **{k: data[k] for k in _ACTIVITY_KEYS},
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存执法活动"))
            return redirect("casework:activity_detail", pk=activity.pk)
    return render(
        request,
        "casework/activity_form.html",
        {"form": form, "activity": activity},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _get_activity(request, pk)
    visible = queries.visible_recordings(request.user).values("pk")
    annotations = (
        activity.annotations.filter(recording__in=visible)
        .select_related("recording", "recording__officer", "recording__media")
        .order_by("list_no", "recording__started_at")
    )
    # 记录保存情况 of each linked recording as the case's record list states it
    # (C4.3 continuity per recorder among video segments, A2), from the same function.
    states = recordlist.activity_states(activity)
    linked_rows = [(a, states.get(a.pk)) for a in annotations]
    # The case's record list states the case's 执法类别 for this activity's rows
    # (queries.list_category, A2): say so where the activity's own differs.
    list_category = ""
    if activity.case_id:
        code = queries.list_category(activity.case, activity)
        if code != activity.category:
            list_category = Category(code).label
    coverage = activity_coverage(activity)
    visible_ids = set(
        queries.visible_recordings(request.user)
        .filter(pk__in=[r.pk for r in coverage.recordings])
        .values_list("pk", flat=True)
    )
    linked = set(
        Annotation.objects.filter(activity=activity).values_list("recording_id", flat=True)
    )
    # Recordings of its officers in its span that are not linked to it yet.
    unlinked = [r for r in coverage.recordings if r.pk in visible_ids and r.pk not in linked]
    can_change = Activity.objects.restrict(request.user, "change").filter(pk=pk).exists()
    locked = _locked_reason(activity)
    return render(
        request,
        "casework/activity_detail.html",
        {
            "activity": activity,
            "officers": activity.officers.all(),
            "annotations": annotations,
            "linked_rows": linked_rows,
            "list_category": list_category,
            "coverage": coverage,
            "unlinked": unlinked,
            "can_change": can_change and not locked,
            "locked_reason": locked if can_change else "",
        },
    )
