"""A task for the worker tests: it can be held while running, and its effect
happens once however many times it runs (as every Jilu task's does)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django_tasks import task


@task()
def hold_then_record(directory: str) -> str:
    """Note this attempt (its process), wait while ``hold`` exists, then write
    ``effect`` unless an earlier attempt already did."""
    here = Path(directory)
    with open(here / "attempts", "a") as attempts:
        attempts.write(f"{os.getpid()}\n")
    while (here / "hold").exists():
        time.sleep(0.05)
    try:
        fd = os.open(here / "effect", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return "already done"
    with os.fdopen(fd, "w") as effect:
        effect.write(f"{os.getpid()}\n")
    return "done"


@task()
def fail_once(directory: str) -> int:
    """Raise on the first run, succeed on the next; return the number of runs."""
    here = Path(directory)
    with open(here / "runs", "a") as runs:
        runs.write(f"{os.getpid()}\n")
    count = len((here / "runs").read_text().split())
    if count == 1:
        raise RuntimeError("the first run fails")
    return count
