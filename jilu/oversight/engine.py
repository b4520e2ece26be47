"""How the rules read new facts: a cursor per source, never history again.

``by_rows`` reads the rows after the cursor's last primary key (or audit
sequence number) in batches; ``by_window`` judges time windows up to a
deadline (now minus the rule's grace period), one day at a time. Each batch or
window commits together with the cursor's move, so a run that stops half-way
neither loses facts nor adds them twice (the findings are idempotent too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from jilu.oversight.finding_models import RuleCursor

BATCH = 500
WINDOW_STEP = timedelta(days=1)


def cursor(source: str) -> RuleCursor:
    """The source's cursor, locked for this transaction."""
    found, _created = RuleCursor.objects.select_for_update().get_or_create(source=source)
    return found


def by_rows(
    source: str,
    rows: Callable[[], QuerySet],
    handle: Callable[[Iterable[Any]], None],
    *,
    key: str = "pk",
    batch: int = BATCH,
) -> int:
    """Hand the rows after the cursor to ``handle`` a batch at a time; how many were read."""
    total = 0
    while True:
        with transaction.atomic():
            at = cursor(source)
            found = list(rows().filter(**{f"{key}__gt": at.position}).order_by(key)[:batch])
            if not found:
                return total
            handle(found)
            at.position = getattr(found[-1], key)
            at.save(update_fields=["position", "updated_at"])
        total += len(found)
        if len(found) < batch:
            return total


def by_window(
    source: str,
    until: datetime,
    handle: Callable[[datetime, datetime], None],
    *,
    first: Callable[[], datetime | None],
) -> int:
    """Judge [last window end, ``until``) one step at a time; how many steps ran.

    A new cursor starts at ``first()`` (the earliest fact), or at ``until`` when
    there is none yet.
    """
    steps = 0
    while True:
        with transaction.atomic():
            at = cursor(source)
            start = at.window_end
            if start is None:
                start = first()
                if start is None:
                    at.window_end = until
                    at.save(update_fields=["window_end", "updated_at"])
                    return steps
            if start >= until:
                return steps
            end = min(start + WINDOW_STEP, until)
            handle(start, end)
            at.window_end = end
            at.save(update_fields=["window_end", "updated_at"])
        steps += 1
