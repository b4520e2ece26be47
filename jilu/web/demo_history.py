"""The demo's month of history: the four squads' last thirty days of work.

``jilu seed-demo-history`` (run by ``make run`` after ``seed-demo``) writes what
a bureau that has used Jilu for a month would hold, so that on first start
the inspector's home, the findings list, the ledgers and the 通报 show what
they are for. Every officer on the rota records each activity they take
part in; their recorder is docked at the squad's workstation the same
evening (C5.1) and they annotate the next morning (C5.2). The clips are real
video files, stored, verified and processed the way docked footage is
(``store_object`` → ``attribute_file`` → media processing); only the clock is
the history's: dockings, activities and annotations carry the times of the
day they stand for, while the audit log says truthfully that they were
written when the demo was seeded.

A handful of planned breaches, each of a rule the inspection department
watches, make the findings list worth opening (see ``EXCEPTIONS``).
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from jilu.casework import actions as casework
from jilu.casework.choices import DEFAULT_STEP
from jilu.casework.models import Activity, Party
from jilu.devices.models import Holding, Workstation
from jilu.dutylog import actions as dutylog
from jilu.evidence.actions import store_object
from jilu.evidence.models import Recording
from jilu.evidence.tasks import process_recording
from jilu.evidence.timeline import SHANGHAI
from jilu.ingest.attribution import attribute_file
from jilu.ingest.docking import finish_docking, open_docking, station_actor
from jilu.org.models import Person, Unit

HISTORY_DAYS = 30  # from 30 days back to 2 days back: the last shift is the footage's
PLACE = "辖区日常巡查（演示历史）"
ADDRESSES = [
    "思明区中山路 36 号",
    "思明区镇海路 12 号",
    "思明区鹭江道 8 号",
    "湖里区县后街 51 号",
    "湖里区殿前二路 19 号",
    "湖里区金山路 101 号",
]
KINDS = ["S1", "S1", "S2", "S4", "S1", "S3"]
ACTIVITY_MINUTES = 10
DOCK_AT = time(17, 40)
ANNOTATE_AT = time(9, 10)
FPS = Fraction(1, 4)  # one frame every four seconds: real video, small files


@dataclass
class Exceptions:
    """The month's planned breaches, by officer username and days back."""

    late_dock: dict[tuple[str, int], timedelta] = field(default_factory=dict)  # C5.1
    late_annotation: dict[tuple[str, int], timedelta] = field(default_factory=dict)  # C5.2
    never_annotated: set[tuple[str, int]] = field(default_factory=set)  # C5.2
    short_clip: dict[tuple[str, int], int] = field(default_factory=dict)  # C4.3: minutes
    skipped: set[tuple[str, int]] = field(default_factory=set)  # C2.1 with the partner
    noted: set[tuple[str, int]] = field(default_factory=set)  # C6.2: a confirmed note
    clock_offset: dict[str, tuple[range, float]] = field(default_factory=dict)  # C3.2
    low_battery: dict[tuple[str, int], int] = field(default_factory=dict)  # C1.4
    off_duty: set[tuple[str, int]] = field(default_factory=set)  # C2.2 candidates


# The rota is counted from the day back (``on_duty``), so these land on working
# days whatever the date; ``check_plan`` proves it.
EXCEPTIONS = Exceptions(
    late_dock={("officer21", 12): timedelta(days=2, hours=-7)},
    late_annotation={("officer44", 20): timedelta(days=4), ("officer44", 19): timedelta(days=3)},
    never_annotated={("officer21", 5), ("officer21", 4)},
    short_clip={("officer12", 7): 4, ("officer13", 7): 4, ("officer14", 7): 4},
    skipped={("squad3", 9), ("officer31", 9), ("officer43", 15), ("officer44", 15)},
    noted={("officer43", 15), ("officer44", 15)},
    clock_offset={"officer34": (range(10, 15), 95.0)},
    low_battery={("officer43", 6): 6},
    off_duty={("officer22", 11)},
)


