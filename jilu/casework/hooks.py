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
    """Recordings whose annotation or activity (party, address, place) holds ``word``.

    Each way of matching is its own plain query and the answers are joined with
    ``UNION ALL``, never ``OR``: ``text LIKE … OR activity_id IN (subquery)``
    leaves PostgreSQL a subplan it cannot size (it guesses half the table, so it
    neither hashes it nor the set of recordings built on it) and, over a
    city-year, the list's count re-reads that subplan for every annotation and
    every recording. As a union every part is sized from its own filter and the
    matches are read through the ``activity_id`` and ``party_id`` indexes.
    """
    parties = Party.objects.filter(name__icontains=word).values("pk").order_by()
    activities = (
        Activity.objects.filter(Q(address__icontains=word) | Q(place_name__icontains=word))
        .values("pk")
        .order_by()
        .union(Activity.objects.filter(party_id__in=parties).values("pk").order_by(), all=True)
    )
    annotations = Annotation.objects.values("recording_id").order_by()
    return annotations.filter(Q(standard_name__icontains=word) | Q(note__icontains=word)).union(
        annotations.filter(activity_id__in=activities), all=True
    )


def annotations() -> QuerySet:
    return Annotation.objects.all()
