"""Checkpoints of the audit chain's head, kept where the application cannot rewrite them.

A MAC under the audit key shows that an entry was written by someone holding
the key, but not that the newest entries are all still there: whoever can
write the database can delete the last entries and wind the head back to an
earlier, genuinely sealed entry. Checkpoints close that gap. Every
``JILU_AUDIT_CHECKPOINT_MINUTES`` (and whenever :func:`checkpoint` is called,
e.g. when a report is published) the head's sequence number, hash and MAC are
appended as one line to ``JILU_AUDIT_CHECKPOINT_DIR/checkpoints.jsonl``. Each
line carries its own MAC and the SHA-256 of the line before it, so lines can
be neither edited nor removed from the middle unnoticed; the file is meant to
be append-only for Jilu's user (``chattr +a``, a separate mount or a log
shipper: docs/deploy-*.md). Apps above may register further sinks
(:func:`register_sink`): the evidence app copies each checkpoint into the S3
bucket under Object Lock.

``jilu verify`` then checks the chain against every checkpoint: an entry whose
hash differs from what a checkpoint recorded, or a chain that ends before the
newest checkpoint's head, is named.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from jilu.audit import seal
from jilu.audit.chain import GENESIS, AuditError, utc_text, walk
from jilu.audit.models import AuditEntry, AuditHead

LOG_NAME = "checkpoints.jsonl"
FORMAT = 1
RESTORE_FORMAT = 2  # a checkpoint acknowledging entries lost in a restore (``lost``)
REASON_MAX = 200


@dataclass(frozen=True)
class Checkpoint:
    n: int  # 1, 2, 3, … in the log
    at: str  # when it was written, UTC
    seq: int  # the head entry's sequence number
    hash: str  # …its hash
    entry_mac: str | None  # …its MAC (None if written before the audit key existed)
    sealed_from: int | None  # every entry from this one on carries a MAC
    key_id: str  # the audit key that made ``mac``
    reason: str  # "periodic", "manual", "report …"
    prev: str  # SHA-256 of the previous checkpoint's line; GENESIS for the first
    mac: str = ""
    # Only in a restore checkpoint (jilu audit-restore): the entries, first and
    # last, that earlier checkpoints recorded and the restored database lacks.
    lost: tuple[int, int] | None = None

    def body(self) -> bytes:
        """What ``mac`` covers: every other field, as sorted-key compact JSON."""
        fields = asdict(self)
        del fields["mac"]
        if self.lost is None:
            del fields["lost"]
            fields["v"] = FORMAT
        else:
            fields["lost"] = list(self.lost)
            fields["v"] = RESTORE_FORMAT
        return _json(fields)

    def line(self) -> bytes:
        return _json({**json.loads(self.body()), "mac": self.mac})

    def digest(self) -> str:
        return hashlib.sha256(self.line()).hexdigest()

    @property
    def label(self) -> str:
        at = parse_datetime(self.at)
        when = timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S") if at else self.at
        return f"checkpoint #{self.n} of {when}"

    @classmethod
    def parse(cls, raw: bytes) -> Checkpoint:
        """A checkpoint from one line of the log; ValueError if it is not one."""
        try:
            data = json.loads(raw)
            version = data.pop("v")
            if version == RESTORE_FORMAT:
                first, last = data.pop("lost")
                if not (isinstance(first, int) and isinstance(last, int) and first <= last):
                    raise ValueError("lost is not a range of entries")
                data["lost"] = (first, last)
            elif version != FORMAT or "lost" in data:
                raise ValueError("unknown format")
            cp = cls(**data)
        except (TypeError, KeyError, AttributeError, ValueError, json.JSONDecodeError) as exc:
            raise ValueError(str(exc)) from None
        if cp.line() != raw.rstrip(b"\n"):
            raise ValueError("not in canonical form")
        return cp


def _json(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- sinks: further places each checkpoint is copied to -----------------------


class CheckpointSink(Protocol):
    """Somewhere outside the database that keeps checkpoint lines write-once."""

    name: str

    def write(self, n: int, line: bytes) -> None:
        """Keep checkpoint ``n``; a second write of the same line is harmless."""

    def read(self, n: int) -> bytes | None:
        """Checkpoint ``n`` as written, or None if there is none."""

    def latest(self) -> int | None:
        """The number of the newest checkpoint held, or None if none is."""


_sink_factories: list[Callable[[], CheckpointSink | None]] = []


def register_sink(factory: Callable[[], CheckpointSink | None]) -> None:
    """Register from ``AppConfig.ready()`` a function giving a sink for the
    current settings, or None when it does not apply."""
    if factory not in _sink_factories:
        _sink_factories.append(factory)


def sinks() -> list[CheckpointSink]:
    return [sink for factory in _sink_factories if (sink := factory()) is not None]


# --- reading ------------------------------------------------------------------


def log_path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR) / LOG_NAME


@dataclass
class CheckpointLog:
    checkpoints: list[Checkpoint]
    problem: str = ""
    notes: list[str] = field(default_factory=list)


def _check_seal(cp: Checkpoint, key: bytes | None, where: str) -> str:
    """Why ``cp`` was not written under ``key``, or ""."""
    if key is None:
        return f"{where}: no audit key is configured to check {cp.label}"
    if cp.key_id != seal.key_id(key):
        return (
            f"{where}: {cp.label} was sealed with audit key {cp.key_id}, but the configured "
            f"key ({seal.key_source()}) is {seal.key_id(key)}: the audit key is missing or "
            "was replaced; restore the key the checkpoints were written with"
        )
    if not seal.matches(seal.checkpoint_mac(key, cp.body()), cp.mac):
        return f"{where}: {cp.label}: MAC does not match: the checkpoint was edited"
    return ""


def _check(cp: Checkpoint, prev: Checkpoint | None, key: bytes | None, where: str) -> str:
    """Why ``cp`` cannot follow ``prev`` in a checkpoint log, or ""."""
    if cp.n != (prev.n + 1 if prev else 1):
        return (
            f"{where}: checkpoint #{cp.n} follows #{prev.n if prev else 0}: checkpoints are missing"
        )
    if cp.prev != (prev.digest() if prev else GENESIS):
        return f"{where}: {cp.label} does not link to the checkpoint before it"
    problem = _check_seal(cp, key, where)
    if problem:
        return problem
    if cp.lost is not None:  # a restore: the head went back, and says by how much
        if prev is None or cp.lost != (cp.seq + 1, prev.seq):
            return (
                f"{where}: {cp.label} acknowledges entries #{cp.lost[0]}–#{cp.lost[1]} as lost, "
                f"but the checkpoint before it recorded head #{prev.seq if prev else 0}"
            )
    elif prev is not None and cp.seq < prev.seq:
        return f"{where}: {cp.label} records head #{cp.seq}, before #{prev.seq} of the one before"
    return ""


def read_log(path: Path, key: bytes | None) -> CheckpointLog:
    """Every checkpoint in the log file, each checked against its predecessor and the key."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return CheckpointLog([])
    except OSError as exc:
        return CheckpointLog([], f"cannot read the checkpoint log {path}: {exc.strerror or exc}")
    out: list[Checkpoint] = []
    lines = raw.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, 1):
        try:
            cp = Checkpoint.parse(line)
        except ValueError as exc:
            return CheckpointLog(out, f"{path}, line {number}: not a checkpoint ({exc})")
        problem = _check(cp, out[-1] if out else None, key, str(path))
        if problem:
            return CheckpointLog(out, problem)
        out.append(cp)
    return CheckpointLog(out)