@dataclass
class Officer:
    person: Person
    serial: str
    squad: Unit
    station: Workstation
    index: int


def _officers() -> list[Officer]:
    """Every frontline officer holding a recorder at a squad with a workstation."""
    out = []
    holdings = (
        Holding.objects.filter(ended_at__isnull=True, person__frontline=True)
        .select_related("recorder", "person", "person__unit")
        .order_by("person__unit__code", "person__user_no")
    )
    for holding in holdings:
        squad = holding.person.unit
        station = squad.workstations.order_by("pk").first() if squad else None
        if squad is None or squad.level != "squad" or station is None:
            continue
        index = sum(1 for o in out if o.squad.pk == squad.pk)
        out.append(Officer(holding.person, holding.recorder.serial, squad, station, index))
    return out


def on_duty(officer: Officer, back: int) -> bool:
    """Five days in seven, staggered so each squad works every day."""
    return (back + officer.index) % 7 not in (0, 1)


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=SHANGHAI)


def make_clip(path: Path, device_start: datetime, seconds: int, label: str) -> None:
    """A real H.264 MP4: the recorder's time and numbers burnt in, as recorders do."""
    import av
    from PIL import Image, ImageDraw

    container = av.open(str(path), "w", format="mp4")
    stream = container.add_stream("libx264", rate=FPS)
    stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
    stream.options = {"preset": "ultrafast", "bframes": "0", "crf": "32", "keyint": "15"}
    frames = max(1, int(seconds * FPS))
    frame = None
    for i in range(frames):
        if i % 15 == 0:  # the burnt-in time changes once a minute
            now = device_start + timedelta(seconds=float(i / FPS))
            img = Image.new("RGB", (160, 120), (40 + (i * 13) % 180, 70, 100))
            draw = ImageDraw.Draw(img)
            draw.rectangle((0, 0, 160, 26), fill=(0, 0, 0))
            draw.text((3, 2), f"{now:%Y-%m-%d %H:%M:%S}", fill=(255, 255, 255))
            draw.text((3, 13), label, fill=(255, 255, 0))
            frame = av.VideoFrame.from_image(img).reformat(format="yuv420p")
        assert frame is not None
        frame.pts, frame.time_base = i, 1 / FPS
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()


@dataclass
class Clip:
    start: datetime  # true start, UTC-aware
    seconds: int
    activity: Activity | None


@dataclass
class History:
    """What was written, for the summary line and the tests."""

    activities: int = 0
    recordings: list[int] = field(default_factory=list)
    dockings: int = 0
    notes: int = 0
    findings: int = 0
    ledgers: int = 0


def already_seeded() -> bool:
    return Activity.objects.filter(place_name=PLACE).exists()


def check_plan(officers: list[Officer], exc: Exceptions, days: int) -> list[str]:
    """What in the plan cannot happen: a breach on an officer's day off, or a
    skipped activity that is not one whole pair of officers."""
    by_name = {o.person.username: o for o in officers}
    keys = [
        *exc.late_dock,
        *exc.late_annotation,
        *exc.never_annotated,
        *exc.short_clip,
        *exc.skipped,
        *exc.noted,
        *exc.low_battery,
        *exc.off_duty,
    ]
    problems = []
    for username, back in keys:
        o = by_name.get(username)
        if o is None:
            problems.append(f"{username}: no such frontline officer with a recorder")
        elif not 2 <= back <= days:
            problems.append(f"{username}: {back} days back is outside the history")
        elif not on_duty(o, back):
            problems.append(f"{username}: off duty {back} days back")
    problems += [
        f"{u}: a note for an activity that was recorded" for u, _b in exc.noted - exc.skipped
    ]
    for username, back in exc.skipped:
        o = by_name.get(username)
        if o is None:
            continue
        crew = [c for c in officers if c.squad.pk == o.squad.pk and on_duty(c, back)]
        pair = next((p for p in _pairs(crew) if o in p), [])
        if any((c.person.username, back) not in exc.skipped for c in pair):
            problems.append(f"{username}: skipped {back} days back without the rest of the pair")
    return problems


