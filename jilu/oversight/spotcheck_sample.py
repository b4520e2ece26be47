"""Drawing a spot check's sample (C6.4), so that anyone can draw it again.

The strata are each squad under the chosen units (a chosen unit with no squad
below it is its own stratum) crossed with each week (Monday to Sunday) or
calendar month of the chosen period, in Beijing time and clipped to the
period. A stratum's population is

- for recordings: the recordings of the squad's subtree (the officer's or the
  recorder's unit, ``recordings_of_unit``) that started in the stratum's
  period, ordered by start time and id;
- for ledgers: the rows of the squad's recordings ledger (one per officer per
  day, ``ledger.recording_rows``) in the stratum's period, ordered by day and
  officer.

Each member is ranked by the SHA-256 of ``<seed>|<stratum>|<member>`` (hex,
ascending) and the first ``per_stratum`` of each stratum are drawn; a stratum
with fewer members gives all of them. No random generator is involved: the
seed and this rule, which ``query`` states in words, give the sample, and
``redraw`` repeats it from what was stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jilu.evidence.scope import recordings_of_unit
from jilu.evidence.timeline import SHANGHAI
from jilu.org.models import Unit
from jilu.oversight import ledger

QUERY_VERSION = 1
MAX_PER_STRATUM = 50
MAX_SAMPLE = 500
MAX_DAYS = 366
FIRST_YEAR, LAST_YEAR = 2000, 2099
KINDS = ("recordings", "ledgers")
PERS = ("week", "month")
ORDERING = {
    "recordings": "started_at, id",
    "ledgers": "day, officer_id",
}
POPULATION = {
    "recordings": (
        "recordings whose officer's or recorder's unit is in the squad's subtree,"
        " started_at in [start, end)"
    ),
    "ledgers": "recordings ledger rows (one per officer per day) of the squad in [start, end)",
}
RANK = "ascending hex SHA-256 of '<seed>|<stratum>|<member>'; the first per_stratum of each"


@dataclass(frozen=True)
class Stratum:
    unit: Unit
    period: str  # "2026-W48" or "2026-11"
    start: datetime  # UTC
    end: datetime

    @property
    def key(self) -> str:
        return f"{self.unit.code}/{self.period}"


@dataclass
class Drawn:
    stratum: Stratum
    population: list[str]
    chosen: list[str]


@dataclass
class Sample:
    strata: list[Drawn]

    @property
    def members(self) -> list[tuple[str, str]]:
        return [(d.stratum.key, m) for d in self.strata for m in d.chosen]

    @property
    def population(self) -> int:
        return sum(len(d.population) for d in self.strata)

    @property
    def digest(self) -> str:
        return digest(self.members)


def digest(members: list[tuple[str, str]]) -> str:
    """SHA-256 of the sample: one ``stratum<TAB>member`` line each, in order."""
    return hashlib.sha256("\n".join(f"{s}\t{m}" for s, m in members).encode()).hexdigest()


def rank(seed: str, stratum: str, member: str) -> str:
    return hashlib.sha256(f"{seed}|{stratum}|{member}".encode()).hexdigest()


# --- parameters ----------------------------------------------------------------


def check_parameters(
    *, kind: str, first_day: date | None, last_day: date | None, per: str, per_stratum: Any
) -> int:
    """Refuse what cannot be drawn, saying what to change; the per-stratum size."""
    errors: dict[str, list[str]] = {}
    if kind not in KINDS:
        errors["kind"] = [_("抽检对象只能是声像记录或声像记录台账")]
    if per not in PERS:
        errors["per"] = [_("分层期间只能是每周或每月")]
    if first_day is None or last_day is None:
        errors["period"] = [_("请填写抽检期间的起止日期")]
    elif not (
        FIRST_YEAR <= first_day.year <= LAST_YEAR and FIRST_YEAR <= last_day.year <= LAST_YEAR
    ):
        errors["period"] = [_("日期应在 2000–2099 年之间")]
    elif last_day < first_day:
        errors["period"] = [_("期间的截止日期早于起始日期：这个期间是空的，请调换或改正日期")]
    elif (last_day - first_day).days + 1 > MAX_DAYS:
        errors["period"] = [_("一次抽检的期间不能超过 %(n)s 天") % {"n": MAX_DAYS}]
    elif first_day > timezone.localtime(timezone.now(), SHANGHAI).date():
        errors["period"] = [_("期间还没有开始：请选择已经过去的日期")]
    try:
        n = int(per_stratum)
    except (TypeError, ValueError):
        n = 0
        errors["per_stratum"] = [_("每层抽取数应为整数")]
    else:
        if not 1 <= n <= MAX_PER_STRATUM:
            errors["per_stratum"] = [_("每层抽取数应在 1 至 %(n)s 之间") % {"n": MAX_PER_STRATUM}]
    if errors:
        raise ValidationError(errors)
    return n


def chosen_units(ids: list[Any]) -> list[Unit]:
    """The chosen units by id; refuses none and unknown ones."""
    if not ids:
        raise ValidationError({"units": [_("请至少选择一个单位")]})
    wanted: list[int] = []
    for value in ids:
        try:
            wanted.append(int(value))
        except (TypeError, ValueError):
            raise ValidationError({"units": [_("单位编号“%(v)s”不正确") % {"v": value}]}) from None
    found = {u.pk: u for u in Unit.objects.filter(pk__in=wanted)}
    unknown = [str(i) for i in wanted if i not in found]
    if unknown:
        raise ValidationError({"units": [_("没有这些单位：%(ids)s") % {"ids": "、".join(unknown)}]})
    return sorted(found.values(), key=lambda u: u.path)


def stratum_units(units: list[Unit]) -> list[Unit]:
    """The squads under the chosen units (a unit with none is its own), in tree order."""
    out: dict[int, Unit] = {}
    for unit in units:
        squads = list(unit.subtree().filter(level=Unit.Level.SQUAD))
        for u in squads or [unit]:
            out[u.pk] = u
    return sorted(out.values(), key=lambda u: u.path)


def periods(first_day: date, last_day: date, per: str) -> list[tuple[str, datetime, datetime]]:
    """Each week or month of [first_day, last_day] (inclusive), clipped: label, start, end (UTC)."""
    out = []
    day = first_day
    while day <= last_day:
        if per == "week":
            year, week, _weekday = day.isocalendar()
            label = f"{year}-W{week:02d}"
            following = day + timedelta(days=7 - day.weekday())
        else:
            label = f"{day:%Y-%m}"
            following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        stop = min(following, last_day + timedelta(days=1))
        start = datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)
        end = datetime.combine(stop, time(0), tzinfo=SHANGHAI).astimezone(UTC)
        out.append((label, start, end))
        day = stop
    return out


def strata(units: list[Unit], first_day: date, last_day: date, per: str) -> list[Stratum]:
    spans = periods(first_day, last_day, per)
    return [Stratum(u, label, s, e) for u in units for label, s, e in spans]


# --- populations ---------------------------------------------------------------


def population(kind: str, stratum: Stratum) -> list[str]:
    """The stratum's members in their stated order (ids as text)."""
    if kind == "ledgers":
        rows = ledger.recording_rows(stratum.unit, stratum.start, stratum.end)
        keys = [f"{r['day']}/{r['officer_id'] or '-'}" for r in rows]
        return sorted(keys, key=lambda k: (k.split("/")[0], _officer_order(k)))
    ids = (
        recordings_of_unit(stratum.unit)
        .filter(started_at__gte=stratum.start, started_at__lt=stratum.end)
        .order_by("started_at", "pk")
        .values_list("pk", flat=True)
    )
    return [str(i) for i in ids]


