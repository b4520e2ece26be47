"""What the benchmarks that run Jilu servers and simulated recorders share.

Imported by the scripts of this folder (``python bench/city.py`` puts the folder
on ``sys.path``); not part of Jilu.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

BIN = Path(sys.executable).parent
JILU = str(BIN / "jilu")
STATION = str(BIN / "jilu-station")
GUNICORN = str(BIN / "gunicorn")
BITRATE_KBPS = 4800  # ≈ 2.1 GB an hour, inside the 1.5–2.6 GB/h of real recorders

# The start of every set-up script run by ``jilu shell``: the bureau, district and
# brigade above the squads a benchmark creates.
UNITS = """
import json, sys
from datetime import timedelta
from django.utils import timezone
from jilu.devices import actions as d
from jilu.org import actions as o
a = "system:bench"
city = o.create_unit(actor=a, parent=None, code="350200000000", name="厦门市城市管理行政执法局",
                     short_name="市局", level="city")
district = o.create_unit(actor=a, parent=city, code="350203000000",
                         name="思明区城市管理行政执法局", short_name="思明区局", level="district")
brigade = o.create_unit(actor=a, parent=district, code="350203000001",
                        name="思明区城市管理行政执法大队", short_name="思明大队", level="brigade")
"""

COUNT = """
from jilu.evidence.models import Recording
print("RECORDINGS", Recording.objects.count())
"""


def say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drop_caches() -> bool:
    """Flush and drop the page cache (root only); False if it could not be dropped."""
    subprocess.run(["sync"], check=True)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        return True
    except OSError:
        return False


def rate(nbytes: int, seconds: float) -> float:
    """MB/s (10^6 bytes a second)."""
    return nbytes / 1e6 / seconds if seconds else 0.0


def simulate(
    volume: Path, serial: str, user_no: str, mib: float, hours_ago: float, *extra: str
) -> list[Path]:
    """A recorder volume of about ``mib`` MiB recorded from ``hours_ago`` hours ago,
    made by ``jilu-station simulate`` (``extra``: further options); its files."""
    seconds = mib * 1024 * 1024 * 8 / (BITRATE_KBPS * 1000)
    start = (datetime.now() - timedelta(hours=hours_ago)).replace(second=0, microsecond=0)
    subprocess.run(
        [
            STATION,
            "simulate",
            str(volume),
            "--serial",
            serial,
            "--user-no",
            user_no,
            "--start",
            start.isoformat(),
            "--hours",
            f"{seconds / 3600:.6f}",
            "--segment-minutes",
            "10",
            "--bitrate",
            str(BITRATE_KBPS),
            *extra,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return sorted(p for p in (volume / "DCIM").rglob("*") if p.is_file())
