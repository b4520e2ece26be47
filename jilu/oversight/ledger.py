"""A squad's monthly ledgers (台账, C6.1), computed from the records.

Two ledgers per squad and month (Asia/Shanghai calendar month):

- the recorder ledger (执法记录仪使用管理台账): each recorder of the squad
  with who held it during the month (issue and return, C1.3), its checks
  (battery, storage, clock: count and last, C1.4), its incidents (fault,
  loss, damage, repair, found: C6.5.5–6), its dockings (count and last) and
  how many recordings it made;
- the recordings ledger (声像记录台账): per officer per day, how many
  recordings and how long, when they were collected (first and last docking,
  how many later than 24 hours, C5.1), when they were annotated (within 48
  hours, late, not yet: C5.2) and the activities they belong to.

Rows are plain JSON (times as ISO 8601 in Beijing time) so that a month's
rows can be frozen when the squad leader confirms it (``snapshot``,
``digest``) and compared with the rows computed later (``amendments``).
The ledger is the month as it stood at its end: a return after the month is
not shown as a return within it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jilu.casework.models import Annotation
from jilu.devices.models import DeviceEvent, Holding, Recorder
from jilu.evidence.deadlines import ANNOTATION_DEADLINE
from jilu.evidence.media_models import MediaInfo
from jilu.evidence.scope import recordings_of_unit
from jilu.evidence.timeline import SHANGHAI
from jilu.ingest.models import DockingSession
from jilu.org.models import Unit
from jilu.oversight.ledger_models import FIRST_YEAR, LAST_YEAR, LedgerConfirmation

SNAPSHOT_VERSION = 1
PRINT_LANGUAGE = "zh-hans"  # the ledger's own words (activity kinds) stay Chinese

RECORDER_TITLE = gettext_lazy("执法记录仪使用管理台账")
RECORDINGS_TITLE = gettext_lazy("声像记录台账")

# What an amendment names when a value changed (row fields -> words).
FIELD_LABELS = {
    "model": gettext_lazy("厂商型号"),
    "holdings": gettext_lazy("配发与归还"),
    "checks": gettext_lazy("检查次数"),
    "last_check": gettext_lazy("最近检查"),
    "incidents": gettext_lazy("故障/遗失/损坏/维修"),
    "dockings": gettext_lazy("对接次数"),
    "last_docking": gettext_lazy("最近对接"),
    "recordings": gettext_lazy("录像条数"),
    "officer": gettext_lazy("执法人员"),
    "user_no": gettext_lazy("警号"),
    "count": gettext_lazy("条数"),
    "seconds": gettext_lazy("总时长"),
    "first_docked": gettext_lazy("首次采集"),
    "last_docked": gettext_lazy("末次采集"),
    "late_collected": gettext_lazy("超24小时采集"),
    "annotated_in_time": gettext_lazy("48小时内标注"),
    "annotated_late": gettext_lazy("逾期标注"),
    "unannotated": gettext_lazy("未标注"),
    "activities": gettext_lazy("所属执法活动"),
}
TIME_FIELDS = {"last_check", "last_docking", "first_docked", "last_docked"}


class LedgerError(ValueError):
    """A squad or month that has no ledger (not a squad, year or month out of range)."""


class MonthNotStarted(LedgerError):
    """A month that has not begun in Beijing time: nothing has happened in it yet."""


# --- months --------------------------------------------------------------------


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month in Beijing time."""
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        raise LedgerError(_("年份应在 2000–2099 之间，月份应在 1–12 之间"))
    start = datetime(year, month, 1, tzinfo=SHANGHAI)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=SHANGHAI)
    return start, end


def month_ended(year: int, month: int, now: datetime | None = None) -> bool:
    return (now or timezone.now()) >= month_bounds(year, month)[1]


def month_started(year: int, month: int, now: datetime | None = None) -> bool:
    return (now or timezone.now()) >= month_bounds(year, month)[0]


def require_started(year: int, month: int, now: datetime | None = None) -> None:
    """Refuse a month that has not begun (Beijing time). The month in progress is
    allowed: a squad leader watches it fill, and confirms it once it has ended."""
    if not month_started(year, month, now):
        raise MonthNotStarted(
            _("该月尚未开始：%(year)d年%(month)d月还没有台账，请选择本月或以前的月份")
            % {"year": year, "month": month}
        )


