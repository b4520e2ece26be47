"""A city-year, day by day: activities done by teams of officers, the
recordings their recorders made, the dockings that brought them in (with the
readings taken there: battery, storage, clock), the annotations tying them to
their activities, cases, and duty-log notes.

What breaks the rules, and how often (the oversight rules should find about
this many): an officer-day docked more than 24 hours late 2 % (C5.1); an
officer-day annotated late 4 % or not at all 2.5 % (C5.2); a docking whose
clock is off by more than a minute 2 % (C3.2), low battery 3 %, low storage
1 % (C1.4); an activity with a gap in its filming 6 % (C4.3), nothing recorded
0.8 % (C2.1), about half of them explained in the duty log (C6.2); a recording
made before duty hours with no activity, one officer-day in 3,000 (C2.2); a
recorder whose configured user number is stale, one officer-day in 1,000
(C1.3). Rows are written in the order they reach the system: a docking and
its recordings get their ids when they are docked, so the rules' cursors see
each day's facts as one run of ids.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from jilu.casework.models import (
    DEFAULT_STEP,
    Activity,
    Annotation,
    Case,
    Party,
)
from jilu.devices.models import DeviceEvent
from jilu.dutylog.models import UnrecordedNote
from jilu.evidence.models import MediaInfo, Recording, StoredObject
from jilu.ingest.models import DockingSession
from jilu.web.scale import text
from jilu.web.scale.plan import Bureau, Officer, Squad, local_midnight_utc
from jilu.web.scale.writer import Ids, RowWriter

DAY = timedelta(days=1)
H = timedelta(hours=1)
M = timedelta(minutes=1)
KINDS = ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"]
KIND_WEIGHTS = [55, 10, 6, 8, 5, 2, 6, 8]
CATEGORY = {"S1": "inspection", "S2": "other", "S3": "penalty", "S4": "penalty",
            "S5": "coercion", "S6": "coercion", "S7": "other", "S8": "other"}  # fmt: skip
MINUTES = {"S1": (15, 60), "S2": (20, 50), "S3": (30, 90), "S4": (10, 30),
           "S5": (30, 90), "S6": (60, 180), "S7": (30, 120), "S8": (15, 45)}  # fmt: skip
BYTES_PER_SECOND = 550_000  # about 2 GB an hour (DESIGN.md: 1.5–2.6 GB/h)
STORAGE_TOTAL = 64_000_000_000


@dataclass
class Shot:
    """One recording before it has an id."""

    officer: Officer
    recorder: int
    serial: str
    kind: str
    start: datetime  # true start
    end: datetime
    activity: int | None
    case: int | None
    step: str
    unit_short: str
    label: str


@dataclass
class Bundle:
    """What one officer brought to one docking."""

    officer: Officer
    squad: Squad
    at: datetime
    shots: list[Shot] = field(default_factory=list)
    user_no: str = ""
    offset: float = 0.0
    annotate: str = "in_time"  # in_time, late, missing


@dataclass
class OpenCase:
    pk: int
    party: int
    due: date
    follow_ups: list[str]
    order: int = 1


class Year:
    def __init__(
        self,
        *,
        bureau: Bureau,
        writer: RowWriter,
        ids: Ids,
        rng: random.Random,
        days: list[date],
        now: datetime,
        activities: int,
        recordings: int,
        seed: int,
    ) -> None:
        self.b, self.w, self.ids, self.rng = bureau, writer, ids, rng
        self.days, self.now, self.seed = days, now, seed
        self.target_acts, self.target_recs = activities, recordings
        self.made_acts = self.made_recs = self.officer_acts = 0
        self.shot = 0  # recordings planned so far (made once docked)
        self.pending: list[Bundle] = []
        self.open_cases: dict[int, deque[OpenCase]] = {
            i: deque() for i in range(len(bureau.squads))
        }
        self.parties: dict[int, list[int]] = {i: [] for i in range(len(bureau.squads))}
        self.case_lists: dict[int, int] = {}
        self.case_no = 0
        self.incidents = sorted(bureau.incidents)
        self._declare()

    def _declare(self) -> None:
        t = self.w.table
        self.t_party = t(Party, ["id", "kind", "name", "id_number", "representative", "phone",
                                 "address", "unit_id", "created_by_id", "created_at"])  # fmt: skip
        self.t_case = t(Case, ["id", "number", "title", "category", "matter_text", "party_id",
                               "unit_id", "handler_id", "retention", "status", "list_order_manual",
                               "close_reason", "close_note", "closed_at", "created_by_id",
                               "created_at", "updated_at"])  # fmt: skip
        self.t_act = t(Activity, ["id", "kind", "category", "matter_text", "party_id", "address",
                                  "place_name", "unit_id", "actual_start", "actual_end",
                                  "span_start", "span_end", "case_id", "case_order",
                                  "present_person", "party_refused", "witness1_name",
                                  "witness1_unit", "witness2_name", "witness2_unit", "legal_basis",
                                  "decision_no", "inspection_items", "notes", "created_by_id",
                                  "created_at", "updated_at"])  # fmt: skip
        self.t_officers = t(Activity.officers.through._meta.db_table,
                            ["id", "activity_id", "person_id"])  # fmt: skip
        self.t_dock = t(DockingSession, ["id", "station_id", "recorder_id", "serial", "user_no",
                                         "user_name", "unit_no", "unit_name", "holder_id",
                                         "device_clock", "station_clock", "clock_offset_seconds",
                                         "battery_pct", "storage_free_bytes",
                                         "storage_total_bytes", "files_found", "files_ingested",
                                         "files_already_present", "files_flagged", "files_failed",
                                         "info_problem", "reading_problem", "started_at",
                                         "finished_at", "progress"])  # fmt: skip
        self.t_event = t(DeviceEvent, ["id", "recorder_id", "kind", "at", "reported_by_id",
                                       "workstation_id", "battery_pct", "storage_free_bytes",
                                       "storage_total_bytes", "clock_offset_seconds",
                                       "note"])  # fmt: skip
        self.t_obj = t(StoredObject, ["sha256", "sm3", "size", "backend", "stored_at"])
        self.t_rec = t(Recording, ["id", "stored_object_id", "recorder_id", "officer_id",
                                   "user_no_in_name", "user_no_mismatch", "kind", "original_name",
                                   "name_start_local", "clock_offset_seconds", "started_at",
                                   "ended_at", "size", "sha256", "sm3", "station_id", "docking_id",
                                   "docked_at", "collected_within_24h", "created_at"])  # fmt: skip
        self.t_media = t(MediaInfo, ["recording_id", "integrity", "integrity_reason", "container",
                                     "video_codec", "audio_codec", "width", "height", "fps",
                                     "duration_seconds", "has_video", "has_audio",
                                     "browser_playable", "probed_at", "attempts",
                                     "last_error"])  # fmt: skip
        self.t_ann = t(Annotation, ["id", "recording_id", "activity_id", "case_id", "step",
                                    "standard_name", "list_no", "annotated_by_id", "annotated_at",
                                    "first_annotated_at", "note"])  # fmt: skip
        self.t_note = t(UnrecordedNote, ["id", "officer_id", "unit_id", "start", "end", "reason",
                                         "description", "recorder_id", "state", "created_at",
                                         "updated_at", "confirmed_by_id", "confirmed_at",
                                         "leader_note", "returned_by_id", "returned_at",
                                         "return_reason"])  # fmt: skip

    # --- the year ---------------------------------------------------------------

    def run(self, progress: Any = None) -> None:
        total = len(self.days)
        for n, day in enumerate(self.days):
            self.day(day, remaining_days=total - n)
            self.dock_until(local_midnight_utc(day) + DAY)
            if n % 7 == 6 or self.w.pending() > 300_000:
                self.w.flush()
                if progress:
                    progress(day, self.made_acts, self.made_recs)
        self.dock_until(self.now)
        self.w.flush()
        if progress:
            progress(self.days[-1], self.made_acts, self.made_recs)

    def day(self, day: date, remaining_days: int) -> None:
        rng = self.rng
        midnight = local_midnight_utc(day)
        weekend = day.weekday() >= 5
        left = max(0, self.target_acts - self.made_acts)
        acts_today = left / remaining_days * (0.7 if weekend else 1.12)
        teams: list[tuple[Squad, list[Officer]]] = []
        for squad in self.b.squads:
            on = [
                o
                for o in squad.officers
                if day.weekday() not in (o.rest_day, (o.rest_day + 1) % 7) and rng.random() > 0.04
            ]
            rng.shuffle(on)
            while len(on) >= 2:
                size = 3 if len(on) >= 3 and rng.random() < 0.15 else 2
                teams.append((squad, on[:size]))
                on = on[size:]
        if not teams or acts_today <= 0:
            return
        per_team = acts_today / len(teams)
        mean_team = sum(len(t) for _, t in teams) / len(teams)
        for squad, team in teams:
            count = int(per_team) + (1 if rng.random() < per_team - int(per_team) else 0)
            if count:
                self.team_day(day, midnight, squad, team, count, mean_team)
        self.day_notes(day, midnight)
        if day.day == 2:  # spare recorders checked by hand, not always (C1.4)
            for squad in self.b.squads:
                for spare in squad.spares:
                    if rng.random() < 0.7:
                        at = midnight + timedelta(hours=rng.uniform(9, 11))
                        reporter = squad.leader.pk if squad.leader else None
                        bisect.insort(
                            self.incidents, (at, spare, "battery", "备用机月度检查", reporter)
                        )

    def team_day(self, day, midnight, squad: Squad, team: list[Officer], count: int, mean_team):
        rng = self.rng
        t = midnight + timedelta(hours=8, minutes=rng.randrange(0, 40))
        shots: dict[int, list[Shot]] = {o.pk: [] for o in team}
        for _ in range(count):
            t += timedelta(minutes=rng.randrange(10, 45))
            if t >= midnight + timedelta(hours=20):
                break
            case = self._follow_up(squad, day)
            kind = case.follow_ups[0] if case else rng.choices(KINDS, KIND_WEIGHTS)[0]
            lo, hi = MINUTES[kind]
            end = t + timedelta(minutes=rng.randrange(lo, hi + 1), seconds=rng.randrange(60))
            self.activity(squad, team, kind, t, end, case, day, shots, mean_team)
            t = end
        if rng.random() < 1 / 3000:  # C2.2: before duty hours, no activity
            o = rng.choice(team)
            start = midnight + timedelta(hours=6, minutes=rng.randrange(0, 40))
            recorder, serial = o.recorder_at(start)
            shots[o.pk].append(
                Shot(o, recorder, serial, "video", start, start + timedelta(minutes=rng.randrange(5, 20)),
                     None, None, "other", squad.unit.short_name, "")
            )  # fmt: skip
        for officer in team:
            if shots[officer.pk]:
                self.bundle(officer, squad, shots[officer.pk])

    def _follow_up(self, squad: Squad, day: date) -> OpenCase | None:
        queue = self.open_cases[squad_index(self.b, squad)]
        if queue and queue[0].due <= day:
            return queue.popleft()
        return None

    def activity(self, squad, team, kind, start, end, case: OpenCase | None, day, shots, mean_team):
        rng, ids, w = self.rng, self.ids, self.w
        pk = ids.next(Activity)
        self.made_acts += 1
        s = squad_index(self.b, squad)
        party = None
        if case is not None:
            party = case.party
        elif kind in ("S1", "S3", "S4", "S5", "S6") and rng.random() < 0.55:
            party = self.party(s, squad, start)
        case_pk = case_order = None
        if case is not None:
            case_pk, case_order = case.pk, case.order + 1
            case.order += 1
            case.follow_ups.pop(0)
            if case.follow_ups:
                case.due = day + timedelta(days=rng.randrange(2, 10))
                self._requeue(s, case)
        elif party and kind in ("S1", "S5") and rng.random() < 0.14:
            case_pk, case_order = self.case(s, squad, party, start, day), 1
        matter = rng.choice(text.MATTERS)
        address = text.address(rng, squad.unit.short_name)
        creator = team[0].pk
        created = end + timedelta(minutes=rng.randrange(5, 60))
        w.add(self.t_act, (
            pk, kind, CATEGORY[kind], matter, party, address, rng.choice(text.PLACES),
            squad.unit.pk, start, end, start, end, case_pk, case_order,
            "" if party is None else text.name(rng), False, "", "", "", "", "", "", "",
            "", creator, created, created,
        ))  # fmt: skip
        for o in team:
            w.add(self.t_officers, (ids.next(Activity.officers.through), pk, o.pk))
        self.officer_acts += len(team)
        roll = rng.random()
        step = DEFAULT_STEP[kind].value
        label = f"{kind}{pk}"
        make = dict(
            activity=pk, case=case_pk, step=step, unit_short=squad.unit.short_name, label=label
        )
        if roll < 0.008:  # C2.1: nothing recorded
            if rng.random() < 0.5:
                self.note(
                    team[0],
                    squad,
                    start,
                    end,
                    "device_fault",
                    "记录仪故障，无法录像",
                    confirmed=True,
                )
            return
        # Recordings per officer and activity to reach the target, counted from
        # what is planned (not yet docked) and bounded, so that the last
        # activities of the year do not take up whatever is left.
        nominal = self.target_recs / max(1.0, self.target_acts * mean_team)
        left_recs = max(0, self.target_recs - self.shot)
        left_pairs = max(1.0, (self.target_acts - self.made_acts + 1) * mean_team)
        rate = min(2 * nominal, max(1.0, left_recs / left_pairs - 0.07))
        gap = roll < 0.068
        for i, o in enumerate(team):
            recorder, serial = o.recorder_at(start)
            if (gap and i > 0) or o.without_recorder(start):
                continue
            k = max(1, int(rate) + (1 if rng.random() < rate - int(rate) else 0))
            on = start - timedelta(seconds=rng.randrange(0, 120))
            off = end + timedelta(seconds=rng.randrange(0, 60))
            length = (off - on) / k
            bounds = [on + length * j for j in range(k)] + [off]
            segments = list(zip(bounds[:-1], bounds[1:], strict=True))
            if gap:
                cut = segments[len(segments) // 2]
                missing = timedelta(seconds=rng.randrange(90, 600))
                segments[len(segments) // 2] = (cut[0], max(cut[0] + M, cut[1] - missing))
                if rng.random() < 0.5:
                    self.note(o, squad, cut[1] - missing, cut[1] + 5 * M, "battery",
                              "记录仪电量耗尽，更换电池期间未录像",
                              confirmed=rng.random() < 0.8)  # fmt: skip
            self.shot += len(segments)
            for a, b in segments:
                shots[o.pk].append(Shot(o, recorder, serial, "video", a, b, **make))
            if rng.random() < 0.06:
                at = start + (end - start) * rng.random()
                shots[o.pk].append(Shot(o, recorder, serial, "photo", at, at, **make))
                self.shot += 1
            if rng.random() < 0.01:
                at = start + (end - start) * rng.random()
                shots[o.pk].append(Shot(o, recorder, serial, "audio", at, at + 3 * M, **make))
                self.shot += 1

    def _requeue(self, s: int, case: OpenCase) -> None:
        queue = self.open_cases[s]
        queue.append(case)
        if len(queue) > 1 and queue[-2].due > case.due:
            ordered = sorted(queue, key=lambda c: c.due)
            queue.clear()
            queue.extend(ordered)

    def party(self, s: int, squad: Squad, at: datetime) -> int:
        rng = self.rng
        known = self.parties[s]
        if known and rng.random() < 0.2:
            return rng.choice(known)
        pk = self.ids.next(Party)
        person = rng.random() < 0.6
        name = text.name(rng) if person else text.business(rng)
        ident = text.id_number(rng) if person else text.credit_code(rng)
        self.w.add(self.t_party, (
            pk, "person" if person else "organisation", name, ident,
            "" if person else text.name(rng), f"13{rng.randrange(10**9):09d}",
            text.address(rng, squad.unit.short_name), squad.unit.pk, None, at,
        ))  # fmt: skip
        known.append(pk)
        if len(known) > 2000:
            del known[:1000]
        return pk

    def case(self, s: int, squad: Squad, party: int, at: datetime, day: date) -> int:
        rng = self.rng
        pk = self.ids.next(Case)
        self.case_no += 1
        follow = ["S3", "S4"] if rng.random() < 0.6 else ["S4"]
        closes = at + timedelta(days=rng.randrange(20, 90))
        closed = closes < self.now
        self.w.add(self.t_case, (
            pk, f"规模城执罚〔{day.year}〕{self.case_no:06d}号", rng.choice(text.MATTERS),
            "penalty", rng.choice(text.MATTERS), party, squad.unit.pk, squad.handler_id,
            "30y" if rng.random() < 0.1 else "10y", "closed" if closed else "open", False,
            "no_penalty" if closed else "", "当事人已按期改正，不予处罚" if closed else "",
            closes if closed else None, squad.handler_id, at, closes if closed else at,
        ))  # fmt: skip
        self._requeue(s, OpenCase(pk, party, day + timedelta(days=rng.randrange(2, 8)), follow))
        return pk

    def note(self, officer, squad, start, end, reason, description, *, confirmed) -> None:
        if end <= start:
            end = start + M
        written = end + timedelta(hours=self.rng.uniform(0.5, 6))
        if written > self.now:
            return
        leader = squad.leader.pk if squad.leader else None
        state = "confirmed" if confirmed else "pending"
        self.w.add(self.t_note, (
            self.ids.next(UnrecordedNote), officer.pk, squad.unit.pk, start, end, reason,
            description, officer.recorder_at(start)[0], state, written, written,
            leader if confirmed else None, written + 2 * H if confirmed else None,
            "", None, None, "",
        ))  # fmt: skip

    def day_notes(self, day: date, midnight: datetime) -> None:
        """Duty-log notes that explain no activity (bad weather, a recorder at repair)."""
        rng = self.rng
        for squad in self.b.squads:
            if rng.random() < 0.02 * len(squad.officers) / 10:
                o = rng.choice(squad.officers)
                start = midnight + timedelta(hours=rng.randrange(8, 16))
                self.note(o, squad, start, start + timedelta(minutes=rng.randrange(30, 180)),
                          rng.choice(["weather", "storage_full", "other"]), "暴雨，暂停外勤录像",
                          confirmed=rng.random() < 0.85)  # fmt: skip

    # --- docking ----------------------------------------------------------------

    def bundle(self, officer: Officer, squad: Squad, shots: list[Shot]) -> None:
        rng = self.rng
        last = max(s.end for s in shots)
        at = last + timedelta(minutes=rng.randrange(20, 120), seconds=rng.randrange(60))
        if rng.random() < 0.02:  # C5.1: docked the day after next
            at += timedelta(hours=rng.uniform(24, 60))
        if at > self.now:
            return  # not docked yet when the data was made
        # Several recorders in one day (a loss and its replacement): dock each.
        by_recorder: dict[int, list[Shot]] = {}
        for s in shots:
            by_recorder.setdefault(s.recorder, []).append(s)
        roll = rng.random()
        annotate = "in_time" if roll < 0.935 else "late" if roll < 0.975 else "missing"
        for group in by_recorder.values():
            b = Bundle(officer, squad, at, sorted(group, key=lambda s: s.start), annotate=annotate)
            b.user_no = officer.user_no
            if rng.random() < 0.001:  # C1.3: the device still carries a former holder's number
                b.user_no = rng.choice(squad.officers).user_no
                if b.user_no == officer.user_no:
                    b.user_no = "000000"
            b.offset = round(rng.gauss(0, 1.5), 1)
            if rng.random() < 0.02:  # C3.2: clock not set before going out
                b.offset = round(rng.choice([-1, 1]) * rng.uniform(61, 600), 1)
            self.pending.append(b)

    def dock_until(self, until: datetime) -> None:
        ready = [b for b in self.pending if b.at < until]
        if not ready:
            self._incidents(until)
            return
        self.pending = [b for b in self.pending if b.at >= until]
        ready.sort(key=lambda b: b.at)
        events = []
        for b in ready:
            events.extend(self.dock(b))
        events.extend(self._incidents(until, emit=False))
        events.sort(key=lambda e: e[2])
        for e in events:
            self.w.add(self.t_event, (self.ids.next(DeviceEvent), *e))

    def _incidents(self, until: datetime, emit: bool = True) -> list[tuple]:
        out = []
        while self.incidents and self.incidents[0][0] < until:
            at, recorder, kind, note, reporter = self.incidents.pop(0)
            pct = 100 if kind == "battery" else None
            out.append((recorder, kind, at, reporter, None, pct, None, None, None, note))
        if emit:
            for e in out:
                self.w.add(self.t_event, (self.ids.next(DeviceEvent), *e))
        return out

    def dock(self, b: Bundle) -> list[tuple]:
        rng, ids, w = self.rng, self.ids, self.w
        o, squad = b.officer, b.squad
        first = b.shots[0]
        station = rng.choice(squad.stations)
        pk = ids.next(DockingSession)
        battery = rng.randrange(3, 20) if rng.random() < 0.03 else rng.randrange(25, 91)
        share = rng.uniform(0.02, 0.1) if rng.random() < 0.01 else rng.uniform(0.3, 0.9)
        free = int(STORAGE_TOTAL * share)
        offset = b.offset
        files = len(b.shots)
        w.add(self.t_dock, (
            pk, station, first.recorder, first.serial, b.user_no, o.name, squad.unit.code,
            squad.unit.name, o.pk, b.at + timedelta(seconds=offset), b.at, offset, battery, free,
            STORAGE_TOTAL, files, files, 0, 0, 0, "", "", b.at,
            b.at + timedelta(seconds=30 * files), "{}",
        ))  # fmt: skip
        note = f"对接会话 #{pk}"
        events = [
            (first.recorder, "battery", b.at, None, station, battery, None, None, None, note),
            (first.recorder, "storage", b.at, None, station, None, free, STORAGE_TOTAL, None, note),
            (first.recorder, "clock", b.at, None, station, None, None, None, offset, note),
        ]
        mismatch = b.user_no != o.user_no
        late_annotation = b.annotate
        for n, shot in enumerate(b.shots, start=1):
            self.recording(b, shot, pk, station, n, mismatch, late_annotation)
        return events

    def recording(self, b: Bundle, shot: Shot, docking: int, station: int, n: int, mismatch: bool,
                  annotate: str) -> None:  # fmt: skip
        rng, w = self.rng, self.w
        pk = self.ids.next(Recording)
        self.made_recs += 1
        sha = hashlib.sha256(f"jilu-scale {self.seed} {pk}".encode()).hexdigest()
        sm3 = hashlib.sha256(f"sm3 {self.seed} {pk}".encode()).hexdigest()
        seconds = (shot.end - shot.start).total_seconds()
        kind = shot.kind
        size = 3_000_000 + pk % 997 if kind == "photo" else max(1, int(seconds * BYTES_PER_SECOND))
        if kind == "audio":
            size //= 40
        named = shot.start + timedelta(seconds=b.offset)
        local = named + 8 * H
        ext = {"video": "MP4", "photo": "JPG", "audio": "WAV"}[kind]
        name = f"{shot.serial}_{b.user_no}_{local:%Y%m%d%H%M%S}_{n:04d}.{ext}"
        ended = shot.end
        within = b.at - ended <= 24 * H
        w.add(self.t_obj, (sha, sm3, size, "file", b.at))
        w.add(self.t_rec, (
            pk, sha, shot.recorder, b.officer.pk, b.user_no, mismatch, kind, name, named,
            b.offset, shot.start, ended, size, sha, sm3, station, docking, b.at, within, b.at,
        ))  # fmt: skip
        roll = rng.random()
        integrity = "complete" if roll < 0.97 else "incomplete" if roll < 0.995 else "unparseable"
        video = kind == "video"
        w.add(self.t_media, (
            pk, integrity, "缺少索引（moov）" if integrity == "incomplete" else "",
            {"video": "mov,mp4", "photo": "jpeg", "audio": "wav"}[kind],
            "h264" if video else "mjpeg" if kind == "photo" else "",
            "aac" if video else "pcm_s16le" if kind == "audio" else "",
            1920 if kind != "audio" else None, 1080 if kind != "audio" else None,
            25.0 if video else None, seconds if kind != "photo" else None,
            kind != "audio", kind != "photo", video and integrity == "complete",
            b.at + 5 * M, 1, "",
        ))  # fmt: skip
        if shot.activity is None or annotate == "missing":
            return
        if annotate == "in_time":
            lag = timedelta(hours=rng.uniform(0.2, 40))
        else:
            lag = timedelta(hours=rng.uniform(49, 240))
        at = b.at + lag
        if at > self.now:
            return  # not annotated yet
        list_no = None
        if shot.case is not None:
            list_no = self.case_lists.get(shot.case, 0) + 1
            self.case_lists[shot.case] = list_no
        day = (shot.start + 8 * H).strftime("%Y%m%d")
        standard = f"{shot.unit_short}_{day}_{shot.label}_{shot.step}_{pk}"
        corrected = at + timedelta(hours=rng.uniform(1, 30)) if rng.random() < 0.05 else at
        w.add(self.t_ann, (
            self.ids.next(Annotation), pk, shot.activity, shot.case, shot.step, standard,
            list_no, b.officer.pk, min(corrected, self.now), at, "",
        ))  # fmt: skip


def squad_index(bureau: Bureau, squad: Squad) -> int:
    cache = getattr(bureau, "_index", None)
    if cache is None:
        cache = {id(s): i for i, s in enumerate(bureau.squads)}
        bureau._index = cache  # type: ignore[attr-defined]
    return cache[id(squad)]
