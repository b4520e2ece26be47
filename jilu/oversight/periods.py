"""Periods a finding is counted in: a day or a month of Asia/Shanghai."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    label: str  # "2026-11-26" or "2026-11"


def local(at: datetime) -> datetime:
    return at.astimezone(SHANGHAI)


def day(at: datetime) -> Period:
    d = local(at).date()
    start = datetime.combine(d, time(0), tzinfo=SHANGHAI)
    return Period(start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC), d.isoformat())


def month(at: datetime) -> Period:
    d = local(at).date().replace(day=1)
    start = datetime.combine(d, time(0), tzinfo=SHANGHAI)
    following = (d + timedelta(days=32)).replace(day=1)
    end = datetime.combine(following, time(0), tzinfo=SHANGHAI)
    return Period(start.astimezone(UTC), end.astimezone(UTC), f"{d:%Y-%m}")


def last_midnight(at: datetime) -> datetime:
    """The start (UTC) of the local day holding ``at``."""
    return day(at).start
