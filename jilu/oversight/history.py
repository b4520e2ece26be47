"""Where a finding, report, spot check or ledger confirmation links to its own
history: the audit log filtered to that object (C6.4), for those who may read it."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

from jilu.org.roles import Role

AUDIT_READERS = (Role.ADMIN, Role.INSPECTOR)


def audit_history(user: Any, object_type: str, pk: Any) -> str:
    """The audit log's address for one object, or "" when ``user`` may not read it."""
    if not getattr(user, "is_authenticated", False):
        return ""
    if not (user.is_superuser or user.has_role(*AUDIT_READERS)):
        return ""
    return reverse("audit:log") + "?" + urlencode({"object_type": object_type, "object_id": pk})
