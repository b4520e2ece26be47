"""``jilu seed-demo-footage``: the demo's last working shift, so every page has
something to show at first launch (run by ``make run`` once the server is up;
does nothing when the demo already has footage).

The shift is the latest one whose footage, docked now, is on time: it starts
at 09:00 today or yesterday when that is less than 22 hours ago and the shift
(until 16:30) is over, otherwise at the hour 21 hours ago. Every frontline
officer's recorder is docked at their squad's workstation with a short clip,
so the history looks like a bureau that follows the rule (C5.1), with a few
realistic exceptions: one recorder docked a day late (超过24小时), and the first
squad's day below.

The footage goes the way real footage goes: simulated recorder volumes are
ingested by ``jilu-station`` over HTTP with the demo station token, hashed,
verified and processed by the worker. Beside it, the squad's enforcement
activities of that day and a duty-log note, arranged so that the unit day and
the timelines show each thing the rule asks to make visible: a break in
recording (C4.3), an activity part nobody recorded, an activity without any
recording (C2.1) noted in the duty log (C6.2), a recorder clock that runs fast
(C3.2), photos and a sound recording.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from jilu.devices.models import Holding, Workstation
from jilu.evidence.timeline import SHANGHAI
from jilu.ingest.models import DockingSession
from jilu.org.models import Person, Unit
from jilu.org.roles import Role
from jilu.web.management.commands.seed_demo import DEMO_SQUAD, demo_station_token

ACTOR = "system:seed-demo"
SQUAD = DEMO_SQUAD
SHIFT_STARTS = "09:00"  # the schedule below is written from a 09:00 start
SHIFT_LENGTH = timedelta(hours=7, minutes=45)  # until the last activity (16:30) and a margin
ON_TIME = timedelta(hours=22)  # the first recording starts at most this long before docking
# The other frontline officers: one short clip each, minutes after the shift starts.
CLIP_HOURS = 0.01
# One exception: this officer's clip is from the day before the shift (docked late, C5.1).
LATE_OFFICER = "officer22"
LATE_BY = timedelta(hours=30)
# And this one's recorder would not switch on (the duty-log note below): not docked.
BROKEN_RECORDER_OFFICER = "officer14"
# username, recorder, start (hh:mm), hours, clock offset (s), gaps, photos, audio
VOLUMES = [
    ("officer", "A000102", "09:00", 1.5, 28.0, ["09:40+40"], 2, 1),
    ("officer12", "A000103", "09:00", 1.0, -12.0, [], 1, 0),
    ("officer13", "A000104", "14:00", 0.5, 0.0, [], 0, 0),
]
PLACE = "中山路步行街（演示）"
# The squad's activities that day: officers, kind, address, start, end.
ACTIVITIES = [
    # Recorded by 王五 with a break, by 李四 until 10:00: 10:00–10:20 by neither (C4.3).
    (("officer", "officer12"), "S1", "思明区中山路 88 号", "09:00", "10:30"),
    # 张三 recorded the first half hour only; 赵六 recorded nothing.
    (("officer13", "officer14"), "S1", "思明区中山路 120 号", "14:00", "15:00"),
    # Nobody recorded anything (C2.1); 赵六 notes why in the duty log (C6.2).
    (("officer14", "squad1"), "S4", "思明区中山路 200 号", "16:00", "16:30"),
]


def shift_start(now: datetime) -> datetime:
    """When the demo's shift began (its "09:00"): the latest start whose footage,
    docked at ``now``, is on time (C5.1) and whose activities are over."""
    local = timezone.localtime(now, SHANGHAI)
    h, m = map(int, SHIFT_STARTS.split(":"))
    for days_back in (0, 1):
        day = local.date() - timedelta(days=days_back)
        start = datetime(day.year, day.month, day.day, h, m, tzinfo=SHANGHAI)
        if now - ON_TIME <= start <= now - SHIFT_LENGTH:
            return start
    # Between the two: a later shift (afternoon into evening) of the day before.
    start = (local - ON_TIME + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return start


def _station_of(unit: Unit) -> Workstation | None:
    """The workstation where a unit's officers dock: their own unit's, else the
    nearest one above (a squad housed with its brigade)."""
    while unit is not None:
        station = Workstation.objects.filter(unit=unit, revoked_at__isnull=True).first()
        if station is not None:
            return station
        unit = unit.parent
    return None


class Command(BaseCommand):
    help = "Dock the demo's last shift of footage at every squad (once; needs the server)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--server", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--wait", type=float, default=90.0, help="seconds to wait for the server to answer"
        )

    def handle(self, *args, **opts) -> None:
        squad = Unit.objects.filter(code=SQUAD).first()
        if squad is None:
            raise CommandError("the demo bureau is missing: run `jilu seed-demo` first")
        serials = [v[1] for v in VOLUMES]
        start = shift_start(timezone.now())
        # The month of history (seed-demo-history) has recordings on the same
        # recorders, all docked days before this shift began; only a docking of
        # this shift or later means the footage is here already.
        if DockingSession.objects.filter(serial__in=serials, started_at__gte=start).exists():
            self.stdout.write("Demo footage already present.")
            return
        self._wait(opts["server"], opts["wait"])  # before writing anything
        self._casework(squad, start)
        station_bin = Path(sys.executable).with_name("jilu-station")
        with tempfile.TemporaryDirectory(prefix="jilu-demo-") as tmp:
            volumes = self._first_squad(squad, start) + self._everyone_else(squad, start)
            for v in volumes:
                station, volume = v["station"], Path(tmp) / v["serial"]
                self._simulate(station_bin, volume, v)
                # Docked at once: the recorder's clock (C3.2) is read as it is now.
                self._run(
                    [
                        str(station_bin),
                        "ingest",
                        str(volume),
                        "--server",
                        opts["server"],
                        "--token",
                        demo_station_token(station.unit.code),
                        "--spool",
                        str(Path(tmp) / "spool"),
                    ],
                    f"docking {v['serial']} at {station.name}",
                )
                self.stdout.write(f"  {v['serial']} ({v['person'].name}): docked at {station.name}")
        day = start.date().isoformat()
        self.stdout.write(f"Demo footage of {day} ready: see 执勤时间轴 (unit day) of {day}.")

    def _first_squad(self, squad: Unit, start: datetime) -> list[dict]:
        """The first squad's day: a break, a fast clock, photos, a sound recording."""
        station = _station_of(squad)
        volumes = []
        for username, serial, begin, hours, offset, gaps, photos, audio in VOLUMES:
            gaps = [self._shift_gap(gap, start) for gap in gaps]
            volumes.append(
                {
                    "person": Person.objects.get(username=username),
                    "serial": serial,
                    "start": self._at(start, begin),
                    "hours": hours,
                    "offset": offset,
                    "gaps": gaps,
                    "photos": photos,
                    "audio": audio,
                    "station": station,
                    "unit": squad,
                }
            )
        return volumes

    def _everyone_else(self, squad: Unit, start: datetime) -> list[dict]:
        """A short clip from every other frontline officer's recorder, docked at
        their own squad's workstation: a bureau that docks on time."""
        taken = {v[1] for v in VOLUMES}
        holdings = (
            Holding.objects.filter(ended_at__isnull=True, person__role_grants__role=Role.OFFICER)
            .exclude(recorder__serial__in=taken)
            .exclude(person__username=BROKEN_RECORDER_OFFICER)
            .select_related("recorder", "person", "person__unit")
            .order_by("recorder__serial")
            .distinct()
        )
        volumes = []
        for n, holding in enumerate(holdings):
            person, unit = holding.person, holding.person.unit
            station = _station_of(unit) if unit else None
            if station is None:
                continue
            at = start + timedelta(minutes=30 + 7 * n)
            if person.username == LATE_OFFICER:
                at -= LATE_BY  # docked a day late: the one 超过24小时 of the demo
            volumes.append(
                {
                    "person": person,
                    "serial": holding.recorder.serial,
                    "start": at,
                    "hours": CLIP_HOURS,
                    "offset": 0.0,
                    "gaps": [],
                    "photos": 0,
                    "audio": 0,
                    "station": station,
                    "unit": unit,
                }
            )
        return volumes

    @staticmethod
    def _at(start: datetime, hhmm: str) -> datetime:
        """``hhmm`` of the schedule (written from 09:00) within the shift that began at ``start``."""
        h, m = map(int, hhmm.split(":"))
        base_h, base_m = map(int, SHIFT_STARTS.split(":"))
        return start + timedelta(hours=h - base_h, minutes=m - base_m)

    def _shift_gap(self, gap: str, start: datetime) -> str:
        hhmm, _plus, minutes = gap.partition("+")
        return f"{timezone.localtime(self._at(start, hhmm), SHANGHAI):%Y-%m-%dT%H:%M:%S}+{minutes}"

    def _simulate(self, station_bin: Path, volume: Path, v: dict) -> None:
        person, unit = v["person"], v["unit"]
        local = timezone.localtime(v["start"], SHANGHAI)
        argv = [
            str(station_bin),
            "simulate",
            str(volume),
            "--serial",
            v["serial"],
            "--user-no",
            person.user_no,
            "--user-name",
            person.name,
            "--unit-no",
            unit.code,
            "--unit-name",
            unit.name,
            "--start",
            local.strftime("%Y-%m-%dT%H:%M:%S"),
            "--hours",
            str(v["hours"]),
            "--clock-offset",
            str(v["offset"]),
            "--photos",
            str(v["photos"]),
            "--audio",
            str(v["audio"]),
            "--audio-seconds",
            "20",
        ]
        for gap in v["gaps"]:
            argv += ["--gap", gap]
        self._run(argv, f"simulating {v['serial']}")

    def _run(self, argv: list[str], what: str) -> None:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise CommandError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-800:]}")

    def _wait(self, server: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        url = server.rstrip("/") + "/login/"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise CommandError(f"the server at {server} did not answer within {seconds:.0f} s")
            time.sleep(1)

    @transaction.atomic
    def _casework(self, squad: Unit, start: datetime) -> None:
        """The squad's activities of the shift and a duty-log note (once)."""
        from jilu.casework import actions as casework
        from jilu.casework.models import Activity, Party
        from jilu.dutylog import actions as dutylog

        if Activity.objects.filter(place_name=PLACE).exists():
            return

        def at(hhmm: str) -> datetime:
            return self._at(start, hhmm)

        people = {p.username: p for p in Person.objects.filter(unit=squad)}
        party = Party.objects.filter(name="厦门某某餐饮有限公司").first() or casework.create_party(
            actor=ACTOR,
            unit=squad,
            kind="organisation",
            name="厦门某某餐饮有限公司",
            id_number="91350203MA2Y4RK27U",
        )
        for officers, kind, address, begin, finish in ACTIVITIES:
            casework.create_activity(
                actor=ACTOR,
                officers=[people[name] for name in officers],
                kind=kind,
                category="inspection",
                unit=squad,
                party=party,
                place_name=PLACE,
                address=address,
                actual_start=at(begin),
                actual_end=at(finish),
            )
        dutylog.create_note(
            actor=people["officer14"],
            start=at("16:00"),
            end=at("16:30"),
            reason="device_fault",
            description="记录仪无法开机，已报中队长，次日送修（演示）",
        )
