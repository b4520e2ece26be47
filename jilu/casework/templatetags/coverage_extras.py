"""Display helpers for coverage gaps and their duty-log explanations (C4.3, C6.2)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def note_visible_to(explanation: Any, user: Any) -> bool:
    """Whether ``user`` may open the duty-log note explaining a gap (C6.4)."""
    check = getattr(explanation, "note_visible_to", None)
    return bool(check and user and check(user))