def previous_month(now: datetime | None = None) -> tuple[int, int]:
    today = timezone.localtime(now or timezone.now(), SHANGHAI).date()
    last = today.replace(day=1) - timedelta(days=1)
    return last.year, last.month


def ledger_units(user: Any) -> list[Unit]:
    """The squads whose ledgers ``user`` reads: their own subtree's squads (every
    squad for inspectors), in tree order."""
    squads = Unit.objects.filter(level=Unit.Level.SQUAD)
    if not (user.is_superuser or user.has_role("inspector")):
        if not user.unit_id:
            return []
        squads = squads.filter(path__startswith=user.unit.path)
    return list(squads.order_by("path"))


# --- the rows ------------------------------------------------------------------


def _iso(at: datetime | None) -> str | None:
    return timezone.localtime(at, SHANGHAI).isoformat(timespec="seconds") if at else None


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _seconds(recording: Any, durations: dict[int, float | None]) -> float:
    """The probed duration, else end − start, else nothing (not probed, no end)."""
    probed = durations.get(recording.pk)
    if probed is not None:
        return probed
    if recording.ended_at is not None:
        return (recording.ended_at - recording.started_at).total_seconds()
    return 0.0


def recorder_rows(unit: Unit, start: datetime, end: datetime) -> list[dict]:
    """One row per recorder of the squad in service during the month."""
    recorders = Recorder.objects.filter(unit__path__startswith=unit.path)
    holdings: dict[int, list[dict]] = {}
    held = (
        Holding.objects.filter(recorder__in=recorders, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .select_related("person")
        .order_by("started_at", "pk")
    )
    for h in held:
        holdings.setdefault(h.recorder_id, []).append(
            {
                "holder": h.person.name,
                "user_no": h.person.user_no or "",
                "issued_at": _iso(h.started_at),
                # As the month stood at its end: a later return is not shown.
                "returned_at": _iso(h.ended_at) if h.ended_at and h.ended_at < end else None,
            }
        )
    checks: dict[int, set[datetime]] = {}
    incidents: dict[int, list[dict]] = {}
    events = DeviceEvent.objects.filter(recorder__in=recorders, at__gte=start, at__lt=end)
    for e in events.order_by("at", "pk"):
        if e.kind in DeviceEvent.CHECK_KINDS:
            # One check writes one event per reading (battery, storage, clock).
            checks.setdefault(e.recorder_id, set()).add(e.at)
        else:
            incidents.setdefault(e.recorder_id, []).append(
                {"at": _iso(e.at), "kind": e.kind, "note": e.note}
            )
    dockings: dict[int, list[datetime]] = {}
    for recorder_id, at in DockingSession.objects.filter(
        recorder__in=recorders, started_at__gte=start, started_at__lt=end
    ).values_list("recorder_id", "started_at"):
        dockings.setdefault(recorder_id, []).append(at)
    made: dict[int, int] = {}
    for recorder_id in (
        recordings_of_unit(unit)
        .filter(recorder__in=recorders, started_at__gte=start, started_at__lt=end)
        .values_list("recorder_id", flat=True)
    ):
        made[recorder_id] = made.get(recorder_id, 0) + 1
    rows = []
    for r in recorders.order_by("serial"):
        used = any(r.pk in d for d in (holdings, checks, incidents, dockings, made))
        if not used and (r.registered_at >= end or r.status == Recorder.Status.RETIRED):
            continue  # not yet registered, or retired and untouched this month
        rows.append(
            {
                "serial": r.serial,
                "model": " ".join(p for p in (r.vendor, r.model) if p),
                "holdings": holdings.get(r.pk, []),
                "checks": len(checks.get(r.pk, ())),
                "last_check": _iso(max(checks[r.pk])) if r.pk in checks else None,
                "incidents": incidents.get(r.pk, []),
                "dockings": len(dockings.get(r.pk, ())),
                "last_docking": _iso(max(dockings[r.pk])) if r.pk in dockings else None,
                "recordings": made.get(r.pk, 0),
            }
        )
    return rows


def _activity_text(activity: Any) -> str:
    with translation.override(PRINT_LANGUAGE):
        place = activity.place_name or activity.address
        return f"#{activity.pk} {activity.get_kind_display()} {place}".strip()


def recording_rows(unit: Unit, start: datetime, end: datetime) -> list[dict]:
    """One row per officer per day (the day the recording started, Beijing time)."""
    recs = recordings_of_unit(unit).filter(started_at__gte=start, started_at__lt=end)
    durations = dict(
        MediaInfo.objects.filter(recording__in=recs).values_list("recording_id", "duration_seconds")
    )
    annotations = {
        a.recording_id: a
        for a in Annotation.objects.filter(recording__in=recs).select_related("activity")
    }
    groups: dict[tuple[str, int | None], dict] = {}
    for rec in recs.select_related("officer").order_by("started_at", "pk"):
        day = timezone.localtime(rec.started_at, SHANGHAI).date().isoformat()
        key = (day, rec.officer_id)
        row = groups.get(key)
        if row is None:
            row = groups[key] = {
                "day": day,
                "officer_id": rec.officer_id,
                "officer": rec.officer.name if rec.officer_id else "",
                "user_no": (rec.officer.user_no or "") if rec.officer_id else "",
                "count": 0,
                "seconds": 0.0,
                "docked": [],
                "late_collected": 0,
                "annotated_in_time": 0,
                "annotated_late": 0,
                "unannotated": 0,
                "activities": [],
            }
        row["count"] += 1
        row["seconds"] += _seconds(rec, durations)
        row["docked"].append(rec.docked_at)
        row["late_collected"] += 0 if rec.collected_within_24h else 1
        a = annotations.get(rec.pk)
        if a is None:
            row["unannotated"] += 1
        else:
            first = a.first_annotated_at or a.annotated_at
            late = first > rec.docked_at + ANNOTATION_DEADLINE
            row["annotated_late" if late else "annotated_in_time"] += 1
            text = _activity_text(a.activity)
            if text not in row["activities"]:
                row["activities"].append(text)
    rows = []
    for (_day, _officer), row in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[1]["officer"], kv[0][1] or 0)
    ):
        docked = row.pop("docked")
        row["seconds"] = int(round(row["seconds"]))
        row["first_docked"] = _iso(min(docked))
        row["last_docked"] = _iso(max(docked))
        rows.append(row)
    return rows


