"""Read-only questions other apps (and this app's pages) ask about devices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from jilu.devices.models import DEVICE_MANAGERS, DeviceEvent, Holding, Recorder, Workstation
from jilu.org import access
from jilu.org.models import Person, Unit
from jilu.org.roles import Role


def recorders_held_by(person: Person) -> QuerySet[Recorder]:
    return Recorder.objects.filter(
        holdings__person=person, holdings__ended_at__isnull=True
    ).select_related("unit")


def holding_at(recorder: Recorder, at: datetime) -> Holding | None:
    """The holding running at ``at``: started_at <= at < ended_at (C1.3)."""
    return (
        Holding.objects.filter(recorder=recorder, started_at__lte=at)
        .exclude(ended_at__lte=at)
        .select_related("person", "person__unit", "issued_by", "returned_to")
        .order_by("-started_at")
        .first()
    )


def holder_at(recorder: Recorder, at: datetime) -> Person | None:
    """Who was the responsible holder of ``recorder`` at ``at`` (C1.3)."""
    holding = holding_at(recorder, at)
    return holding.person if holding else None


def current_holding(recorder: Recorder) -> Holding | None:
    return (
        Holding.objects.filter(recorder=recorder, ended_at__isnull=True)
        .select_related("person", "person__unit", "issued_by")
        .first()
    )


def with_current_holder(qs: QuerySet[Recorder]) -> QuerySet[Recorder]:
    """Recorders annotated with ``is_held`` and ``last_check_at``; current holdings
    prefetched into ``current_holdings`` (a list of at most one)."""
    current = Holding.objects.filter(recorder=OuterRef("pk"), ended_at__isnull=True)
    # A correlated subquery on the (recorder, -at) index, not a join and GROUP BY
    # over every event: cheap per row, and the paginator's count stays simple.
    last_check = (
        DeviceEvent.objects.filter(recorder=OuterRef("pk"), kind__in=DeviceEvent.CHECK_KINDS)
        .order_by("-at")
        .values("at")[:1]
    )
    return qs.annotate(
        is_held=Exists(current),
        last_check_at=Subquery(last_check),
    ).prefetch_related(
        Prefetch(
            "holdings",
            queryset=Holding.objects.filter(ended_at__isnull=True).select_related(
                "person", "person__unit"
            ),
            to_attr="current_holdings",
        )
    )


def filter_recorders(
    qs: QuerySet[Recorder],
    *,
    unit: Unit | None = None,
    status: str = "",
    q: str = "",
    held: str = "",
) -> QuerySet[Recorder]:
    """The recorder list's filters: unit (with its subunits), status, serial or
    vendor/model text, held ("yes") or not held ("no")."""
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if status:
        qs = qs.filter(status=status)
    current = Holding.objects.filter(recorder=OuterRef("pk"), ended_at__isnull=True)
    q = q.strip()
    if q:
        held_by_match = current.filter(Q(person__name__icontains=q) | Q(person__user_no__iexact=q))
        qs = qs.filter(
            Q(serial__icontains=q)
            | Q(vendor__icontains=q)
            | Q(model__icontains=q)
            | Exists(held_by_match)
        )
    if held == "yes":
        qs = qs.filter(Exists(current))
    elif held == "no":
        qs = qs.exclude(Exists(current))
    return qs


def issuable_people(user: Any, recorder: Recorder) -> QuerySet[Person]:
    """People ``user`` may pick as holder of ``recorder``: visible to the user,
    active, in the recorder's unit or below it. Annotated with ``held_serial``,
    the serial of a recorder they already hold (if any)."""
    held = Holding.objects.filter(person=OuterRef("pk"), ended_at__isnull=True).values(
        "recorder__serial"
    )[:1]
    return (
        Person.objects.restrict(user, access.VIEW)
        .filter(is_active=True, unit__path__startswith=recorder.unit.path)
        .select_related("unit")
        .annotate(held_serial=Subquery(held))
        .order_by("-frontline", "unit__path", "name")
    )


def _units_for(user: Any, roles: frozenset[str]) -> QuerySet[Unit]:
    q = access.role_scope(user, access.ADD, read_roles=frozenset(), write_roles=roles, field="")
    if q is None:
        return Unit.objects.none()
    return Unit.objects.filter(q, active=True).order_by("path")


def units_for_recorders(user: Any) -> QuerySet[Unit]:
    """Units where ``user`` may register recorders (administrators and leaders, own subtree)."""
    return _units_for(user, DEVICE_MANAGERS)


def units_for_workstations(user: Any) -> QuerySet[Unit]:
    """Units where ``user`` may register workstations (administrators, own subtree)."""
    return _units_for(user, frozenset({Role.ADMIN}))


def visible_units(user: Any) -> QuerySet[Unit]:
    """The units a list filter offers: the user's subtree, or all for inspectors."""
    if getattr(user, "is_superuser", False) or access.is_inspector(user):
        return Unit.objects.all().order_by("path")
    if not getattr(user, "unit_id", None):
        return Unit.objects.none()
    return Unit.objects.filter(path__startswith=user.unit.path).order_by("path")


def last_check_at(recorder: Recorder) -> datetime | None:
    return (
        DeviceEvent.objects.filter(recorder=recorder, kind__in=DeviceEvent.CHECK_KINDS)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )


def officers_without_recorder(user: Person | None) -> QuerySet[Person]:
    """C1.1: active frontline officers in the user's scope (``None``: the whole
    bureau, for oversight's rules) holding no recorder in service."""
    current = Holding.objects.filter(
        person=OuterRef("pk"),
        ended_at__isnull=True,
        recorder__status=Recorder.Status.IN_SERVICE,
    )
    people = Person.objects.all() if user is None else Person.objects.restrict(user, "view")
    return (
        people.filter(is_active=True, frontline=True)
        .exclude(Exists(current))
        .select_related("unit")
    )


def units_without_workstation(user: Person | None) -> QuerySet[Unit]:
    """C1.2: squads and independently housed brigades in scope (``None``: the whole
    bureau) with no active workstation."""
    active = Workstation.objects.filter(unit=OuterRef("pk"), revoked_at__isnull=True)
    if user is None or user.is_superuser or access.is_inspector(user):
        scope = Unit.objects.all()
    elif user.unit_id:
        scope = Unit.objects.filter(path__startswith=user.unit.path)
    else:
        scope = Unit.objects.none()
    return (
        scope.filter(active=True)
        .filter(Q(level=Unit.Level.SQUAD) | Q(level=Unit.Level.BRIGADE, independently_housed=True))
        .exclude(Exists(active))
    )


def units_needing_workstation(user: Person) -> QuerySet[Unit]:
    """C1.2: every unit in scope that must have a workstation, whether it has one or not."""
    if user.is_superuser or access.is_inspector(user):
        scope = Unit.objects.all()
    elif user.unit_id:
        scope = Unit.objects.filter(path__startswith=user.unit.path)
    else:
        scope = Unit.objects.none()
    return scope.filter(active=True).filter(
        Q(level=Unit.Level.SQUAD) | Q(level=Unit.Level.BRIGADE, independently_housed=True)
    )