def _officer_order(key: str) -> int:
    officer = key.split("/")[1]
    return int(officer) if officer.isdigit() else 0


def draw(seed: str, kind: str, chosen: list[Stratum], per_stratum: int) -> Sample:
    """The sample: per stratum, the ``per_stratum`` members of lowest rank (all, when fewer)."""
    out = []
    for stratum in chosen:
        members = population(kind, stratum)
        ranked = sorted(members, key=lambda m: rank(seed, stratum.key, m))
        out.append(Drawn(stratum, members, ranked[:per_stratum]))
    return Sample(out)


def query(
    *,
    kind: str,
    first_day: date,
    last_day: date,
    per: str,
    per_stratum: int,
    units: list[Unit],
    sample: Sample,
) -> dict:
    """What is stored with the spot check: enough to draw the sample again."""
    return {
        "version": QUERY_VERSION,
        "kind": kind,
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "timezone": "Asia/Shanghai",
        "per": per,
        "per_stratum": per_stratum,
        "units": [u.code for u in units],
        "population": POPULATION[kind],
        "ordering": ORDERING[kind],
        "rank": RANK,
        "strata": [
            {
                "stratum": d.stratum.key,
                "unit": d.stratum.unit.code,
                "period": d.stratum.period,
                "start": d.stratum.start.isoformat(),
                "end": d.stratum.end.isoformat(),
                "population": len(d.population),
                "population_sha256": hashlib.sha256("\n".join(d.population).encode()).hexdigest(),
                "drawn": d.chosen,
            }
            for d in sample.strata
        ],
        "sample_sha256": sample.digest,
    }


