"""Fixity over time: re-hash stored objects on a rolling schedule (C6.5.3, C6.5.4).

``run_fixity_batch`` takes the objects checked longest ago (never-checked
first), re-reads each one through the store (SHA-256 and SM3 in one pass),
writes one ``FixityCheck`` per check and raises a ``FixityAlarm`` when a hash
or the size differs or the object is missing. The scheduled run takes only
objects that are due (never re-read since stored, or last checked more than
``FIXITY_PERIOD_DAYS`` ago), at most ``due_batch_size()`` a run: so every
object is re-read once a period, not once a run, and a backlog is worked off.

On S3 the check reads the version recorded at ingest and lists the key's
versions: one written after it (an overwrite with the application's key,
which Object Lock does not prevent, or a delete marker) raises the alarm and
names it, although every read still gets the recorded bytes (C6.5.3).

A problem already raised and not yet acknowledged is not raised again: each
check is recorded, the open alarm stands. Alarms are shown to administrators
and inspectors; an administrator acknowledging one (with a note) is audited and leaves the
alarm on record; a problem still found after that raises a new alarm.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.audit.chain import record
from jilu.evidence.models import FixityAlarm, FixityCheck, StoredObject, Tombstone
from jilu.evidence.store import get_store
from jilu.org.roles import Role

log = logging.getLogger(__name__)

ALARM_READERS = (Role.ADMIN, Role.INSPECTOR)


def period_days() -> int:
    return int(getattr(settings, "FIXITY_PERIOD_DAYS", 30))


def interval_minutes() -> int:
    return int(getattr(settings, "FIXITY_INTERVAL_MINUTES", 60))


def default_batch() -> int:
    return int(getattr(settings, "FIXITY_BATCH_SIZE", 200))


def due_queryset(now: datetime | None = None):
    """Objects due for a check: never re-read since they were stored, or last
    checked more than a period ago."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=period_days())
    # A tombstoned object was disposed of as approved (C5.6): nothing to re-read.
    return StoredObject.objects.filter(
        Q(last_fixity_at__isnull=True) | Q(last_fixity_at__lt=cutoff)
    ).exclude(pk__in=Tombstone.objects.values("pk"))


