"""The figures of the periodic report (通报, C6.4) and of the leaders' dashboards.

Every figure is a set-based aggregate: one ``GROUP BY`` query per source
(activities, recordings, dockings, findings, recorders, people) grouped by the
unit each row belongs to, then rolled up the unit tree in Python over the units
(hundreds), never over the rows (millions). What each figure means:

- **coverage** (C2.1): activities whose span starts in the period and has
  ended, with at least one recording ÷ those activities. A recording counts
  when it is annotated to the activity or is one of its officers' recordings
  overlapping its span (the same rule as ``casework.coverage``'s "no
  recording at all"). Unit: the activity's unit.
- **24 h collection** (C5.1): recordings started in the period that reached a
  workstation within 24 hours (plus the collection grace) ÷ recordings.
  Unit: the officer's unit, else the recorder's.
- **48 h annotation** (C5.2): of the recordings started in the period whose
  48-hour deadline (plus the annotation grace) has passed by ``as_of`` or that
  are already annotated in time, those first annotated in time.
- **clock drift** (C3.2): dockings in the period with a clock reading, the
  share whose offset exceeds the threshold, and the worst offset. Unit: the
  recorder's unit, else the workstation's.
- **recorders per frontline officer** (C1.1): recorders in service or under
  repair ÷ active frontline officers, as of the computation.
- **findings** (C6.5): findings whose period starts in the report's period,
  by clause and state.

Rates are percentages with one decimal, ``None`` when nothing was counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Abs, Coalesce, Substr
from django.utils import timezone

from jilu.casework.models import Activity, Annotation
from jilu.devices.models import Recorder
from jilu.evidence.deadlines import ANNOTATION_DEADLINE, COLLECTION_DEADLINE
from jilu.evidence.models import Recording
from jilu.ingest.models import DockingSession
from jilu.org.models import Person, Unit
from jilu.oversight import report_sections, rules, thresholds
from jilu.oversight.finding_models import Finding
from jilu.oversight.periods import SHANGHAI
from jilu.oversight.report_sql import Within

MONTH, QUARTER = "month", "quarter"
KINDS = (MONTH, QUARTER)
FIRST_YEAR, LAST_YEAR = 2000, 2099
# Counters every unit row carries; the rates are computed from them.
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
RATES = ("coverage", "collection", "annotation", "drift")


class PeriodError(ValueError):
    """A period outside 2000–2099, a month outside 1–12 or a quarter outside 1–4."""


@dataclass(frozen=True)
class ReportPeriod:
    kind: str  # "month" or "quarter"
    year: int
    number: int  # the month (1–12) or the quarter (1–4)
    start: datetime  # UTC, from midnight Asia/Shanghai
    end: datetime

    @property
    def label(self) -> str:
        if self.kind == QUARTER:
            return f"{self.year}-Q{self.number}"
        return f"{self.year}-{self.number:02d}"


def report_period(kind: str, year: int, number: int) -> ReportPeriod:
    """The month or quarter as UTC bounds of Beijing days."""
    if kind not in KINDS:
        raise PeriodError("kind")
    if not FIRST_YEAR <= year <= LAST_YEAR or not 1 <= number <= (12 if kind == MONTH else 4):
        raise PeriodError("range")
    first = number if kind == MONTH else 3 * number - 2
    months = 1 if kind == MONTH else 3
    start = date(year, first, 1)
    after = date(year + (first + months - 1) // 12, (first + months - 1) % 12 + 1, 1)

    def utc(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=SHANGHAI).astimezone(UTC)

    return ReportPeriod(kind, year, number, utc(start), utc(after))


def previous_month(now: datetime | None = None) -> ReportPeriod:
    today = timezone.localtime(now or timezone.now(), SHANGHAI).date()
    last = today.replace(day=1) - timedelta(days=1)
    return report_period(MONTH, last.year, last.month)


# --- the grouped queries ---------------------------------------------------------


def _recorded(activity: str, span_start: str, span_end: str) -> Q:
    """The outer activity has a recording (C2.1): annotated to it, or one of its
    officers' recordings overlapping its span. The annotation is tested first:
    most activities have one, and PostgreSQL evaluates an OR's arms in order,
    so the costlier search of the officers' recordings runs only for the rest.
    The officers are read from the through table alone (no join to the people)."""
    through = Activity.officers.through
    officers = Recording.objects.filter(
        officer_id__in=through.objects.filter(activity_id=OuterRef(OuterRef(activity))).values(
            "person_id"
        ),
        started_at__lt=OuterRef(span_end),
    ).filter(
        Q(ended_at__gt=OuterRef(span_start))
        | Q(ended_at__isnull=True, started_at__gte=OuterRef(span_start))
    )
    annotated = Annotation.objects.filter(activity_id=OuterRef(activity))
    return Exists(annotated) | Exists(officers)


def _activity_counts(
    start: datetime, end: datetime, unit_ids: list[int], as_of: datetime, by: str = "unit_id"
) -> QuerySet:
    """Activities in [start, end) that ended by ``as_of``, with those recorded (C2.1).
    ``by`` is ``unit_id`` or, on the officers' through table, ``person_id``."""
    recorded = _recorded("pk", "span_start", "span_end")
    if by == "person_id":
        return _activity_counts_by_officer(start, end, unit_ids, as_of)
    qs = Activity.objects.filter(
        unit_id__in=unit_ids, span_start__gte=start, span_start__lt=end, span_end__lte=as_of
    )
    return (
        qs.order_by()
        .values("unit_id")
        .annotate(activities=Count("pk"), activities_recorded=Count("pk", filter=recorded))
    )