def seed(
    *,
    today: date | None = None,
    days: int = HISTORY_DAYS,
    exceptions: Exceptions = EXCEPTIONS,
    say: Callable[[str], None] = lambda _line: None,
) -> History:
    """Write the month (once: nothing when it is already there), then let the
    inspection department's rules run over it as the periodic task would."""
    history = History()
    if already_seeded():
        return history
    today = today or timezone.localtime(timezone.now(), SHANGHAI).date()
    officers = _officers()
    if not officers:
        raise RuntimeError("the demo bureau has no frontline officers: run `jilu seed-demo` first")
    problems = check_plan(officers, exceptions, days)
    if problems:
        raise RuntimeError("the demo history's plan is impossible: " + "; ".join(problems))
    rng = random.Random(2021_28)
    with tempfile.TemporaryDirectory(prefix="jilu-demo-history-") as tmp:
        for back in range(days, 1, -1):
            day = today - timedelta(days=back)
            for squad in sorted({o.squad.pk for o in officers}):
                crew = [o for o in officers if o.squad.pk == squad and on_duty(o, back)]
                _squad_day(crew, day, back, rng, exceptions, Path(tmp), history)
            say(f"  {day.isoformat()}: {history.dockings} dockings so far")
    say("  processing the footage")
    for pk in history.recordings:
        process_recording.call(pk)
    say("  running the inspection rules")
    from jilu.web.demo_oversight import after_history

    history.findings, history.ledgers = after_history(today)
    return history


def _pairs(crew: list[Officer]) -> list[list[Officer]]:
    pairs = [crew[i : i + 2] for i in range(0, len(crew), 2)]
    if len(pairs) > 1 and len(pairs[-1]) == 1:
        last = pairs.pop()
        pairs[-1] += last
    return pairs


def _squad_day(
    crew: list[Officer],
    day: date,
    back: int,
    rng: random.Random,
    exc: Exceptions,
    tmp: Path,
    history: History,
) -> None:
    clips: dict[int, list[Clip]] = {o.person.pk: [] for o in crew}
    for j, pair in enumerate(_pairs(crew)):
        start = local(day, time(9, 30)) + timedelta(minutes=150 * j + rng.randrange(0, 20))
        activity = _activity(pair, start, day, j, history)
        for o in pair:
            key = (o.person.username, back)
            if key in exc.skipped:
                if key in exc.noted:
                    _note(o, activity, history)
                continue
            minutes = exc.short_clip.get(key, ACTIVITY_MINUTES + 2)
            clips[o.person.pk].append(Clip(start - timedelta(minutes=1), minutes * 60, activity))
    for o in crew:
        key = (o.person.username, back)
        if key in exc.off_duty:
            clips[o.person.pk].append(Clip(local(day, time(22, 40)), 180, None))
        if clips[o.person.pk]:
            _dock(o, day, back, clips[o.person.pk], exc, tmp, history)


def _activity(pair: list[Officer], start: datetime, day: date, j: int, history: History):
    squad = pair[0].squad
    party = Party.objects.filter(unit=squad, name=f"{squad.short_name}辖区商户").first()
    if party is None:
        party = casework.create_party(
            actor=pair[0].person,
            unit=squad,
            kind="organisation",
            name=f"{squad.short_name}辖区商户",
        )
    n = day.toordinal() + j
    activity = casework.create_activity(
        actor=pair[0].person,
        officers=[o.person for o in pair],
        kind=KINDS[n % len(KINDS)],
        category="inspection",
        unit=squad,
        party=party,
        place_name=PLACE,
        address=ADDRESSES[n % len(ADDRESSES)],
        actual_start=start,
        actual_end=start + timedelta(minutes=ACTIVITY_MINUTES),
    )
    # Written down on the day, as the officers do after the activity.
    written = start + timedelta(minutes=ACTIVITY_MINUTES + 20)
    Activity.objects.filter(pk=activity.pk).update(created_at=written)
    activity.created_at = written
    history.activities += 1
    return activity


