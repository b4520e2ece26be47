"""Pages for activities, cases and annotation within 48 hours (C5.2).

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.casework.actions``. An object outside the user's view scope
is a 404; one the user sees but may not change is a 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jilu.casework import actions, powers, queries
from jilu.casework.coverage import activity_coverage
from jilu.casework.forms import (
    ActivityForm,
    AnnotateForm,
    CaseForm,
    PowerImportForm,
    QuickActivityForm,
    StatusForm,
)
from jilu.casework.models import (
    CASE_EDITORS,
    DEFAULT_STEP,
    Activity,
    ActivityKind,
    Annotation,
    Case,
    Power,
)
from jilu.devices.forms import apply_errors
from jilu.evidence.models import Recording
from jilu.org.models import Unit
from jilu.org.roles import LEADERS, Role

SQUAD_QUEUE_READERS = (Role.ADMIN, Role.INSPECTOR, *LEADERS)
PAGE_SIZE = 50


def _page(request: HttpRequest, qs: Any):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


# --- annotation -------------------------------------------------------------------


_may_annotate = queries.may_annotate


def _get_recording(request: HttpRequest, pk: int, *, change: bool = False) -> Recording:
    recording = (
        queries.visible_recordings(request.user)
        .select_related("recorder", "officer", "officer__unit", "recorder__unit")
        .filter(pk=pk)
        .first()
    )
    if recording is None:
        raise Http404(_("没有这条声像记录，或它不在你的管辖范围内"))
    if change and not _may_annotate(request.user, recording):
        raise PermissionDenied(_("只有记录人本人或其单位的中队长、大队长、案件承办人可以标注"))
    return recording


def _rows(recordings, now) -> list[dict]:
    return [{"recording": r, "deadline": queries.deadline(r, now)} for r in recordings]


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The officer's recordings still to annotate, with the time left (C5.2)."""
    now = timezone.now()
    rows = _rows(queries.annotation_queue(request.user)[:500], now)
    recent = (
        Annotation.objects.filter(recording__officer=request.user)
        .select_related("recording", "activity")
        .order_by("-annotated_at")[:20]
    )
    return render(
        request,
        "casework/queue.html",
        {
            "rows": rows,
            "overdue": sum(1 for r in rows if r["deadline"].overdue),
            "recent": recent,
        },
    )


@login_required
def squad_queue(request: HttpRequest) -> HttpResponse:
    """Unannotated recordings of the unit subtree, overdue ones first (C5.2)."""
    if not request.user.has_role(*SQUAD_QUEUE_READERS):
        raise PermissionDenied(_("中队长、大队长、督察和系统管理员可以查看待标注督办"))
    now = timezone.now()
    overdue_only = request.GET.get("overdue") == "1"
    qs = queries.squad_queue(request.user, now=now, overdue_only=overdue_only)
    page = _page(request, qs)
    return render(
        request,
        "casework/squad_queue.html",
        {
            "page_obj": page,
            "rows": _rows(page.object_list, now),
            "overdue_only": overdue_only,
            "overdue_count": queries.overdue_for_leader(request.user, now).count(),
        },
    )


def _annotate_forms(request: HttpRequest, recording: Recording, data=None, quick_data=None):
    user = request.user
    suggested = queries.suggestions(recording, user)
    existing = getattr(recording, "annotation", None) if _has_annotation(recording) else None
    ids = [a.pk for a in suggested]
    if existing is not None:
        ids.append(existing.activity_id)
    # Also the user's own activities of the same day, for a suggestion that missed.
    day_start = recording.started_at - queries.OPEN_ACTIVITY_SPAN
    day_end = recording.started_at + queries.OPEN_ACTIVITY_SPAN
    nearby = (
        Activity.objects.restrict(user, "view")
        .filter(officers=recording.officer_id or user.pk)
        .filter(span_start__gte=day_start, span_start__lte=day_end)
        .values_list("pk", flat=True)[:30]
    )
    ids += list(nearby)
    choices = Activity.objects.filter(pk__in=ids).select_related("party").order_by("span_start")
    run = queries.segment_run(recording)
    run_qs = Recording.objects.filter(pk__in=[r.pk for r in run]).order_by("started_at")
    initial: dict[str, Any] = {"run": [r.pk for r in run]}
    if existing is not None:
        initial.update(activity=existing.activity_id, step=existing.step, note=existing.note)
    elif suggested:
        initial.update(activity=suggested[0].pk, step=DEFAULT_STEP.get(suggested[0].kind))
    form = AnnotateForm(data, activities=choices, run=run_qs, suggested=suggested, initial=initial)
    quick = QuickActivityForm(quick_data, user=user, recording=recording)
    return form, quick, suggested, existing, run