def _activity_counts_by_officer(
    start: datetime, end: datetime, unit_ids: list[int], as_of: datetime
) -> QuerySet:
    """The same per officer taking part (the activities' officers, C2.1): an
    activity counts as recorded for each of its officers when it is recorded."""
    through = Activity.officers.through
    recorded = _recorded("activity_id", "activity__span_start", "activity__span_end")
    return (
        through.objects.filter(
            person__unit_id__in=unit_ids,
            activity__span_start__gte=start,
            activity__span_start__lt=end,
            activity__span_end__lte=as_of,
        )
        .order_by()
        .values("person_id")
        .annotate(activities=Count("pk"), activities_recorded=Count("pk", filter=recorded))
    )


def _recording_counts(
    start: datetime, end: datetime, unit_ids: list[int], as_of: datetime, values: dict, by: str
) -> QuerySet:
    """Recordings started in [start, end): collected within 24 h (C5.1), due and
    annotated within 48 h (C5.2); grouped by unit (``by="unit"``) or officer."""
    collect_grace = timedelta(minutes=values["collection_grace_minutes"])
    annotate_grace = timedelta(minutes=values["annotation_grace_minutes"])
    in_time_24 = Q(collected_within_24h=True)
    if collect_grace:
        in_time_24 |= Q(
            Within(
                "docked_at",
                Coalesce(F("ended_at"), F("started_at")),
                (COLLECTION_DEADLINE + collect_grace).total_seconds(),
            )
        )
    deadline = ANNOTATION_DEADLINE + annotate_grace
    # Judged by the first annotation (a later correction does not make it late).
    first = Coalesce(F("annotation__first_annotated_at"), F("annotation__annotated_at"))
    in_time_48 = Q(Within(first, "docked_at", deadline.total_seconds()))
    due = Q(docked_at__lte=as_of - deadline) | in_time_48
    qs = Recording.objects.filter(started_at__gte=start, started_at__lt=end)
    if by == "unit":
        qs = qs.annotate(group=Coalesce("officer__unit_id", "recorder__unit_id")).filter(
            group__in=unit_ids
        )
    else:
        qs = qs.filter(officer__unit_id__in=unit_ids).annotate(group=F("officer_id"))
    return (
        qs.order_by()
        .values("group")
        .annotate(
            recordings=Count("pk"),
            collected_24h=Count("pk", filter=in_time_24),
            annotation_due=Count("pk", filter=due),
            annotated_48h=Count("pk", filter=in_time_48),
        )
    )


def _docking_counts(
    start: datetime, end: datetime, unit_ids: list[int], values: dict, by: str
) -> QuerySet:
    """Dockings in [start, end) with a clock reading: over the threshold, worst (C3.2)."""
    limit = values["clock_drift_seconds"]
    qs = DockingSession.objects.filter(
        started_at__gte=start, started_at__lt=end, clock_offset_seconds__isnull=False
    )
    if by == "unit":
        qs = qs.annotate(group=Coalesce("recorder__unit_id", "station__unit_id")).filter(
            group__in=unit_ids
        )
    else:
        qs = qs.filter(holder__unit_id__in=unit_ids).annotate(group=F("holder_id"))
    return (
        qs.order_by()
        .values("group")
        .annotate(
            dockings=Count("pk"),
            drift_over=Count(
                "pk",
                filter=Q(clock_offset_seconds__gt=limit) | Q(clock_offset_seconds__lt=-limit),
            ),
            worst_drift=Max(Abs("clock_offset_seconds")),
        )
    )


