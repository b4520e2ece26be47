"""Pages for annotation within 48 hours (C5.2): the queues and one recording.

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.casework.actions``. An object outside the user's view scope
is a 404; one the user sees but may not change is a 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jilu.casework import actions, queries
from jilu.casework.forms import AnnotateForm, QuickActivityForm, may_write_activities
from jilu.casework.models import DEFAULT_STEP, Activity, Annotation, Case
from jilu.casework.views_common import _page, _party_from
from jilu.evidence.models import Recording
from jilu.org.roles import LEADERS, Role
from jilu.org.widgets import apply_errors

SQUAD_QUEUE_READERS = (Role.ADMIN, Role.INSPECTOR, *LEADERS)


# --- annotation -------------------------------------------------------------------


_may_annotate = queries.may_annotate


def _get_recording(request: HttpRequest, pk: int, *, change: bool = False) -> Recording:
    recording = (
        queries.visible_recordings(request.user)
        .select_related("recorder", "officer", "officer__unit", "recorder__unit", "media")
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
            "can_create": may_write_activities(request.user),
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
    # Never offer what cannot be chosen: an activity whose case went to legal
    # review or was closed takes no more recordings (C5.5).
    choices = queries.open_activities(
        Activity.objects.filter(pk__in=ids).select_related("party").order_by("span_start")
    )
    run = queries.segment_run(recording)
    run_qs = Recording.objects.filter(pk__in=[r.pk for r in run]).order_by("started_at")
    initial: dict[str, Any] = {"run": [r.pk for r in run]}
    if existing is not None:
        initial.update(activity=existing.activity_id, step=existing.step, note=existing.note)
    elif suggested:
        initial.update(activity=suggested[0].pk, step=DEFAULT_STEP.get(suggested[0].kind))
    fits = {a.pk: queries.suggestion_fit(recording, a) for a in suggested}
    form = AnnotateForm(
        data, activities=choices, run=run_qs, suggested=suggested, fits=fits, initial=initial
    )
    quick = QuickActivityForm(quick_data, user=user, recording=recording)
    return form, quick, suggested, existing, run


def _has_annotation(recording: Recording) -> bool:
    return Annotation.objects.filter(recording_id=recording.pk).exists()


def _locked_reason(ann: Annotation | None) -> str:
    """Why an annotation can no longer be changed: its case went to legal
    review or was closed, and the record list is fixed (C5.5)."""
    if ann is None or ann.case_id is None or ann.case.editable:
        return ""
    return _("该声像记录已列入案件 %(n)s 的清单，案件%(s)s，标注已锁定，不能重新标注（C5.5）") % {
        "n": ann.case.number,
        "s": ann.case.get_status_display(),
    }


def _withheld_reason(activity: Activity) -> str:
    """Why a matching activity is not offered: its case's record list is fixed (C5.5)."""
    from jilu.casework.forms import activity_label

    case = activity.case
    values = {
        "activity": activity_label(activity),
        "number": case.number,
        "status": case.get_status_display(),
        "handler": case.handler.name if case.handler_id else _("承办人"),
    }
    if case.status == Case.Status.CLOSED:
        return (
            _(
                "时间最吻合的执法活动“%(activity)s”所属案件 %(number)s 已结案，"
                "不能再关联声像记录，因此未列出。如本记录属于该案件，请报告%(handler)s和中队长，"
                "不要为此另建重复的执法活动。"
            )
            % values
        )
    return (
        _(
            "时间最吻合的执法活动“%(activity)s”所属案件 %(number)s %(status)s，"
            "清单已固定，不能再关联声像记录，因此未列出。如本记录属于该案件，请联系%(handler)s："
            "法制审核退回补正后才能补充（C5.5）；不要为此另建重复的执法活动。"
        )
        % values
    )


def _render_annotate(request, recording, form, quick, suggested, existing, run, status=200):
    fits = [queries.suggestion_fit(recording, a) for a in suggested]
    locked = _locked_reason(existing)
    withheld = []
    if locked:
        form = quick = None
    else:
        withheld = [
            _withheld_reason(a) for a in queries.withheld_suggestions(recording, request.user)
        ]
    if not may_write_activities(request.user):
        quick = None
    return render(
        request,
        "casework/annotate.html",
        {
            "recording": recording,
            "form": form,
            "quick": quick,
            "suggested": suggested,
            "all_overlap": all(f.overlaps for f in fits),
            "locked_reason": locked,
            "withheld": withheld,
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
    if request.method == "POST":
        locked = _locked_reason(
            Annotation.objects.select_related("case").filter(recording=recording).first()
        )
        if locked:
            messages.error(request, locked)
            return redirect("casework:annotation", pk=recording.pk)
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


@login_required
@require_POST
def annotate_new_activity(request: HttpRequest, pk: int) -> HttpResponse:
    """Write down the activity on the spot and annotate the recording with it."""
    recording = _get_recording(request, pk, change=True)
    if not may_write_activities(request.user):
        raise PermissionDenied(_("你的角色不能登记执法活动"))
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
    locked = _locked_reason(ann)
    return render(
        request,
        "casework/annotation.html",
        {
            "recording": recording,
            "ann": ann,
            "end": queries.recording_end(recording),
            "can_change": _may_annotate(request.user, recording) and not locked,
            "locked_reason": locked if _may_annotate(request.user, recording) else "",
        },
    )
