"""One read pass, fanned out to SHA-256, SM3 and a writer in parallel threads.

hashlib releases the GIL for large updates, so SM3 (the slowest, ~300 MB/s a
core) runs beside SHA-256 and the copy instead of after them. Every consumer
gets its own bounded queue, so at most a few chunks are ever in memory.
"""

from __future__ import annotations

import hashlib
import queue
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

from jilu.evidence.store.errors import HashMismatch, InvalidKey

CHUNK = 4 * 1024 * 1024
QUEUE_DEPTH = 4
_STOP = object()
_HEX64 = re.compile(r"[0-9a-f]{64}")

Sink = Callable[[bytes], object]


@dataclass(frozen=True)
class Digests:
    sha256: str
    sm3: str
    size: int


def check_key(key: str, what: str = "object key") -> str:
    """Return ``key`` if it is a SHA-256 in lowercase hex; refuse anything else."""
    if not isinstance(key, str) or not _HEX64.fullmatch(key):
        raise InvalidKey(f"{what} {key!r} is not a SHA-256 (64 lowercase hex digits)")
    return key


def _drain(q: queue.Queue, sink: Sink, errors: list[BaseException]) -> None:
    failed = False
    while True:
        chunk = q.get()
        if chunk is _STOP:
            return
        if failed:
            continue  # keep draining so the producer never blocks on a dead consumer
        try:
            sink(chunk)
        except BaseException as exc:  # handed to the producer thread, re-raised there
            errors.append(exc)
            failed = True


def pump(chunks: Iterable[bytes], sinks: list[Sink], *, depth: int = QUEUE_DEPTH) -> int:
    """Feed every chunk to every sink, each sink in its own thread; return the byte count.

    The first exception raised by a sink (or by the iterable) is re-raised here
    after all threads have stopped.
    """
    errors: list[BaseException] = []
    queues: list[queue.Queue] = [queue.Queue(maxsize=depth) for _ in sinks]
    threads = [
        threading.Thread(target=_drain, args=(q, sink, errors), daemon=True, name="jilu-store-pump")
        for q, sink in zip(queues, sinks, strict=True)
    ]
    for thread in threads:
        thread.start()
    size = 0
    try:
        for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            for q in queues:
                q.put(chunk)
            if errors:
                break
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # a generator over an open file or HTTP body releases it now
        for q in queues:
            q.put(_STOP)
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return size


def read_chunks(stream: BinaryIO, chunk: int = CHUNK) -> Iterable[bytes]:
    """Yield fresh ``bytes`` objects from a binary stream until it is exhausted."""
    while True:
        data = stream.read(chunk)
        if not data:
            return
        yield bytes(data) if not isinstance(data, bytes) else data


def hash_chunks(chunks: Iterable[bytes], *extra_sinks: Sink) -> Digests:
    """SHA-256 and SM3 of ``chunks`` in one pass, also feeding ``extra_sinks``."""
    sha256 = hashlib.sha256()
    sm3 = hashlib.new("sm3")
    size = pump(chunks, [sha256.update, sm3.update, *extra_sinks])
    return Digests(sha256.hexdigest(), sm3.hexdigest(), size)


def normalise_expected(
    sha256: str | None, sm3: str | None, size: int | None
) -> tuple[str | None, str | None, int | None]:
    """Lower-case and check the caller's expected values before any byte is read."""
    if sha256 is not None:
        sha256 = check_key(sha256.strip().lower(), "expected SHA-256")
    if sm3 is not None:
        sm3 = sm3.strip().lower()
        if not _HEX64.fullmatch(sm3):
            raise InvalidKey(f"expected SM3 {sm3!r} is not 64 hex digits")
    if size is not None and (not isinstance(size, int) or size < 0):
        raise InvalidKey(f"expected size {size!r} is not a whole number of bytes")
    return sha256, sm3, size


def check_expected(got: Digests, *, sha256: str | None, sm3: str | None, size: int | None) -> None:
    """Raise :class:`HashMismatch` naming every value that differs from what was expected."""
    problems = []
    if size is not None and got.size != size:
        problems.append(f"size differs: expected {size} bytes, got {got.size}")
    if sha256 is not None and got.sha256 != sha256:
        problems.append(f"SHA-256 differs: expected {sha256}, got {got.sha256}")
    if sm3 is not None and got.sm3 != sm3:
        problems.append(f"SM3 differs: expected {sm3}, got {got.sm3}")
    if problems:
        raise HashMismatch(
            "refused to store: "
            + "; ".join(problems)
            + ". Nothing was stored; send the file again.",
            expected={"sha256": sha256, "sm3": sm3, "size": size},
            actual=got,
        )
