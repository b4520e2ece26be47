"""Pages for the duty log (执勤日志, C6.2): list, new note, detail with the
leader's confirm/return, and the officer's edit/resubmit.

Notes are fetched through ``UnrecordedNote.objects.restrict(user, "view")`` (a
note out of scope is a 404); every change goes through ``jilu.dutylog.actions``,
which re-checks who may act and writes the audit row. Times are entered and
shown in Asia/Shanghai and stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jilu.devices.models import Recorder
from jilu.dutylog import actions
from jilu.dutylog.labels import label, reason_label, state_label
from jilu.dutylog.models import READERS, UnrecordedNote
from jilu.org.roles import LEADERS, Role

PAGE_SIZE = 50
SHANGHAI = ZoneInfo("Asia/Shanghai")
INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


def parse_local(value: str) -> datetime | None:
    """A time typed in Asia/Shanghai (or ISO 8601 with an offset), as UTC; None if unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    for fmt in INPUT_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=SHANGHAI).astimezone(UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(UTC)


def local_input(value: datetime | None) -> str:
    """The value for an <input type="datetime-local">, in Asia/Shanghai."""
    if value is None:
        return ""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def new_note_url(start: datetime, end: datetime) -> str:
    """The new-note form prefilled with a period (used by the officer's day timeline)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    return (
        reverse("dutylog:create")
        + "?"
        + urlencode({"start": local_input(start), "end": local_input(end)})
    )


def _reads_scope(user: Any) -> bool:
    return user.is_superuser or user.has_role(Role.INSPECTOR, *READERS)


def _tabs(user: Any) -> list[tuple[str, str]]:
    tabs = [("mine", _("我的执勤日志"))]
    if user.roles.intersection(LEADERS):
        tabs.append(("confirm", _("待我确认")))
    if _reads_scope(user):
        tabs.append(("all", _("全部")))
    return tabs


def _get(request: HttpRequest, pk: int) -> UnrecordedNote:
    note = (
        UnrecordedNote.objects.restrict(request.user, "view")
        .select_related("officer", "unit", "recorder", "confirmed_by", "returned_by")
        .filter(pk=pk)
        .first()
    )
    if note is None:
        raise Http404(_("没有这条执勤日志，或它不在你的权限范围内"))
    return label(note)


@login_required
@require_GET
def note_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    tabs = _tabs(user)
    tab = request.GET.get("tab", "")
    if tab not in {key for key, _label in tabs}:
        tab = "mine"
    if tab == "confirm":
        qs = actions.awaiting_confirmation(user)
    elif tab == "all":
        qs = UnrecordedNote.objects.restrict(user, "view")
    else:
        qs = UnrecordedNote.objects.filter(officer_id=user.pk)
    state = request.GET.get("state", "")
    if state in UnrecordedNote.State.values:
        qs = qs.filter(state=state)
    else:
        state = ""
    day_text = request.GET.get("day", "").strip()
    day_error = ""
    if day_text:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            day_error = _("日期格式应为 YYYY-MM-DD")
        else:
            lo = datetime.combine(day, time(0), tzinfo=SHANGHAI)
            qs = qs.filter(start__lt=lo + timedelta(days=1), end__gt=lo)
    qs = qs.select_related("officer", "unit", "confirmed_by").order_by("-start", "-pk")
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for note in page_obj:
        label(note)
    return render(
        request,
        "dutylog/note_list.html",
        {
            "tabs": tabs,
            "tab": tab,
            "page_obj": page_obj,
            "state": state,
            "day": day_text,
            "day_error": day_error,
            "states": [(v, state_label(v)) for v in UnrecordedNote.State.values],
            "querystring_without_page": f"tab={tab}&state={state}&day={day_text}&",
        },
    )


def _recorder_choices(user: Any) -> list[Recorder]:
    return list(Recorder.objects.filter(holdings__person=user).distinct().order_by("serial"))


def _form_context(user: Any, values: dict[str, str], errors: dict[str, list[str]]) -> dict:
    return {
        "values": values,
        "errors": errors,
        "reasons": [(v, reason_label(v)) for v in UnrecordedNote.Reason.values],
        "recorders": _recorder_choices(user),
        "max_local": local_input(timezone.now()),
    }


def _submit(request: HttpRequest, note: UnrecordedNote | None) -> tuple[Any, dict, dict]:
    """Parse the posted form and call the action; (note or None, values, errors)."""
    post = request.POST
    values = {k: post.get(k, "") for k in ("start", "end", "reason", "description", "recorder")}
    parse_errors: dict[str, list[str]] = {}
    times: dict[str, datetime | None] = {}
    for field in ("start", "end"):
        times[field] = parse_local(values[field])
        if values[field].strip() and times[field] is None:
            parse_errors[field] = [_("时间格式不正确，应为 YYYY-MM-DD HH:MM（北京时间）")]
    kwargs = {
        "actor": request.user,
        "start": times["start"],
        "end": times["end"],
        "reason": values["reason"],
        "description": values["description"],
        "recorder": values["recorder"],
    }
    errors: dict[str, list[str]] = {}
    if not parse_errors:
        try:
            if note is None:
                return actions.create_note(**kwargs), values, {}
            return actions.update_note(note, **kwargs), values, {}
        except ValidationError as exc:
            errors = exc.message_dict
    else:
        try:
            actions._clean(request.user, **{k: v for k, v in kwargs.items() if k != "actor"})
        except ValidationError as exc:
            errors = exc.message_dict
        errors.update(parse_errors)
    return None, values, errors


@login_required
def note_create(request: HttpRequest) -> HttpResponse:
    if not request.user.unit_id:
        raise PermissionDenied(_("你没有所属单位，无法填写执勤日志"))
    if request.method == "POST":
        note, values, errors = _submit(request, None)
        if note is not None:
            messages.success(request, _("已记入执勤日志，等待上级确认（C6.2）。"))
            return redirect("dutylog:detail", note.pk)
        status = 400
    else:
        values = {
            "start": local_input(parse_local(request.GET.get("start", ""))),
            "end": local_input(parse_local(request.GET.get("end", ""))),
            "reason": "",
            "description": "",
            "recorder": "",
        }
        errors, status = {}, 200
    ctx = _form_context(request.user, values, errors)
    ctx["editing"] = None
    return render(request, "dutylog/note_form.html", ctx, status=status)


@login_required
def note_edit(request: HttpRequest, pk: int) -> HttpResponse:
    note = _get(request, pk)
    if not actions.may_edit(request.user, note):
        raise PermissionDenied(_("只有本人可以修改尚未确认的执勤日志"))
    if request.method == "POST":
        saved, values, errors = _submit(request, note)
        if saved is not None:
            messages.success(request, _("已修改并重新提交，等待上级确认（C6.2）。"))
            return redirect("dutylog:detail", saved.pk)
        status = 400
    else:
        values = {
            "start": local_input(note.start),
            "end": local_input(note.end),
            "reason": note.reason,
            "description": note.description,
            "recorder": note.recorder_id or "",
        }
        errors, status = {}, 200
    ctx = _form_context(request.user, values, errors)
    ctx["editing"] = note
    return render(request, "dutylog/note_form.html", ctx, status=status)


@login_required
@require_GET
def note_detail(request: HttpRequest, pk: int) -> HttpResponse:
    note = _get(request, pk)
    return render(
        request,
        "dutylog/note_detail.html",
        {
            "note": note,
            "may_decide": actions.may_decide(request.user, note),
            "may_edit": actions.may_edit(request.user, note),
        },
    )


def _decide(request: HttpRequest, pk: int, action) -> HttpResponse:
    note = _get(request, pk)
    try:
        action(note, request.user, request.POST.get("note", ""))
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for m in msgs:
                messages.error(request, m)
    return redirect("dutylog:detail", note.pk)


@login_required
@require_POST
def note_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    def act(note, user, text):
        actions.confirm_note(note, actor=user, leader_note=text)
        messages.success(request, _("已确认。"))

    return _decide(request, pk, act)


@login_required
@require_POST
def note_return(request: HttpRequest, pk: int) -> HttpResponse:
    def act(note, user, text):
        actions.return_note(note, actor=user, reason=text)
        messages.success(request, _("已退回队员修改。"))

    return _decide(request, pk, act)
