"""Benchmark: the monthly city report (通报) and a unit dashboard against hand-written SQL.

On a database grown by ``jilu seed-scale`` (the city-year by default), times

* ``jilu.oversight.report_metrics.city_report`` for one month over the whole
  city (default November 2026), and
* ``unit_dashboard`` for one squad (the first by code, or ``--squad CODE``)
  and, with ``--brigade``, for the brigade above it,

against the same figures written by hand as plain aggregate SQL through
psycopg: one query per source, each unit's counters summed over its subtree by
the unit ``path`` column. The SQL is written from the definitions in the
module's docstrings, not from its code; the figures of both are compared
(counters, rates, the ranking, findings by clause and state, each officer's
counters) and any difference is printed, and the script exits 1.

Prints milliseconds (median of ``--rounds`` after one warm-up round, Jilu and
the SQL in alternation) and jilu/sql. Target: ≤ 2.

    .venv/bin/python bench/report.py [--database-url postgres://…/jilu_scale]
        [--month 2026-11] [--squad CODE] [--brigade] [--rounds 5] [--as-of ISO]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jilu_scale"
TARGET = 2.0

# Each unit's own counters (its own rows), one query per source.
ACTIVITIES = """
    SELECT x.unit_id, count(*),
        count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM casework_annotation a WHERE a.activity_id = x.id)
            OR EXISTS (
                SELECT 1 FROM casework_activity_officers o
                JOIN evidence_recording r ON r.officer_id = o.person_id
                WHERE o.activity_id = x.id AND r.started_at < x.span_end
                AND (r.ended_at > x.span_start
                     OR (r.ended_at IS NULL AND r.started_at >= x.span_start))))
    FROM casework_activity x
    WHERE x.span_start >= %(start)s AND x.span_start < %(end)s AND x.span_end <= %(as_of)s
    AND x.unit_id = ANY(%(units)s)
    GROUP BY x.unit_id"""

# Per officer taking part: an activity counts once for each of its officers.
ACTIVITIES_BY_OFFICER = """
    SELECT o.person_id, count(*),
        count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM casework_annotation a WHERE a.activity_id = x.id)
            OR EXISTS (
                SELECT 1 FROM casework_activity_officers o2
                JOIN evidence_recording r ON r.officer_id = o2.person_id
                WHERE o2.activity_id = x.id AND r.started_at < x.span_end
                AND (r.ended_at > x.span_start
                     OR (r.ended_at IS NULL AND r.started_at >= x.span_start))))
    FROM casework_activity_officers o
    JOIN casework_activity x ON x.id = o.activity_id
    JOIN org_person p ON p.id = o.person_id
    WHERE x.span_start >= %(start)s AND x.span_start < %(end)s AND x.span_end <= %(as_of)s
    AND p.unit_id = ANY(%(units)s)
    GROUP BY o.person_id"""

_RECORDING_COUNTS = """
    count(*),
    count(*) FILTER (WHERE r.collected_within_24h OR (%(collect_grace)s > 0
        AND r.docked_at - COALESCE(r.ended_at, r.started_at)
            <= interval '24 hours' + %(collect_grace)s * interval '1 minute')),
    count(*) FILTER (WHERE r.docked_at <= %(annotation_cutoff)s
        OR COALESCE(a.first_annotated_at, a.annotated_at) - r.docked_at
            <= interval '48 hours' + %(annotate_grace)s * interval '1 minute'),
    count(*) FILTER (WHERE COALESCE(a.first_annotated_at, a.annotated_at) - r.docked_at
            <= interval '48 hours' + %(annotate_grace)s * interval '1 minute')"""

RECORDINGS = f"""
    SELECT COALESCE(p.unit_id, d.unit_id) AS unit, {_RECORDING_COUNTS}
    FROM evidence_recording r
    LEFT JOIN org_person p ON p.id = r.officer_id
    JOIN devices_recorder d ON d.id = r.recorder_id
    LEFT JOIN casework_annotation a ON a.recording_id = r.id
    WHERE r.started_at >= %(start)s AND r.started_at < %(end)s
    AND COALESCE(p.unit_id, d.unit_id) = ANY(%(units)s)
    GROUP BY 1"""

RECORDINGS_BY_OFFICER = f"""
    SELECT r.officer_id, {_RECORDING_COUNTS}
    FROM evidence_recording r
    JOIN org_person p ON p.id = r.officer_id
    LEFT JOIN casework_annotation a ON a.recording_id = r.id
    WHERE r.started_at >= %(start)s AND r.started_at < %(end)s
    AND p.unit_id = ANY(%(units)s)
    GROUP BY 1"""

_DOCKING_COUNTS = """
    count(*), count(*) FILTER (WHERE abs(s.clock_offset_seconds) > %(drift)s),
    max(abs(s.clock_offset_seconds))"""

DOCKINGS = f"""
    SELECT COALESCE(d.unit_id, w.unit_id) AS unit, {_DOCKING_COUNTS}
    FROM ingest_dockingsession s
    LEFT JOIN devices_recorder d ON d.id = s.recorder_id
    LEFT JOIN devices_workstation w ON w.id = s.station_id
    WHERE s.started_at >= %(start)s AND s.started_at < %(end)s
    AND s.clock_offset_seconds IS NOT NULL
    AND COALESCE(d.unit_id, w.unit_id) = ANY(%(units)s)
    GROUP BY 1"""

DOCKINGS_BY_OFFICER = f"""
    SELECT s.holder_id, {_DOCKING_COUNTS}
    FROM ingest_dockingsession s
    JOIN org_person p ON p.id = s.holder_id
    WHERE s.started_at >= %(start)s AND s.started_at < %(end)s
    AND s.clock_offset_seconds IS NOT NULL AND p.unit_id = ANY(%(units)s)
    GROUP BY 1"""

RECORDERS = """
    SELECT unit_id, count(*) FROM devices_recorder
    WHERE status IN ('in_service', 'under_repair') AND unit_id = ANY(%(units)s) GROUP BY 1"""

FRONTLINE = """
    SELECT unit_id, count(*) FROM org_person
    WHERE is_active AND frontline AND unit_id = ANY(%(units)s) GROUP BY 1"""

FINDINGS = """
    SELECT unit_id, rule, state, count(*) FROM oversight_finding
    WHERE period_start >= %(start)s AND period_start < %(end)s AND unit_id = ANY(%(units)s)
    GROUP BY 1, 2, 3"""

COUNTERS = (
    "activities",
    "activities_recorded",
    "recordings",
    "collected_24h",
    "annotation_due",
    "annotated_48h",
    "dockings",
    "drift_over",
    "recorders",
    "frontline",
    "findings",
    "findings_open",
    "findings_confirmed",
)


def rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def rates(c: dict) -> dict:
    out = dict(c)
    out["coverage"] = rate(c["activities_recorded"], c["activities"])
    out["collection"] = rate(c["collected_24h"], c["recordings"])
    out["annotation"] = rate(c["annotated_48h"], c["annotation_due"])
    out["drift"] = rate(c["drift_over"], c["dockings"])
    front = c.get("frontline", 0)
    out["recorders_per_frontline"] = round(c["recorders"] / front, 2) if front else None
    return out


class SqlReport:
    """The report's figures by hand: psycopg and plain SQL, no Jilu code."""

    def __init__(self, conn, values: dict, clauses: dict[str, tuple[str, ...]]) -> None:
        self.conn = conn
        self.values = values
        self.clauses = clauses  # rule -> the clauses it cites (configuration)

    def units(self, path: str | None) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT id, code, name, parent_id, path FROM org_unit "
                "WHERE path LIKE %s ORDER BY path",
                [(path or "") + "%"],
            )
            return cur.fetchall()

    def params(self, start: datetime, end: datetime, as_of: datetime, ids: list[int]) -> dict:
        v = self.values
        return {
            "start": start,
            "end": end,
            "as_of": as_of,
            "units": ids,
            "collect_grace": v["collection_grace_minutes"],
            "annotate_grace": v["annotation_grace_minutes"],
            "annotation_cutoff": as_of - timedelta(hours=48, minutes=v["annotation_grace_minutes"]),
            "drift": v["clock_drift_seconds"],
        }

    def own(self, p: dict) -> tuple[dict[int, dict], dict[tuple[str, str], int]]:
        own = {pk: {**dict.fromkeys(COUNTERS, 0), "worst_drift": None} for pk in p["units"]}
        by_rule_state: dict[tuple[str, str], int] = {}
        with self.conn.cursor() as cur:
            for sql, keys in (
                (ACTIVITIES, ("activities", "activities_recorded")),
                (RECORDINGS, ("recordings", "collected_24h", "annotation_due", "annotated_48h")),
                (DOCKINGS, ("dockings", "drift_over", "worst_drift")),
                (RECORDERS, ("recorders",)),
                (FRONTLINE, ("frontline",)),
            ):
                cur.execute(sql, p)
                for unit, *figures in cur.fetchall():
                    own[unit].update(zip(keys, figures, strict=True))
            cur.execute(FINDINGS, p)
            for unit, rule, state, n in cur.fetchall():
                own[unit]["findings"] += n
                own[unit]["findings_open"] += n if state == "open" else 0
                own[unit]["findings_confirmed"] += n if state == "confirmed" else 0
                by_rule_state[rule, state] = by_rule_state.get((rule, state), 0) + n
        return own, by_rule_state

    def by_clause(self, by_rule_state: dict[tuple[str, str], int]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for (rule, state), n in by_rule_state.items():
            for clause in self.clauses.get(rule, ()):
                row = out.setdefault(clause, {})
                row[state] = row.get(state, 0) + n
        return out

    @staticmethod
    def total(rows: list[dict]) -> dict:
        out = {**dict.fromkeys(COUNTERS, 0), "worst_drift": None}
        for row in rows:
            for key in COUNTERS:
                out[key] += row[key]
            if row["worst_drift"] is not None:
                out["worst_drift"] = max(out["worst_drift"] or 0, row["worst_drift"])
        if out["worst_drift"] is not None:
            out["worst_drift"] = round(out["worst_drift"], 1)
        return out

    def city(self, start: datetime, end: datetime, as_of: datetime) -> dict:
        units = self.units(None)
        own, by_rule_state = self.own(self.params(start, end, as_of, [u[0] for u in units]))
        rows = {}
        for pk, code, _name, parent, path in units:
            sub = [own[u[0]] for u in units if u[4].startswith(path)]
            rows[pk] = {**rates(self.total(sub)), "code": code, "parent_id": parent}
        # Rank the city's districts (the children of the one city unit).
        top = [pk for pk, r in rows.items() if r["parent_id"] is None]
        ranked = [pk for pk, r in rows.items() if r["parent_id"] == top[0]]

        def score(r: dict) -> float | None:
            parts = [r[k] for k in ("coverage", "collection", "annotation") if r[k] is not None]
            parts += [100 - r["drift"]] if r["drift"] is not None else []
            return round(sum(parts) / len(parts), 1) if parts else None

        ranked.sort(
            key=lambda pk: (
                score(rows[pk]) is None,
                -(score(rows[pk]) or 0),
                -rows[pk]["findings"],
                rows[pk]["code"],
            )
        )
        return {
            "total": rates(self.total(list(own.values()))),
            "units": rows,
            "ranking": [(pk, score(rows[pk])) for pk in ranked],
            "findings_by_clause": self.by_clause(by_rule_state),
        }

    def dashboard(self, path: str, as_of: datetime) -> dict:
        start = as_of - timedelta(days=self.values["dashboard_days"])
        units = self.units(path)
        ids = [u[0] for u in units]
        p = self.params(start, as_of, as_of, ids)
        own, _ = self.own(p)
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT id FROM org_person WHERE is_active AND frontline AND unit_id = ANY(%s)",
                [ids],
            )
            per = {
                pk: {**dict.fromkeys(COUNTERS, 0), "worst_drift": None} for (pk,) in cur.fetchall()
            }
            for sql, keys in (
                (ACTIVITIES_BY_OFFICER, ("activities", "activities_recorded")),
                (
                    RECORDINGS_BY_OFFICER,
                    ("recordings", "collected_24h", "annotation_due", "annotated_48h"),
                ),
                (DOCKINGS_BY_OFFICER, ("dockings", "drift_over", "worst_drift")),
            ):
                cur.execute(sql, p)
                for person, *figures in cur.fetchall():
                    if person in per:
                        per[person].update(zip(keys, figures, strict=True))
            cur.execute(
                "SELECT person_id, count(*) FROM oversight_finding "
                "WHERE state = 'open' AND person_id = ANY(%s) GROUP BY 1",
                [list(per)],
            )
            open_by_person = dict(cur.fetchall())
            cur.execute(
                "SELECT f.rule, count(*) FROM oversight_finding f "
                "JOIN org_unit u ON u.id = f.unit_id "
                "WHERE f.state = 'open' AND u.path LIKE %s GROUP BY 1",
                [path + "%"],
            )
            open_by_rule = {(rule, "open"): n for rule, n in cur.fetchall()}
        officers = {}
        for pk, c in per.items():
            if c["worst_drift"] is not None:
                c["worst_drift"] = round(c["worst_drift"], 1)
            officers[pk] = {**rates(c), "open_findings": open_by_person.get(pk, 0)}
            officers[pk].pop("recorders_per_frontline")
        return {
            "total": rates(self.total(list(own.values()))),
            "officers": officers,
            "open_findings": sum(open_by_rule.values()),
            "open_by_clause": self.by_clause(open_by_rule),
        }


