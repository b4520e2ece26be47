"""The background task page for administrators (issue 4, item 1).

Administrators see recent tasks (django-tasks-db results) and the recordings
whose media processing failed or is stuck, and can queue a recording again;
inspectors read the same page without the button (C6.4); everyone else gets
403. Recordings are narrowed with ``restrict(user, VIEW)``; the re-queue goes
through the audited action ``requeue.requeue_processing``.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jilu.evidence import task_labels
from jilu.evidence.media_models import MediaInfo
from jilu.evidence.models import Recording
from jilu.evidence.requeue import requeue_processing
from jilu.evidence.tasks import MAX_ATTEMPTS
from jilu.org.access import VIEW
from jilu.org.roles import Role

READERS = (Role.ADMIN, Role.INSPECTOR)
# A recording not processed this long after it arrived is listed as stuck.
STUCK_AFTER = timedelta(minutes=15)
TASK_ROWS = 100
PROBLEM_ROWS = 200

STATUS_BADGE = {
    TaskResultStatus.SUCCESSFUL: "good",
    TaskResultStatus.FAILED: "bad",
    TaskResultStatus.RUNNING: "warn",
    TaskResultStatus.READY: "",
}


# django-tasks labels its states in English; people read them in their language.
STATUS_LABELS = {
    TaskResultStatus.READY: gettext_lazy("排队中"),
    TaskResultStatus.RUNNING: gettext_lazy("运行中"),
    TaskResultStatus.FAILED: gettext_lazy("失败"),
    TaskResultStatus.SUCCESSFUL: gettext_lazy("成功"),
}


def status_label(status: str) -> str:
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else str(status)


def problem_recordings(user):
    """Recordings the user may see whose processing failed or has not happened in time."""
    stuck = timezone.now() - STUCK_AFTER
    return (
        Recording.objects.restrict(user, VIEW)
        .filter(
            Q(media__last_error__gt="")
            | Q(media__isnull=True, created_at__lt=stuck)
            | Q(media__integrity=MediaInfo.Integrity.PENDING, created_at__lt=stuck)
        )
        .select_related("media", "officer", "recorder")
        .order_by("-created_at")
    )


PROBLEM_CAP = 1000
PROBLEM_COUNT_SECONDS = 60


def problem_count(user) -> int:
    """How many recordings ``problem_recordings`` lists, counted to PROBLEM_CAP + 1
    at most and kept for a minute: a home page shows it on every visit, and over
    millions of recordings a full count would cost each visit most of a second."""
    from django.core.cache import cache

    key = f"jilu:processing-problems:{user.pk}"
    count = cache.get(key)
    if count is None:
        count = problem_recordings(user).order_by()[: PROBLEM_CAP + 1].count()
        cache.set(key, count, PROBLEM_COUNT_SECONDS)
    return count


def _row(result: DBTaskResult) -> dict:
    error = ""
    if result.traceback:
        lines = [line for line in result.traceback.strip().splitlines() if line.strip()]
        error = lines[-1] if lines else ""
    args = result.args_kwargs or {}
    title, subject = task_labels.label_of(
        result.task_path, list(args.get("args") or []), dict(args.get("kwargs") or {})
    )
    return {
        "id": result.id,
        "name": title,
        "path": result.task_path,
        "args": subject,
        "status": result.status,
        "status_label": status_label(result.status),
        "badge": STATUS_BADGE.get(result.status, ""),
        "enqueued_at": result.enqueued_at,
        "run_after": result.run_after if result.run_after.year < 9999 else None,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "error": error,
    }


@never_cache
@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_role(*READERS):
        raise PermissionDenied(_("只有系统管理员和督察可以查看后台任务。"))
    status = request.GET.get("status", "")
    results = DBTaskResult.objects.all()
    if status in TaskResultStatus.values:
        results = results.filter(status=status)
    counts = dict(
        DBTaskResult.objects.values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    problems = list(problem_recordings(request.user)[:PROBLEM_ROWS])
    return render(
        request,
        "evidence/tasks.html",
        {
            "tasks": [_row(r) for r in results.order_by("-enqueued_at")[:TASK_ROWS]],
            "statuses": [
                (value, status_label(value), counts.get(value, 0))
                for value, _label in TaskResultStatus.choices
            ],
            "status": status,
            "problems": problems,
            "can_requeue": request.user.has_role(Role.ADMIN),
            "max_attempts": MAX_ATTEMPTS,
            "stuck_minutes": int(STUCK_AFTER.total_seconds() // 60),
        },
    )


@require_POST
@login_required
def requeue(request: HttpRequest, recording_id: int) -> HttpResponse:
    if not request.user.has_role(Role.ADMIN):
        raise PermissionDenied(_("只有系统管理员可以重新排队处理任务。"))
    recording = Recording.objects.restrict(request.user, VIEW).filter(pk=recording_id).first()
    if recording is None:
        raise Http404(_("没有这条记录，或您无权查看。"))
    requeue_processing(actor=request.user, recording=recording)
    messages.success(request, _("已重新排队处理：%(name)s") % {"name": recording})
    return redirect("tasks:list")