def _finding_rows(start: datetime, end: datetime, unit_ids: list[int]) -> QuerySet:
    return (
        Finding.objects.filter(period_start__gte=start, period_start__lt=end, unit_id__in=unit_ids)
        .order_by()
        .values("unit_id", "rule", "state")
        .annotate(n=Count("pk"))
    )


def _equipment(unit_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Recorders in service or under repair, and active frontline officers, by unit (C1.1)."""
    recorders = dict(
        Recorder.objects.filter(
            unit_id__in=unit_ids,
            status__in=[Recorder.Status.IN_SERVICE, Recorder.Status.UNDER_REPAIR],
        )
        .order_by()
        .values_list("unit_id")
        .annotate(n=Count("pk"))
    )
    frontline = dict(
        Person.objects.filter(unit_id__in=unit_ids, is_active=True, frontline=True)
        .order_by()
        .values_list("unit_id")
        .annotate(n=Count("pk"))
    )
    return recorders, frontline


# --- rates and roll-up -----------------------------------------------------------


def pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def with_rates(row: dict[str, Any]) -> dict[str, Any]:
    row["coverage"] = pct(row["activities_recorded"], row["activities"])
    row["collection"] = pct(row["collected_24h"], row["recordings"])
    row["annotation"] = pct(row["annotated_48h"], row["annotation_due"])
    row["drift"] = pct(row["drift_over"], row["dockings"])
    frontline = row.get("frontline", 0)
    row["recorders_per_frontline"] = round(row["recorders"] / frontline, 2) if frontline else None
    return row


def score(row: dict[str, Any]) -> float | None:
    """The ranking's score: the mean of the rates a unit has (drift counted as
    100 − its share over the threshold); ``None`` when it has none."""
    parts = [row[k] for k in ("coverage", "collection", "annotation") if row[k] is not None]
    if row["drift"] is not None:
        parts.append(100 - row["drift"])
    return round(sum(parts) / len(parts), 1) if parts else None


def meets(row: dict[str, Any], goals: dict[str, int]) -> dict[str, bool | None]:
    """Whether each rate meets the bureau's goal (drift: at most the goal)."""
    out: dict[str, bool | None] = {}
    for rate in RATES:
        value, goal = row[rate], goals[rate]
        out[rate] = None if value is None else (value <= goal if rate == "drift" else value >= goal)
    return out


def goals(values: dict | None = None) -> dict[str, int]:
    values = values or thresholds.current()
    return {
        "coverage": values["goal_coverage_pct"],
        "collection": values["goal_collection_pct"],
        "annotation": values["goal_annotation_pct"],
        "drift": values["goal_drift_pct"],
    }


def _empty() -> dict[str, Any]:
    return {**dict.fromkeys(COUNTERS, 0), "worst_drift": None}


def _add(into: dict[str, Any], row: dict[str, Any]) -> None:
    for key in COUNTERS:
        into[key] += row.get(key, 0) or 0
    worst = row.get("worst_drift")
    if worst is not None and (into["worst_drift"] is None or worst > into["worst_drift"]):
        into["worst_drift"] = round(worst, 1)


def _subtree(unit: Unit | None) -> list[Unit]:
    qs = Unit.objects.all() if unit is None else Unit.objects.filter(path__startswith=unit.path)
    return list(qs.order_by("path"))