FIGURES = (*COUNTERS, "worst_drift", "coverage", "collection", "annotation", "drift")


def compare(label: str, jilu: dict, sql: dict, keys=FIGURES) -> list[str]:
    out = []
    for key in keys:
        a, b = jilu.get(key), sql.get(key)
        if isinstance(a, float) or isinstance(b, float):
            same = a is not None and b is not None and abs(a - b) < 0.051
            same = same or a == b
        else:
            same = a == b
        if not same:
            out.append(f"{label} {key}: jilu {a} sql {b}")
    return out


def clause_table(rows: list[dict]) -> dict[str, dict[str, int]]:
    return {
        r["clause"]: {k: v for k, v in r.items() if k not in ("clause", "total") and v}
        for r in rows
    }


def check_city(jilu: dict, sql: dict) -> list[str]:
    bad = compare("total", jilu["total"], sql["total"], (*FIGURES, "recorders_per_frontline"))
    for row in jilu["units"]:
        bad += compare(f"unit {row['code']}", row, sql["units"][row["id"]])
    if len(jilu["units"]) != len(sql["units"]):
        bad.append(f"units: jilu {len(jilu['units'])} sql {len(sql['units'])}")
    ranking = [(r["id"], r["score"]) for r in jilu["ranking"]]
    if ranking != sql["ranking"]:
        bad.append(f"ranking: jilu {ranking} sql {sql['ranking']}")
    if clause_table(jilu["findings_by_clause"]) != sql["findings_by_clause"]:
        bad.append("findings by clause and state differ")
    return bad


