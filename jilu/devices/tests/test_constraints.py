"""Database-level guarantees; these also run on PostgreSQL (``-m db_sensitive``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from jilu.devices.models import DeviceEvent, Holding, Workstation

pytestmark = [pytest.mark.db_sensitive, pytest.mark.django_db]


def test_database_refuses_two_current_holders(people, make_recorder):
    """C1.3: the partial unique index keeps at most one open holding per recorder,
    even for writes that bypass the actions."""
    recorder = make_recorder()
    now = timezone.now()
    Holding.objects.create(recorder=recorder, person=people["officer"], started_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        Holding.objects.create(recorder=recorder, person=people["officer_b"], started_at=now)
    # Closed holdings do not count: history may hold many.
    Holding.objects.filter(recorder=recorder).update(ended_at=now + timedelta(seconds=1))
    Holding.objects.create(
        recorder=recorder,
        person=people["officer_b"],
        started_at=now + timedelta(seconds=1),
        ended_at=now + timedelta(seconds=2),
    )
    Holding.objects.create(
        recorder=recorder, person=people["officer_b"], started_at=now + timedelta(seconds=3)
    )
    assert Holding.objects.filter(recorder=recorder, ended_at__isnull=True).count() == 1


def test_database_refuses_a_holding_that_ends_before_it_starts(people, make_recorder):
    recorder = make_recorder()
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Holding.objects.create(
            recorder=recorder,
            person=people["officer"],
            started_at=now,
            ended_at=now - timedelta(minutes=1),
        )


def test_database_refuses_impossible_readings(make_recorder):
    """C1.4: battery 0–100 %, free storage within total."""
    recorder = make_recorder()
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        DeviceEvent.objects.create(recorder=recorder, kind="battery", at=now, battery_pct=101)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeviceEvent.objects.create(
            recorder=recorder,
            kind="storage",
            at=now,
            storage_free_bytes=10,
            storage_total_bytes=5,
        )
    DeviceEvent.objects.create(recorder=recorder, kind="battery", at=now, battery_pct=100)


def test_database_refuses_two_active_workstations_with_one_name(tree):
    """C1.2: names tell a unit's workstations apart; a revoked one frees its name."""
    Workstation.objects.create(unit=tree["squad1"], name="采集站", token_digest="a" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        Workstation.objects.create(unit=tree["squad1"], name="采集站", token_digest="b" * 64)
    Workstation.objects.filter(unit=tree["squad1"]).update(revoked_at=timezone.now())
    Workstation.objects.create(unit=tree["squad1"], name="采集站", token_digest="c" * 64)