def _leaf_counts(
    period_start: datetime, period_end: datetime, units: list[Unit], as_of: datetime, values: dict
) -> tuple[dict[int, dict[str, Any]], dict[tuple[str, str], int]]:
    """Every counter per unit (the unit's own rows, not yet its subtree's)."""
    ids = [u.pk for u in units]
    own: dict[int, dict[str, Any]] = {pk: _empty() for pk in ids}
    for row in _activity_counts(period_start, period_end, ids, as_of):
        _add(own[row.pop("unit_id")], row)
    for row in _recording_counts(period_start, period_end, ids, as_of, values, "unit"):
        _add(own[row.pop("group")], row)
    for row in _docking_counts(period_start, period_end, ids, values, "unit"):
        _add(own[row.pop("group")], row)
    recorders, frontline = _equipment(ids)
    for pk in ids:
        own[pk]["recorders"] += recorders.get(pk, 0)
        own[pk]["frontline"] += frontline.get(pk, 0)
    by_rule_state: dict[tuple[str, str], int] = {}
    for row in _finding_rows(period_start, period_end, ids):
        counters = own[row["unit_id"]]
        counters["findings"] += row["n"]
        if row["state"] == Finding.State.OPEN:
            counters["findings_open"] += row["n"]
        if row["state"] == Finding.State.CONFIRMED:
            counters["findings_confirmed"] += row["n"]
        key = (row["rule"], row["state"])
        by_rule_state[key] = by_rule_state.get(key, 0) + row["n"]
    return own, by_rule_state