def build_rows(unit: Unit, year: int, month: int) -> dict:
    """Both ledgers of ``unit`` for the month, as JSON (what a confirmation freezes)."""
    if unit.level != Unit.Level.SQUAD:
        raise LedgerError(_("台账按中队编制：请选择一个中队"))
    start, end = month_bounds(year, month)
    return {
        "version": SNAPSHOT_VERSION,
        "unit": unit.code,
        "unit_name": unit.name,
        "year": year,
        "month": month,
        "recorders": recorder_rows(unit, start, end),
        "recordings": recording_rows(unit, start, end),
    }


def canonical(rows: dict) -> bytes:
    return json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(rows: dict) -> str:
    """SHA-256 of the rows' canonical JSON (sorted keys, compact, UTF-8)."""
    return hashlib.sha256(canonical(rows)).hexdigest()


# --- amendments ----------------------------------------------------------------


def row_key(ledger: str, row: dict) -> str:
    if ledger == "recorders":
        return row["serial"]
    return f"{row['day']}/{row['officer_id'] or '-'}"


def row_label(ledger: str, row: dict) -> str:
    if ledger == "recorders":
        return row["serial"]
    who = row["officer"] or _("（持有人不明）")
    return f"{row['day']} {who}"


def local_text(value: str | None) -> str:
    at = parse_time(value)
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else "—"


