"""Benchmark: the recording list query (ORM, restricted, filtered) against hand-written SQL.

Seeds a bench database with ``jilu seed-scale`` (once, scaled to the number of
recordings asked for; skipped when it already holds them), then times what the list page runs for one page
(the first 50 rows, newest first, with officer, recorder and media in the same
query, plus the count capped at 10,000) through ``jilu.evidence.queries``,
and the same result written by hand as SQL, for several filter mixes.
Prints milliseconds (median of ``--rounds``, the ORM and the SQL in alternation) and orm/sql (target < 10).

    .venv/bin/python bench/list_query.py [--recordings 1000000] [--dir DIR] [--rounds 15]
        [--database-url postgres://postgres@127.0.0.1:5432/jilu_list]

Without ``--database-url`` the database is SQLite in ``--dir`` (the embedded
default); with it, that database (PostgreSQL, the city's).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


CITY_YEAR_RECORDINGS = 5_000_000  # what seed-scale makes at --scale 1


def seed(recordings: int) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    jilu = [sys.executable, "-m", "jilu.manage"]
    subprocess.run([*jilu, "migrate", "-v0"], env=env, check=True)
    began = time.monotonic()
    subprocess.run(
        [*jilu, "seed-scale", "--scale", str(recordings / CITY_YEAR_RECORDINGS)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"seeded to {recordings} recordings in {time.monotonic() - began:.0f}s")


def timed_pair(orm, sql, rounds: int) -> tuple[float, object, float, object]:
    """Median milliseconds of each, the two run in alternation, so that whatever
    else the machine is doing weighs on both alike."""
    orm(), sql()  # warm the page cache and the statement cache
    orm_times, sql_times = [], []
    orm_out = sql_out = None
    for _ in range(rounds):
        began = time.perf_counter()
        orm_out = orm()
        orm_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        sql_out = sql()
        sql_times.append(time.perf_counter() - began)
    return (
        statistics.median(orm_times) * 1000,
        orm_out,
        statistics.median(sql_times) * 1000,
        sql_out,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=1_000_000)
    parser.add_argument("--dir", default="/tmp/jilu-scale")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--database-url", default="", help="default: SQLite in --dir")
    args = parser.parse_args()
    data_dir = Path(args.dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["JILU_DATA_DIR"] = str(data_dir)
    if args.database_url:
        os.environ["JILU_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("JILU_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jilu.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from jilu.evidence.models import Recording
    from jilu.evidence.queries import COUNT_CAP, RecordingFilters, find_recordings
    from jilu.evidence.timeline import day_bounds
    from jilu.org.models import Person, Unit

    # A fresh --dir has no tables yet: seed() migrates it before seeding.
    have = (
        Recording.objects.count()
        if "evidence_recording" in connection.introspection.table_names()
        else 0
    )
    # seed-scale makes about what it is asked for (a few of the last days' are not docked yet).
    if have < 0.95 * args.recordings:
        seed(args.recordings)
        have = Recording.objects.count()
    where = args.database_url or data_dir
    print(f"{have:,} recordings in {connection.vendor} at {where}")

    inspector = Person.objects.get(username="scale_inspector")
    leader = Person.objects.get(username="scale_leader")
    district = Unit.objects.get(code="990100000000")
    today = datetime.now(UTC).date()
    month_ago = today - timedelta(days=30)
    lo, hi = day_bounds(month_ago)[0], day_bounds(today)[1]
    dt = connection.ops.adapt_datetimefield_value
    frontline = Person.objects.filter(frontline=True).order_by("pk")
    keyword = frontline[frontline.count() // 2].name
    like = f"%{keyword}%"
    # What icontains means on each database, written as a person would.
    ilike = "ILIKE" if connection.vendor == "postgresql" else "LIKE"

    select = """
        SELECT r.*, p.id, p.name, p.user_no, d.id, d.serial, m.integrity, m.integrity_reason
        FROM evidence_recording r
        LEFT JOIN org_person p ON p.id = r.officer_id
        JOIN devices_recorder d ON d.id = r.recorder_id
        LEFT JOIN evidence_mediainfo m ON m.recording_id = r.id
    """
    order = " ORDER BY r.started_at DESC, r.id DESC LIMIT 50"
    count = (
        "SELECT COUNT(*) FROM (SELECT 1 FROM evidence_recording r {joins} WHERE {where} LIMIT %s) t"
    )
    # The squad leader's scope (Recording.access_q): their subtree's officers and
    # recorders, their own recordings, and those of activities they took part in.
    scope_leader = (
        "(r.officer_id IN (SELECT id FROM org_person WHERE unit_id IN "
        "(SELECT id FROM org_unit WHERE path LIKE %s)) OR r.recorder_id IN "
        "(SELECT id FROM devices_recorder WHERE unit_id IN "
        "(SELECT id FROM org_unit WHERE path LIKE %s)) OR r.officer_id = %s "
        "OR r.id IN (SELECT recording_id FROM casework_annotation WHERE activity_id IN "
        "(SELECT activity_id FROM casework_activity_officers WHERE person_id = %s)))"
    )
    cases = [
        ("inspector, no filter", inspector, RecordingFilters(), "1=1", [], ""),
        (
            "inspector, district + 30 days + 完整",
            inspector,
            RecordingFilters(
                unit=district, date_from=month_ago, date_to=today, integrity="complete"
            ),
            "(r.officer_id IN (SELECT id FROM org_person WHERE unit_id IN "
            "(SELECT id FROM org_unit WHERE path LIKE %s)) OR r.recorder_id IN "
            "(SELECT id FROM devices_recorder WHERE unit_id IN "
            "(SELECT id FROM org_unit WHERE path LIKE %s))) AND r.started_at >= %s "
            "AND r.started_at < %s AND m.integrity = %s",
            [district.path + "%", district.path + "%", dt(lo), dt(hi), "complete"],
            "LEFT JOIN evidence_mediainfo m ON m.recording_id = r.id",
        ),
        (
            "squad leader, late + video",
            leader,
            RecordingFilters(kind="video", late=True),
            scope_leader + " AND r.kind = %s AND r.collected_within_24h = %s",
            [leader.unit.path + "%", leader.unit.path + "%", leader.pk, leader.pk, "video", False],
            "",
        ),
        (
            "inspector, keyword (an officer's name)",
            inspector,
            RecordingFilters(q=keyword),
            # What a keyword matches, as one set: the file name, the officer, the
            # recorder, and the annotation with its activity and party. Each way
            # of matching is its own branch: on PostgreSQL ``note ILIKE … OR
            # activity_id IN (SELECT …)`` is a subplan re-read for every
            # annotation, and at 5 M recordings that count ran for minutes.
            f"r.id IN (SELECT id FROM evidence_recording WHERE original_name {ilike} %s "
            "UNION ALL SELECT id FROM evidence_recording WHERE officer_id IN "
            f"(SELECT id FROM org_person WHERE name {ilike} %s OR user_no = %s OR cert_no = %s) "
            "UNION ALL SELECT id FROM evidence_recording WHERE recorder_id IN "
            "(SELECT id FROM devices_recorder WHERE serial = %s) "
            f"UNION ALL SELECT recording_id FROM casework_annotation WHERE standard_name {ilike} %s "
            f"OR note {ilike} %s "
            "UNION ALL SELECT recording_id FROM casework_annotation WHERE activity_id IN "
            f"(SELECT id FROM casework_activity WHERE address {ilike} %s OR place_name {ilike} %s "
            "UNION ALL SELECT id FROM casework_activity WHERE party_id IN "
            f"(SELECT id FROM casework_party WHERE name {ilike} %s)))",
            [like, like, keyword, keyword, keyword, like, like, like, like, like],
            "",
        ),
        (
            "inspector, one recorder (serial)",
            inspector,
            RecordingFilters(serial="Z000123"),
            "r.recorder_id = (SELECT id FROM devices_recorder WHERE serial = %s)",
            ["Z000123"],
            "",
        ),
    ]
    print(f"{'case':40} {'orm ms':>9} {'sql ms':>9} {'orm/sql':>8}")
    worst = 0.0
    for label, user, filters, where, params, joins in cases:

        def orm(user=user, filters=filters):
            qs = find_recordings(user, filters)
            rows = list(qs[:50])
            # What a row shows, to prove there is no query per row.
            shown = [(r.officer.name if r.officer else "", r.recorder.serial) for r in rows]
            n = qs.order_by()[: COUNT_CAP + 1].count()
            return len(shown), n

        def sql(where=where, params=params, joins=joins):
            with connection.cursor() as cursor:
                cursor.execute(select + " WHERE " + where + order, params)
                rows = cursor.fetchall()
                cursor.execute(count.format(joins=joins, where=where), [*params, COUNT_CAP + 1])
                (n,) = cursor.fetchone()
            return len(rows), n

        orm_ms, orm_out, sql_ms, sql_out = timed_pair(orm, sql, args.rounds)
        if orm_out != sql_out:
            print(f"  results differ for {label}: orm {orm_out} sql {sql_out}")
        ratio = orm_ms / sql_ms if sql_ms else float("inf")
        worst = max(worst, ratio)
        print(f"{label:40} {orm_ms:9.1f} {sql_ms:9.1f} {ratio:8.2f}   rows/count {orm_out}")
    print(f"worst orm/sql = {worst:.2f} (target < 10)")
    return 0 if worst < 10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
