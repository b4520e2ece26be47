"""``jilu-station watch DIR``: ingest each recorder volume that appears under DIR.

A squad docks many recorders at once: each volume (a subdirectory of DIR,
usually a mount point) is ingested in its own thread, one run at a time per
volume, several volumes in parallel. A volume is taken once its listing has
stopped changing for ``settle`` seconds; after a complete run it is not taken
again until it changes or is docked again (disappears and reappears); after
an incomplete run it is retried with back-off.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from jilu_station.ingest import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Options, Summary, ingest
from jilu_station.progress import Console
from jilu_station.volume import INFO_NAME


def looks_like_volume(path: Path) -> bool:
    try:
        names = {n.upper() for n in os.listdir(path)}
    except OSError:
        return False
    return INFO_NAME.upper() in names or "DCIM" in names


def signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and mtimes of everything on the volume (links not followed)."""
    out: list[tuple[str, int, int]] = []
    for top, dirs, files in os.walk(path, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            try:
                st = os.lstat(os.path.join(top, name))
            except OSError:
                continue
            out.append((os.path.relpath(os.path.join(top, name), path), st.st_size, st.st_mtime_ns))
    return tuple(out)


@dataclass
class _Seen:
    sig: tuple[tuple[str, int, int], ...]
    since: float
    done_sig: tuple[tuple[str, int, int], ...] | None = None
    retry_at: float = 0.0
    failures: int = 0
    runs: int = 0


@dataclass
class Watcher:
    root: Path
    options: Options
    once: bool = False
    max_volumes: int = 10
    settle: float = 2.0
    poll: float = 1.0
    copies: int = 0  # volumes copied at once (0: half the CPUs, at least one)
    out: TextIO = field(default_factory=lambda: sys.stdout)

    def __post_init__(self) -> None:
        self.console = self.options.console or Console()
        self.options.console = self.console
        # Several volumes at once share the CPUs (SM3 runs at ~260 MB/s a core, on the station
        # and again on the server) and the disk: a few copies and uploads at a time keep them
        # busy; more only make every volume slower. The other volumes wait their turn.
        cpus = os.cpu_count() or 2
        if self.options.copy_slot is None:
            self.options.copy_slot = threading.Semaphore(self.copies or max(1, cpus // 2))
        if self.options.upload_slot is None:
            self.options.upload_slot = threading.Semaphore(max(2, cpus))
        self.seen: dict[Path, _Seen] = {}
        self.active: dict[Path, tuple[threading.Thread, threading.Event]] = {}
        self.summaries: list[Summary] = []
        self.codes: list[int] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.started = time.monotonic()

    def _run_one(self, path: Path, stop: threading.Event) -> None:
        summary = ingest(path, self.options, stop=stop)
        with self._lock:
            self.out.write(summary.json_line() + "\n")
            self.out.flush()
            self.summaries.append(summary)
            self.codes.append(summary.exit_code)
            seen = self.seen.get(path)
            if seen is not None:
                seen.runs += 1
                if summary.exit_code == EXIT_OK:
                    seen.done_sig = signature(path)
                    seen.failures = 0
                else:
                    seen.failures += 1
                    seen.retry_at = time.monotonic() + min(600.0, 15.0 * 2 ** (seen.failures - 1))
            if summary.exit_code == EXIT_REFUSED:
                self.console.say(f"[watch] {summary.error}; stopping")
                self.stop.set()

    def poll_once(self) -> None:
        now = time.monotonic()
        try:
            present = sorted(p for p in self.root.iterdir() if p.is_dir() and looks_like_volume(p))
        except OSError as exc:
            self.console.say(f"[watch] cannot list {self.root}: {exc}")
            return
        for gone in set(self.seen) - set(present):
            if gone not in self.active:
                del self.seen[gone]  # undocked: when it comes back it is ingested again
        for path in present:
            if path in self.active or len(self.active) >= self.max_volumes:
                continue
            sig = signature(path)
            seen = self.seen.get(path)
            if seen is None or seen.sig != sig:
                if seen is None:
                    self.seen[path] = _Seen(sig, now)
                else:
                    seen.sig, seen.since = sig, now
                continue
            if seen.done_sig == sig or now < seen.retry_at or now - seen.since < self.settle:
                continue
            if self.once and seen.runs:
                continue
            stop = threading.Event()
            thread = threading.Thread(
                target=self._run_one, args=(path, stop), daemon=True, name=f"volume-{path.name}"
            )
            self.active[path] = (thread, stop)
            self.console.say(f"[watch] volume docked: {path}")
            thread.start()

    def _reap(self) -> None:
        for path, (thread, _) in list(self.active.items()):
            if not thread.is_alive():
                thread.join()
                del self.active[path]

    def _finished_once(self) -> bool:
        """--once: every volume present at the start (and settled) has had its run."""
        return not self.active and bool(self.seen) and all(s.runs for s in self.seen.values())

    def run(self) -> int:
        if not self.root.is_dir():
            self.console.say(f"[watch] {self.root} is not a directory")
            return EXIT_USAGE
        self.console.say(f"[watch] watching {self.root} for recorder volumes")
        previous = signal.getsignal(signal.SIGTERM)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        try:
            while not self.stop.is_set():
                self._reap()
                self.poll_once()
                if self.once and (self._finished_once() or (not self.seen and not self.active)):
                    if not self.seen:
                        self.console.say(f"[watch] no recorder volume under {self.root}")
                    break
                self.stop.wait(self.poll)
        except KeyboardInterrupt:
            self.stop.set()
        finally:
            for _, stop in self.active.values():
                if self.stop.is_set():
                    stop.set()
            for thread, _ in list(self.active.values()):
                thread.join()
            self._reap()
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, previous)
        if self.once:
            self.out.write(json.dumps(self.aggregate(), ensure_ascii=False) + "\n")
            self.out.flush()
        if EXIT_REFUSED in self.codes:
            return EXIT_REFUSED
        return EXIT_OK if self.codes and all(c == EXIT_OK for c in self.codes) else 1

    def aggregate(self) -> dict[str, object]:
        seconds = time.monotonic() - self.started
        total = sum(s.bytes for s in self.summaries)
        keys = ("files_found", "verified", "already_present", "flagged", "failed", "wiped")
        data: dict[str, object] = {
            "watch": str(self.root),
            "volumes": len(self.summaries),
            "complete": sum(s.exit_code == EXIT_OK for s in self.summaries),
        }
        data.update({k: sum(getattr(s, k) for s in self.summaries) for k in keys})
        data.update(
            {
                "bytes": total,
                "seconds": round(seconds, 3),
                "rate_mb_s": round(total / max(seconds, 1e-6) / 1e6, 1),
            }
        )
        return data
