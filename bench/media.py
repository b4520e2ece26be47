"""Benchmark: recordings people can find, watch and trust, in one run.

Runs the three measurements for media (each also runs on its own) and prints
their figures and a summary:

1. ``media_probe.py``: probe time of 1-hour and 4-hour recordings against
   ``av.open`` (target: under 100 ms each, independent of length);
2. ``media_serve.py``: Range-serving throughput of Jilu behind nginx in the
   production configuration (signed play links) against nginx serving the
   same file on loopback (target: ratio >= 0.8), with the per-request and
   ``make run`` (python) figures beside it;
3. ``list_query.py``: the recording list (restricted, filtered, one page and
   a capped count) over 1,000,000 recordings seeded by ``jilu seed-scale``,
   against hand-written SQL (target: under 10x). Seeding takes ~5 minutes the
   first time; the database in ``--scale-dir`` is reused afterwards.

    .venv/bin/python bench/media.py [--recordings 1000000] [--scale-dir /tmp/jilu-scale]
                                    [--skip probe|serve|list ...]

Exit status 0 only when every target that was measured is met.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=1_000_000)
    parser.add_argument("--scale-dir", default="/tmp/jilu-scale")
    parser.add_argument("--serve-size-mib", type=int, default=256)
    parser.add_argument("--serve-seconds", type=float, default=8)
    parser.add_argument("--skip", nargs="*", default=[], choices=["probe", "serve", "list"])
    args = parser.parse_args()
    parts = [
        ("probe", "media probe, 1 h and 4 h (< 100 ms)", ["media_probe.py", "--hours", "1", "4"]),
        (
            "serve",
            "Range serving vs nginx (>= 0.8)",
            [
                "media_serve.py",
                "--size-mib",
                str(args.serve_size_mib),
                "--seconds",
                str(args.serve_seconds),
            ],
        ),
        (
            "list",
            f"list query over {args.recordings:,} recordings vs SQL (< 10x)",
            ["list_query.py", "--recordings", str(args.recordings), "--dir", args.scale_dir],
        ),
    ]
    summary = []
    for key, title, command in parts:
        if key in args.skip:
            continue
        print(f"\n=== {title} ===", flush=True)
        began = time.monotonic()
        done = subprocess.run([sys.executable, str(HERE / command[0]), *command[1:]])
        summary.append((title, done.returncode, time.monotonic() - began))
    print("\n=== summary ===")
    for title, code, seconds in summary:
        print(f"{'met    ' if code == 0 else 'NOT met'}  {title}  ({seconds:.0f} s)")
    return 0 if all(code == 0 for _, code, _ in summary) else 1


if __name__ == "__main__":
    raise SystemExit(main())