def standing(
    checkpoints: list[Checkpoint],
) -> tuple[dict[int, Checkpoint], Checkpoint | None, list[Checkpoint]]:
    """What the log vouches for now: the checkpoint of each entry number still to be
    compared with the chain, the newest checkpoint, and the restore checkpoints.

    A restore checkpoint (``lost``) takes back the checkpoints of the entries it
    acknowledges as lost: entries of those numbers written after the restore are
    other entries. Checkpoints of entries the restore kept still hold.
    """
    anchors: dict[int, Checkpoint] = {}
    restores = []
    for cp in checkpoints:
        if cp.lost is not None:
            anchors = {seq: a for seq, a in anchors.items() if seq <= cp.seq}
            restores.append(cp)
        anchors[cp.seq] = cp
    return anchors, (checkpoints[-1] if checkpoints else None), restores


def load(key: bytes | None) -> CheckpointLog:
    """The local log, compared with every registered sink at the sink's newest checkpoint.

    Lines of the log are linked, so one line equal to the sink's newest
    vouches for every line before it. A sink holding a checkpoint the local log
    lacks means the log was cut short; one holding a different line under the
    same number means one of the two was rewritten. Either is a problem; a sink
    merely behind is a note.
    """
    log = read_log(log_path(), key)
    if log.problem:
        return log
    local = log.checkpoints
    for sink in sinks():
        try:
            top = sink.latest()
            raw = sink.read(top) if top is not None else None
        except Exception as exc:  # noqa: BLE001 - any failure of the sink is reported
            log.problem = f"cannot read the checkpoints in {sink.name}: {exc}"
            return log
        if top is None or raw is None:
            if local:
                log.notes.append(f"{sink.name} holds no checkpoint yet")
            continue
        if top <= len(local):
            if raw.rstrip(b"\n") != local[top - 1].line():
                log.problem = (
                    f"checkpoint #{top} in {sink.name} differs from the one in {log_path()}"
                )
                return log
            if top < len(local):
                log.notes.append(
                    f"{sink.name} does not hold {local[-1].label} yet (its newest is #{top})"
                )
            continue
        try:
            cp = Checkpoint.parse(raw)
        except ValueError as exc:
            log.problem = f"{sink.name}: checkpoint #{top} is not a checkpoint ({exc})"
            return log
        log.problem = _check_seal(cp, key, sink.name) or (
            f"{sink.name} holds {cp.label} (head #{cp.seq}), but the checkpoint log "
            f"{log_path()} ends at #{len(local)}: the log was cut short"
        )
        return log
    return log


