"""What someone with write access to the database, but not the audit key, can
do to the audit log: the test helpers that play that person."""

from __future__ import annotations

from django.db import connection, transaction

from jilu.audit.chain import GENESIS, entry_hash, record
from jilu.audit.models import AuditEntry, AuditHead


def append(n: int, actor: str = "system:test") -> list[AuditEntry]:
    out = []
    for i in range(n):
        with transaction.atomic():
            out.append(
                record(
                    "test.event",
                    actor=actor,
                    object_type="x",
                    object_id=i,
                    details={"i": i, "名": "王五", "nested": {"b": [1, 2], "a": None}},
                )
            )
    return out


def drop_triggers() -> None:
    """What a database owner bent on forgery would do first."""
    table = AuditEntry._meta.db_table
    with connection.cursor() as cur:
        for name in ("audit_entry_no_update", "audit_entry_no_delete"):
            if connection.vendor == "postgresql":
                cur.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            else:
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")


def cut_tail(n: int) -> int:
    """Delete the newest ``n`` entries and wind the head back to the entry
    before them, so that the head and the chain agree again; return its seq."""
    drop_triggers()
    last = AuditHead.objects.get(pk=1).seq
    AuditEntry.objects.filter(seq__gt=last - n).delete()
    keep = AuditEntry.objects.get(seq=last - n)
    AuditHead.objects.filter(pk=1).update(seq=keep.seq, hash=keep.hash)
    return keep.seq


def forge(seq: int, details: dict, *, strip_macs: bool = False) -> None:
    """Rewrite entry ``seq``'s details and recompute its hash and every later
    entry's link and hash with the chain's own function, then the head's, so
    every hash and link checks out. MACs cannot be recomputed without the key:
    they are left as they were, or (``strip_macs``) removed."""
    drop_triggers()
    prev = AuditEntry.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        if entry.seq == seq:
            entry.details = details
        entry.prev_hash = prev
        entry.hash = entry_hash(entry)
        changes = {"details": entry.details, "prev_hash": entry.prev_hash, "hash": entry.hash}
        if strip_macs:
            changes.update(mac=None, key_id=None)
        AuditEntry.objects.filter(seq=entry.seq).update(**changes)
        prev = entry.hash
    AuditHead.objects.filter(pk=1).update(hash=prev)
