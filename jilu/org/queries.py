"""Small read-only queries for the org pages, the roster and other apps.

Access itself is decided by ``restrict(user, action)``; these helpers only
narrow what is *shown* (a squad leader's unit picker lists their own subtree
even though every unit's name is public).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet

from jilu.org.models import Person, Unit
from jilu.org.roles import Role

# Roles that open the unit and people pages and may export the roster
# (matches the navigation in context.py).
PEOPLE_READERS = (
    Role.ADMIN,
    Role.INSPECTOR,
    Role.BRIGADE_LEADER,
    Role.SQUAD_LEADER,
    Role.ARCHIVIST,
)


def reads_everywhere(user: Any) -> bool:
    """Superusers and inspectors (C6.4) read every unit's people."""
    return bool(user.is_superuser or user.has_role(Role.INSPECTOR))


def home_units(user: Any) -> QuerySet[Unit]:
    """The units a person works in: their own unit and those below it
    (the whole bureau for inspectors and superusers)."""
    units = Unit.objects.restrict(user, "view")
    if reads_everywhere(user):
        return units
    if user.unit_id is None:
        return units.none()
    return units.filter(path__startswith=user.unit.path)


def unit_choices(user: Any, action: str = "view") -> QuerySet[Unit]:
    """Units for a picker: for ``view`` the person's home units, otherwise
    the units they may act on (``add`` / ``change``)."""
    if action == "view":
        return home_units(user).filter(active=True)
    return Unit.objects.restrict(user, action).filter(active=True)


def people_counts(user: Any, units: Iterable[Unit]) -> dict[int, dict[str, int]]:
    """Per unit: active people and frontline officers (C1.1) of the unit itself
    and of its whole subtree, counting only people the user may see."""
    direct: dict[int, dict[str, int]] = {}
    rows = (
        Person.objects.restrict(user, "view")
        .filter(is_active=True, unit__isnull=False)
        .values("unit_id")
        .annotate(n=Count("id"), frontline=Count("id", filter=Q(frontline=True)))
    )
    for row in rows:
        direct[row["unit_id"]] = {"n": row["n"], "frontline": row["frontline"]}
    totals: dict[int, dict[str, int]] = defaultdict(lambda: {"n": 0, "frontline": 0})
    units = list(units)
    for unit in units:
        counts = direct.get(unit.pk)
        if not counts:
            continue
        for ancestor in unit.path.strip("/").split("/"):
            total = totals[int(ancestor)]
            total["n"] += counts["n"]
            total["frontline"] += counts["frontline"]
    out = {}
    for unit in units:
        own = direct.get(unit.pk, {"n": 0, "frontline": 0})
        total = totals.get(unit.pk, {"n": 0, "frontline": 0})
        out[unit.pk] = {
            "n": own["n"],
            "frontline": own["frontline"],
            "total": total["n"],
            "total_frontline": total["frontline"],
        }
    return out
