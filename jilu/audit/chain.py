"""Writing and checking the audit chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from jilu.audit.models import AuditEntry, AuditHead

GENESIS = "0" * 64


class AuditError(RuntimeError):
    pass


def canonical(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    details: Any,
    prev_hash: str,
) -> bytes:
    """The bytes an entry's hash covers: sorted-key compact JSON in UTF-8."""
    record = {
        "seq": seq,
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": actor_id,
        "actor_label": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "details": details,
        "prev": prev_hash,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(
        canonical(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            actor_label=entry.actor_label,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
    ).hexdigest()


def _label(actor: Any) -> tuple[int | None, str]:
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    pk = getattr(actor, "pk", None)
    name = getattr(actor, "name", "") or getattr(actor, "username", "") or str(actor)
    username = getattr(actor, "username", "")
    label = f"{name} ({username})" if username and username != name else name
    return pk, label


def record(
    action: str,
    *,
    actor: Any,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    details: dict | None = None,
) -> AuditEntry:
    """Append one entry. Must run inside the transaction of the change it records.

    ``actor`` is a person, a string naming a non-person actor (``"station:…"``,
    ``"system"``) or None for the system.
    """
    if not connection.in_atomic_block:
        raise AuditError("audit.record() must run inside the action's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    # JSON round trip so the hash covers exactly what the database gives back.
    details = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
    actor_id, actor_label = _label(actor)
    # Bumping the head first takes the write lock (row lock on PostgreSQL, the
    # database write lock on SQLite), so appends are serialised and never fork.
    updated = AuditHead.objects.filter(pk=1).update(seq=F("seq") + 1)
    if not updated:
        # Migration 0004 creates the head; this covers a database emptied since.
        try:
            with transaction.atomic():
                AuditHead.objects.create(pk=1, seq=1, hash=GENESIS)
        except IntegrityError:  # another writer created it first: queue behind it
            AuditHead.objects.filter(pk=1).update(seq=F("seq") + 1)
    head = AuditHead.objects.get(pk=1)
    at = timezone.now()
    entry = AuditEntry(
        seq=head.seq,
        at=at,
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details,
        prev_hash=head.hash,
    )
    entry.hash = entry_hash(entry)
    entry.save(force_insert=True)
    AuditHead.objects.filter(pk=1).update(hash=entry.hash)
    return entry


@dataclass
class ChainReport:
    ok: bool
    checked: int
    problem: str = ""
    bad_seq: int | None = None


def verify_chain(batch: int = 2000) -> ChainReport:
    """Recompute every entry's hash and link; name the first broken entry."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    with transaction.atomic():
        qs = AuditEntry.objects.order_by("seq")
        for entry in qs.iterator(chunk_size=batch):
            if entry.seq != expected_seq:
                return ChainReport(
                    False,
                    checked,
                    f"entry #{expected_seq} is missing (next entry found is #{entry.seq})",
                    expected_seq,
                )
            if entry.prev_hash != prev:
                return ChainReport(
                    False,
                    checked,
                    f"entry #{entry.seq} does not link to entry #{entry.seq - 1}",
                    entry.seq,
                )
            if entry_hash(entry) != entry.hash:
                return ChainReport(
                    False,
                    checked,
                    f"entry #{entry.seq} ({entry.action}) was altered: its hash does not match",
                    entry.seq,
                )
            prev = entry.hash
            last_seq = entry.seq
            expected_seq += 1
            checked += 1
        head = AuditHead.objects.filter(pk=1).first()
        if head is not None and (head.seq != last_seq or head.hash != prev):
            return ChainReport(
                False,
                checked,
                f"the chain ends at entry #{last_seq} but its head names entry #{head.seq}: "
                f"entries after #{last_seq} were removed",
                last_seq + 1,
            )
        if head is None and checked:
            return ChainReport(False, checked, "the chain head row is missing", None)
    return ChainReport(True, checked)
