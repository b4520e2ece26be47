"""A unit's recordings: those whose officer's or recorder's unit lies in its
subtree (the same rule as ``Recording.access_q`` for unit readers)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from jilu.devices.models import Recorder
from jilu.evidence.models import Recording
from jilu.org.models import Person, Unit


def recordings_of_unit(unit: Any) -> QuerySet:
    """Recordings whose officer's or recorder's unit lies in ``unit``'s subtree."""
    units = Unit.objects.filter(path__startswith=unit.path).values("pk")
    return Recording.objects.filter(
        Q(officer_id__in=Person.objects.filter(unit_id__in=units).values("pk"))
        | Q(recorder_id__in=Recorder.objects.filter(unit_id__in=units).values("pk"))
    )
