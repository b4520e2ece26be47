"""Pages for recordings: finding, watching, custody, day timelines and fixity alarms.

Every recording is fetched through ``Recording.objects.restrict(user, "view")``;
one outside the person's scope is a 404 and the refusal is written to the
audit log, as is every view, play and download (C6.3, C6.5.7).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jilu.evidence import fixity, playback
from jilu.evidence.forms import AcknowledgeForm, RecordingFilterForm
from jilu.evidence.hooks import copy_gate
from jilu.evidence.missing import StoredObjectMissing, missing_page
from jilu.evidence.models import Derivative, FixityAlarm, MediaInfo, Recording
from jilu.evidence.queries import (
    INTEGRITY_BADGE,
    CappedPaginator,
    base_queryset,
    filter_recordings,
    media_of,
    reads_everything,
)
from jilu.middleware import keeps_session

PAGE_SIZE = 50
PICTURE_KINDS = {
    Derivative.Kind.POSTER,
    Derivative.Kind.STRIP,
    Derivative.Kind.WAVEFORM,
    Derivative.Kind.PREVIEW,
}


def _querystring_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode() + "&" if query else ""


def get_recording(request: HttpRequest, pk: int, wanted: str, *, lean: bool = False) -> Recording:
    """The recording if the person may see it; otherwise the refusal is audited and 404.

    ``lean`` (serving bytes) fetches only what serving needs: every Range
    request of a playing video comes through here.
    """
    qs = Recording.objects.restrict(request.user, "view")
    if lean:
        qs = qs.select_related("media").only(
            "pk", "original_name", "sha256", "size", "kind", "media__integrity",
            "media__browser_playable",
        )  # fmt: skip
    else:
        qs = qs.select_related(
            "officer", "officer__unit", "recorder", "recorder__unit", "media", "station",
            "docking", "stored_object",
        )  # fmt: skip
    recording = qs.filter(pk=pk).first()
    if recording is None:
        playback.note_access(
            actor=request.user,
            recording_id=pk,
            action="refused",
            details={"wanted": wanted, "exists": Recording.objects.filter(pk=pk).exists()},
        )
        raise Http404(_("没有这条声像记录，或它不在你的权限范围内"))
    return recording


# --- finding ------------------------------------------------------------------


@login_required
def recording_list(request: HttpRequest) -> HttpResponse:
    form = RecordingFilterForm(request.GET or None, user=request.user)
    qs = filter_recordings(
        base_queryset(request.user), form.filters(), wide=reads_everything(request.user)
    )
    paginator = CappedPaginator(qs, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    rows = []
    for rec in page_obj.object_list:
        info = media_of(rec)
        rows.append(
            {"rec": rec, "media": info, "badge": INTEGRITY_BADGE.get(integrity_of(info), "")}
        )
    return render(
        request,
        "evidence/recording_list.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page_obj,
            "capped": paginator.capped,
            "cap": paginator.cap,
            "querystring_without_page": _querystring_without_page(request),
        },
    )


def integrity_of(info: MediaInfo | None) -> str:
    return info.integrity if info else MediaInfo.Integrity.PENDING


# --- one recording ---------------------------------------------------------------
# The recording page combines the custody chain with the recording's annotation
# and access requests: it lives above, in ``jilu.web.views_recordings``.


def _serve(request: HttpRequest, recording: Recording, **kwargs: Any) -> HttpResponse:
    """``playback.serve_recording`` with its refusals as pages: a play asking for
    the whole file is a copy (403, C6.3); bytes missing from the store are 410
    and raise the fixity alarm (C6.5.4)."""
    try:
        return playback.serve_recording(request, recording, **kwargs)
    except playback.WholeObjectRefused as exc:
        return render(
            request,
            "access/copy_refused.html",
            {"rec": recording, "message": exc.message},
            status=403,
        )
    except StoredObjectMissing as exc:
        return missing_page(request, recording, exc)


@login_required
@keeps_session
def recording_play(request: HttpRequest, pk: int) -> HttpResponse:
    """The bytes the browser plays, by byte ranges only: the original, or the
    derived H.264 copy when the original cannot be played. A whole copy of the
    original is a download under an approved 调用单 (C6.3)."""
    recording = get_recording(request, pk, "play", lean=True)
    return _serve(request, recording)


@login_required
@keeps_session
def recording_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The original bytes as a file named as on the recorder: a copy, which only
    an archivist makes under an approved, unexpired access request (C6.3,
    C6.5.7); anyone else is refused (403, audited) and pointed to the request form."""
    recording = get_recording(request, pk, "download", lean=True)
    gate = copy_gate()
    grant = gate.authorise(request, recording)
    if grant is None:
        playback.note_access(
            actor=request.user,
            recording_id=recording.pk,
            action="refused",
            details={"wanted": "download", "reason": "no_approved_request"},
        )
        return render(
            request,
            "access/copy_refused.html",
            {"rec": recording, "message": gate.refusal},
            status=403,
        )
    return _serve(request, recording, download=True, extra={"request": grant.number})


