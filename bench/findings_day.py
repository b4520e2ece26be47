"""Benchmark: one day's new facts through the findings engine at city-year scale.

On a database grown by ``jilu seed-scale`` (seeded first when empty), sets the
rules' cursors to the start of one day (by default the last seeded day) and
times every source of facts as the periodic task runs them at that day's end
(``jilu.web.scale.day``): the day's dockings, recordings and device events,
the annotation (C5.2), activity (C2.1, C4.3) and off-duty (C2.2) windows whose
grace periods ran out that day, and the daily state of the equipment. The
baseline is hand-written SQL finding the same breaches of that day for the
rules it covers; both are printed with the ratio engine/sql, and the facts of
each rule are compared. Target: the engine within 60 s.

The engine's work is rolled back afterwards (``--keep`` commits it), so runs
repeat on the same data.

    .venv/bin/python bench/findings_day.py [--database-url postgres://…/jilu_scale]
        [--day 2026-12-04] [--keep]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jilu_scale"

BASELINE = {
    "late_collection": """
        SELECT id FROM evidence_recording WHERE id > %(recordings_after)s
        AND NOT collected_within_24h
        AND (%(collection_grace)s = 0 OR docked_at - COALESCE(ended_at, started_at)
             > interval '24 hours' + %(collection_grace)s * interval '1 minute')""",
    "user_no_mismatch": """
        SELECT id FROM evidence_recording WHERE id > %(recordings_after)s AND user_no_mismatch""",
    "clock_drift": """
        SELECT id FROM ingest_dockingsession WHERE id > %(dockings_after)s
        AND recorder_id IS NOT NULL AND abs(clock_offset_seconds) > %(drift)s""",
    "low_battery": """
        SELECT id FROM ingest_dockingsession WHERE id > %(dockings_after)s
        AND recorder_id IS NOT NULL AND battery_pct BETWEEN 0 AND 100
        AND battery_pct < %(battery)s""",
    "low_storage": """
        SELECT id FROM ingest_dockingsession WHERE id > %(dockings_after)s
        AND recorder_id IS NOT NULL AND storage_total_bytes > 0
        AND storage_free_bytes BETWEEN 0 AND storage_total_bytes
        AND storage_free_bytes * 100 < %(storage)s * storage_total_bytes""",
    "late_annotation": """
        SELECT r.id FROM evidence_recording r
        LEFT JOIN casework_annotation a ON a.recording_id = r.id
        WHERE r.docked_at >= %(annotation_from)s AND r.docked_at < %(annotation_to)s
        AND (a.id IS NULL OR COALESCE(a.first_annotated_at, a.annotated_at)
             > r.docked_at + interval '48 hours' + %(annotation_grace)s * interval '1 minute')""",
    "off_duty_recording": """
        SELECT r.id FROM evidence_recording r
        WHERE r.docked_at >= %(off_from)s AND r.docked_at < %(off_to)s
        AND r.officer_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM casework_annotation a WHERE a.recording_id = r.id)
        AND ((r.started_at AT TIME ZONE 'Asia/Shanghai')::time < %(duty_start)s
             OR (r.started_at AT TIME ZONE 'Asia/Shanghai')::time >= %(duty_end)s)
        AND NOT EXISTS (
            SELECT 1 FROM casework_activity x
            JOIN casework_activity_officers o ON o.activity_id = x.id
            WHERE o.person_id = r.officer_id
            AND x.span_start <= COALESCE(r.ended_at, r.started_at)
            AND (x.span_end IS NULL OR x.span_end >= r.started_at))""",
    "no_recording": """
        SELECT x.id FROM casework_activity x
        WHERE ((x.span_end >= %(act_from)s AND x.span_end < %(act_to)s
                AND x.created_at < %(act_to)s)
            OR (x.created_at >= %(act_from)s AND x.created_at < %(act_to)s
                AND x.span_end < %(act_to)s))
        AND NOT EXISTS (SELECT 1 FROM casework_annotation a WHERE a.activity_id = x.id)
        AND NOT EXISTS (
            SELECT 1 FROM casework_activity_officers o JOIN evidence_recording r
            ON r.officer_id = o.person_id
            WHERE o.activity_id = x.id
            AND r.started_at >= x.span_start - interval '12 hours'
            AND r.started_at < x.span_end + interval '12 hours'
            AND r.started_at < x.span_end AND r.ended_at > x.span_start)
        AND NOT EXISTS (
            SELECT 1 FROM casework_activity_officers o JOIN dutylog_unrecordednote n
            ON n.officer_id = o.person_id
            WHERE o.activity_id = x.id AND n.state = 'confirmed'
            AND n.start <= x.span_start + interval '2 seconds'
            AND n."end" + interval '2 seconds' >= x.span_end)""",
    "not_checked": """
        SELECT d.id FROM devices_recorder d WHERE d.status = 'in_service'
        AND d.registered_at < %(day_end)s - %(check_days)s * interval '1 day'
        AND NOT EXISTS (SELECT 1 FROM devices_deviceevent e WHERE e.recorder_id = d.id
            AND e.kind IN ('battery', 'storage', 'clock')
            AND e.at >= %(day_end)s - %(check_days)s * interval '1 day')""",
    "no_recorder": """
        SELECT p.id FROM org_person p WHERE p.is_active AND p.frontline
        AND p.unit_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM devices_holding h JOIN devices_recorder d ON d.id = h.recorder_id
            WHERE h.person_id = p.id AND h.ended_at IS NULL AND d.status = 'in_service')""",
    "no_workstation": """
        SELECT u.id FROM org_unit u WHERE (u.level = 'squad'
            OR (u.level = 'brigade' AND u.independently_housed))
        AND NOT EXISTS (SELECT 1 FROM devices_workstation w
            WHERE w.unit_id = u.id AND w.revoked_at IS NULL)""",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("JILU_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--dir", default="/tmp/jilu-scale-pg", help="JILU_DATA_DIR (keys)")
    parser.add_argument("--day", type=date.fromisoformat, default=None)
    parser.add_argument("--keep", action="store_true", help="commit the findings")
    parser.add_argument("--scale", default="1", help="seed-scale --scale when seeding")
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    os.environ.update(JILU_DATABASE_URL=args.database_url, JILU_DATA_DIR=args.dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jilu.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection, transaction

    from jilu.audit.models import AuditEntry
    from jilu.oversight import clock, thresholds
    from jilu.oversight.finding_models import FindingFact
    from jilu.web.management.commands.seed_scale import DONE
    from jilu.web.scale import day as scale_day

    if connection.vendor != "postgresql":
        print("findings_day.py measures PostgreSQL (the city database); give --database-url")
        return 2
    done = AuditEntry.objects.filter(action=DONE).order_by("-seq").first()
    if done is None:
        jilu = [sys.executable, "-m", "jilu.manage"]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        subprocess.run([*jilu, "migrate", "-v0"], env=env, check=True)
        subprocess.run([*jilu, "seed-scale", "--scale", args.scale], env=env, check=True)
        done = AuditEntry.objects.filter(action=DONE).order_by("-seq").first()
    day = args.day or date.fromisoformat(done.details["last_day"])
    values = thresholds.current()

    with transaction.atomic():
        found = scale_day.prepare(day)
        params = {
            "recordings_after": found.recordings_after,
            "dockings_after": found.dockings_after,
            "annotation_from": found.annotation[0],
            "annotation_to": found.annotation[1],
            "off_from": found.off_duty[0],
            "off_to": found.off_duty[1],
            "act_from": found.activities[0],
            "act_to": found.activities[1],
            "day_end": found.end,
            "collection_grace": values["collection_grace_minutes"],
            "annotation_grace": values["annotation_grace_minutes"],
            "drift": values["clock_drift_seconds"],
            "battery": values["low_battery_pct"],
            "storage": values["low_storage_pct"],
            "check_days": values["check_interval_days"],
            "duty_start": values["duty_start"],
            "duty_end": values["duty_end"],
        }
        began = time.perf_counter()
        expected: dict[str, set[str]] = {}
        with connection.cursor() as cursor:
            for rule, sql in BASELINE.items():
                cursor.execute(sql, params)
                expected[rule] = {str(row[0]) for row in cursor.fetchall()}
        sql_seconds = time.perf_counter() - began

        started = clock.now()
        began = time.perf_counter()
        read = scale_day.run(found)
        engine_seconds = time.perf_counter() - began
        facts: dict[str, set[str]] = {}
        for rule, object_id in FindingFact.objects.filter(added_at__gte=started).values_list(
            "finding__rule", "object_id"
        ):
            facts.setdefault(rule, set()).add(object_id)
        if not args.keep:
            transaction.set_rollback(True)

    print(f"day {day} (local), judged at its end; rows or windows read per source:")
    print("  " + ", ".join(f"{k} {v}" for k, v in read.items()))
    print(f"{'rule':22} {'engine facts':>12} {'sql facts':>10}  same")
    differ = 0
    for rule in sorted(set(facts) | set(expected)):
        mine, theirs = facts.get(rule, set()), expected.get(rule)
        same = "—" if theirs is None else ("yes" if mine == theirs else "NO")
        differ += same == "NO"
        print(f"{rule:22} {len(mine):>12} {'' if theirs is None else len(theirs):>10}  {same}")
    print(f"engine {engine_seconds:.1f} s, sql {sql_seconds:.2f} s, engine/sql "
          f"{engine_seconds / sql_seconds:.1f} (target: engine ≤ 60 s)")  # fmt: skip
    print("findings kept" if args.keep else "engine work rolled back")
    return 0 if engine_seconds <= 60 and not differ else 1


if __name__ == "__main__":
    raise SystemExit(main())
