"""Every state change of recorders and workstations: atomic, audited.

Access (who may call which action on which object) is decided by the caller
through ``restrict()``; the rules here are those of the equipment itself:
one responsible holder at a time (C1.3), readings a device can report (C1.4),
incidents that change what a recorder may be used for (C6.5.5–6).
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from jilu.audit.chain import record
from jilu.devices.models import DeviceEvent, Holding, Recorder, Workstation
from jilu.org.api_auth import token_digest
from jilu.org.models import Person, Unit

STATION_TOKEN_PREFIX = "jst_"

# How far ahead of the server clock a reported time may be (a station's or a
# browser's clock may run a little fast); anything later is a typing mistake.
FUTURE_TOLERANCE = timedelta(minutes=5)

# Incidents must say what happened (C6.5.5–6: damage and loss are held to account).
NOTE_REQUIRED = frozenset({DeviceEvent.Kind.FAULT, DeviceEvent.Kind.DAMAGE, DeviceEvent.Kind.LOSS})

# What an incident does to the recorder's status: kind -> (statuses it applies from, new status).
_STATUS_AFTER = {
    DeviceEvent.Kind.LOSS: (
        {Recorder.Status.IN_SERVICE, Recorder.Status.UNDER_REPAIR},
        Recorder.Status.LOST,
    ),
    DeviceEvent.Kind.FAULT: ({Recorder.Status.IN_SERVICE}, Recorder.Status.UNDER_REPAIR),
    DeviceEvent.Kind.DAMAGE: ({Recorder.Status.IN_SERVICE}, Recorder.Status.UNDER_REPAIR),
    DeviceEvent.Kind.REPAIR: ({Recorder.Status.UNDER_REPAIR}, Recorder.Status.IN_SERVICE),
    DeviceEvent.Kind.FOUND: ({Recorder.Status.LOST}, Recorder.Status.IN_SERVICE),
}


def _when(at: datetime | None, what: str) -> datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + FUTURE_TOLERANCE:
        local = timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
        raise ValidationError(f"{what}（{local}）晚于当前时间，请填写已经发生的时间")
    return at


# --- recorders ------------------------------------------------------------


@transaction.atomic
def register_recorder(
    *, actor: Any, serial: str, unit: Unit, vendor: str = "", model: str = ""
) -> Recorder:
    serial = (serial or "").strip().upper()
    if serial and Recorder.objects.filter(serial=serial).exists():
        raise ValidationError({"serial": f"产品序号 {serial} 已登记，不能重复登记"})
    if not unit.active:
        raise ValidationError({"unit": f"单位“{unit.name}”已停用，不能登记记录仪"})
    recorder = Recorder(serial=serial, unit=unit, vendor=vendor.strip(), model=model.strip())
    recorder.full_clean()
    try:
        with transaction.atomic():
            recorder.save()
    except IntegrityError:
        raise ValidationError({"serial": f"产品序号 {serial} 已登记，不能重复登记"}) from None
    record(
        "devices.recorder.register",
        actor=actor,
        obj=recorder,
        details={
            "serial": recorder.serial,
            "unit": unit.code,
            "vendor": recorder.vendor,
            "model": recorder.model,
        },
    )
    return recorder


@transaction.atomic
def issue_recorder(
    *, actor: Any, recorder: Recorder, person: Person, at: datetime | None = None, note: str = ""
) -> Holding:
    """Make ``person`` the responsible holder from ``at`` (C1.3: 谁使用、谁保管、谁负责).

    Refused while someone else holds it, when it is not in service, when the
    person is not in the recorder's unit or its subunits, and when ``at`` lies
    before the end of the previous holding (history never overlaps).
    """
    at = _when(at, "配发时间")
    recorder = Recorder.objects.select_for_update().get(pk=recorder.pk)
    if recorder.status != Recorder.Status.IN_SERVICE:
        raise ValidationError(
            f"记录仪 {recorder.serial} 当前状态为“{recorder.get_status_display()}”，不能配发"
        )
    current = (
        Holding.objects.filter(recorder=recorder, ended_at__isnull=True)
        .select_related("person")
        .first()
    )
    if current is not None:
        raise ValidationError(
            f"记录仪 {recorder.serial} 已由 {current.person.name} 持有，请先办理归还"
        )
    if not person.is_active:
        raise ValidationError(f"{person.name} 不在岗，不能配发")
    if person.unit_id is None or not person.unit.path.startswith(recorder.unit.path):
        raise ValidationError(
            f"{person.name} 不属于记录仪所属单位“{recorder.unit.name}”及其下级单位，不能配发"
        )
    last = (
        Holding.objects.filter(recorder=recorder, ended_at__isnull=False)
        .order_by("-ended_at")
        .first()
    )
    if last is not None and last.ended_at > at:
        ended = timezone.localtime(last.ended_at).strftime("%Y-%m-%d %H:%M:%S")
        raise ValidationError(f"配发时间早于上一次归还时间（{ended}），持有记录不能重叠")
    try:
        with transaction.atomic():
            holding = Holding.objects.create(
                recorder=recorder,
                person=person,
                started_at=at,
                issued_by=_person(actor),
                note=note.strip(),
            )
    except IntegrityError:
        # C1.3 at the database level: the partial unique index refused a second holder.
        raise ValidationError(f"记录仪 {recorder.serial} 已有持有人，请刷新后重试") from None
    record(
        "devices.recorder.issue",
        actor=actor,
        obj=recorder,
        details={
            "serial": recorder.serial,
            "person": person.pk,
            "person_name": person.name,
            "user_no": person.user_no,
            "at": at.isoformat(),
            "note": holding.note,
        },
    )
    return holding


@transaction.atomic
def return_recorder(
    *, actor: Any, recorder: Recorder, at: datetime | None = None, note: str = ""
) -> Holding:
    """End the current holding at ``at`` (C1.3); the returned-to person is the actor."""
    at = _when(at, "归还时间")
    recorder = Recorder.objects.select_for_update().get(pk=recorder.pk)
    holding = (
        Holding.objects.select_for_update().filter(recorder=recorder, ended_at__isnull=True).first()
    )
    if holding is None:
        raise ValidationError(f"记录仪 {recorder.serial} 当前无人持有，无需归还")
    if at < holding.started_at:
        started = timezone.localtime(holding.started_at).strftime("%Y-%m-%d %H:%M:%S")
        raise ValidationError(f"归还时间早于配发时间（{started}）")
    holding.ended_at = at
    holding.returned_to = _person(actor)
    note = note.strip()
    if note:
        holding.note = (f"{holding.note}；{note}" if holding.note else note)[:200]
    holding.save(update_fields=["ended_at", "returned_to", "note"])
    record(
        "devices.recorder.return",
        actor=actor,
        obj=recorder,
        details={
            "serial": recorder.serial,
            "person": holding.person_id,
            "at": at.isoformat(),
            "note": note,
        },
    )
    return holding


@transaction.atomic
def set_recorder_status(*, actor: Any, recorder: Recorder, status: str, note: str = "") -> Recorder:
    """Status rules: retired is final; a recorder is retired only once returned.

    A lost or broken recorder keeps its holder: they answer for it (C1.3, C6.5.6).
    """
    recorder = Recorder.objects.select_for_update().get(pk=recorder.pk)
    if status not in Recorder.Status.values:
        raise ValidationError(f"未知状态：{status}")
    old = recorder.status
    if old == status:
        return recorder
    if old == Recorder.Status.RETIRED:
        raise ValidationError("已报废的记录仪不能再改变状态")
    if status == Recorder.Status.RETIRED:
        current = (
            Holding.objects.filter(recorder=recorder, ended_at__isnull=True)
            .select_related("person")
            .first()
        )
        if current is not None:
            raise ValidationError(f"请先由 {current.person.name} 归还再报废")
    recorder.status = status
    recorder.save(update_fields=["status"])
    record(
        "devices.recorder.status",
        actor=actor,
        obj=recorder,
        details={"serial": recorder.serial, "from": old, "to": status, "note": note},
    )
    return recorder


# --- checks and incidents -------------------------------------------------


def _check_readings(
    *,
    battery_pct: int | None = None,
    storage_free_bytes: int | None = None,
    storage_total_bytes: int | None = None,
    clock_offset_seconds: float | None = None,
) -> None:
    """C1.4: readings a device can actually report."""
    if battery_pct is not None and not 0 <= battery_pct <= 100:
        raise ValidationError({"battery_pct": f"电量应在 0 到 100 之间，收到 {battery_pct}"})
    if storage_free_bytes is not None and storage_free_bytes < 0:
        raise ValidationError({"storage_free_bytes": "剩余存储不能为负数"})
    if storage_total_bytes is not None and storage_total_bytes <= 0:
        raise ValidationError({"storage_total_bytes": "总存储必须大于 0"})
    if (
        storage_free_bytes is not None
        and storage_total_bytes is not None
        and storage_free_bytes > storage_total_bytes
    ):
        raise ValidationError({"storage_free_bytes": "剩余存储不能大于总存储"})
    if clock_offset_seconds is not None and not math.isfinite(clock_offset_seconds):
        raise ValidationError({"clock_offset_seconds": "时钟偏差必须是有限的秒数"})


def _new_event(
    *,
    actor: Any,
    recorder: Recorder,
    kind: str,
    at: datetime,
    workstation: Workstation | None,
    note: str,
    **readings: Any,
) -> DeviceEvent:
    event = DeviceEvent(
        recorder=recorder,
        kind=kind,
        at=at,
        reported_by=_person(actor),
        workstation=workstation,
        note=note,
        **readings,
    )
    event.full_clean()
    event.save()
    return event


@transaction.atomic
def record_device_event(
    *,
    actor: Any,
    recorder: Recorder,
    kind: str,
    at: datetime | None = None,
    workstation: Workstation | None = None,
    note: str = "",
    **readings: Any,
) -> DeviceEvent:
    """A check (C1.4: battery, storage, clock) or an incident (C6.5.5–6: fault, damage, loss).

    Incidents move the recorder's status: a loss makes it lost, a fault or
    damage sends it for repair, a repair or a find puts it back in service.
    """
    if kind not in DeviceEvent.Kind.values:
        raise ValidationError(f"未知事件类型：{kind}")
    kind = DeviceEvent.Kind(kind)
    at = _when(at, "事件时间")
    note = (note or "").strip()
    _check_readings(**readings)
    required = {
        DeviceEvent.Kind.BATTERY: ("battery_pct", "电量检查需要填写电量"),
        DeviceEvent.Kind.STORAGE: ("storage_free_bytes", "存储检查需要填写剩余存储"),
        DeviceEvent.Kind.CLOCK: ("clock_offset_seconds", "时钟检查需要填写时钟偏差"),
    }.get(kind)
    if required and readings.get(required[0]) is None:
        raise ValidationError({required[0]: required[1]})
    if kind in NOTE_REQUIRED and not note:
        raise ValidationError({"note": f"登记“{kind.label}”必须说明经过（时间、地点、原因）"})
    event = _new_event(
        actor=actor,
        recorder=recorder,
        kind=kind,
        at=at,
        workstation=workstation,
        note=note,
        **readings,
    )
    record(
        f"devices.event.{kind.value}",
        actor=actor,
        obj=recorder,
        details={
            "event": event.pk,
            "serial": recorder.serial,
            "at": at.isoformat(),
            "workstation": workstation.pk if workstation else None,
            "note": note,
            **{k: v for k, v in readings.items() if v is not None},
        },
    )
    change = _STATUS_AFTER.get(kind)
    if change is not None:
        current = Recorder.objects.get(pk=recorder.pk)
        from_statuses, new_status = change
        if current.status in from_statuses:
            with translation.override("zh-hans"):  # a stored record, in the ledger's language
                reason = f"{kind.label}：{note}"
            set_recorder_status(actor=actor, recorder=current, status=new_status, note=reason)
        recorder.status = Recorder.objects.values_list("status", flat=True).get(pk=recorder.pk)
    return event


@transaction.atomic
def record_check(
    *,
    actor: Any,
    recorder: Recorder,
    at: datetime | None = None,
    workstation: Workstation | None = None,
    battery_pct: int | None = None,
    storage_free_bytes: int | None = None,
    storage_total_bytes: int | None = None,
    clock_offset_seconds: float | None = None,
    note: str = "",
) -> list[DeviceEvent]:
    """One check of a recorder (C1.4), by its holder or by a station at docking.

    Each reading given becomes one event (battery, storage, clock); at least
    one reading is needed. One audit row covers the whole check.
    """
    at = _when(at, "检查时间")
    note = (note or "").strip()
    _check_readings(
        battery_pct=battery_pct,
        storage_free_bytes=storage_free_bytes,
        storage_total_bytes=storage_total_bytes,
        clock_offset_seconds=clock_offset_seconds,
    )
    if storage_total_bytes is not None and storage_free_bytes is None:
        raise ValidationError({"storage_free_bytes": "填写了总存储时也要填写剩余存储"})
    wanted: list[tuple[str, dict[str, Any]]] = []
    if battery_pct is not None:
        wanted.append((DeviceEvent.Kind.BATTERY, {"battery_pct": battery_pct}))
    if storage_free_bytes is not None:
        wanted.append(
            (
                DeviceEvent.Kind.STORAGE,
                {
                    "storage_free_bytes": storage_free_bytes,
                    "storage_total_bytes": storage_total_bytes,
                },
            )
        )
    if clock_offset_seconds is not None:
        wanted.append((DeviceEvent.Kind.CLOCK, {"clock_offset_seconds": clock_offset_seconds}))
    if not wanted:
        raise ValidationError("请至少填写一项检查结果：电量、剩余存储或时钟偏差")
    events = [
        _new_event(
            actor=actor,
            recorder=recorder,
            kind=kind,
            at=at,
            workstation=workstation,
            note=note,
            **values,
        )
        for kind, values in wanted
    ]
    record(
        "devices.recorder.check",
        actor=actor,
        obj=recorder,
        details={
            "serial": recorder.serial,
            "events": [e.pk for e in events],
            "at": at.isoformat(),
            "workstation": workstation.pk if workstation else None,
            "battery_pct": battery_pct,
            "storage_free_bytes": storage_free_bytes,
            "storage_total_bytes": storage_total_bytes,
            "clock_offset_seconds": clock_offset_seconds,
            "note": note,
        },
    )
    return events


# --- workstations ---------------------------------------------------------


def _new_token() -> tuple[str, str, str]:
    raw = STATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return raw, token_digest(raw), raw[: len(STATION_TOKEN_PREFIX) + 4]


@transaction.atomic
def create_workstation(
    *, actor: Any, unit: Unit, name: str, location: str = ""
) -> tuple[Workstation, str]:
    """Register a workstation (C1.2); returns it and its bearer token, shown this once."""
    name = (name or "").strip()
    if not unit.active:
        raise ValidationError({"unit": f"单位“{unit.name}”已停用，不能登记工作站"})
    if name and Workstation.objects.filter(unit=unit, name=name, revoked_at__isnull=True).exists():
        raise ValidationError({"name": f"“{unit.name}”已有名为“{name}”的在用工作站，请换一个名称"})
    raw, digest, prefix = _new_token()
    station = Workstation(
        unit=unit,
        name=name,
        location=(location or "").strip(),
        token_digest=digest,
        token_prefix=prefix,
    )
    station.full_clean()
    station.save()
    record(
        "devices.workstation.create",
        actor=actor,
        obj=station,
        details={"unit": unit.code, "name": name, "token_prefix": station.token_prefix},
    )
    return station, raw


@transaction.atomic
def reissue_workstation_token(*, actor: Any, station: Workstation) -> tuple[Workstation, str]:
    """Replace an active station's token (e.g. it leaked): the old one stops working now."""
    station = Workstation.objects.select_for_update().get(pk=station.pk)
    if station.revoked_at is not None:
        raise ValidationError(f"工作站“{station.name}”已吊销，不能重新生成令牌；请登记新的工作站")
    old_prefix = station.token_prefix
    raw, station.token_digest, station.token_prefix = _new_token()
    station.save(update_fields=["token_digest", "token_prefix"])
    record(
        "devices.workstation.reissue",
        actor=actor,
        obj=station,
        details={
            "name": station.name,
            "old_prefix": old_prefix,
            "token_prefix": station.token_prefix,
        },
    )
    return station, raw


