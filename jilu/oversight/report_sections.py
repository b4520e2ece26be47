"""Sections a report can gain (C6.4) without the report's code changing.

The report's own parts (rates, units, ranking, findings) are fixed. Another part
of oversight adds a section by registering a ``Section`` here (from its
module's import in ``OversightConfig.ready()``): drafting computes it into
``figures["sections"][key]``; the page and the PDF include its template with
``data`` (the computed figures) and ``report``; the XLSX calls ``xlsx(wb, data)``.
A report drafted before a section existed simply has no such entry, and shows
nothing for it. The report's own parts are numbered 一 to 四; the sections
present follow them as 五, 六, … (``numbered``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class Section:
    key: str
    title: Promise
    # (period, unit or None for the city, the scope's unit ids, as_of) -> JSON-ready data
    compute: Callable[[Any, Any, list[int], datetime], Any]
    template: str
    xlsx: Callable[[Any, Any], None] | None = None


SECTIONS: dict[str, Section] = {}
# The numbers of the sections after the report's own four parts.
NUMERALS = (
    gettext_lazy("五"),
    gettext_lazy("六"),
    gettext_lazy("七"),
    gettext_lazy("八"),
    gettext_lazy("九"),
    gettext_lazy("十"),
)


def register(section: Section) -> None:
    SECTIONS[section.key] = section


def present(figures: dict[str, Any]) -> list[tuple[Section, Any]]:
    """The registered sections a report's figures hold, in registration order."""
    computed = figures.get("sections") or {}
    return [(s, computed[key]) for key, s in SECTIONS.items() if key in computed]


def numbered(figures: dict[str, Any]) -> list[tuple[Section, Any, str]]:
    """The sections present with their headings, numbered after the report's
    own parts (一 to 四): 五、抽检得分（C6.4）, …"""
    out = []
    for n, (section, data) in enumerate(present(figures)):
        numeral = NUMERALS[n] if n < len(NUMERALS) else str(n + 5)
        out.append((section, data, _("%(n)s、%(title)s") % {"n": numeral, "title": section.title}))
    return out
