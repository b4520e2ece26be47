"""The time retention decides by. One function, so that tests (and a drill of a
disposal on a copy of the database) move it forward instead of waiting a year."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
