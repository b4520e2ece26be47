"""Rows written in bulk: ``COPY … FROM STDIN`` on PostgreSQL, batched
``executemany`` inserts elsewhere. Callers give explicit primary keys
(``Ids``) so that rows can reference each other before they are written;
``reset_sequences`` moves the database's own counters past them afterwards."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max, Model


class Ids:
    """The next primary key of each model, starting after what the table holds."""

    def __init__(self) -> None:
        self._next: dict[type[Model], int] = {}

    def next(self, model: type[Model]) -> int:
        if model not in self._next:
            top = model._default_manager.aggregate(top=Max("pk"))["top"] or 0
            self._next[model] = top + 1
        value = self._next[model]
        self._next[model] = value + 1
        return value


class RowWriter:
    """Rows buffered per table and written in the order the tables were first
    given, each ``flush`` in one transaction (foreign keys are checked at its
    commit on PostgreSQL, where Django makes them deferrable)."""

    def __init__(self, batch: int = 2000) -> None:
        self.batch = batch
        self._columns: dict[str, list[str]] = {}
        self._rows: dict[str, list[tuple]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.postgres = connection.vendor == "postgresql"

    def table(self, model: type[Model] | str, columns: list[str]) -> str:
        """Declare the columns of ``model``'s table (or of a table by name)."""
        name = model if isinstance(model, str) else model._meta.db_table
        self._columns.setdefault(name, columns)
        return name

    def add(self, table: str, row: tuple) -> None:
        self._rows[table].append(row)

    def tables(self) -> list[str]:
        return list(self._columns)

    def pending(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def flush(self) -> None:
        with transaction.atomic():
            for table, columns in self._columns.items():
                rows = self._rows.get(table)
                if not rows:
                    continue
                if self.postgres:
                    self._copy(table, columns, rows)
                else:
                    self._insert(table, columns, rows)
                self.counts[table] += len(rows)
                rows.clear()

    def _copy(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        qn = connection.ops.quote_name
        sql = f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
        connection.ensure_connection()
        with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    def _insert(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        qn = connection.ops.quote_name
        names = ", ".join(qn(c) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {qn(table)} ({names}) VALUES ({marks})"
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            for start in range(0, len(rows), self.batch):
                chunk = [
                    tuple(adapt(v) if hasattr(v, "tzinfo") and hasattr(v, "hour") else v for v in r)
                    for r in rows[start : start + self.batch]
                ]
                cursor.executemany(sql, chunk)


@contextmanager
def loading(tables: list[str], say: Any = None) -> Iterator[None]:
    """On PostgreSQL, outside any transaction: the foreign keys and the plain
    (non-unique) indexes of ``tables`` are dropped for the load and made again
    afterwards, each in one pass over the table, which is many times faster than
    checking and indexing row by row. The keys are validated when they are added
    again, so a row pointing nowhere still fails the load. Elsewhere it does nothing."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [tables],
        )
        keys = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _definition in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    try:
        yield
    finally:
        if say:
            say(f"rebuilding {len(indexes)} indexes and validating {len(keys)} foreign keys …")
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
            for table, name, definition in keys:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def reset_sequences(labels: list[str]) -> None:
    """Move each model's id sequence past the ids written by hand."""
    models = [apps.get_model(label) for label in labels]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def count_rows(model: Any) -> int:
    return model._default_manager.count()
