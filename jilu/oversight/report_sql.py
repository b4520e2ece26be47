"""Deadline tests in each database's own date arithmetic, for the report's
grouped queries (C5.1, C5.2).

Django's ``F("docked_at") + timedelta`` becomes a Python function called per
row on SQLite (``django_format_dtdelta``): over a month of a city's recordings
that is most of the query's time. ``Within`` compiles to ``julianday``
arithmetic on SQLite and to ``interval`` arithmetic on PostgreSQL, both native.
"""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError
from django.db.models import BooleanField, Expression, F


class Within(Expression):
    """True when ``later`` is at most ``seconds`` after ``earlier`` (NULL, so
    false in a filter, when either is NULL)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, later: Any, earlier: Any, seconds: float) -> None:
        super().__init__()
        self.later = F(later) if isinstance(later, str) else later
        self.earlier = F(earlier) if isinstance(earlier, str) else earlier
        self.seconds = float(seconds)

    def get_source_expressions(self) -> list:
        return [self.later, self.earlier]

    def set_source_expressions(self, exprs: list) -> None:
        self.later, self.earlier = exprs

    def as_sql(self, compiler, connection, **extra_context):
        later, later_params = compiler.compile(self.later)
        earlier, earlier_params = compiler.compile(self.earlier)
        if connection.vendor == "sqlite":
            sql = f"((julianday({later}) - julianday({earlier})) * 86400.0 <= %s)"
        elif connection.vendor == "postgresql":
            sql = f"({later} <= {earlier} + make_interval(secs => %s))"
        else:
            raise NotSupportedError(f"Within() has no SQL for {connection.vendor}")
        return sql, (*later_params, *earlier_params, self.seconds)
