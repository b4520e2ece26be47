"""``jilu seed-scale --recordings N``: a bench database with millions of recordings.

For benchmarks only (``bench/list_query.py``): rows are bulk-inserted in
batches without bytes behind them, so ``jilu verify`` and the fixity schedule
would (rightly) report every seeded object as missing. It refuses to run on a
database that holds recordings it did not make unless given ``--force``.

Shape: one city with ``--districts`` districts × 5 brigades × 4 squads, 20
officers per squad each with one recorder, recordings spread over the last
``--days`` days in 10-minute segments during working hours; about 1 in 12
collected late, integrity mostly 完整 with some 不完整/无法解析/待检测.
"""

from __future__ import annotations

import hashlib
import random
import time
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction

from jilu.devices.models import Recorder
from jilu.evidence.models import MediaInfo, Recording, StoredObject
from jilu.org import actions as org
from jilu.org.models import Person, Unit

ACTOR = "system:seed-scale"
PREFIX = "SCALE_"
CITY_CODE = "990000000000"


class Command(BaseCommand):
    help = "Bulk-insert a large number of recordings for benchmarks (bench databases only)."

    def add_arguments(self, parser):
        parser.add_argument("--recordings", type=int, default=1_000_000)
        parser.add_argument("--districts", type=int, default=5)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, **opts):
        real = Recording.objects.exclude(original_name__startswith=PREFIX).exists()
        if real and not opts["force"]:
            raise CommandError(
                "this database holds real recordings; seed-scale is for bench databases "
                "(use a separate JILU_DATA_DIR, or --force)"
            )
        rng = random.Random(opts["seed"])
        began = time.monotonic()
        officers, recorders = self._people(opts["districts"])
        self.stdout.write(f"{len(officers)} officers and recorders ready")
        have = Recording.objects.filter(original_name__startswith=PREFIX).count()
        total = opts["recordings"]
        batch = opts["batch"]
        now = datetime.now(UTC).replace(microsecond=0)
        n = have
        next_id = (Recording.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        dt = connection.ops.adapt_datetimefield_value
        obj_sql = _insert_sql(StoredObject, ["sha256", "sm3", "size", "backend", "stored_at"])
        rec_cols = [
            "id",
            "stored_object_id",
            "recorder_id",
            "officer_id",
            "user_no_in_name",
            "user_no_mismatch",
            "kind",
            "original_name",
            "name_start_local",
            "clock_offset_seconds",
            "started_at",
            "ended_at",
            "size",
            "sha256",
            "sm3",
            "docked_at",
            "collected_within_24h",
            "created_at",
        ]
        rec_sql = _insert_sql(Recording, rec_cols)
        info_cols = [
            "recording_id",
            "integrity",
            "integrity_reason",
            "container",
            "video_codec",
            "audio_codec",
            "duration_seconds",
            "has_video",
            "has_audio",
            "browser_playable",
            "attempts",
            "last_error",
        ]
        info_sql = _insert_sql(MediaInfo, info_cols)
        stamp = dt(now)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                # Random SHA-256 keys touch index pages all over: keep them in memory.
                cursor.execute("PRAGMA cache_size = -524288")
        while n < total:
            size = min(batch, total - n)
            objs, recs, infos = [], [], []
            for i in range(n, n + size):
                k = rng.randrange(len(officers))
                officer, recorder = officers[k], recorders[k]
                day = now - timedelta(days=rng.randrange(opts["days"]) + 1)
                start = day.replace(hour=0, minute=0, second=0) + timedelta(
                    minutes=rng.randrange(60, 11 * 60, 10)
                )
                sha = hashlib.sha256(f"scale {i}".encode()).hexdigest()
                sm3 = hashlib.sha256(f"sm3 {i}".encode()).hexdigest()
                size_bytes = rng.randrange(50_000_000, 300_000_000)
                late = rng.random() < 1 / 12
                docked = start + (timedelta(hours=30) if late else timedelta(hours=8))
                kind = "video" if rng.random() < 0.9 else rng.choice(["audio", "photo"])
                ext = {"video": "MP4", "audio": "WAV", "photo": "JPG"}[kind]
                name = (
                    f"{PREFIX}{recorder.serial}_{officer.user_no}_"
                    f"{start:%Y%m%d%H%M%S}_{i % 10000:04d}.{ext}"
                )
                pk = next_id + (i - have)
                objs.append((sha, sm3, size_bytes, "file", stamp))
                recs.append(
                    (
                        pk, sha, recorder.pk, officer.pk, officer.user_no or "", False, kind,
                        name, dt(start), 0.0, dt(start), dt(start + timedelta(minutes=10)),
                        size_bytes, sha, sm3, dt(docked), not late, stamp,
                    )
                )  # fmt: skip
                roll = rng.random()
                integrity = (
                    "complete"
                    if roll < 0.93
                    else "incomplete"
                    if roll < 0.97
                    else "unparseable"
                    if roll < 0.98
                    else "pending"
                )
                infos.append(
                    (
                        pk, integrity, "缺少索引（moov）" if integrity == "incomplete" else "",
                        "mp4", "h264", "aac", 600.0, kind == "video", kind != "photo",
                        integrity == "complete", 1, "",
                    )
                )  # fmt: skip
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(obj_sql, objs)
                cursor.executemany(rec_sql, recs)
                cursor.executemany(info_sql, infos)
            n += size
            rate = (n - have) / max(0.001, time.monotonic() - began)
            self.stdout.write(f"{n}/{total} recordings ({rate:,.0f}/s)")
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Recording]):
                cursor.execute(sql)
            if connection.vendor == "sqlite":
                cursor.execute("ANALYZE")
            elif connection.vendor == "postgresql":
                cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"{total} seeded recordings in {time.monotonic() - began:.1f}s "
                f"({Recording.objects.count()} in the database)"
            )
        )

    def _people(self, districts: int) -> tuple[list[Person], list[Recorder]]:
        city = Unit.objects.filter(code=CITY_CODE).first()
        if city is None:
            with transaction.atomic():
                city = org.create_unit(
                    actor=ACTOR,
                    parent=None,
                    code=CITY_CODE,
                    name="规模测试市城市管理行政执法局",
                    short_name="规模测试市城管执法局",
                    level="city",
                )
                squads = []
                for d in range(districts):
                    district = org.create_unit(
                        actor=ACTOR,
                        parent=city,
                        code=f"99{d + 1:02d}00000000",
                        name=f"规模测试第{d + 1}区城市管理行政执法局",
                        short_name=f"规模测试第{d + 1}区城管执法局",
                        level="district",
                    )
                    for b in range(5):
                        brigade = org.create_unit(
                            actor=ACTOR,
                            parent=district,
                            code=f"99{d + 1:02d}000{b + 1:02d}000",
                            name=f"规模测试第{d + 1}区第{b + 1}大队",
                            short_name=f"测试{d + 1}区{b + 1}大队",
                            level="brigade",
                        )
                        for s in range(4):
                            squads.append(
                                org.create_unit(
                                    actor=ACTOR,
                                    parent=brigade,
                                    code=f"99{d + 1:02d}000{b + 1:02d}{s + 1:03d}",
                                    name=f"规模测试第{d + 1}区第{b + 1}大队第{s + 1}中队",
                                    short_name=f"测试{d + 1}区{b + 1}大队{s + 1}中队",
                                    level="squad",
                                )
                            )
                people, devices = [], []
                n = 0
                for squad in squads:
                    for _ in range(20):
                        n += 1
                        person = Person(
                            username=f"scale{n:05d}",
                            name=f"测试队员{n}",
                            user_no=f"S{n:05d}",
                            unit=squad,
                            frontline=True,
                        )
                        person.set_unusable_password()
                        people.append(person)
                        devices.append(Recorder(serial=f"Z{n:06d}", unit=squad))
                Person.objects.bulk_create(people, batch_size=1000)
                Recorder.objects.bulk_create(devices, batch_size=1000)
                leader_unit = squads[0]
                org.create_person(
                    actor=ACTOR,
                    username="scale_leader",
                    name="测试中队长",
                    unit=leader_unit,
                    roles=["squad_leader"],
                    password="jilu-scale-2026",
                )
                org.create_person(
                    actor=ACTOR,
                    username="scale_inspector",
                    name="测试督察",
                    unit=city,
                    roles=["inspector"],
                    password="jilu-scale-2026",
                )
        officers = list(
            Person.objects.filter(username__startswith="scale0").order_by("username")
        ) + list(Person.objects.filter(username__regex=r"^scale[1-9]").order_by("username"))
        serials = {f"Z{int(p.username[5:]):06d}": p for p in officers}
        by_serial = {r.serial: r for r in Recorder.objects.filter(serial__in=list(serials))}
        officers = [p for p in officers if f"Z{int(p.username[5:]):06d}" in by_serial]
        recorders = [by_serial[f"Z{int(p.username[5:]):06d}"] for p in officers]
        return officers, recorders


def _insert_sql(model, columns: list[str]) -> str:
    """A plain multi-row-friendly INSERT for ``cursor.executemany`` (fast bulk seeding)."""
    qn = connection.ops.quote_name
    names = ", ".join(
        qn(model._meta.get_field(c.removesuffix("_id")).column) if c != "id" else qn("id")
        for c in columns
    )
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {qn(model._meta.db_table)} ({names}) VALUES ({marks})"
