"""Writing the audit chain, and walking it to check hashes, links and MACs.

``jilu.audit.verify.verify_chain`` walks the whole chain against the
checkpoints; ``jilu.audit.checkpoints.checkpoint`` walks what is new since the
last checkpoint before writing the next one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from jilu.audit import seal
from jilu.audit.models import AuditEntry, AuditHead

GENESIS = "0" * 64


class AuditError(RuntimeError):
    pass


def utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
        "at": utc_text(at),
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
    key = seal.current_key()
    if key is not None:
        entry.mac = seal.entry_mac(key, entry.hash)
        entry.key_id = seal.key_id(key)
    entry.save(force_insert=True)
    AuditHead.objects.filter(pk=1).update(hash=entry.hash)
    return entry


class Anchor(Protocol):
    """What a checkpoint says about one entry (``jilu.audit.checkpoints.Checkpoint``)."""

    seq: int
    hash: str
    entry_mac: str | None

    @property
    def label(self) -> str: ...


@dataclass
class ChainReport:
    ok: bool
    checked: int
    problem: str = ""
    bad_seq: int | None = None
    last_seq: int = 0
    last_hash: str = GENESIS
    first_sealed: int | None = None  # the first entry carrying a MAC
    unsealed: tuple[int, int] | None = None  # the first and last entry without one
    notes: list[str] = field(default_factory=list)


def walk(
    *,
    key: bytes | None,
    start_seq: int = 1,
    prev_hash: str | None = GENESIS,
    through: int | None = None,
    anchors: Mapping[int, Anchor] | None = None,
    sealed_from: int | None = None,
    batch: int = 2000,
) -> ChainReport:
    """Check entries ``start_seq``..``through`` (or to the end) in order and name
    the first that does not hold: a gap, a broken link, a hash that does not
    match the entry's content, a MAC that does not match under ``key``, a
    missing MAC where entries are sealed, or a hash other than the one an
    anchoring checkpoint recorded. ``prev_hash`` None skips the first link
    (the caller anchors that entry instead); ``sealed_from`` is the first
    sealed entry a checkpoint recorded, from which on every entry must be sealed.
    """
    anchors = anchors or {}
    want_id = seal.key_id(key) if key is not None else None
    qs = AuditEntry.objects.filter(seq__gte=start_seq).order_by("seq")
    if through is not None:
        qs = qs.filter(seq__lte=through)
    report = ChainReport(True, 0, last_seq=start_seq - 1, last_hash=prev_hash or "")
    expected, prev = start_seq, prev_hash

    def broken(seq: int, problem: str) -> ChainReport:
        report.ok, report.bad_seq, report.problem = False, seq, problem
        return report

    for entry in qs.iterator(chunk_size=batch):
        seq = entry.seq
        if seq != expected:
            return broken(expected, f"entry #{expected} is missing (next entry found is #{seq})")
        if prev is not None and entry.prev_hash != prev:
            return broken(seq, f"entry #{seq} does not link to entry #{seq - 1}")
        if entry_hash(entry) != entry.hash:
            return broken(
                seq, f"entry #{seq} ({entry.action}) was altered: its hash does not match"
            )
        if not entry.mac:
            if report.first_sealed is not None or (sealed_from is not None and seq >= sealed_from):
                since = report.first_sealed or sealed_from
                return broken(
                    seq,
                    f"entry #{seq} has no MAC although the entries are sealed from #{since} on: "
                    "the MACs of rewritten entries were removed",
                )
            first = report.unsealed[0] if report.unsealed else seq
            report.unsealed = (first, seq)
        else:
            if report.first_sealed is None:
                report.first_sealed = seq
            if key is None:
                return broken(
                    seq, f"entry #{seq} is sealed but no audit key is configured to check it"
                )
            if entry.key_id != want_id:
                return broken(
                    seq,
                    f"entry #{seq} was sealed with audit key {entry.key_id}, but the configured "
                    f"key ({seal.key_source()}) is {want_id}: the audit key is missing or was "
                    "replaced. Restore the key the chain was sealed with; if it is the right "
                    "key, the entry was rewritten",
                )
            if not seal.matches(seal.entry_mac(key, entry.hash), entry.mac):
                before = " or an entry before it" if seq > 1 else ""
                return broken(
                    seq,
                    f"MAC does not match: entry #{seq} ({entry.action}){before} was rewritten "
                    "by someone without the audit key",
                )
        anchor = anchors.get(seq)
        if anchor is not None and (
            anchor.hash != entry.hash or (anchor.entry_mac and anchor.entry_mac != entry.mac)
        ):
            return broken(
                seq,
                f"entry #{seq} does not match {anchor.label}, which recorded its hash as "
                f"{anchor.hash[:16]}…: it or an entry before it was rewritten",
            )
        prev = entry.hash
        report.last_seq, report.last_hash = seq, entry.hash
        expected += 1
        report.checked += 1
    return report
