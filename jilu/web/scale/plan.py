"""The bureau of a seeded city-year: units, people with their roles, recorders
and who held them (C1.3), workstations (C1.2).

The tree is 市局 → 区局 → 大队 → 中队: the squads are shared out over about
one district per five squads, each district with one brigade. Each squad has
one leader (also frontline, with a recorder), the rest of its people are
frontline officers; each brigade has an archivist and two case handlers, the
city its inspectors, legal reviewers and administrators. Every frontline
officer is issued a recorder before the year starts; a few lose theirs during
the year and are issued a spare from the next day. Each squad keeps two spare
recorders in the cabinet (checked by hand now and then, not always in time).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import make_password

from jilu.devices.models import DeviceEvent, Holding, Recorder, Workstation
from jilu.org import actions as org
from jilu.org.models import Person, RoleGrant, Unit
from jilu.org.roles import Role
from jilu.web.scale.writer import Ids, RowWriter

ACTOR = "system:seed-scale"
CITY_CODE = "990000000000"
PASSWORD = "jilu-scale-2026"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红文斌辉鹏飞宇浩然俊峰亮晨欣怡佳琪子涵梓轩思远嘉乐天翔海波"
DISTRICT_NAMES = ["东城", "西城", "南湖", "北港", "江滨", "新区", "高新", "临江", "山前", "湾口"]
SQUAD_NAMES = "中山 人民 解放 建设 和平 胜利 光明 新华 东风 红旗 文化 长江 黄河 海滨 滨江 青年 幸福 友谊 振兴 前进 团结 繁荣 开元 兴业 广场 沿河 学府 望江 金山 银湖 春风 朝阳 公园 湖滨 花园 星光 翠苑 丰泽 鲤城 清源".split()


@dataclass
class Officer:
    pk: int
    name: str
    user_no: str
    unit_id: int
    squad: int  # index into Bureau.squads
    leader: bool = False
    # (from, recorder pk, serial): the recorder the officer holds from each time on.
    recorders: list[tuple[datetime, int, str]] = field(default_factory=list)
    rest_day: int = 0  # the weekday (0–6) of the first of two rest days
    # From the loss of a recorder to the issue of its replacement.
    without: tuple[datetime, datetime] | None = None

    def without_recorder(self, at: datetime) -> bool:
        return self.without is not None and self.without[0] <= at < self.without[1]

    def recorder_at(self, at: datetime) -> tuple[int, str]:
        current = self.recorders[0]
        for item in self.recorders:
            if item[0] <= at:
                current = item
        return current[1], current[2]


@dataclass
class Squad:
    unit: Unit
    brigade_id: int
    stations: list[int] = field(default_factory=list)
    officers: list[Officer] = field(default_factory=list)
    leader: Officer | None = None
    handler_id: int = 0
    spares: list[int] = field(default_factory=list)


@dataclass
class Bureau:
    city: Unit
    squads: list[Squad]
    officers: list[Officer]
    # Incidents planned during the year: (at, recorder pk, kind, note, reporter pk).
    incidents: list[tuple[datetime, int, str, str, int | None]] = field(default_factory=list)
    inspector_id: int = 0
    leader_id: int = 0


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def build(
    *, squads: int, officers: int, start: datetime, end: datetime, rng: random.Random, ids: Ids
) -> tuple[Bureau, RowWriter]:
    """Create the units (with their audit rows) and write the people, recorders,
    holdings and workstations; returns the bureau and the writer holding its rows."""
    city = org.create_unit(
        actor=ACTOR,
        parent=None,
        code=CITY_CODE,
        name="规模测试市城市管理行政执法局",
        short_name="规模测试市城管执法局",
        level="city",
    )
    per_district = 5
    districts = max(1, -(-squads // per_district))
    squad_units: list[tuple[Unit, int]] = []
    brigades: list[Unit] = []
    for d in range(districts):
        dname = DISTRICT_NAMES[d % len(DISTRICT_NAMES)] + (
            "" if d < len(DISTRICT_NAMES) else str(d)
        )
        district = org.create_unit(
            actor=ACTOR,
            parent=city,
            code=f"99{d + 1:02d}00000000",
            name=f"规模测试市{dname}区城市管理行政执法局",
            short_name=f"{dname}区城管执法局",
            level="district",
        )
        brigade = org.create_unit(
            actor=ACTOR,
            parent=district,
            code=f"99{d + 1:02d}00000100",
            name=f"规模测试市{dname}区城市管理行政执法大队",
            short_name=f"{dname}区城管执法大队",
            level="brigade",
        )
        brigades.append(brigade)
        for s in range(min(per_district, squads - d * per_district)):
            n = len(squad_units)
            sname = SQUAD_NAMES[n % len(SQUAD_NAMES)] + ("" if n < len(SQUAD_NAMES) else str(n))
            unit = org.create_unit(
                actor=ACTOR,
                parent=brigade,
                code=f"99{d + 1:02d}00000{s + 1:03d}"[:12],
                name=f"{dname}区城管执法大队{sname}中队",
                short_name=f"{dname}区{sname}中队",
                level="squad",
            )
            squad_units.append((unit, brigade.pk))

    w = RowWriter()
    person_t = w.table(
        Person,
        ["id", "password", "is_superuser", "username", "name", "cert_no", "user_no", "unit_id",
         "frontline", "phone", "is_active", "is_staff", "date_joined", "failed_logins"],
    )  # fmt: skip
    grant_t = w.table(RoleGrant, ["id", "person_id", "role"])
    recorder_t = w.table(
        Recorder, ["id", "serial", "vendor", "model", "unit_id", "status", "registered_at"]
    )
    holding_t = w.table(
        Holding,
        ["id", "recorder_id", "person_id", "started_at", "ended_at", "issued_by_id",
         "returned_to_id", "note"],
    )  # fmt: skip
    station_t = w.table(
        Workstation,
        ["id", "unit_id", "name", "location", "token_digest", "token_prefix", "created_at",
         "last_seen_at"],
    )  # fmt: skip
    password = make_password(PASSWORD)
    joined = start - timedelta(days=400)
    issued = start - timedelta(days=60)
    counter = {"person": 0, "serial": 0}

    def person(name: str, unit_id: int, roles: list[str], frontline: bool) -> int:
        counter["person"] += 1
        n = counter["person"]
        pk = ids.next(Person)
        username = f"scale{n:05d}"
        w.add(
            person_t,
            (pk, password, False, username, name, f"99{n:010d}", f"{900000 + n:06d}", unit_id,
             frontline, f"1390000{n:04d}"[:11], True, False, joined, 0),
        )  # fmt: skip
        for role in roles:
            w.add(grant_t, (ids.next(RoleGrant), pk, role))
        return pk

    def recorder(unit_id: int, status: str = "in_service") -> tuple[int, str]:
        counter["serial"] += 1
        pk = ids.next(Recorder)
        serial = f"Z{counter['serial']:06d}"
        vendor, model = rng.choice([("海康威视", "DSJ-K3"), ("华德安", "HDA-8"), ("警翼", "X6")])
        w.add(recorder_t, (pk, serial, vendor, model, unit_id, status, issued - timedelta(days=30)))
        return pk, serial

    def named(username: str, name: str, unit_id: int, roles: list[str]) -> int:
        pk = ids.next(Person)
        w.add(
            person_t,
            (pk, password, False, username, name, None, None, unit_id, False, "", True, False,
             joined, 0),
        )  # fmt: skip
        for role in roles:
            w.add(grant_t, (ids.next(RoleGrant), pk, role))
        return pk

    bureau = Bureau(city=city, squads=[], officers=[])
    admin = person(person_name(rng), city.pk, [Role.ADMIN], False)
    for _ in range(max(1, len(squad_units) // 4)):
        person(person_name(rng), city.pk, [Role.INSPECTOR], False)
    for _ in range(max(1, len(squad_units) // 8)):
        person(person_name(rng), city.pk, [Role.LEGAL_REVIEWER], False)
    handlers: dict[int, list[int]] = {}
    for brigade in brigades:
        person(person_name(rng), brigade.pk, [Role.BRIGADE_LEADER], False)
        person(person_name(rng), brigade.pk, [Role.ARCHIVIST], False)
        handlers[brigade.pk] = [
            person(person_name(rng), brigade.pk, [Role.CASE_HANDLER], False) for _ in range(2)
        ]
    non_frontline = counter["person"]
    frontline = max(2 * len(squad_units), officers - non_frontline)
    # Squads differ in size (busy city centres, quiet outskirts).
    weights = [rng.uniform(0.6, 1.4) for _ in squad_units]
    sizes = [max(2, int(frontline * wt / sum(weights))) for wt in weights]
    sizes[0] += frontline - sum(sizes)
    for index, ((unit, brigade_id), size) in enumerate(zip(squad_units, sizes, strict=True)):
        squad = Squad(unit=unit, brigade_id=brigade_id, handler_id=rng.choice(handlers[brigade_id]))
        for k in range(size):
            leader = k == 0
            roles = [Role.SQUAD_LEADER, Role.OFFICER] if leader else [Role.OFFICER]
            name = person_name(rng)
            pk = person(name, unit.pk, roles, True)
            officer = Officer(
                pk=pk,
                name=name,
                user_no=f"{900000 + counter['person']:06d}",
                unit_id=unit.pk,
                squad=index,
                leader=leader,
                rest_day=rng.randrange(7),
            )
            rec_pk, serial = recorder(unit.pk)
            officer.recorders.append((issued, rec_pk, serial))
            squad.officers.append(officer)
            bureau.officers.append(officer)
            if leader:
                squad.leader = officer
        for _ in range(2):
            squad.spares.append(recorder(unit.pk)[0])
        for s in range(1 if index % 3 else 2):
            pk = ids.next(Workstation)
            digest = hashlib.sha256(f"scale-station-{unit.code}-{s}".encode()).hexdigest()
            w.add(
                station_t,
                (pk, unit.pk, f"{unit.short_name}采集工作站{s + 1}", "值班室", digest, digest[:8],
                 issued, end),
            )  # fmt: skip
            squad.stations.append(pk)
        bureau.squads.append(squad)
    _recorder_history(bureau, w, holding_t, recorder, start, end, issued, admin, rng, ids)
    bureau.inspector_id = named("scale_inspector", "规模测试督察", city.pk, [Role.INSPECTOR])
    first = bureau.squads[0]
    bureau.leader_id = first.leader.pk if first.leader else admin
    # The login the list benchmark uses for a squad leader's scope.
    named("scale_leader", "规模测试中队长", first.unit.pk, [Role.SQUAD_LEADER])
    return bureau, w


def _recorder_history(bureau, w, holding_t, recorder, start, end, issued, admin, rng, ids) -> None:
    """Holdings (C1.3): every officer from ``issued``; a few recorders are lost
    or damaged during the year (C6.5.5–6) and a lost one is replaced the next day."""
    span = (end - start).total_seconds()
    for officer in bureau.officers:
        squad = bureau.squads[officer.squad]
        issuer = squad.leader.pk if squad.leader and squad.leader is not officer else admin
        _, rec_pk, serial = officer.recorders[0]
        roll = rng.random()
        if roll < 0.004 and span > 20 * 86400:
            lost_at = start + timedelta(seconds=rng.uniform(0.1, 0.9) * span)
            lost_at = lost_at.replace(hour=rng.randrange(1, 10), minute=rng.randrange(60))
            w.add(
                holding_t,
                (ids.next(Holding), rec_pk, officer.pk, issued, lost_at, issuer, None, "遗失"),
            )
            new_pk, new_serial = recorder(officer.unit_id)
            replaced = lost_at + timedelta(days=1)
            replaced = replaced.replace(hour=0, minute=30)
            w.add(
                holding_t, (ids.next(Holding), new_pk, officer.pk, replaced, None, issuer, None, "")
            )
            officer.recorders.append((replaced, new_pk, new_serial))
            officer.without = (lost_at, replaced)
            bureau.incidents.append(
                (lost_at, rec_pk, DeviceEvent.Kind.LOSS, "执勤中遗失，已报告中队", officer.pk)
            )
            _set_status(w, rec_pk, Recorder.Status.LOST)
            continue
        w.add(holding_t, (ids.next(Holding), rec_pk, officer.pk, issued, None, issuer, None, ""))
        if roll < 0.02 and span > 20 * 86400:
            at = start + timedelta(seconds=rng.uniform(0.05, 0.95) * span)
            at = at.replace(hour=rng.randrange(1, 10), minute=rng.randrange(60))
            bureau.incidents.append(
                (at, rec_pk, DeviceEvent.Kind.DAMAGE, "跌落致外壳破损，可继续使用", officer.pk)
            )
            bureau.incidents.append(
                (at + timedelta(days=3), rec_pk, DeviceEvent.Kind.REPAIR, "更换外壳", None)
            )


def _set_status(w: RowWriter, recorder_pk: int, status: str) -> None:
    table = Recorder._meta.db_table
    rows = w._rows[table]
    for i, row in enumerate(rows):
        if row[0] == recorder_pk:
            rows[i] = (*row[:5], status, row[6])
            return


def local_midnight_utc(day) -> datetime:
    """The start, in UTC, of a local (Asia/Shanghai, UTC+8 all year) day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=8)
