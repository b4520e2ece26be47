"""Fault injection points, used only by the crash and bad-input tests.

Each variable holds ``<point>:<n>[,<point>:<n>…]``; the fault fires on the
n-th time (counted per process) that point is reached:

- ``JILU_STATION_CRASH_AT``: the process kills itself with SIGKILL (no clean-up
  of any kind runs, as if the power went).
- ``JILU_STATION_ENOSPC_AT``: an ``OSError(ENOSPC)`` is raised (disk full).
- ``JILU_STATION_CORRUPT_AT``: :func:`corrupt` answers True (the caller flips
  a byte in what it sends, so the server sees bytes that do not match).
- ``JILU_STATION_PAUSE_AT`` with ``JILU_STATION_PAUSE_FILE``: the file is
  created and the station waits (at most 120 s) until the test removes it.

Points: ``copy-chunk`` (after each chunk copied into the spool), ``spooled``
(after a file is fsynced into the spool, before the journal says so),
``spool-write``, ``upload-chunk`` (after each PATCH the server confirmed),
``server-verified`` (after the last PATCH was confirmed, before the journal
records it), ``verified`` (after the journal records it), ``before-wipe``.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from collections import Counter

_hits: Counter[str] = Counter()
_lock = threading.Lock()


def _wanted(var: str, point: str, hit: int) -> bool:
    spec = os.environ.get(var, "")
    if not spec:
        return False
    for item in spec.split(","):
        name, _, n = item.strip().partition(":")
        if name == point and (n or "1").isdigit() and int(n or "1") == hit:
            return True
    return False


def reached(point: str) -> None:
    """Mark that ``point`` was reached; crash, pause or fail there if a test asked for it."""
    if not any(
        os.environ.get(v)
        for v in ("JILU_STATION_CRASH_AT", "JILU_STATION_ENOSPC_AT", "JILU_STATION_PAUSE_AT")
    ):
        return
    with _lock:
        _hits[point] += 1
        hit = _hits[point]
    if _wanted("JILU_STATION_CRASH_AT", point, hit):
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(60)  # SIGKILL is not instantaneous; never go on past this point
    if _wanted("JILU_STATION_PAUSE_AT", point, hit):
        marker = os.environ.get("JILU_STATION_PAUSE_FILE", "")
        if marker:
            with open(marker, "w") as fh:
                fh.write(f"{os.getpid()} {point}:{hit}\n")
            deadline = time.monotonic() + 120
            while os.path.exists(marker) and time.monotonic() < deadline:
                time.sleep(0.05)
    if _wanted("JILU_STATION_ENOSPC_AT", point, hit):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def corrupt(point: str) -> bool:
    """True when a test asked the station to send bad bytes at this point."""
    if not os.environ.get("JILU_STATION_CORRUPT_AT"):
        return False
    key = f"corrupt:{point}"
    with _lock:
        _hits[key] += 1
        hit = _hits[key]
    return _wanted("JILU_STATION_CORRUPT_AT", point, hit)


def reset() -> None:
    """Forget the hit counts (tests that inject faults in-process call this first)."""
    with _lock:
        _hits.clear()
