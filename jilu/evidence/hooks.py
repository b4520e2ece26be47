"""What evidence asks of the apps above it, without importing them.

Evidence sits below casework and access in the layers (docs/architecture.md),
yet three of its questions are answered there: which recordings an officer
shares with the people of an activity (casework), which recordings a keyword
finds through their annotations (casework), and whether a person may copy an
original (access, C6.3). Each answer is registered here by the app that owns
it, from its ``AppConfig.ready()``; evidence only calls what is registered.

With nothing registered evidence stays safe on its own: an officer sees only
their own recordings, keywords match only evidence's own fields, and every
copy is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy


@dataclass
class CopyGate:
    """The single check before an original leaves as a file (C6.3, C6.5.7).

    ``authorise(request, recording, via=...)`` returns the approved request the
    copy is made under (with a ``number``), recording the copy against it, or
    ``None``; ``refusal`` is the message shown with the 403."""

    authorise: Callable[..., Any]
    refusal: Any


@dataclass
class _Hooks:
    # user -> QuerySet with a ``recording_id`` column: recordings shared with them.
    shared_with: list[Callable[[Any], QuerySet]] = field(default_factory=list)
    # word -> QuerySet with a ``recording_id`` column: recordings it finds. Join
    # the ways of matching with ``union(all=True)``, not ``OR``: a subquery inside
    # an ``OR`` is a subplan PostgreSQL cannot size (see ``jilu.casework.hooks``).
    keyword_matches: list[Callable[[str], QuerySet]] = field(default_factory=list)
    # () -> QuerySet with a ``recording_id`` column, one row per annotated recording (C5.2).
    annotations: Callable[[], QuerySet] | None = None
    copy_gate: CopyGate | None = None
    # recording ids -> None: what a recording's keep-until depends on changed (C5.6).
    keep_until_changed: list[Callable[[list[int]], None]] = field(default_factory=list)


hooks = _Hooks()

_REFUSE_ALL = CopyGate(
    authorise=lambda request, recording, via="web": None,
    refusal=gettext_lazy("复制原始文件须经负责领导审批调用单（C6.3）"),
)


def register_shared_with(provider: Callable[[Any], QuerySet]) -> None:
    if provider not in hooks.shared_with:
        hooks.shared_with.append(provider)


def register_keyword_matches(provider: Callable[[str], QuerySet]) -> None:
    if provider not in hooks.keyword_matches:
        hooks.keyword_matches.append(provider)


def register_annotations(provider: Callable[[], QuerySet]) -> None:
    hooks.annotations = provider


def register_copy_gate(gate: CopyGate) -> None:
    hooks.copy_gate = gate


def copy_gate() -> CopyGate:
    """The registered copy gate; without one every copy is refused."""
    return hooks.copy_gate or _REFUSE_ALL


def register_keep_until_changed(listener: Callable[[list[int]], None]) -> None:
    if listener not in hooks.keep_until_changed:
        hooks.keep_until_changed.append(listener)


def keep_until_changed(recording_ids: Any) -> None:
    """Called by the actions above evidence that change what a recording must be
    kept for (a link to a case, a case closed, an access request opened), inside
    their transaction; retention recomputes the keep-until there and then."""
    ids = sorted({int(i) for i in recording_ids})
    if not ids:
        return
    for listener in hooks.keep_until_changed:
        listener(ids)


def annotations() -> QuerySet | None:
    """Annotated recordings (``recording_id``), or None when no app annotates."""
    return hooks.annotations() if hooks.annotations is not None else None
