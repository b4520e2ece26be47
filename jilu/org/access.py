"""Row-level access: the one place that decides who may see or act on what.

Every view and API handler narrows its queryset with
``Model.objects.restrict(user, action)``. Each model states its rule as a
classmethod ``access_q(user, action)`` returning a ``Q`` (rows allowed), or
``None`` (nothing allowed); the helpers below express the unit-tree scope:
a role acts on its own unit and the units below it, inspectors read
everywhere, officers see what is their own.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

VIEW = "view"
CHANGE = "change"
ADD = "add"
DELETE = "delete"

ALL = Q()


class AccessDenied(Exception):
    """Raised by ``get_restricted`` when the object is outside the user's scope."""


def unit_q(user: Any, field: str = "unit") -> Q | None:
    """Rows whose ``field`` unit lies in the user's own unit subtree."""
    unit = getattr(user, "unit", None)
    if unit is None:
        return None
    prefix = f"{field}__" if field else ""
    return Q(**{f"{prefix}path__startswith": unit.path})


def is_inspector(user: Any) -> bool:
    from jilu.org.roles import Role

    return user.has_role(Role.INSPECTOR)


def role_scope(
    user: Any, action: str, *, read_roles: frozenset[str], write_roles: frozenset[str], field: str
) -> Q | None:
    """Common rule: superusers everything; inspectors read everything;
    holders of ``read_roles`` read, of ``write_roles`` act, within their subtree."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return ALL
    if action == VIEW:
        if is_inspector(user):
            return ALL
        if user.has_role(*read_roles):
            return unit_q(user, field)
        return None
    if user.has_role(*write_roles):
        return unit_q(user, field)
    return None


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user: Any, action: str = VIEW) -> models.QuerySet:
        rule = getattr(self.model, "access_q", None)
        if rule is None:
            raise TypeError(f"{self.model.__name__} declares no access_q rule")
        q = rule(user, action)
        if q is None:
            return self.none()
        return self.filter(q)

    def get_restricted(self, user: Any, action: str = VIEW, **lookup: Any) -> models.Model:
        """The object, or AccessDenied when it exists but is outside the scope."""
        try:
            return self.restrict(user, action).get(**lookup)
        except self.model.DoesNotExist:
            if self.filter(**lookup).exists():
                raise AccessDenied from None
            raise
