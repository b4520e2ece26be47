"""After the database is restored from a backup: the audit entries it lacks, said once.

A restored database ends where its backup ended, while the checkpoint log
(append-only, outside the database) goes on to the head of the lost database.
``jilu verify`` rightly reports the entries in between as missing, and the
periodic checkpoint refuses to write while the head is behind the log. Both
would stay red for good, so that after a real recovery nobody could tell a new
break from the old one.

``jilu audit-restore --reason …`` closes that once, in the open: it checks that
the restored chain is whole and matches the checkpoints written before the
backup, then appends a *restore checkpoint* to the log (and the bucket) that
records the restored head and the range of lost entries, and records
``audit.restore`` in the chain. From then on ``jilu verify`` passes again and
names the lost range in every report; the checkpoints that recorded the lost
entries stay in the log and are no longer compared with entries of the same
numbers written after the restore. Nothing is hidden: the loss is sealed under
the audit key, linked into the checkpoint log and copied to the bucket.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction
from django.utils import timezone

from jilu.audit import seal
from jilu.audit.chain import AuditError, record, utc_text, walk
from jilu.audit.checkpoints import (
    REASON_MAX,
    Checkpoint,
    checkpoint,
    first_sealed,
    load,
    log_path,
    read_log,
    send_to_sinks,
    standing,
)
from jilu.audit.models import AuditEntry, AuditHead

REASON_MIN = 4


@dataclass(frozen=True)
class RestoreResult:
    restore: Checkpoint  # the restore checkpoint
    after: Checkpoint | None  # the checkpoint that anchors the ``audit.restore`` entry


def acknowledge_restore(reason: str, *, actor: Any = "system") -> RestoreResult:
    """Append a restore checkpoint for the restored head and record it; AuditError
    says why not (nothing is behind, the restored chain does not hold, no key)."""
    key = seal.current_key()
    if key is None:
        raise AuditError("no audit key is configured (JILU_AUDIT_KEY or JILU_AUDIT_KEY_FILE)")
    reason = " ".join(reason.split())[: REASON_MAX - len("restore: ")]
    if len(reason) < REASON_MIN:
        raise AuditError(
            "say why in --reason (which backup was restored, after what), at least "
            f"{REASON_MIN} characters: it is kept with the restore checkpoint"
        )
    shared = load(key)
    if shared.problem:
        raise AuditError(f"nothing written: {shared.problem}")
    path = log_path()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    except OSError as exc:
        raise AuditError(
            f"cannot open the checkpoint log {path}: {exc.strerror or exc}; check "
            "JILU_AUDIT_CHECKPOINT_DIR (use the log on the audit file server, not a copy "
            "from the backup)"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        log = read_log(path, key)
        if log.problem:
            raise AuditError(f"nothing written: {log.problem}")
        cp = _restore_checkpoint(key, log.checkpoints, reason)
        os.write(fd, cp.line() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    send_to_sinks(cp, path)
    assert cp.lost is not None
    with transaction.atomic():
        record(
            "audit.restore",
            actor=actor,
            object_type="audit.checkpoint",
            object_id=cp.n,
            details={
                "lost_from": cp.lost[0],
                "lost_to": cp.lost[1],
                "checkpoint": cp.n,
                "reason": reason,
            },
        )
    return RestoreResult(cp, checkpoint(reason="restore recorded").checkpoint)


def _restore_checkpoint(key: bytes, checkpoints: list[Checkpoint], reason: str) -> Checkpoint:
    """The restore checkpoint for the head now, after the restored chain checks out."""
    if not checkpoints:
        raise AuditError(
            f"nothing to acknowledge: the checkpoint log {log_path()} is empty, so no entry "
            "was recorded that the restored database could lack"
        )
    last = checkpoints[-1]
    head = AuditHead.objects.filter(pk=1).first()
    head_seq = head.seq if head else 0
    if head is None or head_seq >= last.seq:
        raise AuditError(
            f"nothing to acknowledge: the chain's head is entry #{head_seq}, not behind "
            f"{last.label} (head #{last.seq}); `jilu verify` says whether the chain is whole"
        )
    anchors, _latest, _restores = standing(checkpoints)
    kept = {seq: cp for seq, cp in anchors.items() if seq <= head.seq}
    if not kept:
        raise AuditError(
            f"no checkpoint vouches for the restored chain: it ends at #{head.seq}, before "
            f"the first checkpoint's head (#{min(anchors)}); the backup was taken before "
            "any checkpoint. Restore a backup taken after `jilu audit-checkpoint --reason "
            "backup`"
        )
    anchor = kept[max(kept)]
    report = walk(
        key=key,
        start_seq=anchor.seq,
        prev_hash=None,
        through=head.seq,
        anchors={anchor.seq: anchor},
        sealed_from=anchor.sealed_from,
    )
    if not report.ok:
        raise AuditError(
            f"nothing written: the restored chain is broken at #{report.bad_seq}: "
            f"{report.problem}; this backup cannot be vouched for, restore another"
        )
    if (report.last_seq, report.last_hash) != (head.seq, head.hash):
        raise AuditError(
            f"nothing written: the restored chain ends at #{report.last_seq} but its head "
            f"names #{head.seq}"
        )
    cp = Checkpoint(
        n=last.n + 1,
        at=utc_text(timezone.now()),
        seq=head.seq,
        hash=head.hash,
        entry_mac=AuditEntry.objects.values_list("mac", flat=True).get(seq=head.seq),
        sealed_from=first_sealed(last, head.seq),
        key_id=seal.key_id(key),
        reason=f"restore: {reason}",
        prev=last.digest(),
        lost=(head.seq + 1, last.seq),
    )
    return replace(cp, mac=seal.checkpoint_mac(key, cp.body()))
