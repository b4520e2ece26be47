"""Small helpers shared by the casework actions (see ``jilu.casework.actions``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jilu.org.models import Person


def _person(actor: Any) -> Person | None:
    return actor if isinstance(actor, Person) else None


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, datetime):
        return value.isoformat()
    return value
