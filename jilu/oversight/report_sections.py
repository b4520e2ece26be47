"""Sections a report can gain (C6.4) without the report's code changing.

The report's own parts (rates, units, ranking, findings) are fixed. Another part
of oversight adds a section by registering a ``Section`` here (from its
module's import in ``OversightConfig.ready()``): drafting computes it into
``figures["sections"][key]``; the page and the PDF include its template with
``data`` (the computed figures) and ``report``; the XLSX calls ``xlsx(wb, data)``.
A report drafted before a section existed simply has no such entry, and shows
nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class Section:
    key: str
    title: Promise
    # (period, unit or None for the city, the scope's unit ids, as_of) -> JSON-ready data
    compute: Callable[[Any, Any, list[int], datetime], Any]
    template: str
    xlsx: Callable[[Any, Any], None] | None = None


SECTIONS: dict[str, Section] = {}


def register(section: Section) -> None:
    SECTIONS[section.key] = section


def present(figures: dict[str, Any]) -> list[tuple[Section, Any]]:
    """The registered sections a report's figures hold, in registration order."""
    computed = figures.get("sections") or {}
    return [(s, computed[key]) for key, s in SECTIONS.items() if key in computed]
