"""Read-only questions other apps ask about devices."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet

from jilu.devices.models import Holding, Recorder, Workstation
from jilu.org.models import Person, Unit


def recorders_held_by(person: Person) -> QuerySet[Recorder]:
    return Recorder.objects.filter(holdings__person=person, holdings__ended_at__isnull=True)


def holder_at(recorder: Recorder, at: datetime) -> Person | None:
    """Who was the responsible holder of ``recorder`` at ``at`` (C1.3)."""
    holding = (
        Holding.objects.filter(recorder=recorder, started_at__lte=at)
        .exclude(ended_at__lte=at)
        .select_related("person")
        .order_by("-started_at")
        .first()
    )
    return holding.person if holding else None


def officers_without_recorder(user: Person) -> QuerySet[Person]:
    """C1.1: active frontline officers in the user's scope holding no recorder in service."""
    current = Holding.objects.filter(
        person=OuterRef("pk"),
        ended_at__isnull=True,
        recorder__status=Recorder.Status.IN_SERVICE,
    )
    return (
        Person.objects.restrict(user, "view")
        .filter(is_active=True, frontline=True)
        .exclude(Exists(current))
        .select_related("unit")
    )


def units_without_workstation(user: Person) -> QuerySet[Unit]:
    """C1.2: squads and independently housed brigades in scope with no active workstation."""
    from django.db.models import Q

    active = Workstation.objects.filter(unit=OuterRef("pk"), revoked_at__isnull=True)
    scope = Unit.objects.filter(path__startswith=user.unit.path) if user.unit_id else Unit.objects
    if user.is_superuser or user.has_role("inspector"):
        scope = Unit.objects.all()
    return (
        scope.filter(active=True)
        .filter(Q(level=Unit.Level.SQUAD) | Q(level=Unit.Level.BRIGADE, independently_housed=True))
        .exclude(Exists(active))
    )
