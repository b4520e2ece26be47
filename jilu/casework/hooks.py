"""Casework's answers to evidence's questions (registered in ``apps.py``):
evidence lies below casework and asks through ``jilu.evidence.hooks``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from jilu.casework.models import Activity, Annotation, Party


def shared_with(user: Any) -> QuerySet:
    """Recordings of the activities ``user`` took part in: their partner's
    recorder filmed the same scene (C4.1). One annotation per recording."""
    activities = Activity.officers.through.objects.filter(person_id=user.pk)
    return Annotation.objects.filter(activity_id__in=activities.values("activity_id")).values(
        "recording_id"
    )


def keyword_matches(word: str) -> QuerySet:
    """Recordings whose annotation or activity (party, address, place) holds ``word``."""
    parties = Party.objects.filter(name__icontains=word).values("pk")
    activities = Activity.objects.filter(
        Q(address__icontains=word) | Q(place_name__icontains=word) | Q(party_id__in=parties)
    ).values("pk")
    return Annotation.objects.filter(
        Q(standard_name__icontains=word) | Q(note__icontains=word) | Q(activity_id__in=activities)
    ).values("recording_id")


def annotations() -> QuerySet:
    return Annotation.objects.all()
