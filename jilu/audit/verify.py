"""Checking the whole audit chain against its MACs and checkpoints (``jilu verify``)."""

from __future__ import annotations

from django.db import connection, transaction

from jilu.audit import seal
from jilu.audit.chain import ChainReport, walk
from jilu.audit.checkpoints import Checkpoint, load, log_path, standing
from jilu.audit.models import AuditHead


def verify_chain(batch: int = 2000) -> ChainReport:
    """Recompute every entry's hash, link and MAC, compare the chain with every
    checkpoint, and name the first entry after which it no longer holds."""
    key = seal.current_key()
    log = load(key)
    if log.problem:
        return ChainReport(False, 0, f"checkpoint log: {log.problem}")
    anchors, latest, restores = standing(log.checkpoints)
    sealed_from = min((cp.sealed_from for cp in log.checkpoints if cp.sealed_from), default=None)
    fresh = not connection.in_atomic_block
    with transaction.atomic():
        if fresh and connection.vendor == "postgresql":
            # One snapshot for the head and the entries, so appends made while
            # the chain is read are not taken for removals.
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        head = AuditHead.objects.filter(pk=1).first()
        report = walk(key=key, anchors=anchors, sealed_from=sealed_from, batch=batch)
    if not report.ok:
        return report
    last = report.last_seq
    if latest is not None and latest.seq > last:
        missing = f"#{last + 1}" if latest.seq == last + 1 else f"#{last + 1}–#{latest.seq}"
        report.ok, report.bad_seq = False, last + 1
        report.problem = (
            f"the chain ends at #{last} but {latest.label} recorded head #{latest.seq}: "
            f"{'entry' if latest.seq == last + 1 else 'entries'} {missing} "
            f"{'is' if latest.seq == last + 1 else 'are'} missing (if the database was "
            "restored from a backup, acknowledge the loss with `jilu audit-restore`)"
        )
        return report
    if head is None and report.checked:
        report.ok, report.problem = False, "the chain head row is missing"
        return report
    if head is not None and (head.seq, head.hash) != (last, report.last_hash):
        report.ok, report.bad_seq = False, last + 1
        if head.seq > last:
            report.problem = (
                f"the chain ends at entry #{last} but its head names entry #{head.seq}: "
                f"entries after #{last} were removed"
            )
        else:
            report.problem = (
                f"the chain goes on to entry #{last} but its head names entry #{head.seq}"
            )
        return report
    report.notes = _notes(report, log.checkpoints, latest) + log.notes
    report.notes += [
        f"entries #{cp.lost[0]}–#{cp.lost[1]} were lost when the database was restored from a "
        f"backup, acknowledged by {cp.label} ({cp.reason})"
        for cp in restores
        if cp.lost is not None
    ]
    return report


def _notes(report: ChainReport, checkpoints: list[Checkpoint], latest: Checkpoint | None) -> list:
    """What the reader of a good result should know about how far it reaches."""
    notes = []
    if report.unsealed:
        first, last = report.unsealed
        covered = [f"through entry #{report.first_sealed}'s MAC"] if report.first_sealed else []
        anchor = next((cp for cp in checkpoints if cp.seq >= last), None)
        if anchor is not None:
            covered.append(f"by {anchor.label}")
        notes.append(
            f"entries #{first}–#{last} were written before the audit key existed and carry no "
            "MAC; "
            + (
                "they are covered " + " and ".join(covered) + " only from then on"
                if covered
                else "nothing outside the database covers them yet: run `jilu audit-checkpoint`"
            )
        )
    if latest is None:
        if report.checked:
            notes.append(
                f"no checkpoint has been written yet ({log_path()}): until one is, removal of "
                "the newest entries cannot be detected"
            )
    else:
        since = report.last_seq - latest.seq
        notes.append(
            f"latest {latest.label} recorded head #{latest.seq}"
            + (f"; {since} newer entries are sealed but not yet checkpointed" if since else "")
        )
    return notes
