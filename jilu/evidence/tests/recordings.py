"""Making recordings in tests with the ORM (stored bytes, recorder, holder)."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, timedelta

from jilu.devices import actions as devices
from jilu.evidence.actions import store_object
from jilu.evidence.models import MediaInfo, Recording

_counter = itertools.count(1)


def recorder_for(person, unit, serial: str, *, at: datetime | None = None):
    recorder = devices.register_recorder(actor="system:test", serial=serial, unit=unit)
    devices.issue_recorder(
        actor="system:test",
        recorder=recorder,
        person=person,
        at=at or datetime(2026, 1, 1, tzinfo=UTC),
    )
    return recorder


def make_recording(
    *,
    officer,
    recorder,
    start: datetime,
    seconds: float | None = 60,
    data: bytes | None = None,
    kind: str = "video",
    name: str | None = None,
    docked_at: datetime | None = None,
    integrity: str | None = None,
    browser_playable: bool = True,
    station=None,
    docking=None,
) -> Recording:
    n = next(_counter)
    if data is None:
        data = f"recording {n} ".encode() * 500
    obj = store_object(actor="system:test", stream=io.BytesIO(data))
    ext = {"video": "MP4", "audio": "WAV", "photo": "JPG"}.get(kind, "BIN")
    name = name or f"{recorder.serial}_{officer.user_no}_{start:%Y%m%d%H%M%S}_{n:04d}.{ext}"
    rec = Recording.objects.create(
        stored_object=obj,
        recorder=recorder,
        officer=officer,
        kind=kind,
        original_name=name,
        name_start_local=start,
        clock_offset_seconds=0.0,
        started_at=start,
        ended_at=start + timedelta(seconds=seconds) if seconds is not None else None,
        size=obj.size,
        sha256=obj.sha256,
        sm3=obj.sm3,
        station=station,
        docking=docking,
        docked_at=docked_at or start + timedelta(hours=3),
        collected_within_24h=(docked_at or start + timedelta(hours=3)) - start
        <= timedelta(hours=24),
    )
    if integrity:
        MediaInfo.objects.create(
            recording=rec,
            integrity=integrity,
            browser_playable=browser_playable,
            duration_seconds=seconds,
            integrity_reason="" if integrity == "complete" else "缺少索引（moov）",
        )
    return rec


def officers_recording(people, tree, *, start: datetime, data: bytes, **kwargs) -> Recording:
    """The usual subject of a test: the squad 1 officer's recording on recorder A000001."""
    recorder = recorder_for(people["officer"], tree["squad1"], "A000001")
    kwargs.setdefault("name", "DCIM/A000001_900001_20261120090000_0001.MP4")
    return make_recording(
        officer=people["officer"], recorder=recorder, start=start, data=data, **kwargs
    )


def audit_entries(action: str, rec) -> list:
    """The recording's audit entries ``evidence.recording.<action>``, in order."""
    from jilu.audit.models import AuditEntry

    return list(
        AuditEntry.objects.filter(
            action=f"evidence.recording.{action}", object_id=str(rec.pk)
        ).order_by("seq")
    )