def rule_sentences(stored: dict) -> list[str]:
    """The sampling rule of a stored query in the reader's language. The stored
    ``population``, ``ordering`` and ``rank`` stay as they were written: they
    are the machine-readable record that ``redraw`` and a reviewer follow."""
    per = _("每周（周一至周日）") if stored.get("per") == "week" else _("每个自然月")
    strata = _(
        "所选单位下的每个中队（没有下级中队的单位自成一层）按%(per)s分层"
        "（北京时间，以抽检期间的起止日期为界）。"
    ) % {"per": per}
    if stored.get("kind") == "ledgers":
        members = _(
            "每层的总体是该中队声像记录台账在该期间内的各行（每名执法人员每天一行），"
            "按日期、再按人员编号排列。"
        )
    else:
        members = _(
            "每层的总体是执法人员或记录仪属于该中队（含其下级单位）、开始时间在该期间内的"
            "声像记录，按开始时间、再按编号排列。"
        )
    ranking = _(
        "每个成员按“随机种子|分层|成员”的 SHA-256（十六进制）从小到大排序，每层抽取排在"
        "最前的 %(n)s 个；不足 %(n)s 个的全部抽取。同一种子和条件总是抽出同一样本。"
    ) % {"n": stored.get("per_stratum", "")}
    return [strata, members, ranking]


def rule_text(stored: dict) -> str:
    """``rule_sentences`` as one paragraph (Chinese sentences run on, others take a space)."""
    language = translation.get_language() or ""
    return ("" if language.startswith("zh") else " ").join(rule_sentences(stored))


# --- redraw and compare --------------------------------------------------------


@dataclass
class Comparison:
    same: bool
    sample_sha256: str
    redrawn_sha256: str
    missing: list[tuple[str, str]] = field(default_factory=list)  # stored, not redrawn
    extra: list[tuple[str, str]] = field(default_factory=list)  # redrawn, not stored
    population_changed: list[dict] = field(default_factory=list)


def redraw(stored: dict, seed: str, members: list[tuple[str, str]]) -> Comparison:
    """Draw again from the stored query and seed; compare with the stored members."""
    units_by_code = {u.code: u for u in Unit.objects.filter(code__in=stored["units"])}
    units = [units_by_code[c] for c in stored["units"] if c in units_by_code]
    first_day = date.fromisoformat(stored["first_day"])
    last_day = date.fromisoformat(stored["last_day"])
    again = draw(
        seed,
        stored["kind"],
        strata(stratum_units(units), first_day, last_day, stored["per"]),
        int(stored["per_stratum"]),
    )
    redrawn = again.members
    before = {s["stratum"]: s for s in stored.get("strata", [])}
    changed = []
    for d in again.strata:
        was = before.get(d.stratum.key)
        now_sha = hashlib.sha256("\n".join(d.population).encode()).hexdigest()
        if was is None or was["population_sha256"] != now_sha:
            changed.append(
                {
                    "stratum": d.stratum.key,
                    "before": was["population"] if was else 0,
                    "now": len(d.population),
                }
            )
    stored_set, redrawn_set = set(members), set(redrawn)
    return Comparison(
        same=redrawn == members,
        sample_sha256=digest(members),
        redrawn_sha256=digest(redrawn),
        missing=[m for m in members if m not in redrawn_set],
        extra=[m for m in redrawn if m not in stored_set],
        population_changed=changed,
    )
