"""Resolving quarantine (administrators): attribute by hand, register the
unknown recorder and attribute its files, or close an item.

One function per change, ``transaction.atomic``, keyword-only ``actor``, the
audit row in the same transaction. Callers import these through
:mod:`jilu.ingest.actions`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jilu.audit.chain import record
from jilu.devices import actions as device_actions
from jilu.devices.models import Recorder
from jilu.devices.queries import holder_at
from jilu.evidence.models import Recording
from jilu.ingest import naming
from jilu.ingest.attribution import make_recording
from jilu.ingest.models import QuarantineItem
from jilu.org.models import Person, Unit


def _person(actor: Any) -> Person | None:
    return actor if isinstance(actor, Person) else None


# --- resolving quarantine (administrators) --------------------------------


def _open_item(item: QuarantineItem) -> QuarantineItem:
    item = (
        QuarantineItem.objects.select_for_update(of=("self",))
        .select_related("docking", "station", "stored_object")
        .get(pk=item.pk)
    )
    if not item.is_open:
        raise ValidationError(
            f"该文件已于 {timezone.localtime(item.resolved_at):%Y-%m-%d %H:%M} 处理"
        )
    return item


@transaction.atomic
def attribute_quarantined(
    *,
    actor: Person,
    item: QuarantineItem,
    recorder: Recorder,
    officer: Person | None = None,
    started_at: datetime | None = None,
    kind: str | None = None,
    note: str = "",
    resolution: str = QuarantineItem.Resolution.ATTRIBUTED,
) -> Recording:
    """Attribute a quarantined file by hand to ``recorder`` (and ``officer``).

    ``started_at`` is the true start time when the administrator gives it;
    otherwise the file name's time corrected by the docking's clock offset.
    The officer defaults to the holder history's (C1.3); naming another, or
    a name whose user number differs, sets the mismatch flag.
    """
    item = _open_item(item)
    if item.size == 0:
        raise ValidationError("零字节文件没有任何内容，不能作为声像记录；请核实后结案")
    parsed = naming.parse(item.original_name)
    docking = item.docking
    offset = docking.clock_offset_seconds if docking is not None else None
    if started_at is None:
        if parsed is None:
            raise ValidationError("文件名中没有录制时间，请填写录制开始时间")
        started_at = parsed.corrected_start(offset)
    else:
        offset = None  # the administrator gave the true time
    if started_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError("录制开始时间晚于当前时间，请核对")
    from_history = holder_at(recorder, started_at)
    officer = officer or from_history
    user_no_in_name = parsed.user_no if parsed else ""
    mismatch = (
        officer is None
        or officer != from_history
        or bool(user_no_in_name and user_no_in_name != (officer.user_no or "").upper())
    )
    note = (note or "").strip()
    recording, created = make_recording(
        actor=actor,
        stored=item.stored_object,
        recorder=recorder,
        officer=officer,
        user_no_in_name=user_no_in_name,
        user_no_mismatch=mismatch,
        kind=kind or (parsed.kind if parsed else naming.kind_for(item.original_name)),
        original_name=item.original_name,
        name_start_local=parsed.start_local if parsed else None,
        clock_offset_seconds=offset,
        started_at=started_at,
        station=item.station,
        docking=docking,
        docked_at=docking.started_at if docking is not None else item.created_at,
        via="quarantine",
    )
    item.resolved_at = timezone.now()
    item.resolved_by = _person(actor)
    item.resolution = resolution
    item.resolution_note = note
    item.recording = recording
    item.save(
        update_fields=["resolved_at", "resolved_by", "resolution", "resolution_note", "recording"]
    )
    record(
        "ingest.quarantine.attribute",
        actor=actor,
        obj=item,
        details={
            "reason": item.reason,
            "resolution": resolution,
            "recording": recording.pk,
            "recording_created": created,
            "recorder": recorder.serial,
            "officer": officer.pk if officer else None,
            "holder_from_history": from_history.pk if from_history else None,
            "started_at": started_at.isoformat(),
            "note": note,
        },
    )
    return recording


@transaction.atomic
def register_and_attribute(
    *,
    actor: Person,
    item: QuarantineItem,
    unit: Unit,
    vendor: str = "",
    model: str = "",
    holder: Person | None = None,
    holder_since: datetime | None = None,
    note: str = "",
) -> list[Recording]:
    """Register the unknown recorder a file names, then attribute every open
    unknown-serial file of that serial (C1.3: with ``holder`` as its holder
    from ``holder_since``, by default the earliest of those files' start)."""
    item = _open_item(item)
    parsed = naming.parse(item.original_name)
    if item.reason != QuarantineItem.Reason.UNKNOWN_SERIAL or parsed is None:
        raise ValidationError("只有“未登记的记录仪序号”的文件可以通过登记记录仪来归属")
    serial = parsed.serial
    pending = list(
        QuarantineItem.objects.select_for_update(of=("self",))
        .filter(
            reason=QuarantineItem.Reason.UNKNOWN_SERIAL, serial=serial, resolved_at__isnull=True
        )
        .select_related("docking", "stored_object")
        .order_by("created_at")
    )
    recorder = device_actions.register_recorder(
        actor=actor, serial=serial, unit=unit, vendor=vendor, model=model
    )
    if holder is not None:
        if holder_since is None:
            starts = []
            for other in pending:
                p = naming.parse(other.original_name)
                if p is not None:
                    off = other.docking.clock_offset_seconds if other.docking else None
                    starts.append(p.corrected_start(off))
            holder_since = min(starts) if starts else timezone.now()
        device_actions.issue_recorder(
            actor=actor,
            recorder=recorder,
            person=holder,
            at=holder_since,
            note=f"登记待处理文件的记录仪时配发；{note}".rstrip("；"),
        )
    recordings = [
        attribute_quarantined(
            actor=actor,
            item=other,
            recorder=recorder,
            note=note,
            resolution=QuarantineItem.Resolution.REGISTERED,
        )
        for other in pending
    ]
    return recordings


@transaction.atomic
def close_quarantined(*, actor: Person, item: QuarantineItem, note: str) -> QuarantineItem:
    """Close an item without making it a recording (e.g. a zero-byte file); the bytes stay."""
    item = _open_item(item)
    note = (note or "").strip()
    if not note:
        raise ValidationError("结案必须说明核实情况")
    item.resolved_at = timezone.now()
    item.resolved_by = _person(actor)
    item.resolution = QuarantineItem.Resolution.CLOSED
    item.resolution_note = note
    item.save(update_fields=["resolved_at", "resolved_by", "resolution", "resolution_note"])
    record(
        "ingest.quarantine.close",
        actor=actor,
        obj=item,
        details={"reason": item.reason, "sha256": item.sha256, "note": note},
    )
    return item