def check_dashboard(jilu: dict, sql: dict) -> list[str]:
    bad = compare("total", jilu["total"], sql["total"], (*FIGURES, "recorders_per_frontline"))
    officers = {o["id"]: o for o in jilu["officers"]}
    if set(officers) != set(sql["officers"]):
        bad.append(f"officers: jilu {len(officers)} sql {len(sql['officers'])}")
    for pk, row in officers.items():
        if pk in sql["officers"]:
            bad += compare(f"officer {pk}", row, sql["officers"][pk], (*FIGURES, "open_findings"))
    if jilu["open_findings"] != sql["open_findings"]:
        bad.append(f"open findings: jilu {jilu['open_findings']} sql {sql['open_findings']}")
    if clause_table(jilu["open_by_clause"]) != sql["open_by_clause"]:
        bad.append("open findings by clause differ")
    return bad


def timed_pair(jilu, sql, rounds: int) -> tuple[float, dict, float, dict]:
    """Median milliseconds of each after one untimed round, in alternation."""
    jilu(), sql()
    jilu_times, sql_times = [], []
    for _ in range(rounds):
        began = time.perf_counter()
        jilu_out = jilu()
        jilu_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        sql_out = sql()
        sql_times.append(time.perf_counter() - began)
    ms = 1000
    return statistics.median(jilu_times) * ms, jilu_out, statistics.median(sql_times) * ms, sql_out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--month", default="2026-11", help="YYYY-MM")
    parser.add_argument("--squad", default="", help="a squad's code (default: the first)")
    parser.add_argument("--brigade", action="store_true", help="also the squad's brigade")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--as-of", default="", help="ISO time (default: now)")
    args = parser.parse_args()
    os.environ["JILU_DATABASE_URL"] = args.database_url
    os.environ.setdefault("JILU_DEPLOYMENT", "embedded")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jilu.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import psycopg

    from jilu.org.models import Unit
    from jilu.oversight import rules, thresholds
    from jilu.oversight.report_metrics import MONTH, city_report, report_period, unit_dashboard

    as_of = datetime.fromisoformat(args.as_of) if args.as_of else datetime.now(UTC)
    year, month = (int(x) for x in args.month.split("-"))
    period = report_period(MONTH, year, month)
    values = thresholds.current()
    clauses = {key: rule.clauses for key, rule in rules.RULES.items()}
    squads = Unit.objects.filter(level="squad").order_by("code")
    squad = squads.get(code=args.squad) if args.squad else squads.first()
    conn = psycopg.connect(args.database_url, autocommit=True)
    hand = SqlReport(conn, values, clauses)

    cases = [
        (
            f"city report {period.label}",
            lambda: city_report(period, as_of=as_of),
            lambda: hand.city(period.start, period.end, as_of),
            check_city,
        ),
        (
            f"dashboard, squad {squad.code}",
            lambda: unit_dashboard(squad, as_of=as_of),
            lambda: hand.dashboard(squad.path, as_of),
            check_dashboard,
        ),
    ]
    if args.brigade:
        brigade = squad.parent
        cases.append(
            (
                f"dashboard, brigade {brigade.code}",
                lambda: unit_dashboard(brigade, as_of=as_of),
                lambda: hand.dashboard(brigade.path, as_of),
                check_dashboard,
            )
        )
    print(f"as of {as_of:%Y-%m-%d %H:%M} UTC, {args.rounds} rounds (medians)")
    print(f"{'case':36} {'jilu ms':>9} {'sql ms':>9} {'jilu/sql':>9}")
    worst, disagree = 0.0, False
    for label, jilu, sql, check in cases:
        jilu_ms, jilu_out, sql_ms, sql_out = timed_pair(jilu, sql, args.rounds)
        ratio = jilu_ms / sql_ms if sql_ms else float("inf")
        worst = max(worst, ratio)
        total = jilu_out["total"]
        print(
            f"{label:36} {jilu_ms:9.1f} {sql_ms:9.1f} {ratio:9.2f}   "
            f"coverage {total['coverage']} collection {total['collection']} "
            f"annotation {total['annotation']} drift {total['drift']}"
        )
        for line in check(jilu_out, sql_out):
            disagree = True
            print(f"  MISMATCH {line}")
    verdict = "met" if worst <= TARGET else "NOT met"
    print(f"worst jilu/sql = {worst:.2f} (target ≤ {TARGET:g}: {verdict})")
    print("figures agree" if not disagree else "figures DISAGREE")
    return 1 if disagree else 0


if __name__ == "__main__":
    raise SystemExit(main())
