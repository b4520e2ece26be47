"""Every state change of recorders and workstations: atomic, audited."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jilu.api_auth import token_digest
from jilu.audit.chain import record
from jilu.devices.models import DeviceEvent, Holding, Recorder, Workstation
from jilu.org.models import Person, Unit

STATION_TOKEN_PREFIX = "jst_"


@transaction.atomic
def register_recorder(
    *, actor: Any, serial: str, unit: Unit, vendor: str = "", model: str = ""
) -> Recorder:
    recorder = Recorder(serial=serial.strip().upper(), unit=unit, vendor=vendor, model=model)
    recorder.full_clean()
    recorder.save()
    record(
        "devices.recorder.register",
        actor=actor,
        obj=recorder,
        details={"serial": recorder.serial, "unit": unit.code, "vendor": vendor, "model": model},
    )
    return recorder


@transaction.atomic
def issue_recorder(
    *, actor: Any, recorder: Recorder, person: Person, at: datetime | None = None, note: str = ""
) -> Holding:
    """Make ``person`` the responsible holder from ``at`` (C1.3: 谁使用、谁保管、谁负责)."""
    at = at or timezone.now()
    recorder = Recorder.objects.select_for_update().get(pk=recorder.pk)
    if recorder.status != Recorder.Status.IN_SERVICE:
        raise ValidationError(
            f"记录仪 {recorder.serial} 当前状态为“{recorder.get_status_display()}”，不能配发"
        )
    current = Holding.objects.filter(recorder=recorder, ended_at__isnull=True).first()
    if current is not None:
        raise ValidationError(
            f"记录仪 {recorder.serial} 已由 {current.person.name} 持有，请先办理归还"
        )
    last = Holding.objects.filter(recorder=recorder).order_by("-ended_at").first()
    if last is not None and last.ended_at and last.ended_at > at:
        raise ValidationError("配发时间早于上一次归还时间")
    if not person.is_active:
        raise ValidationError(f"{person.name} 不在岗，不能配发")
    try:
        with transaction.atomic():
            holding = Holding.objects.create(
                recorder=recorder, person=person, started_at=at, issued_by=_person(actor), note=note
            )
    except IntegrityError:
        raise ValidationError(f"记录仪 {recorder.serial} 已有持有人") from None
    record(
        "devices.recorder.issue",
        actor=actor,
        obj=recorder,
        details={"serial": recorder.serial, "person": person.pk, "person_name": person.name,
                 "user_no": person.user_no, "at": at.isoformat()},
    )
    return holding


@transaction.atomic
def return_recorder(
    *, actor: Any, recorder: Recorder, at: datetime | None = None, note: str = ""
) -> Holding:
    at = at or timezone.now()
    recorder = Recorder.objects.select_for_update().get(pk=recorder.pk)
    holding = Holding.objects.filter(recorder=recorder, ended_at__isnull=True).first()
    if holding is None:
        raise ValidationError(f"记录仪 {recorder.serial} 当前无人持有")
    if at < holding.started_at:
        raise ValidationError("归还时间早于配发时间")
    holding.ended_at = at
    holding.returned_to = _person(actor)
    if note:
        holding.note = f"{holding.note}；{note}" if holding.note else note
    holding.save(update_fields=["ended_at", "returned_to", "note"])
    record(
        "devices.recorder.return",
        actor=actor,
        obj=recorder,
        details={"serial": recorder.serial, "person": holding.person_id, "at": at.isoformat()},
    )
    return holding


@transaction.atomic
def set_recorder_status(*, actor: Any, recorder: Recorder, status: str, note: str = "") -> Recorder:
    recorder = Recorder.objects.select_for_update().get(pk=recorder.pk)
    if status not in Recorder.Status.values:
        raise ValidationError(f"未知状态：{status}")
    old = recorder.status
    if old == status:
        return recorder
    if old == Recorder.Status.RETIRED:
        raise ValidationError("已报废的记录仪不能再改变状态")
    if status != Recorder.Status.IN_SERVICE:
        current = Holding.objects.filter(recorder=recorder, ended_at__isnull=True).first()
        if current is not None and status == Recorder.Status.RETIRED:
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


# Incidents that change the recorder's status as they are recorded.
_STATUS_AFTER = {
    DeviceEvent.Kind.LOSS: Recorder.Status.LOST,
    DeviceEvent.Kind.FAULT: Recorder.Status.UNDER_REPAIR,
    DeviceEvent.Kind.DAMAGE: Recorder.Status.UNDER_REPAIR,
    DeviceEvent.Kind.REPAIR: Recorder.Status.IN_SERVICE,
    DeviceEvent.Kind.FOUND: Recorder.Status.IN_SERVICE,
}


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
    """A check (C1.4: battery, storage, clock) or an incident (C6.5.5–6: fault, damage, loss)."""
    if kind not in DeviceEvent.Kind.values:
        raise ValidationError(f"未知事件类型：{kind}")
    at = at or timezone.now()
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
    record(
        f"devices.event.{kind}",
        actor=actor,
        obj=recorder,
        details={"event": event.pk, "serial": recorder.serial, "note": note,
                 **{k: v for k, v in readings.items() if v is not None}},
    )
    new_status = _STATUS_AFTER.get(DeviceEvent.Kind(kind))
    if new_status and recorder.status not in (new_status, Recorder.Status.RETIRED):
        set_recorder_status(actor=actor, recorder=recorder, status=new_status, note=note)
    return event


@transaction.atomic
def create_workstation(
    *, actor: Any, unit: Unit, name: str, location: str = ""
) -> tuple[Workstation, str]:
    """Register a workstation; returns it and its bearer token, shown this once."""
    raw = STATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    station = Workstation(
        unit=unit, name=name, location=location, token_digest=token_digest(raw),
        token_prefix=raw[: len(STATION_TOKEN_PREFIX) + 4],
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
def adopt_workstation_token(*, actor: Any, station: Workstation, raw: str) -> Workstation:
    """Set a known token (the demo's documented one); the digest alone is kept."""
    station = Workstation.objects.select_for_update().get(pk=station.pk)
    station.token_digest = token_digest(raw)
    station.token_prefix = raw[: len(STATION_TOKEN_PREFIX) + 4]
    station.revoked_at = None
    station.save(update_fields=["token_digest", "token_prefix", "revoked_at"])
    record("devices.workstation.token", actor=actor, obj=station,
           details={"token_prefix": station.token_prefix})
    return station


@transaction.atomic
def revoke_workstation(*, actor: Any, station: Workstation) -> Workstation:
    station = Workstation.objects.select_for_update().get(pk=station.pk)
    if station.revoked_at is not None:
        raise ValidationError(f"工作站“{station.name}”的令牌已经吊销")
    station.revoked_at = timezone.now()
    station.save(update_fields=["revoked_at"])
    record("devices.workstation.revoke", actor=actor, obj=station, details={"name": station.name})
    return station


def station_for_token(raw: str) -> Workstation | None:
    """The active workstation a bearer token belongs to; notes when it was last seen."""
    if not raw.startswith(STATION_TOKEN_PREFIX):
        return None
    station = (
        Workstation.objects.select_related("unit")
        .filter(token_digest=token_digest(raw), revoked_at__isnull=True)
        .first()
    )
    if station is not None:
        now = timezone.now()
        if station.last_seen_at is None or (now - station.last_seen_at).total_seconds() > 60:
            Workstation.objects.filter(pk=station.pk).update(last_seen_at=now)
            station.last_seen_at = now
    return station


def _person(actor: Any) -> Person | None:
    return actor if isinstance(actor, Person) else None