def _roll_up(units: list[Unit], own: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Each unit's counters over its subtree: every unit's own counters added to
    itself and each ancestor within ``units`` (its materialised path)."""
    total = {u.pk: _empty() for u in units}
    for u in units:
        for ancestor in (int(p) for p in u.path.strip("/").split("/") if p):
            if ancestor in total:
                _add(total[ancestor], own[u.pk])
    return total


def findings_by_clause(by_rule_state: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    """Findings by clause and state (a rule citing two clauses counts under both)."""
    states = list(Finding.State.values)
    out: dict[str, dict[str, int]] = {}
    for (rule, state), n in by_rule_state.items():
        clauses = rules.RULES[rule].clauses if rule in rules.RULES else ()
        for clause in clauses:
            row = out.setdefault(clause, dict.fromkeys(states, 0))
            row[state] += n
    return [
        {"clause": c, **out[c], "total": sum(out[c].values())} for c in rules.CLAUSES if c in out
    ]


def _unit_row(u: Unit, counters: dict[str, Any], depth: int) -> dict[str, Any]:
    return with_rates(
        {
            "id": u.pk,
            "code": u.code,
            "name": u.name,
            "level": u.level,
            "parent_id": u.parent_id,
            "depth": depth,
            **counters,
        }
    )


# --- the public functions --------------------------------------------------------


def city_report(
    period: ReportPeriod, unit: Unit | None = None, *, as_of: datetime | None = None
) -> dict[str, Any]:
    """The report's figures for ``period`` over ``unit``'s subtree (the whole
    city when ``unit`` is None), as plain data (JSON-ready): the totals, one row
    per unit (rolled up over its subtree, in tree order), the ranking of the
    scope's direct sub-units, findings by clause and state, goals and thresholds.
    """
    as_of = as_of or timezone.now()
    values = thresholds.current()
    units = _subtree(unit)
    own, by_rule_state = _leaf_counts(period.start, period.end, units, as_of, values)
    rolled = _roll_up(units, own)
    top_depth = min((u.path.count("/") for u in units), default=0)
    rows = [_unit_row(u, rolled[u.pk], u.path.count("/") - top_depth) for u in units]
    total = _empty()
    for u in units:
        _add(total, own[u.pk])
    total = with_rates(total)
    scope_id = unit.pk if unit is not None else None
    children = [r for r in rows if r["parent_id"] == scope_id and r["id"] != scope_id]
    if unit is None:
        children = [r for r in rows if r["parent_id"] is None]
        if len(children) == 1:  # one city unit: rank its districts
            children = [r for r in rows if r["parent_id"] == children[0]["id"]]
    ranked = sorted(
        children, key=lambda r: (score(r) is None, -(score(r) or 0), -r["findings"], r["code"])
    )
    # Units without a score have no rank ("—"); they follow the ranked ones.
    ranking = [
        {
            "rank": n if score(r) is not None else None,
            "id": r["id"],
            "name": r["name"],
            "code": r["code"],
            "score": score(r),
        }
        for n, r in enumerate(ranked, 1)
    ]
    the_goals = goals(values)
    return {
        "period": {
            "kind": period.kind,
            "year": period.year,
            "number": period.number,
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "scope": {
            "id": scope_id,
            "code": unit.code if unit is not None else "",
            "name": unit.name if unit is not None else "",
        },
        "as_of": as_of.isoformat(),
        "goals": the_goals,
        "clock_drift_seconds": values["clock_drift_seconds"],
        "total": {**total, "meets": meets(total, the_goals)},
        "units": [{**r, "meets": meets(r, the_goals)} for r in rows],
        "ranking": ranking,
        "findings_by_clause": findings_by_clause(by_rule_state),
        # Each finding once (it has one rule and one state), whatever clauses it cites.
        "findings_by_state": {
            state: sum(n for (_rule, s), n in by_rule_state.items() if s == state)
            for state in Finding.State.values
        },
        "sections": {
            key: section.compute(period, unit, [u.pk for u in units], as_of)
            for key, section in report_sections.SECTIONS.items()
        },
    }


def unit_dashboard(unit: Unit, as_of: datetime | None = None) -> dict[str, Any]:
    """A leader's unit now: its rates over the last ``dashboard_days`` days
    against the bureau's goals, each officer's rates (officers of the subtree),
    and its open findings by clause (C6.4)."""
    as_of = as_of or timezone.now()
    values = thresholds.current()
    start = as_of - timedelta(days=values["dashboard_days"])
    units = _subtree(unit)
    own, _by_rule_state = _leaf_counts(start, as_of, units, as_of, values)
    total = _empty()
    for u in units:
        _add(total, own[u.pk])
    total = with_rates(total)
    ids = [u.pk for u in units]
    people = list(
        Person.objects.filter(unit_id__in=ids, is_active=True, frontline=True)
        .select_related("unit")
        .order_by("unit__path", "user_no", "pk")
    )
    per: dict[int, dict[str, Any]] = {p.pk: _empty() for p in people}
    for row in _activity_counts(start, as_of, ids, as_of, by="person_id"):
        if row["person_id"] in per:
            _add(per[row.pop("person_id")], row)
    for row in _recording_counts(start, as_of, ids, as_of, values, "officer"):
        if row["group"] in per:
            _add(per[row.pop("group")], row)
    for row in _docking_counts(start, as_of, ids, values, "officer"):
        if row["group"] in per:
            _add(per[row.pop("group")], row)
    open_by_person = dict(
        Finding.objects.filter(person_id__in=list(per), state=Finding.State.OPEN)
        .order_by()
        .values_list("person_id")
        .annotate(n=Count("pk"))
    )
    open_findings = Finding.objects.filter(
        unit__path__startswith=unit.path, state=Finding.State.OPEN
    )
    open_by_rule = {
        (r, Finding.State.OPEN): n
        for r, n in open_findings.order_by().values_list("rule").annotate(n=Count("pk"))
    }
    the_goals = goals(values)
    officers = []
    for p in people:
        row = with_rates({**per[p.pk], "frontline": 0})
        row.pop("recorders_per_frontline")
        officers.append(
            {
                "id": p.pk,
                "name": p.name,
                "user_no": p.user_no,
                "unit_id": p.unit_id,
                "unit_name": p.unit.name,
                **row,
                "open_findings": open_by_person.get(p.pk, 0),
                "meets": meets(row, the_goals),
            }
        )
    return {
        "unit": {"id": unit.pk, "code": unit.code, "name": unit.name},
        "as_of": as_of.isoformat(),
        "start": start.isoformat(),
        "days": values["dashboard_days"],
        "goals": the_goals,
        "clock_drift_seconds": values["clock_drift_seconds"],
        "total": {**total, "meets": meets(total, the_goals)},
        "officers": officers,
        "open_findings": open_findings.count(),
        "open_by_clause": findings_by_clause(open_by_rule),
    }


def findings_trend(months: int = 6, now: datetime | None = None) -> list[dict[str, Any]]:
    """Findings per month of their period over the last ``months`` months (the
    current one included), by state, for the inspector's home (C6.4)."""
    today = timezone.localtime(now or timezone.now(), SHANGHAI).date().replace(day=1)
    labels = []
    d = today
    for _n in range(months):
        labels.append(f"{d:%Y-%m}")
        d = (d - timedelta(days=1)).replace(day=1)
    labels.reverse()
    first = report_period(MONTH, int(labels[0][:4]), int(labels[0][5:]))
    rows = (
        Finding.objects.filter(period_start__gte=first.start)
        .annotate(month=Substr("period_label", 1, 7))
        .order_by()
        .values("month", "state")
        .annotate(n=Count("pk"))
    )
    out = {m: dict.fromkeys(Finding.State.values, 0) for m in labels}
    for row in rows:
        if row["month"] in out:
            out[row["month"]][row["state"]] += row["n"]
    return [{"month": m, **out[m], "total": sum(out[m].values())} for m in labels]
