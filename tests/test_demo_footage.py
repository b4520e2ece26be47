"""``jilu seed-demo-footage``: the demo's first squad has yesterday's footage,
ingested through the station like real footage, and activities arranged so that
the unit day shows a break, an unrecorded part, an activity without any
recording and its duty-log note (C2.1, C4.3, C6.2, C3.2)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone


@pytest.mark.django_db(transaction=True)
def test_demo_footage_is_ingested_once_and_shows_on_the_unit_day(live_server, settings, tmp_path):
    from jilu.casework.models import Activity
    from jilu.devices.models import Holding
    from jilu.dutylog.models import UnrecordedNote
    from jilu.evidence.models import Recording
    from jilu.evidence.tests.conftest import use_store
    from jilu.ingest.models import DockingSession
    from jilu.org.models import Person
    from jilu.web import demo_history
    from jilu.web.management.commands.seed_demo_footage import LATE_OFFICER, shift_start

    use_store(settings, tmp_path, "file")
    call_command("seed_demo", stdout=io.StringIO())
    # As `make run` does: the history first, on the same recorders, days before.
    history = demo_history.seed(days=3, exceptions=demo_history.Exceptions())
    assert history.recordings
    before = set(history.recordings)  # their primary keys
    out = io.StringIO()
    call_command("seed_demo_footage", "--server", live_server.url, stdout=out)
    assert "ready" in out.getvalue()
    recordings = Recording.objects.exclude(pk__in=before)
    first_squad = recordings.filter(recorder__serial__in=["A000102", "A000103", "A000104"])
    assert first_squad.filter(kind="photo").count() == 3
    assert first_squad.filter(kind="audio").count() == 1
    wang = first_squad.filter(recorder__serial="A000102", kind="video").first()
    assert abs(wang.clock_offset_seconds - 28) < 5  # the fast clock was measured (C3.2)
    assert Activity.objects.filter(span_start__gte=shift_start(timezone.now())).count() == 3
    assert UnrecordedNote.objects.filter(start__gte=shift_start(timezone.now())).count() == 1

    # A normal history: every frontline officer's recorder docked at its own
    # squad's workstation (none "从未对接"), and only the one planned exception
    # docked later than 24 hours (C5.1).
    held = Holding.objects.filter(
        ended_at__isnull=True, person__role_grants__role="officer"
    ).exclude(person__username="officer14")  # the recorder that would not switch on
    shift = DockingSession.objects.filter(started_at__gte=shift_start(timezone.now()))
    docked = set(shift.values_list("serial", flat=True))
    assert {h.recorder.serial for h in held} <= docked
    late = recordings.filter(collected_within_24h=False)
    assert {r.officer.username for r in late} == {LATE_OFFICER}
    stations = {d.station.unit.code for d in shift.select_related("station__unit")}
    assert len(stations) > 1

    # Processed by a worker as under `make run`.
    call_command("db_worker", "--batch", "--interval", "0", stdout=io.StringIO())

    leader = Client()
    leader.force_login(Person.objects.get(username="squad1"))
    day = timezone.localtime(shift_start(timezone.now())).date()
    html = leader.get(reverse("web:unit_day"), {"day": day.isoformat()}).content.decode()
    assert "bar rec-complete" in html
    assert "bar gap-unexplained" in html and "bar gap-pending" in html
    assert "人需要核查" in html
    # Without a day the unit day opens on the shift's day (its last day with footage).
    assert f'value="{day.isoformat()}"' in leader.get(reverse("web:unit_day")).content.decode()
    from jilu.web.unit_day import build_unit_day

    squad = Person.objects.get(username="squad1")
    data = build_unit_day(squad, squad.unit, day)
    docked = {lane.person.username: lane.dockings for lane in data.lanes}
    # The shift docked officer's recorder once and officer14's (that would not
    # switch on) not at all; the lanes also count the history's dockings.
    start = shift_start(timezone.now())
    in_shift = DockingSession.objects.filter(started_at__gte=start)
    assert in_shift.filter(holder__username="officer").count() == 1
    assert not in_shift.filter(holder__username="officer14").exists()
    assert docked["officer"] >= 1

    # A second run adds nothing.
    again = io.StringIO()
    call_command("seed_demo_footage", "--server", live_server.url, stdout=again)
    assert "already present" in again.getvalue()
    assert Recording.objects.exclude(pk__in=before).count() == recordings.count()


@pytest.mark.parametrize(
    ("now_local", "starts"),
    [
        ("2026-12-04T18:00", "2026-12-04T09:00"),  # after the shift: today's
        ("2026-12-04T08:00", "2026-12-03T11:00"),  # 09:00 yesterday is 23 h old: a later shift
        ("2026-12-04T12:00", "2026-12-03T15:00"),  # midday: an afternoon shift of yesterday
        ("2026-12-04T06:30", "2026-12-03T09:00"),
    ],
)
def test_the_shift_is_the_latest_one_docked_on_time(now_local, starts):
    """Docked now, the shift's first recording is under 24 h old (C5.1) and its
    last activity is over."""
    from datetime import datetime

    from jilu.evidence.timeline import SHANGHAI
    from jilu.web.management.commands.seed_demo_footage import SHIFT_LENGTH, shift_start

    now = datetime.fromisoformat(now_local).replace(tzinfo=SHANGHAI)
    start = shift_start(now)
    assert now - timedelta(hours=24) < start <= now - SHIFT_LENGTH
    assert start == datetime.fromisoformat(starts).replace(tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_demo_footage_says_what_is_missing(settings, tmp_path):
    """Without the demo bureau, or without a server to dock to, it stops with a
    message saying which, and leaves nothing half-made."""
    import socket

    from django.core.management import CommandError

    from jilu.casework.models import Activity
    from jilu.evidence.tests.conftest import use_store

    use_store(settings, tmp_path, "file")
    with pytest.raises(CommandError, match="run `jilu seed-demo` first"):
        call_command("seed_demo_footage", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(CommandError, match="did not answer within 1 s"):
        call_command(
            "seed_demo_footage",
            "--server",
            f"http://127.0.0.1:{port}",
            "--wait",
            "1",
            stdout=io.StringIO(),
        )
    assert not Activity.objects.exists()
