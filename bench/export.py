"""Benchmark: packaging a case for the legal department (C5.5) against plain tools.

    .venv/bin/python bench/export.py [--size-mib 4096] [--files 8] [--rounds 2] [--disc dvd]
                                     [--dir DIR] [--drop-caches]

Seeds a fresh Jilu data directory (SQLite + filesystem store, ``JILU_DATA_DIR``
in a temporary directory) with one case whose record list holds ``--files``
recordings of random bytes, ``--size-mib`` in all (default 4 GiB), then times

* **jilu**: ``jilu.transfer.builder.build_package``: every recording read once
  from the store and copied under its record-list name while SHA-256 and SM3
  run in parallel threads and are checked against the stored hashes; the
  record list as PDF and XLSX; BagIt manifests (SHA-256 and SM3) and tag
  manifests; index.html; labels; the ISO (ISO 9660 + Joliet + Rock Ridge +
  UDF) written by pycdlib from the files;
* **plain**: the same work with plain tools, through the shell: ``cp`` of the
  stored objects under the same names, ``sha256sum`` and ``openssl dgst -sm3``
  of them into manifests, ``genisoimage -J -R -udf`` of the tree.

Runs alternate plain, jilu, jilu, plain, …; outputs are removed (untimed)
between runs and the store objects are read once first so both start from the
same page cache (``--drop-caches`` drops the caches before each run instead,
as root). Prints each run, the best of each as MB/s (10^6 bytes a second of
recordings) and the ratio plain time / jilu time (target ≥ 1.0), then one
JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

CHUNK = 8 * 1024 * 1024


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class RandomStream:
    """``size`` pseudo-random bytes, produced as they are read (never all in memory)."""

    def __init__(self, size: int, seed: int) -> None:
        self.left = size
        self.block = os.urandom(CHUNK)
        self.seed = seed

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n is None or n < 0 else min(n, self.left)
        n = min(n, CHUNK)
        self.left -= n
        # fresh random head per chunk keeps every chunk (and file) distinct
        head = os.urandom(64)
        return head[:n] + self.block[64:n] if n > 64 else head[:n]


def setup_django(data_dir: Path) -> None:
    os.environ["JILU_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jilu.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed_case(size: int, files: int):
    from django.utils import timezone

    from jilu.casework import actions as c
    from jilu.devices import actions as d
    from jilu.evidence.actions import store_object
    from jilu.evidence.models import Recording
    from jilu.org import actions as o

    a = "system:bench"
    city = o.create_unit(
        actor=a,
        parent=None,
        code="350200000000",
        name="厦门市城市管理行政执法局",
        short_name="市局",
        level="city",
    )
    district = o.create_unit(
        actor=a,
        parent=city,
        code="350203000000",
        name="思明区城市管理行政执法局",
        short_name="思明区局",
        level="district",
    )
    brigade = o.create_unit(
        actor=a,
        parent=district,
        code="350203000001",
        name="思明区城市管理行政执法大队",
        short_name="思明区城管执法大队",
        level="brigade",
    )
    squad = o.create_unit(
        actor=a,
        parent=brigade,
        code="350203000101",
        name="中华中队",
        short_name="中华中队",
        level="squad",
    )
    officer = o.create_person(
        actor=a,
        username="bench-officer",
        name="王五",
        unit=squad,
        roles=["officer"],
        frontline=True,
        user_no="350201",
        cert_no="C0000001",
    )
    handler = o.create_person(
        actor=a,
        username="bench-handler",
        name="赵六",
        unit=brigade,
        roles=["case_handler"],
        cert_no="C0000002",
    )
    officer_b = o.create_person(
        actor=a,
        username="bench-officer-b",
        name="李四",
        unit=squad,
        roles=["officer"],
        frontline=True,
        user_no="350202",
        cert_no="C0000003",
    )
    recorder = d.register_recorder(actor=a, serial="A000123", unit=squad)
    t0 = datetime(2026, 11, 26, 1, 0, 0, tzinfo=UTC)
    d.issue_recorder(actor=a, recorder=recorder, person=officer, at=t0 - timedelta(days=30))
    party = c.create_party(
        actor=a, unit=squad, kind="organisation", name="厦门市思明区中山路某某餐饮管理有限公司"
    )
    case = c.create_case(
        actor=a,
        number="思城执罚〔2026〕88号",
        category="penalty",
        unit=brigade,
        handler=handler,
        party=party,
        matter_text="未经批准占道经营",
        title="某某餐饮占道经营案",
    )
    activity = c.create_activity(
        actor=a,
        officers=[officer, officer_b],
        kind="S1",
        party=party,
        unit=squad,
        category="penalty",
        matter_text="未经批准占道经营",
        place_name="某某餐厅",
        address="思明区中山路1号",
        planned_start=t0,
        planned_end=t0 + timedelta(hours=8),
        case=case,
    )
    each = size // files
    for n in range(1, files + 1):
        start = t0 + timedelta(minutes=30 * n)
        stored = store_object(actor=a, stream=RandomStream(each, n))
        local = timezone.localtime(start)
        rec = Recording.objects.create(
            stored_object=stored,
            recorder=recorder,
            officer=officer,
            kind="video",
            original_name=f"DCIM/A000123_350201_{local:%Y%m%d%H%M%S}_{n:04d}.MP4",
            started_at=start,
            ended_at=start + timedelta(minutes=30),
            size=stored.size,
            sha256=stored.sha256,
            sm3=stored.sm3,
            docked_at=start + timedelta(hours=2),
        )
        c.annotate(actor=officer, recording=rec, activity=activity, step="site_survey")
        say(f"  seeded {n}/{files}: {stored.size / 1e6:.0f} MB")
    case.refresh_from_db()
    return case


def drop_caches() -> None:
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def plain_script(case, out: Path) -> str:
    from jilu.casework.queries import case_recordings
    from jilu.evidence.store import get_store

    root = Path(get_store().root)
    tree = out / "tree"
    lines = ["set -e", f"mkdir -p {shlex.quote(str(tree / 'data'))}"]
    for row in case_recordings(case):
        sha = row.recording.sha256
        src = root / "objects" / sha[:2] / sha[2:4] / sha
        lines.append(
            f"cp {shlex.quote(str(src))} {shlex.quote(str(tree / 'data' / row.file_name))}"
        )
    data = shlex.quote(str(tree / "data"))
    lines += [
        f"cd {shlex.quote(str(tree))}",
        "sha256sum data/* > manifest-sha256.txt",
        "openssl dgst -sm3 -r data/* > manifest-sm3.txt",
        f"genisoimage -quiet -input-charset utf-8 -J -joliet-long -R -udf -allow-limited-size "
        f"-V CASE -o {shlex.quote(str(out / 'plain.iso'))} .",
    ]
    del data
    return "\n".join(lines)


def run_plain(case, out: Path) -> float:
    out.mkdir(parents=True)
    script = plain_script(case, out)
    t = time.perf_counter()
    subprocess.run(["bash", "-c", script], check=True)
    return time.perf_counter() - t


def run_jilu(case, out: Path, disc: str, workers: int | None) -> tuple[float, dict]:
    from jilu.transfer.builder import build_package

    phases: list[tuple[str, float]] = []
    last = [""]

    def progress(_done: int, _total: int, message: str) -> None:
        if message != last[0]:
            last[0] = message
            phases.append((message, time.perf_counter()))

    t = time.perf_counter()
    extra = {} if workers is None else {"workers": workers}
    result = build_package(case, out, disc=disc, progress=progress, **extra)
    end = time.perf_counter()
    marks = [("准备（清单 PDF/XLSX）", t), *phases, ("", end)]
    for (name, at), (_next, until) in zip(marks, marks[1:], strict=False):
        say(f"      {until - at:7.2f} s  {name}")
    return end - t, result.to_json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=4096)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--disc", default="dvd", choices=["dvd", "dvd-dl", "bd"])
    parser.add_argument("--dir", default=None, help="where the temporary data goes")
    parser.add_argument("--drop-caches", action="store_true")
    parser.add_argument(
        "--workers", type=int, default=None, help="recordings copied at once (default: builder's)"
    )
    args = parser.parse_args()
    for tool in ("genisoimage", "openssl", "sha256sum"):
        if shutil.which(tool) is None:
            sys.exit(f"bench/export.py: {tool} not found (apt-get install -y genisoimage openssl)")

    size = args.size_mib * 1024 * 1024
    base = Path(tempfile.mkdtemp(prefix="jilu-bench-export-", dir=args.dir))
    try:
        say(f"seeding a case of {args.files} recordings, {size / 2**30:.2f} GiB, in {base}")
        setup_django(base / "data")
        case = seed_case(size, args.files)
        from jilu.evidence.store import get_store

        for obj in (Path(get_store().root) / "objects").rglob("*"):
            if obj.is_file():
                with obj.open("rb") as fh:
                    while fh.read(CHUNK):
                        pass
        runs: dict[str, list[float]] = {"plain": [], "jilu": []}
        summary: dict = {}
        order = []
        for r in range(args.rounds):
            order += ["plain", "jilu"] if r % 2 == 0 else ["jilu", "plain"]
        for i, which in enumerate(order):
            out = base / f"out-{i}"
            if args.drop_caches:
                drop_caches()
            if which == "plain":
                seconds = run_plain(case, out)
            else:
                seconds, summary = run_jilu(case, out, args.disc, args.workers)
            runs[which].append(seconds)
            say(
                f"  {which:5s} run {len(runs[which])}: {seconds:.2f} s "
                f"({size / seconds / 1e6:.0f} MB/s)"
            )
            shutil.rmtree(out)
            subprocess.run(["sync"], check=True)
        best = {k: min(v) for k, v in runs.items()}
        ratio = best["plain"] / best["jilu"]
        print(f"case of {args.files} recordings, {size / 2**30:.2f} GiB, disc {args.disc}")
        print(f"jilu  build_package : {best['jilu']:.2f} s  {size / best['jilu'] / 1e6:.0f} MB/s")
        print(
            f"plain cp+sha256sum+openssl sm3+genisoimage : {best['plain']:.2f} s  "
            f"{size / best['plain'] / 1e6:.0f} MB/s"
        )
        print(f"ratio plain/jilu = {ratio:.2f} (target >= 1.0)")
        print(
            json.dumps(
                {
                    "bench": "export",
                    "bytes": size,
                    "files": args.files,
                    "disc": args.disc,
                    "runs": runs,
                    "best": best,
                    "ratio": round(ratio, 3),
                    "discs": len(summary.get("discs", [])),
                    "workers": args.workers,
                    "cpus": os.cpu_count(),
                }
            )
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
