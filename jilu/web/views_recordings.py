"""The recording page: the recording with its custody chain (C6.3), its
annotation and activity or case (C5.2) and its access requests (C6.3).

It combines evidence, casework and access, so it lives in the top layer; the
bytes (play, download, derived pictures) stay with evidence.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from jilu.access import scope
from jilu.access.models import AccessRequest
from jilu.casework.models import Annotation
from jilu.evidence import detail, playback, timeline
from jilu.evidence.models import Derivative, MediaInfo, Recording
from jilu.evidence.queries import INTEGRITY_BADGE, media_of
from jilu.evidence.views import get_recording, integrity_of


@never_cache
@login_required
def recording_detail(request: HttpRequest, pk: int) -> HttpResponse:
    recording = get_recording(request, pk, "view")
    playback.note_access(actor=request.user, recording_id=recording.pk, action="view")
    info = media_of(recording)
    derivatives = {d.kind: d for d in recording.derivatives.select_related("stored_object")}
    play_derived = _needs_playback_copy(info) and Derivative.Kind.PLAYBACK in derivatives
    playable = (
        recording.kind != Recording.Kind.VIDEO or not _needs_playback_copy(info) or play_derived
    )
    return render(
        request,
        "evidence/recording_detail.html",
        {
            "rec": recording,
            "media": info,
            "badge": INTEGRITY_BADGE.get(integrity_of(info), ""),
            "processing": detail.processing_state(info),
            "derivatives": list(derivatives.values()),
            "poster": derivatives.get(Derivative.Kind.POSTER)
            or derivatives.get(Derivative.Kind.PREVIEW),
            "strip": derivatives.get(Derivative.Kind.STRIP),
            "preview": derivatives.get(Derivative.Kind.PREVIEW),
            "play_derived": play_derived,
            "playable": playable,
            "no_play_reason": "" if playable else detail.no_playback_reason(recording, info),
            "custody": detail.custody(recording, request.user),
            "annotation": _annotation(recording),
            "timeline_day": recording.started_at.astimezone(timeline.SHANGHAI).date().isoformat(),
            # C3.2: said the same way as on the timeline and in the custody chain.
            "offset_text": timeline.Docking(
                recording.started_at, offset_seconds=recording.clock_offset_seconds
            ).offset_text,
            **_access_context(request.user, recording),
            **_retention_context(request.user, recording),
        },
    )


def _access_context(user: Any, recording: Recording) -> dict[str, Any]:
    """Copying the original (C6.3): the download button only for whom it will
    work, otherwise the request button; this recording's requests in scope."""
    grant = scope.copy_grant(user, recording)
    return {
        "copy_grant": grant,
        "access_requests": list(
            AccessRequest.objects.restrict(user, "view")
            .filter(recordings=recording)
            .select_related("requester")
            .order_by("-created_at", "-pk")[:20]
        ),
    }


def _annotation(recording: Recording) -> Any:
    """The activity and case the recording is tied to (C5.2), once annotated."""
    return Annotation.objects.select_related("activity", "case").filter(recording=recording).first()


def _needs_playback_copy(info: MediaInfo | None) -> bool:
    return bool(
        info and info.integrity != MediaInfo.Integrity.PENDING and not info.browser_playable
    )


def _retention_context(user: Any, recording: Recording) -> dict[str, Any]:
    """Why the recording is kept until when (C5.6), its holds, and the way to place one."""
    from django.db.models import Q

    from jilu.evidence.models import Tombstone
    from jilu.retention import rules
    from jilu.retention.actions import may_place
    from jilu.retention.models import HOLD_PLACERS, Hold, KeepUntil

    tombstone = Tombstone.objects.filter(pk=recording.sha256).first()
    keep = KeepUntil.objects.filter(pk=recording.pk).first()
    if keep is None:  # not stored yet: computed from the rules, the same way
        decision = rules.decide([recording.pk])[recording.pk]
        keep = KeepUntil(
            recording=recording,
            until=decision.until,
            rule=decision.deciding.rule,
            reasons=[r.as_dict() for r in decision.reasons],
        )
    annotation = Annotation.objects.filter(recording=recording).first()
    covers = Q(recording=recording)
    if annotation is not None:
        covers |= Q(activity_id=annotation.activity_id)
        if annotation.case_id:
            covers |= Q(case_id=annotation.case_id)
    holds = Hold.objects.filter(covers).exclude(state=Hold.State.RELEASED)
    return {
        "tombstone": tombstone,
        "keep": keep,
        "keep_reasons": rules.explain(keep.reasons),
        "holds": list(holds),
        "may_read_holds": user.is_superuser or user.has_role(*HOLD_PLACERS),
        "may_place_hold": any(may_place(user, k) for k in Hold.Kind.values),
    }
