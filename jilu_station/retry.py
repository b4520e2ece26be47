"""Retrying while the server is unreachable: exponential back-off, bounded and jittered.

The server answers ``503`` with ``Retry-After`` while its store or database is
down, ``502``/``504`` come from the proxy in front of it, and a refused or
dropped connection means it is restarting. None of these is a reason to give
up on a file that is still on the recorder: by default the station keeps
trying until the server is back (saying so on the console, with how long the
outage has lasted), and the journal and the spool mean nothing already
confirmed is sent again afterwards.
"""

from __future__ import annotations

import random
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
    """Calls ``fn`` until it stops raising :class:`Unreachable`.

    Waits grow 0.5, 1, 2 … up to ``cap`` seconds, each drawn at random between
    half and all of that (so stations that lost the server together do not
    return together); a ``Retry-After`` from the server is honoured up to
    ``cap``. With ``retry_for`` > 0 it gives up (:class:`GaveUp`) after that
    many seconds of unbroken failure; with 0 (the default of ``jilu-station``)
    it never does, and the spool and the journal keep everything meanwhile.
    """

    def __init__(
        self,
        *,
        retry_for: float,
        say: Callable[[str], None],
        stop: threading.Event,
        first: float = 0.5,
        cap: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.retry_for = retry_for
        self.say = say
        self.stop = stop
        self.first = first
        self.cap = cap
        self.rng = rng or random.Random()

    def wait_for(self, delay: float, exc: Unreachable) -> float:
        """Seconds to wait before the next attempt (never more than ``cap``)."""
        wait = min(delay, self.cap) * self.rng.uniform(0.5, 1.0)
        asked = getattr(exc, "retry_after", None)
        if asked is not None:
            wait = max(wait, min(asked, self.cap) * self.rng.uniform(1.0, 1.2))
        return min(wait, self.cap)

    def __call__(self, fn: Callable[[], T], what: str = "") -> T:
        delay = self.first
        since: float | None = None
        attempts = 0
        while True:
            if self.stop.is_set():
                raise Stopped()
            try:
                result = fn()
            except Unreachable as exc:
                now = time.monotonic()
                since = since if since is not None else now
                attempts += 1
                down = now - since
                if self.retry_for > 0 and down >= self.retry_for:
                    raise GaveUp(
                        f"the server has been unreachable for {down:.0f} s ({exc}); "
                        "the spool keeps the copies; run again when the server is back"
                    ) from exc
                wait = self.wait_for(delay, exc)
                self.say(
                    f"server not available{f' ({what})' if what else ''}: {exc}; "
                    f"retrying in {wait:.1f} s (attempt {attempts}, unavailable for "
                    f"{down:.0f} s; the spool keeps the files)"
                )
                if self.stop.wait(wait):
                    raise Stopped() from exc
                delay = min(delay * 2, self.cap)
                continue
            if since is not None:
                self.say(
                    f"server available again{f' ({what})' if what else ''} after "
                    f"{time.monotonic() - since:.0f} s; continuing"
                )
            return result
