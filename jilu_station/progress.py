"""Progress per file and per volume: bytes, rate, time left, on stderr and to the server.

Each file's work is its copy into the spool and its upload; each counts for
half of the file's bytes, so the overall figure moves steadily through both.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def human_seconds(s: float) -> str:
    s = int(s + 0.5)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


@dataclass
class FileProgress:
    name: str
    size: int
    state: str = "found"
    copied: int = 0
    uploaded: int = 0
    verifying: bool = False  # the last bytes are sent: the server is checking the whole file

    @property
    def done(self) -> float:
        if self.state in ("verified", "wiped"):
            return float(self.size)
        return (self.copied + self.uploaded) / 2

    @property
    def phase_done(self) -> int:
        """Bytes done in the current phase (what the server's progress view shows)."""
        if self.state in ("verified", "wiped"):
            return self.size
        return self.uploaded if self.state == "uploading" else self.copied


class Console:
    """One writer for stderr shared by all volumes of a process."""

    def __init__(self, stream: TextIO | None = None, *, interval: float | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = interval if interval is not None else (1.0 if self.tty else 5.0)
        self._lock = threading.Lock()
        self._status_shown = False

    def say(self, text: str) -> None:
        with self._lock:
            if self._status_shown:
                self.stream.write("\r\x1b[K")
                self._status_shown = False
            self.stream.write(text + "\n")
            self.stream.flush()

    def status(self, text: str) -> None:
        with self._lock:
            if self.tty:
                self.stream.write("\r\x1b[K" + text[:200])
                self._status_shown = True
            else:
                self.stream.write(text + "\n")
            self.stream.flush()


class VolumeProgress:
    """The progress of one volume's ingest; thread-safe."""

    def __init__(self, label: str, console: Console) -> None:
        self.label = label
        self.console = console
        self.files: dict[int, FileProgress] = {}  # by journal entry id
        self._lock = threading.Lock()
        self._samples: deque[tuple[float, float]] = deque(maxlen=64)
        self.started = time.monotonic()
        self._samples.append((self.started, 0.0))
        self.version = 0

    def say(self, text: str) -> None:
        self.console.say(f"[{self.label}] {text}")

    def add(self, key: int, name: str, size: int, state: str = "found") -> None:
        with self._lock:
            self.files[key] = FileProgress(name, size, state)
            self.version += 1

    def state(self, key: int, state: str) -> None:
        with self._lock:
            fp = self.files[key]
            fp.state = state
            if state == "found":
                fp.copied = fp.uploaded = 0
            elif state == "spooled":
                fp.copied = fp.size
                fp.uploaded = 0
            self.version += 1

    def copied(self, key: int, n: int) -> None:
        with self._lock:
            self.files[key].copied += n
            self.version += 1

    def uploaded(self, key: int, offset: int, *, last: bool = False) -> None:
        """``last``: the final chunk is on its way; the server verifies before it answers."""
        with self._lock:
            self.files[key].uploaded = offset
            self.files[key].verifying = last
            self.version += 1

    def totals(self) -> tuple[int, float, int, int]:
        """(total bytes, done bytes, files finished, files)."""
        with self._lock:
            files = list(self.files.values())
        total = sum(f.size for f in files)
        done = sum(f.done for f in files)
        finished = sum(f.state in ("verified", "wiped", "failed", "flagged") for f in files)
        return total, done, finished, len(files)

    def rate(self) -> float:
        """Bytes per second over the last ~10 s."""
        now = time.monotonic()
        _, done, _, _ = self.totals()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > 10:
            self._samples.popleft()
        t0, d0 = self._samples[0]
        return (done - d0) / (now - t0) if now - t0 > 0.2 else 0.0

    def line(self) -> str:
        total, done, finished, count = self.totals()
        rate = self.rate()
        parts = [
            f"[{self.label}] {finished}/{count} files",
            f"{human_bytes(done)} of {human_bytes(total)}",
            f"{rate / 1e6:.0f} MB/s",
        ]
        if rate > 0 and total > done:
            parts.append(f"about {human_seconds((total - done) / rate)} left")
        with self._lock:
            active = [f for f in self.files.values() if f.state in ("found", "uploading")]
        for f in active:
            if f.state == "found" and f.copied:
                parts.append(f"copying {f.name.rsplit('/', 1)[-1]} {100 * f.copied // f.size}%")
            elif f.state == "uploading" and f.verifying:
                parts.append(f"server verifying {f.name.rsplit('/', 1)[-1]}")
            elif f.state == "uploading" and f.size:
                parts.append(f"uploading {f.name.rsplit('/', 1)[-1]} {100 * f.uploaded // f.size}%")
        return " · ".join(parts)

    def for_server(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"name": f.name, "size": f.size, "done": f.phase_done, "state": f.state}
                for f in self.files.values()
                if f.state != "flagged"
            ]


class Ticker:
    """Prints the status line and posts progress to the server every few seconds."""

    def __init__(
        self,
        progress: VolumeProgress,
        *,
        post: Callable[[list[dict[str, Any]]], None] | None = None,
        post_every: float = 2.0,
    ) -> None:
        self.progress = progress
        self.post = post
        self.post_every = post_every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="progress")
        self._posted_version = -1
        self._post_failed = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.flush()

    def flush(self) -> None:
        if self.post is None or self.progress.version == self._posted_version:
            return
        version = self.progress.version
        try:
            self.post(self.progress.for_server())
            self._posted_version = version
            self._post_failed = False
        except Exception as exc:  # progress is best effort; the ingest goes on
            if not self._post_failed:
                self.progress.say(f"could not report progress to the server: {exc}")
            self._post_failed = True

    def _run(self) -> None:
        console_every = self.progress.console.interval
        last_console = time.monotonic()
        while not self._stop.wait(min(self.post_every, console_every)):
            self.progress.rate()  # a sample for the rate shown next
            self.flush()
            if time.monotonic() - last_console >= console_every:
                self.progress.console.status(self.progress.line())
                last_console = time.monotonic()
