"""``jilu seed-demo-footage``: yesterday's work of the demo's first squad, so every
page has something to show at first launch (run by ``make run`` once the server
is up; does nothing when the demo already has footage).

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

from jilu.evidence.models import Recording
from jilu.evidence.timeline import SHANGHAI
from jilu.org.models import Person, Unit
from jilu.web.management.commands.seed_demo import DEMO_STATION_TOKEN

ACTOR = "system:seed-demo"
SQUAD = "350203000101"
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


class Command(BaseCommand):
    help = "Ingest yesterday's demo footage for the first squad (once; needs the server)."

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
        if Recording.objects.filter(recorder__serial__in=serials).exists():
            self.stdout.write("Demo footage already present.")
            return
        day = timezone.localtime(timezone.now(), SHANGHAI).date() - timedelta(days=1)
        self._wait(opts["server"], opts["wait"])  # before writing anything
        self._casework(squad, day)
        station = Path(sys.executable).with_name("jilu-station")
        with tempfile.TemporaryDirectory(prefix="jilu-demo-") as tmp:
            for username, serial, start, hours, offset, gaps, photos, audio in VOLUMES:
                person = Person.objects.get(username=username)
                volume = Path(tmp) / serial
                at = f"{day.isoformat()}T{start}:00"
                simulate = [
                    str(station),
                    "simulate",
                    str(volume),
                    "--serial",
                    serial,
                    "--user-no",
                    person.user_no,
                    "--user-name",
                    person.name,
                    "--unit-no",
                    SQUAD,
                    "--unit-name",
                    squad.name,
                    "--start",
                    at,
                    "--hours",
                    str(hours),
                    "--clock-offset",
                    str(offset),
                    "--photos",
                    str(photos),
                    "--audio",
                    str(audio),
                    "--audio-seconds",
                    "20",
                ]
                for gap in gaps:
                    simulate += ["--gap", gap]
                self._run(simulate, f"simulating {serial}")
                ingest = [
                    str(station),
                    "ingest",
                    str(volume),
                    "--server",
                    opts["server"],
                    "--token",
                    DEMO_STATION_TOKEN,
                    "--spool",
                    str(Path(tmp) / "spool"),
                ]
                self._run(ingest, f"ingesting {serial}")
                self.stdout.write(f"  {serial} ({person.name}): ingested")
        self.stdout.write(f"Demo footage of {day.isoformat()} ready: see 执勤时间轴 (unit day).")

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
    def _casework(self, squad: Unit, day) -> None:
        """The squad's activities of ``day`` and a duty-log note (once)."""
        from jilu.casework import actions as casework
        from jilu.casework.models import Activity, Party
        from jilu.dutylog import actions as dutylog

        if Activity.objects.filter(place_name=PLACE).exists():
            return

        def at(hhmm: str) -> datetime:
            h, m = map(int, hhmm.split(":"))
            return datetime(day.year, day.month, day.day, h, m, tzinfo=SHANGHAI)

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