@transaction.atomic
def adopt_workstation_token(*, actor: Any, station: Workstation, raw: str) -> Workstation:
    """Set a known token (the demo's documented one); the digest alone is kept."""
    station = Workstation.objects.select_for_update().get(pk=station.pk)
    station.token_digest = token_digest(raw)
    station.token_prefix = raw[: len(STATION_TOKEN_PREFIX) + 4]
    station.revoked_at = None
    station.save(update_fields=["token_digest", "token_prefix", "revoked_at"])
    record(
        "devices.workstation.token",
        actor=actor,
        obj=station,
        details={"token_prefix": station.token_prefix},
    )
    return station


@transaction.atomic
def revoke_workstation(*, actor: Any, station: Workstation) -> Workstation:
    station = Workstation.objects.select_for_update().get(pk=station.pk)
    if station.revoked_at is not None:
        raise ValidationError(f"工作站“{station.name}”的令牌已经吊销")
    station.revoked_at = timezone.now()
    station.save(update_fields=["revoked_at"])
    record(
        "devices.workstation.revoke",
        actor=actor,
        obj=station,
        details={"name": station.name, "token_prefix": station.token_prefix},
    )
    return station


def station_for_token(raw: str, ip: str | None = None) -> Workstation | None:
    """The active workstation a bearer token belongs to; notes when it was last seen."""
    if not raw or not raw.startswith(STATION_TOKEN_PREFIX):
        return None
    station = (
        Workstation.objects.select_related("unit")
        .filter(token_digest=token_digest(raw), revoked_at__isnull=True)
        .first()
    )
    if station is not None:
        note_station_seen(station, ip=ip)
    return station


def note_station_seen(station: Workstation, *, ip: str | None = None) -> None:
    """Telemetry, not a change anyone made: last seen time and address, no audit row.

    Written at most once a minute per station unless the address changed.
    """
    now = timezone.now()
    stale = station.last_seen_at is None or (now - station.last_seen_at).total_seconds() > 60
    moved = ip is not None and ip != station.last_seen_ip
    if not (stale or moved):
        return
    fields: dict[str, Any] = {"last_seen_at": now}
    if ip is not None:
        fields["last_seen_ip"] = ip
    Workstation.objects.filter(pk=station.pk).update(**fields)
    for key, value in fields.items():
        setattr(station, key, value)


def _person(actor: Any) -> Person | None:
    return actor if isinstance(actor, Person) else None