def _note(o: Officer, activity: Activity, history: History) -> None:
    """The recorder failed during the activity; the squad leader confirms the note (C6.2)."""
    note = dutylog.create_note(
        actor=o.person,
        start=activity.actual_start,
        end=activity.actual_end,
        reason="device_fault",
        description="记录仪电池故障无法开机，已报中队长更换（演示历史）",
    )
    leader = (
        Person.objects.filter(unit=o.squad, role_grants__role="squad_leader")
        .exclude(pk=o.person.pk)
        .first()
    )
    if leader is not None:
        dutylog.confirm_note(note, actor=leader, leader_note="已核实，设备已送修")
    history.notes += 1


def _dock(
    o: Officer,
    day: date,
    back: int,
    clips: list[Clip],
    exc: Exceptions,
    tmp: Path,
    history: History,
) -> None:
    key = (o.person.username, back)
    docked = local(day, DOCK_AT) + exc.late_dock.get(key, timedelta(0))
    offset = 0.0
    if o.person.username in exc.clock_offset:
        days, seconds = exc.clock_offset[o.person.username]
        offset = seconds if back in days else 0.0
    battery = exc.low_battery.get(key, 55 + (day.toordinal() * 7 + o.index * 11) % 40)
    station = o.station
    actor = station_actor(station)
    files = []
    for n, clip in enumerate(clips, start=1):
        device_start = timezone.localtime(clip.start, SHANGHAI) + timedelta(seconds=offset)
        name = f"{o.serial}_{o.person.user_no}_{device_start:%Y%m%d%H%M%S}_{n:04d}.MP4"
        path = tmp / name
        make_clip(path, device_start, clip.seconds, f"{o.serial} {o.person.user_no}")
        files.append((name, path, clip))
    with transaction.atomic():
        session = open_docking(
            actor=actor,
            station=station,
            serial=o.serial,
            user_no=o.person.user_no,
            user_name=o.person.name,
            unit_no=o.squad.code,
            unit_name=o.squad.name,
            clock_offset_seconds=offset,
            battery_pct=battery,
            storage_free_bytes=40_000_000_000,
            storage_total_bytes=64_000_000_000,
            files_found=len(files),
            at=docked,
        )
        made = 0
        for name, path, clip in files:
            stored = store_object(actor=actor, path=path)
            outcome = attribute_file(
                actor=actor,
                stored=stored,
                filename=f"DCIM/{day:%Y%m%d}/{name}",
                docking=session,
                station=station,
                unit=station.unit,
            )
            if outcome.recording is None:
                continue
            made += 1
            history.recordings.append(outcome.recording.pk)
            if clip.activity is not None:
                _annotate(o, outcome.recording, clip.activity, docked, key, exc)
        finish_docking(
            actor=actor,
            session=session,
            files_found=len(files),
            files_verified=made,
            files_already_present=0,
            files_flagged=len(files) - made,
            files_failed=0,
            at=docked + timedelta(minutes=3),
        )
    history.dockings += 1


def _annotate(
    o: Officer,
    recording: Recording,
    activity: Activity,
    docked: datetime,
    key: tuple[str, int],
    exc: Exceptions,
) -> None:
    if key in exc.never_annotated:
        return
    at = datetime.combine(
        timezone.localtime(docked, SHANGHAI).date() + timedelta(days=1), ANNOTATE_AT, SHANGHAI
    )
    at += exc.late_annotation.get(key, timedelta(0))
    casework.annotate(
        actor=o.person,
        recording=recording,
        activity=activity,
        step=DEFAULT_STEP[activity.kind],
        at=at,
    )
