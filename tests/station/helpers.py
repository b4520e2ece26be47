"""Helpers for the end-to-end tests: simulated volumes, independent digests, the station CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from jilu_station.simulate import Plan, simulate
from jilu_station.volume import CHINA

STATION = str(Path(sys.executable).with_name("jilu-station"))
SERIAL = "A000123"
FAULT_VARS = (
    "JILU_STATION_CRASH_AT",
    "JILU_STATION_ENOSPC_AT",
    "JILU_STATION_PAUSE_AT",
    "JILU_STATION_CORRUPT_AT",
    "JILU_STATION_PAUSE_FILE",
)


def recent_start(hours_ago: float = 3) -> datetime:
    """A whole-minute Beijing time a few hours ago (the recorder was held then)."""
    t = datetime.now(CHINA) - timedelta(hours=hours_ago)
    return t.replace(second=0, microsecond=0)


def make_volume(root: Path, *, serial: str = SERIAL, user_no: str, **plan: Any) -> Path:
    plan.setdefault("start", recent_start())
    plan.setdefault("hours", 0.25)
    plan.setdefault("segment_minutes", 5)
    simulate(root, Plan(serial=serial, user_no=user_no, **plan))
    return root


def media_files(volume: Path) -> list[Path]:
    return sorted(p for p in (volume / "DCIM").rglob("*") if p.is_file() or p.is_symlink())


def independent_digests(path: Path) -> tuple[str, str]:
    """SHA-256 by hashlib, SM3 by openssl when it has SM3 (else hashlib): not the station's code."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    out = subprocess.run(
        ["openssl", "dgst", "-sm3", "-r", str(path)], capture_output=True, text=True
    )
    sm3 = out.stdout.split()[0] if out.returncode == 0 else hashlib.new("sm3", data).hexdigest()
    return sha, sm3


@dataclass
class Result:
    code: int
    summary: dict[str, Any]
    stderr: str
    lines: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class JiluServer:
    url: str
    token: str
    station: Any
    recorder: Any
    officer: Any
    tmp: Path

    @property
    def spool(self) -> Path:
        return self.tmp / "station-spool"

    def command(self, *args: str, spool: Path | None = None) -> list[str]:
        verb, target, *rest = args
        return [
            STATION,
            verb,
            target,
            "--server",
            self.url,
            "--token",
            self.token,
            "--spool",
            str(spool or self.spool),
            "--retry-for",
            "20",
            *rest,
        ]

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in FAULT_VARS}
        env.update(extra)
        return env

    def run(
        self, *args: str, spool: Path | None = None, timeout: float = 300, **env: str
    ) -> Result:
        done = subprocess.run(
            self.command(*args, spool=spool),
            capture_output=True,
            text=True,
            env=self.env(**env),
            timeout=timeout,
        )
        lines = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
        return Result(done.returncode, lines[-1] if lines else {}, done.stderr, lines)

    def ingest(self, volume: Path, *extra: str, **kw: Any) -> Result:
        return self.run("ingest", str(volume), *extra, **kw)

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(**env),
        )