@login_required
@keeps_session
def recording_derived(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """A derived picture (poster, strip, waveform, photo preview) of a visible recording.

    Not audited one by one (C6.5.7 is met by the page): these pictures are shown
    only on the recording page, whose every view is audited with who and when,
    and each page view fetches up to three of them; an entry per picture would
    triple the log without saying anything new. Refusals (out of scope) are
    audited like any other.
    """
    recording = get_recording(request, pk, f"derived:{kind}", lean=True)
    if kind not in PICTURE_KINDS:
        raise Http404(_("没有这种派生文件"))
    derived = recording.derivatives.filter(kind=kind).select_related("stored_object").first()
    if derived is None:
        raise Http404(_("这条记录还没有这种派生文件"))
    try:
        return playback.serve_object(
            request,
            sha256=derived.stored_object_id,
            size=derived.stored_object.size,
            content_type=derived.content_type,
            filename=f"{recording}.{kind}",
            original=False,
        )
    except StoredObjectMissing as exc:
        return missing_page(request, recording, exc)


# --- fixity alarms ------------------------------------------------------------------


def _require_alarm_reader(request: HttpRequest) -> None:
    if not fixity.may_read_alarms(request.user):
        raise PermissionDenied(_("只有系统管理员和督察可以查看固定性告警"))


@login_required
def alarm_list(request: HttpRequest) -> HttpResponse:
    """Altered or missing stored objects (C6.5.3, C6.5.4), open ones first."""
    _require_alarm_reader(request)
    show = request.GET.get("show", "open")
    alarms = FixityAlarm.objects.select_related("stored_object", "acknowledged_by", "fixity_check")
    if show != "all":
        alarms = alarms.filter(acknowledged_at__isnull=True)
    paginator = CappedPaginator(alarms.order_by("-raised_at", "-pk"), PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    keys = [a.stored_object_id for a in page_obj.object_list]
    recs: dict[str, list[Recording]] = {}
    for rec in Recording.objects.filter(sha256__in=keys).select_related("recorder", "officer"):
        recs.setdefault(rec.sha256, []).append(rec)
    rows = [{"alarm": a, "recordings": recs.get(a.stored_object_id, [])} for a in page_obj]
    return render(
        request,
        "evidence/alarm_list.html",
        {
            "rows": rows,
            "page_obj": page_obj,
            "show": show,
            "form": AcknowledgeForm(),
            "may_acknowledge": fixity.may_acknowledge_alarms(request.user),
            "open_count": fixity.open_alarms().count(),
            "period_days": fixity.period_days(),
            "querystring_without_page": _querystring_without_page(request),
        },
    )


@require_POST
@login_required
def alarm_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    _require_alarm_reader(request)
    if not fixity.may_acknowledge_alarms(request.user):
        raise PermissionDenied(_("只有系统管理员可以确认固定性告警；督察可以查看"))
    alarm = FixityAlarm.objects.filter(pk=pk).first()
    if alarm is None:
        raise Http404(_("没有这条告警"))
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            fixity.acknowledge_alarm(
                actor=request.user, alarm=alarm, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("已确认告警，处理情况已记入审计日志"))
    else:
        messages.error(request, _("请写明处理情况后再确认"))
    return redirect("evidence:alarm_list")
