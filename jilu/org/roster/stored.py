"""A roster plan kept for its page: what a background reading found (the
preview or the row errors), stored as JSON on the upload and shown again."""

from __future__ import annotations

from typing import Any

from jilu.org.roster.base import Change, Plan, RowError


def _change(c: Change) -> dict[str, Any]:
    return {
        "sheet": c.sheet,
        "row": c.row,
        "key": c.key,
        "label": c.label,
        "op": c.op,
        "diffs": c.diffs,
        "facts": c.facts,
    }


def plan_json(plan: Plan, **extra: Any) -> dict[str, Any]:
    """The plan as the page needs it: changed rows, counts, errors, digest."""
    return {
        "units": [_change(c) for c in plan.changed_units],
        "people": [_change(c) for c in plan.changed_people],
        "errors": [[e.sheet, e.row, e.message] for e in plan.errors],
        "summary": plan.summary(),
        "digest": plan.digest,
        "ok": plan.ok,
        "has_changes": plan.has_changes,
        **extra,
    }


class StoredPlan:
    """Reads like a Plan in the templates (changed rows only)."""

    def __init__(self, data: dict[str, Any]) -> None:
        def changes(rows: list[dict]) -> list[Change]:
            return [
                Change(
                    sheet=r["sheet"],
                    row=r["row"],
                    key=r["key"],
                    label=r["label"],
                    op=r["op"],
                    diffs=[tuple(d) for d in r["diffs"]],
                    facts=[tuple(f) for f in r["facts"]],
                )
                for r in rows
            ]

        self.changed_units = changes(data.get("units", []))
        self.changed_people = changes(data.get("people", []))
        self.errors = [RowError(*e) for e in data.get("errors", [])]
        self.summary = data.get("summary", "")
        self.digest = data.get("digest", "")
        self.ok = data.get("ok", False)
        self.has_changes = data.get("has_changes", False)
