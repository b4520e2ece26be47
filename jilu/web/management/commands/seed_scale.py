"""``jilu seed-scale``: grow an empty database to a city-year, for benchmarks.

By default 30 squads, 2,000 people (most of them frontline officers), 1,000,000
enforcement activities and 5,000,000 recordings over the 365 days up to
yesterday, with their dockings, device checks, annotations, cases and duty-log
notes (``jilu.web.scale``). ``--scale 0.01`` makes a hundredth of it.

Rows are written in bulk (PostgreSQL ``COPY``; batched inserts on SQLite,
which is refused above 1,000,000 recordings) and carry no bytes: ``jilu verify``
and the fixity schedule would rightly report every seeded object missing, and
each recording's keep-until is left for ``jilu recompute-retention``. Every
seeded account's password is ``jilu-scale-2026``; ``scale_inspector`` reads the
whole city and ``scale_leader`` leads the first squad.

It refuses a database holding anything it did not make, and a seed that did
not finish; on a finished one it says so and changes nothing.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from jilu.audit.chain import record
from jilu.audit.models import AuditEntry
from jilu.devices.models import Recorder, Workstation
from jilu.evidence.models import Recording
from jilu.org.models import Person, Unit
from jilu.web.scale import plan, writer
from jilu.web.scale.year import Year

DONE = "web.seed_scale.done"
SQLITE_LIMIT = 1_000_000
SEQUENCED = [
    "org.Person", "org.RoleGrant", "devices.Recorder", "devices.Holding", "devices.Workstation",
    "devices.DeviceEvent", "casework.Party", "casework.Case", "casework.Activity",
    "casework.Annotation", "ingest.DockingSession", "evidence.Recording",
    "dutylog.UnrecordedNote",
]  # fmt: skip


def _positive(kind):
    def parse(raw: str):
        value = kind(raw)
        if value <= 0:
            raise ValueError(raw)
        return value

    parse.__name__ = kind.__name__
    return parse


def _tables() -> list[str]:
    from jilu.casework.models import Activity

    models = [apps.get_model(label) for label in [*SEQUENCED, "evidence.StoredObject",
                                                   "evidence.MediaInfo"]]  # fmt: skip
    return [m._meta.db_table for m in models] + [Activity.officers.through._meta.db_table]


class Command(BaseCommand):
    help = "Grow an empty database to a city-year of data for benchmarks (bulk writes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--squads", type=_positive(int), default=30)
        parser.add_argument("--officers", type=_positive(int), default=2000)
        parser.add_argument("--activities", type=_positive(int), default=1_000_000)
        parser.add_argument("--recordings", type=_positive(int), default=5_000_000)
        parser.add_argument(
            "--scale",
            type=_positive(float),
            default=1.0,
            help="multiply squads, officers, activities and recordings (0.01: a hundredth)",
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--year",
            type=int,
            default=None,
            help="a calendar year up to yesterday (default: the 365 days up to yesterday)",
        )

    def handle(self, *args, **opts) -> None:
        f = opts["scale"]
        squads = max(2, round(opts["squads"] * f))
        officers = max(squads * 4, round(opts["officers"] * f))
        activities = max(10, round(opts["activities"] * f))
        recordings = max(activities, round(opts["recordings"] * f))
        if connection.vendor == "sqlite" and recordings > SQLITE_LIMIT:
            raise CommandError(
                f"{recordings:,} recordings is too many for SQLite (at most {SQLITE_LIMIT:,}): "
                "point JILU_DATABASE_URL at a PostgreSQL database, or use a smaller --scale"
            )
        if self._already_seeded():
            return
        days = self._days(opts["year"])
        now = timezone.now()
        began = time.monotonic()
        rng = random.Random(opts["seed"])
        ids = writer.Ids()
        start = plan.local_midnight_utc(days[0])
        end = plan.local_midnight_utc(days[-1]) + timedelta(days=1)
        self.stdout.write(
            f"seeding {squads} squads, {officers:,} people, {activities:,} activities, "
            f"{recordings:,} recordings over {days[0]} – {days[-1]} on {connection.vendor}"
        )

        def progress(day: date, acts: int, recs: int) -> None:
            rate = recs / max(0.001, time.monotonic() - began)
            self.stdout.write(f"{day}: {acts:,} activities, {recs:,} recordings ({rate:,.0f}/s)")

        with writer.loading(_tables(), say=self.stdout.write):
            with transaction.atomic():
                bureau, rows = plan.build(
                    squads=squads, officers=officers, start=start, end=end, rng=rng, ids=ids
                )
                rows.flush()
            year = Year(
                bureau=bureau,
                writer=rows,
                ids=ids,
                rng=rng,
                days=days,
                now=now,
                activities=activities,
                recordings=recordings,
                seed=opts["seed"],
            )
            year.run(progress)
        writer.reset_sequences(SEQUENCED)
        self.stdout.write("analysing tables …")
        writer.analyze()
        seconds = time.monotonic() - began
        counts = {table: n for table, n in sorted(rows.counts.items())}
        with transaction.atomic():
            record(
                "web.seed_scale.done",  # DONE
                actor=plan.ACTOR,
                object_type="org.unit",
                object_id=bureau.city.pk,
                details={
                    "seed": opts["seed"],
                    "first_day": days[0].isoformat(),
                    "last_day": days[-1].isoformat(),
                    "seconds": round(seconds, 1),
                    "rows": counts,
                },
            )
        for table, n in counts.items():
            self.stdout.write(f"  {table:32} {n:>12,}")
        size = ""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
                size = f", database {cursor.fetchone()[0]}"
        self.stdout.write(
            self.style.SUCCESS(
                f"seeded {year.made_acts:,} activities and {year.made_recs:,} recordings "
                f"in {seconds:.0f}s{size}"
            )
        )

    def _already_seeded(self) -> bool:
        city = Unit.objects.filter(code=plan.CITY_CODE).first()
        foreign = []
        if city is None:
            for model in (Unit, Person, Recorder, Workstation, Recording):
                if model._default_manager.exists():
                    foreign.append(model._meta.verbose_name)
        else:
            if Unit.objects.exclude(path__startswith=city.path).exists():
                foreign.append(Unit._meta.verbose_name)
            if Person.objects.exclude(unit__path__startswith=city.path).exists():
                foreign.append(Person._meta.verbose_name)
        if foreign:
            raise CommandError(
                "this database already holds data seed-scale did not make "
                f"({', '.join(str(f) for f in foreign)}); seed-scale only fills an empty, "
                "migrated database: create one (e.g. createdb jilu_scale), point "
                "JILU_DATABASE_URL at it and run jilu migrate first"
            )
        if city is None:
            return False
        done = AuditEntry.objects.filter(action=DONE).order_by("-seq").first()
        if done is None:
            raise CommandError(
                "an earlier seed-scale run on this database did not finish; "
                "drop and recreate the database, migrate, and run seed-scale again"
            )
        self.stdout.write(
            f"already seeded ({Recording.objects.count():,} recordings, "
            f"{done.details.get('first_day')} – {done.details.get('last_day')}); nothing to do"
        )
        return True

    @staticmethod
    def _days(year: int | None) -> list[date]:
        today = timezone.localdate()
        if year is None:
            first, last = today - timedelta(days=365), today - timedelta(days=1)
        else:
            if not 2000 <= year <= today.year:
                raise CommandError(f"--year {year}: give a year from 2000 to {today.year}")
            first = date(year, 1, 1)
            last = min(date(year, 12, 31), today - timedelta(days=1))
            if last < first:
                raise CommandError(f"--year {year} has no day before today yet")
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]