# --- writing ------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointResult:
    checkpoint: Checkpoint | None  # the newest checkpoint; None while the chain is empty
    created: bool


def checkpoint(reason: str = "periodic", *, force: bool = False) -> CheckpointResult:
    """Append a checkpoint of the chain's head, unless the newest one already records it.

    The entries since the previous checkpoint are walked first (links, hashes,
    MACs), so a checkpoint never vouches for a chain already broken. Safe to
    call from several processes at once: the log is locked while it is read
    and appended to. ``reason`` is kept with the checkpoint (e.g. ``"report
    2026-11"``); ``force`` writes one even if the head has not moved.
    """
    key = seal.current_key()
    if key is None:
        raise AuditError("no audit key is configured (JILU_AUDIT_KEY or JILU_AUDIT_KEY_FILE)")
    reason = " ".join(reason.split())[:REASON_MAX] or "periodic"
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND only: the log may be append-only (chattr +a) for this user.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    except OSError as exc:
        raise AuditError(
            f"cannot open the checkpoint log {path}: {exc.strerror or exc}; check "
            "JILU_AUDIT_CHECKPOINT_DIR"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        log = read_log(path, key)
        if log.problem:
            raise AuditError(f"no checkpoint written: {log.problem}")
        last = log.checkpoints[-1] if log.checkpoints else None
        head = AuditHead.objects.filter(pk=1).first()
        if head is None or head.seq == 0:
            return CheckpointResult(last, False)
        if last is not None and (last.seq, last.hash) == (head.seq, head.hash) and not force:
            send_to_sinks(last, path)
            return CheckpointResult(last, False)
        cp = _next(key, last, head, reason)
        os.write(fd, cp.line() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock
    send_to_sinks(cp, path)
    return CheckpointResult(cp, True)


def first_sealed(last: Checkpoint | None, head_seq: int) -> int:
    """The first entry from which on every entry must carry a MAC (see :func:`_next`)."""
    if last is not None and last.sealed_from:
        return last.sealed_from
    first = (
        AuditEntry.objects.filter(mac__isnull=False, seq__lte=head_seq)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    return first or head_seq + 1


def _next(key: bytes, last: Checkpoint | None, head: AuditHead, reason: str) -> Checkpoint:
    """The checkpoint after ``last`` for ``head``, once the entries between check out."""
    if last is not None and head.seq < last.seq:
        raise AuditError(
            f"no checkpoint written: the chain's head is entry #{head.seq}, behind {last.label} "
            f"(head #{last.seq}): entries were removed, or the database was restored from a "
            "backup; after a restore, acknowledge the lost entries with "
            "`jilu audit-restore --reason …` (docs/deploy-city.md, 恢复)"
        )
    report = walk(
        key=key,
        start_seq=last.seq if last else 1,
        prev_hash=None if last else GENESIS,
        through=head.seq,
        anchors={last.seq: last} if last else {},
        sealed_from=last.sealed_from if last else None,
    )
    if not report.ok:
        raise AuditError(
            f"no checkpoint written: audit chain broken at #{report.bad_seq}: {report.problem}"
        )
    if (report.last_seq, report.last_hash) != (head.seq, head.hash):
        raise AuditError(
            f"no checkpoint written: the chain ends at #{report.last_seq} but its head names "
            f"#{head.seq}"
        )
    # From the first sealed entry on, every entry must be sealed. With none
    # sealed yet (entries from before the audit key existed), from the next
    # one: a checkpoint is written only with a key, and with a key every new
    # entry is sealed, so MACs stripped from later entries cannot pass for old.
    cp = Checkpoint(
        n=last.n + 1 if last else 1,
        at=utc_text(timezone.now()),
        seq=head.seq,
        hash=head.hash,
        entry_mac=AuditEntry.objects.values_list("mac", flat=True).get(seq=head.seq),
        sealed_from=first_sealed(last, head.seq),
        key_id=seal.key_id(key),
        reason=reason,
        prev=last.digest() if last else GENESIS,
    )
    return replace(cp, mac=seal.checkpoint_mac(key, cp.body()))


def send_to_sinks(cp: Checkpoint, path: Path) -> None:
    """Copy ``cp`` to every sink; each run re-sends the newest, so a sink that
    was down catches up with it."""
    failed = []
    for sink in sinks():
        try:
            sink.write(cp.n, cp.line())
        except Exception as exc:  # noqa: BLE001 - every sink is tried; all failures reported
            failed.append(f"{sink.name}: {exc}")
    if failed:
        raise AuditError(f"{cp.label} is in {path} but not in " + "; ".join(failed))
