"""``jilu seed-demo``: the demo bureau (idempotent; run by ``make run``).

A city bureau, two district bureaus each with a brigade of two squads, about
thirty people covering every role, a recorder issued to every frontline
officer and a workstation per squad (plus one for the independently housed
brigade). Every account's password is DEMO_PASSWORD; the first squad's
workstation uses DEMO_STATION_TOKEN. Both are listed in README.md.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from jilu.devices import actions as device_actions
from jilu.devices.models import Holding, Recorder, Workstation
from jilu.org import actions
from jilu.org.api_auth import token_digest
from jilu.org.models import Person, Unit
from jilu.org.roles import Role

DEMO_PASSWORD = "jilu-demo-2026"
DEMO_STATION_TOKEN = "jst_demo-siming-squad1-station-token"
DEMO_SQUAD = "350203000101"


def demo_station_token(unit_code: str) -> str:
    """Each demo workstation's token: the documented one for the first squad, and a
    predictable one for the others, so the demo's history docks at every squad."""
    return DEMO_STATION_TOKEN if unit_code == DEMO_SQUAD else f"jst_demo-{unit_code}-station-token"


ACTOR = "system:seed-demo"
# Recorders were issued well before any footage a demo volume simulates, so
# recordings are attributed to their holder (C1.3).
ISSUED_AT = timezone.now() - timedelta(days=90)

# code, name, short name, level, parent code, independently housed
UNITS = [
    ("350200000000", "厦门市城市管理行政执法局", "厦门市城管执法局", "city", None, False),
    (
        "350203000000",
        "思明区城市管理行政执法局",
        "思明区城管执法局",
        "district",
        "350200000000",
        False,
    ),
    (
        "350206000000",
        "湖里区城市管理行政执法局",
        "湖里区城管执法局",
        "district",
        "350200000000",
        False,
    ),
    (
        "350203000001",
        "思明区城市管理行政执法大队",
        "思明区城管执法大队",
        "brigade",
        "350203000000",
        False,
    ),
    (
        "350206000001",
        "湖里区城市管理行政执法大队",
        "湖里区城管执法大队",
        "brigade",
        "350206000000",
        True,
    ),
    (
        "350203000101",
        "思明区城管执法大队中华中队",
        "思明区中华中队",
        "squad",
        "350203000001",
        False,
    ),
    (
        "350203000102",
        "思明区城管执法大队鹭江中队",
        "思明区鹭江中队",
        "squad",
        "350203000001",
        False,
    ),
    (
        "350206000101",
        "湖里区城管执法大队湖里中队",
        "湖里区湖里中队",
        "squad",
        "350206000001",
        False,
    ),
    (
        "350206000102",
        "湖里区城管执法大队殿前中队",
        "湖里区殿前中队",
        "squad",
        "350206000001",
        False,
    ),
]

# username, name, unit code, roles, frontline
PEOPLE = [
    ("admin", "系统管理员", "350200000000", [Role.ADMIN], False),
    ("inspector", "陈督察", "350200000000", [Role.INSPECTOR], False),
    ("legal", "林法制", "350200000000", [Role.LEGAL_REVIEWER], False),
    ("archivist", "黄档案", "350203000001", [Role.ARCHIVIST], False),
    ("archivist2", "吴档案", "350206000001", [Role.ARCHIVIST], False),
    ("handler", "郑承办", "350203000001", [Role.CASE_HANDLER], False),
    ("handler2", "蔡承办", "350206000001", [Role.CASE_HANDLER], False),
    ("brigade", "许大队", "350203000001", [Role.BRIGADE_LEADER], False),
    ("brigade2", "杨大队", "350206000001", [Role.BRIGADE_LEADER], False),
]
SQUAD_NAMES = {
    "350203000101": ["何中队", "王五", "李四", "张三", "赵六"],
    "350203000102": ["周中队", "孙七", "钱八", "冯九", "卫十"],
    "350206000101": ["沈中队", "韩一", "朱二", "秦三", "尤四"],
    "350206000102": ["施中队", "曹五", "严六", "金七", "魏八"],
}


def _squad_people() -> list[tuple[str, str, str, list[str], bool, str]]:
    rows = []
    for s, (code, names) in enumerate(SQUAD_NAMES.items(), start=1):
        for i, name in enumerate(names):
            user_no = f"3502{s}{i}"
            if i == 0:
                rows.append(
                    (f"squad{s}", name, code, [Role.SQUAD_LEADER, Role.OFFICER], True, user_no)
                )
            else:
                username = "officer" if (s, i) == (1, 1) else f"officer{s}{i}"
                rows.append((username, name, code, [Role.OFFICER], True, user_no))
    return rows


class Command(BaseCommand):
    help = "Create the demo bureau (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        units: dict[str, Unit] = {}
        for code, name, short, level, parent, housed in UNITS:
            unit = Unit.objects.filter(code=code).first()
            if unit is None:
                unit = actions.create_unit(
                    actor=ACTOR,
                    parent=units.get(parent) if parent else None,
                    code=code,
                    name=name,
                    short_name=short,
                    level=level,
                    independently_housed=housed,
                )
            units[code] = unit

        created = 0
        rows = [(u, n, c, r, f, None) for u, n, c, r, f in PEOPLE] + _squad_people()
        for n, (username, name, code, roles, frontline, user_no) in enumerate(rows, start=1):
            if Person.objects.filter(username=username).exists():
                continue
            actions.create_person(
                actor=ACTOR,
                username=username,
                name=name,
                unit=units[code],
                roles=list(roles),
                frontline=frontline,
                user_no=user_no,
                cert_no=f"3502{n:04d}{'9' * 4}"[:12],
                password=DEMO_PASSWORD,
            )
            created += 1

        serial_no = 100
        for person in Person.objects.filter(frontline=True, is_active=True).order_by("user_no"):
            serial_no += 1
            serial = f"A{serial_no:06d}"
            recorder = Recorder.objects.filter(serial=serial).first()
            if recorder is None:
                recorder = device_actions.register_recorder(
                    actor=ACTOR, serial=serial, unit=person.unit, vendor="海康威视", model="DSJ-K3"
                )
            if (
                not Holding.objects.filter(recorder=recorder, ended_at__isnull=True).exists()
                and not Holding.objects.filter(person=person, ended_at__isnull=True).exists()
            ):
                device_actions.issue_recorder(
                    actor=ACTOR, recorder=recorder, person=person, at=ISSUED_AT
                )

        for unit in units.values():
            if not unit.needs_workstation():
                continue
            station = unit.workstations.order_by("pk").first()
            if station is None:
                station, _ = device_actions.create_workstation(
                    actor=ACTOR, unit=unit, name=f"{unit.short_name}采集工作站", location="值班室"
                )
            raw = demo_station_token(unit.code)
            if station.token_digest != token_digest(raw):
                device_actions.adopt_workstation_token(actor=ACTOR, station=station, raw=raw)
        if not Workstation.objects.filter(unit=units["350203000101"]).exists():
            raise RuntimeError("demo squad workstation missing")

        self.stdout.write(
            f"Demo ready: {Unit.objects.count()} units, {Person.objects.count()} people "
            f"({created} new), {Recorder.objects.count()} recorders, "
            f"{Workstation.objects.count()} workstations.\n"
            f"Demo password for every account: {DEMO_PASSWORD}\n"
            f"Demo station token: {DEMO_STATION_TOKEN}"
        )
