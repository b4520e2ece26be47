"""Small display helpers for device pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.devices import labels

register = template.Library()

GB = 10**9

# A holder checks battery and storage regularly (C1.4); older than this is flagged.
CHECK_STALE_AFTER = timedelta(days=7)
# A workstation not heard from for this long is flagged (C1.2: it must be usable).
STATION_STALE_AFTER = timedelta(days=3)

STATUS_BADGE = {"in_service": "good", "under_repair": "warn", "lost": "bad", "retired": ""}


@register.filter
def gb(value: int | None) -> str:
    """Bytes as decimal gigabytes, as recorder screens show storage."""
    if value is None:
        return "—"
    return f"{value / GB:.2f} GB"  # the same as jilu.org.sizes.human_size in the GB range


@register.filter
def offset(value: float | None) -> str:
    """A clock offset in seconds, signed (device minus Beijing time)."""
    if value is None:
        return "—"
    return _("%(seconds)s 秒") % {"seconds": f"{value:+.1f}"}


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGE.get(status, "")


@register.filter
def check_stale(at: datetime | None) -> bool:
    return at is None or timezone.now() - at > CHECK_STALE_AFTER


@register.filter
def station_stale(at: datetime | None) -> bool:
    return at is None or timezone.now() - at > STATION_STALE_AFTER


@register.filter
def status_label(status: str) -> str:
    """A recorder status in the interface language."""
    return labels.status_label(status)


@register.filter
def kind_label(kind: str) -> str:
    """A device event kind in the interface language."""
    return labels.kind_label(kind)
