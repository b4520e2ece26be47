"""What the recording page says beyond the stored fields: its custody chain,
why there is (or is not) playback, and a processing failure in words.

Kept out of ``views.py`` so the views stay small.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.audit.labels import VALUE_LABELS, action_label, actor_text
from jilu.audit.models import AuditEntry
from jilu.evidence import tasks, timeline
from jilu.evidence.media_models import Derivative, FixityCheck, MediaInfo
from jilu.evidence.models import Recording
from jilu.org.roles import Role

CUSTODY_LIMIT = 500
REFUSED = "evidence.recording.refused"
# Who reads every refusal in a custody chain (C6.4, C6.5.7); the others see
# their own refused attempts only, not the names of other units' people.
REFUSAL_READERS = (Role.INSPECTOR, Role.ADMIN)


def reads_all_refusals(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.is_superuser or user.has_role(*REFUSAL_READERS))
    )


def wanted_text(wanted: str) -> str:
    """``derived:poster`` → 派生文件：封面帧; ``download`` → 下载原始文件."""
    label = VALUE_LABELS.get(("wanted", wanted))
    if label is not None:
        return str(label)
    if wanted.startswith("derived:"):
        kind = wanted.partition(":")[2]
        names = dict(Derivative.Kind.choices)
        return _("派生文件：%(kind)s") % {"kind": names.get(kind, _("未知类型"))}
    return wanted


def custody(recording: Recording, user: Any) -> list[dict[str, Any]]:
    """Recorded, docked, verified, processed, each view/play/download: oldest first."""
    from jilu.evidence.queries import media_of

    events: list[dict[str, Any]] = []
    if recording.name_start_local:
        events.append(
            {
                "at": recording.started_at,
                "what": _("开始录制"),
                "who": recording.officer.name if recording.officer else "",
                "detail": _("记录仪 %(serial)s，文件名时间 %(local)s，校正后 %(offset)s")
                % {
                    "serial": recording.recorder.serial,
                    "local": timezone.localtime(recording.name_start_local).strftime(
                        "%Y-%m-%d %H:%M:%S"
                    ),
                    "offset": timeline.Docking(
                        recording.started_at, offset_seconds=recording.clock_offset_seconds
                    ).offset_text,
                },
            }
        )
    docking = recording.docking
    station = recording.station
    events.append(
        {
            "at": recording.docked_at,
            "what": _("对接采集"),
            "who": (docking.user_name if docking and docking.user_name else "")
            or (recording.officer.name if recording.officer else ""),
            "detail": _("工作站：%(station)s") % {"station": station.name if station else "—"}
            + (_("（超过24小时）") if not recording.collected_within_24h else ""),
        }
    )
    entries = AuditEntry.objects.filter(
        object_type="evidence.recording", object_id=str(recording.pk)
    )
    if not reads_all_refusals(user):
        entries = entries.filter(~Q(action=REFUSED) | Q(actor_id=getattr(user, "pk", None)))
    for entry in entries.order_by("-seq").only("at", "actor_label", "action", "details", "seq")[
        :CUSTODY_LIMIT
    ]:
        detail = ""
        if entry.action == REFUSED:
            detail = _("请求：%(wanted)s") % {
                "wanted": wanted_text(entry.details.get("wanted", ""))
            }
        elif entry.action == "evidence.recording.play" and entry.details.get("derived"):
            detail = _("播放的是派生播放副本")
        elif entry.action == "evidence.recording.download" and entry.details.get("request"):
            detail = _("调用单 %(number)s") % {"number": entry.details["request"]}
        events.append(
            {
                "at": entry.at,
                "what": action_label(entry.action, entry.details),
                "who": actor_text(entry.actor_label),
                "detail": detail,
                "seq": entry.seq,
            }
        )
    info = media_of(recording)
    if info and info.probed_at:
        events.append(
            {
                "at": info.probed_at,
                "what": _("媒体检测"),
                "who": _("系统"),
                "detail": f"{info.get_integrity_display()} {info.integrity_reason}".strip(),
            }
        )
    for check in FixityCheck.objects.filter(stored_object_id=recording.sha256).order_by(
        "-checked_at"
    )[:50]:
        events.append(
            {
                "at": check.checked_at,
                "what": _("固定性校验：一致") if check.ok else _("固定性校验：不一致"),
                "who": _("系统"),
                "detail": check.problem,
            }
        )
    events.sort(key=lambda e: (e["at"], e.get("seq", 0)))
    return events


def processing_state(info: MediaInfo | None) -> dict[str, Any] | None:
    """A processing run that failed (C6.5.4 when the original is missing): shown as
    处理失败 with the reason in words, or 处理中断 while a retry is still due."""
    if info is None or not info.last_error or info.integrity != MediaInfo.Integrity.PENDING:
        return None
    gave_up = not tasks.still_retried(info.last_error, info.attempts)
    return {
        "failed": gave_up,
        "label": _("处理失败") if gave_up else _("处理中断，将自动重试"),
        "reason": tasks.failure_reason(info.last_error),
    }


def no_playback_reason(recording: Recording, info: MediaInfo | None) -> str:
    """Why a video that the browser cannot play has no playback copy."""
    state = processing_state(info)
    if state is not None:
        return _("媒体处理失败（%(reason)s），没有可播放的副本。") % {"reason": state["reason"]}
    if info is not None and info.integrity in (
        MediaInfo.Integrity.INCOMPLETE,
        MediaInfo.Integrity.UNPARSEABLE,
    ):
        return _(
            "文件%(state)s（%(reason)s），无法生成播放副本，浏览器也不能直接播放。"
            "原始文件按原样保存，未作任何改动。"
        ) % {
            "state": info.get_integrity_display(),
            "reason": info.integrity_reason or _("原因不明"),
        }
    return _("浏览器无法直接播放原始文件，播放副本正在生成，请稍后刷新。")
