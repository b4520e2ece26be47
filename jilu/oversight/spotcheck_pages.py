"""What the spot-check page and the API show of a spot check: the items a
reader may see (a leader only their subtree's), each with its checklist marks,
and for a ledger row the ledger's values beside the values computed from the
recordings now (C6.1), with the outcome the comparison suggests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet

from jilu.evidence.timeline import SHANGHAI
from jilu.oversight import ledger
from jilu.oversight.spotcheck_checklist import (
    FAIL,
    LEDGER_FIELDS,
    OUTCOME_LABELS,
    PASS,
    CheckItem,
    items_for,
)
from jilu.oversight.spotcheck_models import SpotCheck, SpotCheckItem


def may_review(user: Any, spot: SpotCheck) -> bool:
    return (
        not spot.completed
        and (user.is_superuser or user.has_role("inspector"))
        and SpotCheck.objects.restrict(user, "review").filter(pk=spot.pk).exists()
    )


def visible_items(spot: SpotCheck, user: Any) -> QuerySet:
    """Inspectors see every item; a leader those of their own unit subtree."""
    items = spot.items.select_related(
        "recording__recorder", "officer", "unit", "reviewed_by"
    ).prefetch_related("marks")
    if user.is_superuser or user.has_role("inspector"):
        return items
    if not user.unit_id:
        return items.none()
    return items.filter(unit__path__startswith=user.unit.path)


@dataclass
class Line:
    check: CheckItem
    outcome: str  # the mark given, or "" while not reviewed
    suggested: str = ""  # ledger rows: what the comparison says
    ledger_values: list[tuple[str, str, str]] = field(default_factory=list)  # label, ledger, now

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS.get(self.outcome, "")) if self.outcome else ""

    @property
    def chosen(self) -> str:
        """The mark the form shows checked: only one given. A ledger's
        comparison is shown as a suggestion, never pre-checked for the reviewer."""
        return self.outcome

    @property
    def suggested_label(self) -> str:
        return str(OUTCOME_LABELS.get(self.suggested, "")) if self.suggested else ""


@dataclass
class Row:
    item: SpotCheckItem
    lines: list[Line]
    now_row: dict | None = None


def _now_rows(items: list[SpotCheckItem]) -> dict[tuple[int, str], dict]:
    """The recordings ledger rows as computed now, for each (unit, day) drawn."""
    out: dict[tuple[int, str], dict] = {}
    done: set[tuple[int, Any]] = set()
    for item in items:
        if item.day is None or (item.unit_id, item.day) in done:
            continue
        done.add((item.unit_id, item.day))
        start = datetime.combine(item.day, time(0), tzinfo=SHANGHAI).astimezone(UTC)
        for row in ledger.recording_rows(item.unit, start, start + timedelta(days=1)):
            out[(item.unit_id, ledger.row_key("recordings", row))] = row
    return out


def rows(spot: SpotCheck, user: Any) -> list[Row]:
    items = list(visible_items(spot, user))
    checklist = items_for(spot.kind)
    now = _now_rows(items) if spot.kind == SpotCheck.Kind.LEDGERS else {}
    out = []
    for item in items:
        marks = {m.code: m.outcome for m in item.marks.all()}
        current = now.get((item.unit_id, item.sample_key)) if item.day else None
        lines = []
        for check in checklist:
            line = Line(check, marks.get(check.code, ""))
            if item.ledger_row is not None:
                said = item.ledger_row
                fields = LEDGER_FIELDS.get(check.code, ())
                same = all(
                    said.get(f) == (current or {}).get(f, 0 if f != "first_docked" else None)
                    for f in fields
                )
                line.suggested = PASS if same else FAIL
                line.ledger_values = [
                    (
                        str(ledger.FIELD_LABELS.get(f, f)),
                        ledger.value_text(f, said.get(f)),
                        ledger.value_text(f, (current or {}).get(f)),
                    )
                    for f in fields
                ]
            lines.append(line)
        out.append(Row(item, lines, current))
    return out
