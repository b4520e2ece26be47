"""What a finding's subject and a ledger's activities are called, in the
reader's language.

A finding keeps ``subject_label`` as it was written when the finding was made
(the record of what the subject was called then); for an activity that label
begins with the activity's kind in the language the rules ran in
("巡查检查、现场勘验、取证 辖区日常巡查 2026-11-03 09:00"). The recordings
ledger keeps its activities in Chinese ("#12 巡查检查、现场勘验、取证 …"), the
words of the printed ledger. Pages show the kind in the reader's language: the
kind is one of a fixed list, so its words in any of the site's languages are
recognised at the start of the label and replaced; the rest stays as stored.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils import translation

from jilu.casework.choices import ActivityKind

_NUMBERED = re.compile(r"^(#\d+ )")


def _kinds_by_words() -> list[tuple[str, str]]:
    """(words, kind code) in every site language, the longest words first."""
    out: dict[str, str] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for kind in ActivityKind:
                out.setdefault(str(kind.label), kind.value)
    return sorted(out.items(), key=lambda kv: -len(kv[0]))


def activity_text(stored: str) -> str:
    """``stored`` (an activity's kind then its place, perhaps after "#id ")
    with the kind in the current language; unchanged if it names no kind."""
    numbered = _NUMBERED.match(stored)
    prefix = numbered.group(1) if numbered else ""
    rest = stored[len(prefix) :]
    for words, code in _kinds_by_words():
        if rest == words or rest.startswith(words + " "):
            return f"{prefix}{ActivityKind(code).label}{rest[len(words) :]}"
    return stored


def subject_text(finding: Any) -> str:
    """The finding's subject as the reader reads it: its kind, then its label
    (an activity's kind in the reader's language)."""
    label = finding.subject_label
    if finding.subject_kind == "activity":
        label = activity_text(label)
    return f"{finding.get_subject_kind_display()} · {label}"
