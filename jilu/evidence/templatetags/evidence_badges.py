"""The integrity badge of a recording, the same wherever the recording is listed.

``{% load evidence_badges %}{% integrity_badge recording %}`` shows 完整 / 不完整 /
无法解析 / 待检测 (C6.5.3, C6.5.4) and, for the bad states, the reason as
visible text (a tooltip is invisible on a phone). Pages that list many
recordings fetch the probe with ``select_related("media")``, so the badge
costs no query.
"""

from __future__ import annotations

from typing import Any

from django import template

from jilu.evidence.models import MediaInfo
from jilu.evidence.queries import INTEGRITY_BADGE, media_of

register = template.Library()

# States whose reason is shown beside the badge (the good and pending ones have none).
EXPLAINED = {MediaInfo.Integrity.INCOMPLETE, MediaInfo.Integrity.UNPARSEABLE}


def integrity_of(recording: Any) -> dict[str, Any]:
    """What the badge shows for ``recording``: state, label, css class, reason."""
    info = media_of(recording) if recording is not None else None
    state = MediaInfo.Integrity(info.integrity) if info else MediaInfo.Integrity.PENDING
    return {
        "state": state.value,
        "label": state.label,
        "css": INTEGRITY_BADGE.get(state, ""),
        "reason": info.integrity_reason if info and state in EXPLAINED else "",
    }


@register.inclusion_tag("evidence/_integrity_badge.html")
def integrity_badge(recording: Any, reason: bool = True) -> dict[str, Any]:
    return {"badge": integrity_of(recording), "show_reason": reason}


@register.simple_tag
def overdue_ids(rows: Any) -> set[int]:
    """Ids of the listed recordings not annotated 48 h after collection (C5.2),
    found with one query for the whole page. ``rows`` holds recordings or
    list rows (``{"rec": recording}``)."""
    from django.utils import timezone

    from jilu.evidence.hooks import annotations
    from jilu.evidence.queries import ANNOTATION_DEADLINE

    annotated = annotations()
    if annotated is None:
        return set()
    recordings = [row["rec"] if isinstance(row, dict) else row for row in rows]
    cutoff = timezone.now() - ANNOTATION_DEADLINE
    late = [r.pk for r in recordings if r.docked_at and r.docked_at < cutoff]
    if not late:
        return set()
    done = set(annotated.filter(recording_id__in=late).values_list("recording_id", flat=True))
    return set(late) - done