def duration_text(seconds: int | float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def holding_text(h: dict) -> str:
    who = f"{h['holder']}（{h['user_no']}）" if h["user_no"] else h["holder"]
    returned = local_text(h["returned_at"]) if h["returned_at"] else _("未归还")
    return f"{who} {local_text(h['issued_at'])} — {returned}"


def incident_text(e: dict) -> str:
    kind = DeviceEvent.Kind(e["kind"]).label if e["kind"] in DeviceEvent.Kind.values else e["kind"]
    note = f"：{e['note']}" if e["note"] else ""
    return f"{local_text(e['at'])} {kind}{note}"


def value_text(name: str, value: Any) -> str:
    """A row field as people read it (amendments, the page)."""
    if name in TIME_FIELDS:
        return local_text(value)
    if name == "seconds":
        return duration_text(value)
    if name == "holdings":
        return "；".join(holding_text(h) for h in value) or "—"
    if name == "incidents":
        return "；".join(incident_text(e) for e in value) or "—"
    if name == "activities":
        return "、".join(value) or "—"
    return "—" if value in (None, "") else str(value)


@dataclass
class Amendment:
    ledger: str  # "recorders" or "recordings"
    kind: str  # "added", "removed" or "changed"
    key: str
    label: str
    changes: list[dict] = field(default_factory=list)  # field, label, before, after

    @property
    def ledger_title(self) -> str:
        return str(RECORDER_TITLE if self.ledger == "recorders" else RECORDINGS_TITLE)

    @property
    def kind_label(self) -> str:
        return {"added": _("新增"), "removed": _("不再列入"), "changed": _("更正")}[self.kind]

    @property
    def text(self) -> str:
        return "；".join(c["text"] for c in self.changes)


def _change(name: str, old: dict | None, new: dict | None) -> dict:
    label = str(FIELD_LABELS.get(name, name))
    before = value_text(name, old.get(name)) if old is not None else "—"
    after = value_text(name, new.get(name)) if new is not None else "—"
    if old is None:  # a row added since: its values
        text = f"{label}：{after}"
    elif new is None:  # a row no longer there: its confirmed values
        text = f"{label}：{before}"
    else:
        text = f"{label}：{before} → {after}"
    return {"field": name, "label": label, "before": before, "after": after, "text": text}


def amendments(confirmed: dict, current: dict) -> list[Amendment]:
    """Rows of ``current`` that differ from the confirmed rows, with what changed:
    a row added since (its values), a row no longer there, or the fields that differ."""
    out: list[Amendment] = []
    for ledger in ("recorders", "recordings"):
        before = {row_key(ledger, r): r for r in confirmed.get(ledger, [])}
        after = {row_key(ledger, r): r for r in current.get(ledger, [])}
        for key in sorted(before.keys() | after.keys()):
            old, new = before.get(key), after.get(key)
            if old == new:
                continue
            if old is None or new is None:
                row = new if old is None else old
                names = [n for n in FIELD_LABELS if n in row and n not in ("officer", "user_no")]
                kind = "added" if old is None else "removed"
            else:
                names = [n for n in old.keys() | new.keys() if old.get(n) != new.get(n)]
                kind, row = "changed", new
            changes = [_change(n, old, new) for n in sorted(names, key=_field_order)]
            out.append(Amendment(ledger, kind, key, row_label(ledger, row), changes))
    return out


def _field_order(name: str) -> int:
    names = list(FIELD_LABELS)
    return names.index(name) if name in names else len(names)


# --- the ledger a page, a file or the API shows --------------------------------


@dataclass
class Ledger:
    unit: Unit
    year: int
    month: int
    rows: dict  # the confirmed rows once confirmed, else the rows as they are now
    confirmation: LedgerConfirmation | None
    amendments: list[Amendment]
    ended: bool
    generated_at: datetime

    @property
    def confirmed(self) -> bool:
        return self.confirmation is not None

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def month_text(self) -> str:
        return _("%(year)d年%(month)d月") % {"year": self.year, "month": self.month}

    @property
    def totals(self) -> dict:
        """The recordings ledger's 合计 row."""
        keys = (
            "count",
            "seconds",
            "late_collected",
            "annotated_in_time",
            "annotated_late",
            "unannotated",
        )
        return {k: sum(r[k] for r in self.rows["recordings"]) for k in keys}


def ledger(unit: Unit, year: int, month: int, *, now: datetime | None = None) -> Ledger:
    """The month's ledgers: frozen rows and amendments once confirmed, live rows
    before. A month that has not begun has none (``MonthNotStarted``)."""
    require_started(year, month, now)
    current = build_rows(unit, year, month)
    confirmation = LedgerConfirmation.objects.filter(unit=unit, year=year, month=month).first()
    if confirmation is not None:
        rows, changed = confirmation.snapshot, amendments(confirmation.snapshot, current)
    else:
        rows, changed = current, []
    return Ledger(
        unit=unit,
        year=year,
        month=month,
        rows=rows,
        confirmation=confirmation,
        amendments=changed,
        ended=month_ended(year, month, now),
        generated_at=now or timezone.now(),
    )