def due_batch_size() -> int:
    """How many due objects one scheduled batch may check: the configured batch
    size, or more when the store is so large that fewer would fall behind
    (total / runs per period), so a backlog is always worked off."""
    runs = max(1, period_days() * 24 * 60 // max(1, interval_minutes()))
    total = StoredObject.objects.count()
    return max(default_batch(), math.ceil(total / runs))


@dataclass
class BatchResult:
    checked: int = 0
    ok: int = 0
    alarms: int = 0
    seconds: float = 0.0


def _pin_unrecorded(store: Any, obj: StoredObject) -> str:
    """The version to check of an S3 object stored before versions were recorded:
    the first one written under its key (``original_version``). It is recorded
    for every later read once its bytes check out (see ``check_object``)."""
    if obj.version_id or store.kind != "s3":
        return obj.version_id
    return store.original_version(obj.sha256)


def _newer_problem(result: Any) -> str:
    """C6.5.3: a version written under the object's key after the recorded one.
    Reads keep to the recorded version; the alarm names what was written."""
    shown = "、".join(result.newer[:3]) + ("等" if len(result.newer) > 3 else "")
    return f"存储中该对象出现了新版本 {shown}（登记的版本为 {result.version}），有人以同一键覆盖或删除了它；播放与复制仍只读取登记的版本"


def _restored(store: Any, obj: StoredObject, version: str) -> Any:
    """C6.5.4: the recorded version of an S3 object is gone (removed by its
    VersionId) and the bytes were put back, e.g. from backup, as a new version.
    When the newest version has exactly the recorded SHA-256, SM3 and size, it
    is the same evidence: record it as the version to read, audited, and return
    its check; otherwise None (the object stays missing)."""
    newest = next((v for v in store.versions(obj.sha256) if not v["deleted"]), None)
    if newest is None or newest["id"] == version:
        return None
    again = store.verify(obj.sha256, version=newest["id"])
    if (again.sha256, again.sm3, again.size) != (obj.sha256, obj.sm3, obj.size):
        return None
    with transaction.atomic():
        StoredObject.objects.filter(pk=obj.pk).update(version_id=newest["id"])
        record(
            "evidence.fixity.repin",
            actor="system:fixity",
            obj=obj,
            details={"sha256": obj.sha256, "before": version, "version": newest["id"]},
        )
    log.warning("stored object %s restored as version %s", obj.sha256, newest["id"])
    return again


def check_object(obj: StoredObject, *, now: datetime | None = None) -> FixityCheck:
    """Re-hash one object (the version recorded at ingest, on S3), record the
    check and, on failure, the alarm; a newer version of its key is a failure."""
    store = get_store()
    began = time.monotonic()
    version = _pin_unrecorded(store, obj)
    result = store.verify(obj.sha256, version=version)
    if result.problem == "missing" and store.kind == "s3" and version:
        result = _restored(store, obj, version) or result
    seconds = time.monotonic() - began
    if version and not obj.version_id and result.ok:
        # Recorded once its bytes check out; from now on every read pins it.
        StoredObject.objects.filter(pk=obj.pk, version_id="").update(version_id=version)
    problems = []
    if result.problem == "missing":
        problems.append("对象缺失（存储中找不到）")
    else:
        if result.sha256 != obj.sha256:
            problems.append(f"SHA-256 不符：应为 {obj.sha256}，实为 {result.sha256}")
        if result.sm3 != obj.sm3:
            problems.append(f"SM3 不符：应为 {obj.sm3}，实为 {result.sm3}")
        if result.size != obj.size:
            problems.append(f"大小不符：应为 {obj.size} 字节，实为 {result.size} 字节")
    if result.newer:
        problems.append(_newer_problem(result))
    problem = "；".join(problems)[:300]
    checked_at = now or timezone.now()
    with transaction.atomic():
        check = FixityCheck.objects.create(
            stored_object=obj,
            checked_at=checked_at,
            ok=not problems,
            problem=problem,
            sha256_found=result.sha256,
            sm3_found=result.sm3,
            size_found=result.size if result.problem != "missing" else None,
            seconds=seconds,
        )
        StoredObject.objects.filter(pk=obj.pk).update(last_fixity_at=checked_at)
        already = (
            open_alarms().select_for_update().filter(stored_object=obj, problem=problem).exists()
        )
        if problems and not already:
            # C6.5.3 (altered) / C6.5.4 (lost): the alarm and its audit entry together.
            # The same problem still open raises nothing new: its check is recorded
            # above, and the open alarm stands until someone acknowledges it.
            alarm = FixityAlarm.objects.create(
                stored_object=obj, fixity_check=check, raised_at=checked_at, problem=problem
            )
            record(
                "evidence.fixity.alarm",
                actor="system:fixity",
                obj=alarm,
                details={"sha256": obj.sha256, "problem": problem, "check": check.pk},
            )
            log.error("fixity alarm for %s: %s", obj.sha256, problem)
    return check


HEX = "0123456789abcdef"


def share_q(part: int, parts: int) -> Q:
    """Objects of share ``part`` of ``parts`` (0-based), by the first hex digit of
    their SHA-256: uniformly spread, and disjoint between shares."""
    if not 1 <= parts <= len(HEX) or not 0 <= part < parts:
        raise ValueError(f"share {part} of {parts}: parts must be 1–16 and 0 <= part < parts")
    q = Q()
    for digit in HEX[part::parts]:
        q |= Q(sha256__startswith=digit)
    return q


def run_fixity_batch(
    limit: int | None = None,
    *,
    now: datetime | None = None,
    due_only: bool = False,
    part: int = 0,
    parts: int = 1,
) -> BatchResult:
    """Check up to ``limit`` objects, those checked longest ago (or never) first;
    with ``due_only`` (the scheduled run) only objects due for their periodic
    check, so each object is re-read about once a period, not once a run.

    Safe to run concurrently with itself: each object's check is independent,
    and a second runner at worst checks an object twice.
    """
    limit = default_batch() if limit is None else limit
    began = time.monotonic()
    result = BatchResult()
    candidates = due_queryset(now) if due_only else StoredObject.objects.all()
    if parts > 1:
        candidates = candidates.filter(share_q(part, parts))
    ordered = candidates.order_by(F("last_fixity_at").asc(nulls_first=True), "stored_at", "sha256")
    for obj in list(ordered[:limit]):
        check = check_object(obj, now=now)
        result.checked += 1
        if check.ok:
            result.ok += 1
        else:
            result.alarms += 1
    result.seconds = time.monotonic() - began
    return result


def open_alarms():
    return FixityAlarm.objects.filter(acknowledged_at__isnull=True)


def alarmed_objects():
    """Stored objects with an alarm nobody has acknowledged yet."""
    return open_alarms().values("stored_object")


def may_acknowledge_alarms(user: Any) -> bool:
    """Administrators act on alarms; inspectors see them and change nothing (C6.4)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.is_superuser or user.has_role(Role.ADMIN))
    )


def may_read_alarms(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.is_superuser or user.has_role(*ALARM_READERS))
    )


def acknowledge_alarm(*, actor: Any, alarm: FixityAlarm, note: str) -> FixityAlarm:
    """An administrator notes they have seen the alarm and what is done.

    The alarm stays on record; acknowledging twice is refused.
    """
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("请写明处理情况（例如已报告、已从备份恢复）")})
    if not may_acknowledge_alarms(actor):
        raise ValidationError(_("只有系统管理员可以确认固定性告警；督察可以查看"))
    with transaction.atomic():
        alarm = FixityAlarm.objects.select_for_update().get(pk=alarm.pk)
        if alarm.acknowledged_at is not None:
            raise ValidationError(_("这条告警已经确认过了"))
        alarm.acknowledged_at = timezone.now()
        alarm.acknowledged_by = actor
        alarm.note = note
        alarm.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
        record(
            "evidence.fixity.acknowledge",
            actor=actor,
            obj=alarm,
            details={"sha256": alarm.stored_object_id, "note": note},
        )
    return alarm
