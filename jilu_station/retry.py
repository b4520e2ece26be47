"""Retrying while the server is unreachable, with exponential back-off."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from jilu_station.http import Unreachable

T = TypeVar("T")


class GaveUp(Exception):
    """The server stayed unreachable longer than the station was told to wait."""


class Stopped(Exception):
    """The run is stopping (another part of it hit a fatal error, or Ctrl-C)."""


class Backoff:
    """Calls ``fn`` until it stops raising :class:`Unreachable`, waiting 0.5, 1, 2 … 30 s.

    Gives up (:class:`GaveUp`) after ``retry_for`` seconds of unbroken failure; the
    spool and the journal keep everything for the next run.
    """

    def __init__(
        self,
        *,
        retry_for: float,
        say: Callable[[str], None],
        stop: threading.Event,
        first: float = 0.5,
        cap: float = 30.0,
    ) -> None:
        self.retry_for = retry_for
        self.say = say
        self.stop = stop
        self.first = first
        self.cap = cap

    def __call__(self, fn: Callable[[], T], what: str = "") -> T:
        delay = self.first
        since: float | None = None
        while True:
            if self.stop.is_set():
                raise Stopped()
            try:
                return fn()
            except Unreachable as exc:
                now = time.monotonic()
                since = since if since is not None else now
                if now - since >= self.retry_for:
                    raise GaveUp(
                        f"the server has been unreachable for {now - since:.0f} s ({exc}); "
                        "the spool keeps the copies; run again when the server is back"
                    ) from exc
                self.say(
                    f"server not available{f' ({what})' if what else ''}: {exc}; "
                    f"retrying in {delay:.1f} s (the spool keeps the files)"
                )
                if self.stop.wait(delay):
                    raise Stopped() from exc
                delay = min(delay * 2, self.cap)
