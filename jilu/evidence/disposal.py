"""Removing stored objects for good, the one deletion there is (C5.6).

Only a retention disposal that two people approved calls this (``jilu.retention``
decides what may go and who approved). For each object a ``Tombstone`` is written
and audited first, in one transaction; the bytes are deleted from the store once
that has committed, every version of them. A deletion the store refuses (Object
Lock before retain-until) or that fails leaves the tombstone with
``store_deleted_at`` empty, and ``delete_pending`` tries again: never bytes
gone without a tombstone, never a tombstone taken for a deletion that did not
happen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jilu.audit.chain import record
from jilu.evidence.models import StoredObject, Tombstone
from jilu.evidence.store import ObjectRetained, StoreError, get_store

log = logging.getLogger(__name__)


@dataclass
class ObjectToDispose:
    stored: StoredObject
    names: list[str]
    recording_ids: list[int] = field(default_factory=list)


def is_tombstoned(sha256: str) -> bool:
    return Tombstone.objects.filter(pk=sha256).exists()


def tombstoned_keys() -> Any:
    return Tombstone.objects.values("pk")


@transaction.atomic
def write_tombstones(
    *,
    actor: Any,
    objects: list[ObjectToDispose],
    rule: str,
    clause: str,
    reason: str,
    approved_by: list[str],
    approved_at: datetime,
    disposal_ref: str,
) -> list[Tombstone]:
    """The tombstones of ``objects``, audited; the store deletion follows on commit."""
    made = []
    for item in objects:
        obj = item.stored
        tomb, created = Tombstone.objects.get_or_create(
            sha256=obj.sha256,
            defaults={
                "sm3": obj.sm3,
                "size": obj.size,
                "names": item.names,
                "recording_ids": item.recording_ids,
                "rule": rule,
                "clause": clause,
                "reason": reason[:300],
                "approved_by": approved_by,
                "approved_at": approved_at,
                "disposal_ref": disposal_ref,
            },
        )
        if created:
            record(
                "evidence.object.dispose",
                actor=actor,
                obj=obj,
                details={
                    "sha256": obj.sha256,
                    "sm3": obj.sm3,
                    "size": obj.size,
                    "names": item.names,
                    "recordings": item.recording_ids,
                    "rule": rule,
                    "clause": clause,
                    "approved_by": approved_by,
                    "approved_at": approved_at.isoformat(),
                    "disposal": disposal_ref,
                },
            )
        made.append(tomb)
    keys = [t.sha256 for t in made]
    transaction.on_commit(lambda: delete_pending(keys), robust=True)
    return made


def delete_pending(keys: list[str] | None = None) -> dict[str, str]:
    """Delete from the store the bytes of tombstoned objects not yet deleted;
    returns what happened to each (``deleted``, or why not)."""
    store = get_store()
    pending = Tombstone.objects.filter(store_deleted_at__isnull=True)
    if keys is not None:
        pending = pending.filter(pk__in=keys)
    outcome: dict[str, str] = {}
    for tomb in pending:
        try:
            removed = store.delete(tomb.sha256)
        except ObjectRetained as exc:
            outcome[tomb.sha256] = f"retained: {exc}"
            log.warning("disposal of %s waits for its retain-until: %s", tomb.sha256, exc)
            continue
        except StoreError as exc:
            outcome[tomb.sha256] = f"failed: {exc}"
            log.error("could not delete disposed object %s: %s", tomb.sha256, exc)
            continue
        Tombstone.objects.filter(pk=tomb.pk, store_deleted_at__isnull=True).update(
            store_deleted_at=timezone.now(),
            store_versions_deleted=F("store_versions_deleted") + removed,
        )
        outcome[tomb.sha256] = "deleted"
    return outcome