def _has_annotation(recording: Recording) -> bool:
    return Annotation.objects.filter(recording_id=recording.pk).exists()


def _render_annotate(request, recording, form, quick, suggested, existing, run, status=200):
    return render(
        request,
        "casework/annotate.html",
        {
            "recording": recording,
            "form": form,
            "quick": quick,
            "suggested": suggested,
            "existing": existing,
            "run": run,
            "deadline": queries.deadline(recording),
            "end": queries.recording_end(recording),
        },
        status=status,
    )


@login_required
def annotate(request: HttpRequest, pk: int) -> HttpResponse:
    """Tie one recording (and its run of segments) to an activity with its step."""
    recording = _get_recording(request, pk, change=request.method == "POST")
    form, quick, suggested, existing, run = _annotate_forms(
        request, recording, request.POST or None
    )
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["run"]) or [recording]
        if recording not in chosen:
            chosen.append(recording)
        chosen.sort(key=lambda r: r.started_at)
        for r in chosen:
            if not _may_annotate(request.user, r):
                raise PermissionDenied(_("所选分段中有你不能标注的声像记录"))
        try:
            anns = actions.annotate_run(
                actor=request.user,
                recordings=chosen,
                activity=form.cleaned_data["activity"],
                step=form.cleaned_data["step"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已标注 %(n)d 条声像记录，标准文件名：%(name)s")
                % {"n": len(anns), "name": anns[0].standard_name},
            )
            return redirect("casework:annotation", pk=recording.pk)
    if not _may_annotate(request.user, recording):
        form = None
    return _render_annotate(
        request,
        recording,
        form,
        quick,
        suggested,
        existing,
        run,
        status=400 if request.method == "POST" else 200,
    )


def _party_from(form, *, actor, unit) -> Any:
    data = form.cleaned_data
    if data.get("party"):
        return data["party"]
    name = (data.get("new_party_name") or "").strip()
    if not name:
        return None
    return actions.find_or_create_party(
        actor=actor,
        unit=unit,
        kind=data["new_party_kind"],
        name=name,
        id_number=data.get("new_party_id_number", ""),
    )


@login_required
@require_POST
def annotate_new_activity(request: HttpRequest, pk: int) -> HttpResponse:
    """Write down the activity on the spot and annotate the recording with it."""
    recording = _get_recording(request, pk, change=True)
    form, quick, suggested, existing, run = _annotate_forms(request, recording, None, request.POST)
    if quick.is_valid():
        data = quick.cleaned_data
        try:
            with transaction.atomic():
                party = _party_from(quick, actor=request.user, unit=data["unit"])
                _activity, anns = actions.create_activity_for_recording(
                    actor=request.user,
                    recording=recording,
                    step=data["step"],
                    officers=list(data["other_officers"]),
                    run=run,
                    kind=data["kind"],
                    category=data["category"],
                    unit=data["unit"],
                    party=party,
                    place_name=data["place_name"],
                    address=data["address"],
                )
        except ValidationError as exc:
            apply_errors(quick, exc)
        else:
            messages.success(
                request,
                _("已新建执法活动并标注，标准文件名：%(name)s") % {"name": anns[0].standard_name},
            )
            return redirect("casework:annotation", pk=recording.pk)
    return _render_annotate(request, recording, form, quick, suggested, existing, run, status=400)


@login_required
def annotation(request: HttpRequest, pk: int) -> HttpResponse:
    """One recording's annotation: activity, step, standard name, list number."""
    recording = _get_recording(request, pk)
    ann = (
        Annotation.objects.select_related("activity", "activity__unit", "case", "annotated_by")
        .filter(recording=recording)
        .first()
    )
    if ann is None:
        return redirect("casework:annotate", pk=recording.pk)
    return render(
        request,
        "casework/annotation.html",
        {
            "recording": recording,
            "ann": ann,
            "end": queries.recording_end(recording),
            "can_change": _may_annotate(request.user, recording),
        },
    )


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
    if not request.user.unit_id and not request.user.is_superuser:
        raise PermissionDenied(_("你没有所属单位，不能登记执法活动"))
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
        .select_related("recording", "recording__officer")
        .order_by("list_no", "recording__started_at")
    )
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
    return render(
        request,
        "casework/activity_detail.html",
        {
            "activity": activity,
            "officers": activity.officers.all(),
            "annotations": annotations,
            "coverage": coverage,
            "unlinked": unlinked,
            "can_change": Activity.objects.restrict(request.user, "change").filter(pk=pk).exists(),
        },
    )


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
    try:
        actions.set_case_status(
            actor=request.user,
            case=case,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
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
        try:
            result = powers.import_powers(
                actor=request.user, unit=form.cleaned_data["unit"], stream=form.cleaned_data["file"]
            )
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
