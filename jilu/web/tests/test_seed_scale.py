"""``jilu seed-scale`` at a tiny scale: the rows hang together as the app's own
would (holders C1.3, dockings and checks C1.4/C3.2, collection C5.1,
annotation C5.2, activities C2.1/C4.1), the findings engine judges them and
the recording list shows them."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from jilu.casework.models import ON_SITE_KINDS, Activity, Annotation, Case
from jilu.devices.models import DeviceEvent, Holding, Recorder
from jilu.dutylog.models import UnrecordedNote
from jilu.evidence.deadlines import ANNOTATION_DEADLINE, COLLECTION_DEADLINE
from jilu.evidence.models import Recording
from jilu.evidence.queries import RecordingFilters, find_recordings
from jilu.ingest.models import DockingSession
from jilu.org import actions as org
from jilu.org.models import Person, Unit
from jilu.oversight.finding_models import FindingFact
from jilu.web.scale import day as scale_day
from jilu.web.scale.plan import local_midnight_utc

pytestmark = [pytest.mark.django_db, pytest.mark.db_sensitive]


def seed(**opts) -> str:
    out = io.StringIO()
    call_command("seed_scale", scale=0.0005, seed=5, year=2025, stdout=out, **opts)
    return out.getvalue()


def test_seed_scale_rows_hang_together_and_the_rules_and_list_run_on_them(client):
    seed()
    squads = Unit.objects.filter(level="squad")
    assert squads.count() == 2
    city = Unit.objects.get(level="city")
    assert all(u.path.startswith(city.path) for u in Unit.objects.all())
    assert {u.parent.level for u in squads} == {"brigade"}
    assert 450 <= Activity.objects.count() <= 550  # 500 asked for
    assert 2250 <= Recording.objects.count() <= 2750  # 2,500 asked for
    assert Case.objects.exists() and UnrecordedNote.objects.exists()

    # C1.3: each recording's officer held its recorder when it started.
    holdings: dict[int, list[Holding]] = {}
    for h in Holding.objects.all():
        holdings.setdefault(h.recorder_id, []).append(h)
    recordings = list(Recording.objects.select_related("docking", "officer"))
    for rec in recordings:
        held = [h for h in holdings[rec.recorder_id] if h.covers(rec.started_at)]
        assert [h.person_id for h in held] == [rec.officer_id]
        assert rec.user_no_mismatch == (rec.user_no_in_name != rec.officer.user_no)
        # Docked at its squad's workstation, with the docking's clock offset (C3.2).
        assert rec.docking.recorder_id == rec.recorder_id
        assert rec.docked_at == rec.docking.started_at
        assert rec.clock_offset_seconds == rec.docking.clock_offset_seconds
        assert rec.station.unit_id == rec.officer.unit_id
        assert rec.collected_within_24h == (rec.docked_at - rec.ended_at <= COLLECTION_DEADLINE)
        assert rec.stored_object_id == rec.sha256
    assert any(not r.collected_within_24h for r in recordings)
    # C1.4: a battery, a storage and a clock check at every docking.
    dockings = DockingSession.objects.count()
    for kind in ("battery", "storage", "clock"):
        assert DeviceEvent.objects.filter(kind=kind, workstation__isnull=False).count() == dockings
    # C2.1, C4.1: on-site activities carry two officers of their unit; each
    # annotation's recording is one of its activity's officers', in its case.
    team: dict[int, set[int]] = {}
    for activity in Activity.objects.prefetch_related("officers"):
        officers = list(activity.officers.all())
        team[activity.pk] = {o.pk for o in officers}
        assert {o.unit_id for o in officers} == {activity.unit_id}
        if activity.kind in ON_SITE_KINDS:
            assert len(officers) >= 2
    for ann in Annotation.objects.select_related("recording", "activity"):
        assert ann.case_id == ann.activity.case_id
        assert ann.recording.officer_id in team[ann.activity_id]
        assert ann.first_annotated_at >= ann.recording.docked_at
    assert Annotation.objects.count() < len(recordings)  # some never annotated (C5.2)

    # The findings engine over the last two months of the year, from the day's cursors.
    found = scale_day.prepare(date(2025, 11, 1))
    now = local_midnight_utc(date(2026, 1, 3))
    scale_day.run(found, now=now)
    late = Recording.objects.filter(pk__gt=found.recordings_after, collected_within_24h=False)
    facts = FindingFact.objects.filter(kind="recording")
    assert late.exists()
    assert set(
        facts.filter(finding__rule="late_collection").values_list("object_id", flat=True)
    ) == {str(pk) for pk in late.values_list("pk", flat=True)}
    judged = Recording.objects.filter(
        docked_at__gte=found.annotation[0], docked_at__lt=now - ANNOTATION_DEADLINE
    ).select_related("annotation")
    overdue = {
        str(r.pk)
        for r in judged
        if not hasattr(r, "annotation")
        or r.annotation.first_annotated_at > r.docked_at + ANNOTATION_DEADLINE
    }
    assert overdue
    assert (
        set(facts.filter(finding__rule="late_annotation").values_list("object_id", flat=True))
        == overdue
    )
    drift = DockingSession.objects.filter(pk__gt=found.dockings_after).filter(
        clock_offset_seconds__gt=60
    ) | DockingSession.objects.filter(pk__gt=found.dockings_after, clock_offset_seconds__lt=-60)
    assert FindingFact.objects.filter(finding__rule="clock_drift").count() == drift.count()

    # The recording list and the pages over the seeded rows.
    inspector = Person.objects.get(username="scale_inspector")
    assert find_recordings(inspector, RecordingFilters()).count() == len(recordings)
    leader = Person.objects.get(username="scale_leader")
    mine = find_recordings(leader, RecordingFilters(late=True)).count()
    squad_late = Recording.objects.filter(collected_within_24h=False, officer__unit=leader.unit)
    assert mine == squad_late.count() > 0
    client.force_login(inspector)
    newest = Recording.objects.order_by("-started_at").first()
    page = client.get(reverse("evidence:recording_list"))
    assert page.status_code == 200
    assert newest.original_name in page.content.decode()
    assert client.get(reverse("evidence:recording_detail", args=[newest.pk])).status_code == 200
    activity = (
        newest.annotation.activity if hasattr(newest, "annotation") else Activity.objects.first()
    )
    assert client.get(reverse("casework:activity_detail", args=[activity.pk])).status_code == 200

    # Again: finished, so nothing changes.
    before = Recording.objects.count()
    assert "already seeded" in seed()
    assert Recording.objects.count() == before


def test_seed_scale_refuses_a_database_with_data_it_did_not_make():
    org.create_unit(
        actor="system:test",
        parent=None,
        code="350200000000",
        name="厦门市",
        short_name="厦门",
        level="city",
    )
    with pytest.raises(CommandError, match="did not make"):
        seed()
    assert not Recorder.objects.exists()


def test_seed_scale_refuses_a_city_year_on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite limit")
    with pytest.raises(CommandError, match="too many for SQLite"):
        call_command("seed_scale", stdout=io.StringIO())


def test_seed_scale_refuses_a_year_without_days():
    with pytest.raises(CommandError, match="--year 1999"):
        call_command("seed_scale", scale=0.001, year=1999, stdout=io.StringIO())
