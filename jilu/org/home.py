"""What each role sees first after signing in."""

from __future__ import annotations

from typing import Any

from jilu.audit.models import AuditEntry
from jilu.devices import queries as device_queries
from jilu.org.models import Person, Unit
from jilu.org.roles import Role

# The home page shown is that of the person's most encompassing role.
PRIORITY = [
    Role.ADMIN,
    Role.INSPECTOR,
    Role.LEGAL_REVIEWER,
    Role.CASE_HANDLER,
    Role.ARCHIVIST,
    Role.BRIGADE_LEADER,
    Role.SQUAD_LEADER,
    Role.OFFICER,
]


def primary_role(person: Person) -> str:
    if person.is_superuser:
        return Role.ADMIN.value
    for role in PRIORITY:
        if role in person.roles:
            return role.value
    return Role.OFFICER.value


def home_context(person: Person, role: str) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "role": role,
        "role_label": Role(role).label,
        "my_recorders": device_queries.recorders_held_by(person),
        "my_recent": AuditEntry.objects.filter(actor=person).order_by("-seq")[:10],
    }
    if role == Role.OFFICER:
        return ctx
    people = Person.objects.restrict(person, "view").filter(is_active=True)
    ctx.update(
        {
            "people_count": people.count(),
            "frontline_count": people.filter(frontline=True).count(),
            "units": Unit.objects.filter(path__startswith=person.unit.path)
            if person.unit_id
            else Unit.objects.none(),
            "without_recorder": device_queries.officers_without_recorder(person)[:20],
            "without_workstation": device_queries.units_without_workstation(person)[:20],
        }
    )
    return ctx
