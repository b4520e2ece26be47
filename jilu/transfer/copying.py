"""Copying a disc's recordings out of the evidence store, verified, with progress.

Each recording is one read pass (``bag.copy_verified``: the copy, SHA-256 and
SM3 in parallel threads). SM3 is the slowest part (~280 MB/s a core), so on a
machine with more than one core two recordings are copied at once, each
hashing on its own core; progress is still reported from the calling thread
only (a background job may write it to the database).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from jilu.transfer.bag import FileEntry, copy_verified

Progress = Callable[[int, int, str], None]
REPORT_EVERY = 32 * 1024 * 1024
POLL_SECONDS = 0.25
COPY_WORKERS = max(1, min(2, os.cpu_count() or 1))


class Meter:
    """Bytes done out of a total; ``add`` may be called from any thread, the
    callback runs only in the thread that calls ``say`` or ``tick``."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.progress = progress
        self.message = ""
        self._reported = -REPORT_EVERY
        self._lock = threading.Lock()
        self._owner = threading.get_ident()

    def say(self, message: str) -> None:
        self.message = message
        self.tick(force=True)

    def add(self, n: int) -> None:
        with self._lock:
            self.done = min(self.done + n, self.total)
        if threading.get_ident() == self._owner:
            self.tick()

    def finish(self, message: str) -> None:
        with self._lock:
            self.done = self.total
        self.say(message)

    def tick(self, force: bool = False) -> None:
        if self.progress is None:
            return
        done = self.done
        if force or done - self._reported >= REPORT_EVERY:
            self._reported = done
            self.progress(done, self.total, self.message)


@dataclass(frozen=True)
class CopyJob:
    sha256: str
    sm3: str
    size: int
    dest: Path
    rel: str
    what: str
    list_no: int | None
    recording_id: int
    file_name: str


def copy_all(
    jobs: Sequence[CopyJob],
    *,
    open_range: Callable[[str], object],
    meter: Meter,
    prefix: str,
    workers: int = COPY_WORKERS,
) -> list[FileEntry]:
    """Copy and verify every job; entries come back in the jobs' order.

    The first failure stops the rest (queued copies are cancelled, running
    ones finish) and is raised here.
    """

    def one(job: CopyJob) -> FileEntry:
        sha256, sm3, size = copy_verified(
            open_range(job.sha256),
            job.dest,
            expected_sha256=job.sha256,
            expected_sm3=job.sm3,
            expected_size=job.size,
            what=job.what,
            on_bytes=meter.add,
        )
        return FileEntry(job.rel, size, sha256, sm3, job.list_no, job.recording_id)

    if workers <= 1 or len(jobs) <= 1:
        out = []
        for job in jobs:
            meter.say(f"{prefix}：复制并校验 {job.file_name}")
            out.append(one(job))
        return out

    meter.say(f"{prefix}：复制并校验 {jobs[0].file_name}")
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jilu-package-copy")
    try:
        futures = [pool.submit(one, job) for job in jobs]
        pending = set(futures)
        while pending:
            running = next((j for j, f in zip(jobs, futures, strict=True) if f.running()), None)
            message = f"{prefix}：复制并校验 {running.file_name}" if running else meter.message
            if message != meter.message:
                meter.say(message)
            else:
                meter.tick()
            done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_EXCEPTION)
            for f in done:
                if f.exception() is not None:
                    raise f.exception()
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
