"""Who reads which audit entries. The audit log itself knows no roles; the
rule lives here, with the roles: administrators and inspectors read every
entry (C6.4), everybody else only what they did themselves."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from jilu.audit.models import AuditEntry
from jilu.org.roles import Role


def visible_entries(user: Any) -> QuerySet:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return AuditEntry.objects.none()
    if user.has_role(Role.ADMIN, Role.INSPECTOR):
        return AuditEntry.objects.all()
    return AuditEntry.objects.filter(actor_id=user.pk)
