"""Benchmark: docking recorder volumes until every file is verified on a Jilu server, against
plain tools doing the same work on the same files.

    .venv/bin/python bench/ingest.py [--size-mib 2048] [--volumes 10] [--watch-total-mib 2048]

1. One simulated volume (default 2 GiB of H.264/AAC segments at a real recorder's bitrate)
   is ingested by ``jilu-station ingest`` into a Jilu server on loopback (gunicorn, SQLite +
   filesystem store, a fresh data directory): copied once into the station's spool while
   hashed (SHA-256 + SM3), uploaded over tus with per-chunk checksums, re-hashed (SHA-256 +
   SM3) and fsynced into the evidence store by the server, confirmed with
   ``GET /station/files/{sha256}``.
2. The plain-tools pipeline on the same files, one file after another: ``cp`` into a spool,
   ``sync``, ``sha256sum``, ``openssl dgst -sm3``, ``cp`` into a store directory, ``sync``.
3. Ten volumes docked at once through ``jilu-station watch --once``: all verified, aggregate
   rate (and the plain tools on the same files, for the ratio).

Page caches are dropped before each timed run when the bench runs as root; ``--repeat N``
times the one-volume comparison N times (fresh bytes each time) and keeps the best of each,
since other work on a shared machine makes single runs noisy. Prints MB/s
(10^6 bytes per second) for both and the ratio plain time / Jilu time (target ≥ 1.0), then one
JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import (
    COUNT,
    GUNICORN,
    JILU,
    STATION,
    UNITS,
    drop_caches,
    free_port,
    rate,
    say,
    simulate,
)

SETUP = (
    UNITS
    + """
squad = o.create_unit(actor=a, parent=brigade, code="350203000101", name="中华中队",
                      short_name="中华中队", level="squad")
recorders = json.loads(open(sys.argv[-2]).read())
for i, (serial, user_no) in enumerate(recorders):
    person = o.create_person(actor=a, username=f"bench{i}", name=f"队员{i}", unit=squad,
                             roles=["officer"], frontline=True, user_no=user_no,
                             cert_no=f"C{i:07d}", password="bench-password-1234")
    rec = d.register_recorder(actor=a, serial=serial, unit=squad)
    d.issue_recorder(actor=a, recorder=rec, person=person, at=timezone.now() - timedelta(days=30))
station, token = d.create_workstation(actor=a, unit=squad, name="基准测试工作站")
open(sys.argv[-1], "w").write(token)
"""
)


class Server:
    """A Jilu server on loopback with a fresh data directory (SQLite + filesystem)."""

    def __init__(self, data: Path, recorders: list[tuple[str, str]], workers: int) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "JILU_DATA_DIR": str(data),
            "JILU_DEBUG": "0",
            "JILU_LOG_LEVEL": "WARNING",
        }
        data.mkdir(parents=True)
        subprocess.run(
            [JILU, "migrate", "--no-input"], env=self.env, check=True, stdout=subprocess.DEVNULL
        )
        (data / "recorders.json").write_text(json.dumps(recorders))
        script = data / "setup.py"
        script.write_text(SETUP)
        token_file = data / "token"
        subprocess.run(
            [
                JILU,
                "shell",
                "-c",
                f"import sys; sys.argv += [{str(data / 'recorders.json')!r}, {str(token_file)!r}]; "
                f"exec(open({str(script)!r}).read())",
            ],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.token = token_file.read_text().strip()
        self.log = open(data / "server.log", "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "jilu.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                "8",
                "--timeout",
                "600",
            ],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        request = urllib.request.Request(
            self.url + "/api/v1/station/me", headers={"Authorization": f"Bearer {self.token}"}
        )
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server did not start; see {self.data / 'server.log'}")
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        raise SystemExit("the server did not answer within 60 s")

    def recordings(self) -> int:
        out = subprocess.run(
            [JILU, "shell", "-c", COUNT], env=self.env, check=True, capture_output=True, text=True
        ).stdout
        return int(
            next(line for line in out.splitlines() if line.startswith("RECORDINGS")).split()[1]
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


PLAIN = """set -euo pipefail
spool="$1"; store="$2"; shift 2
for f in "$@"; do
  name=$(basename "$f")
  cp "$f" "$spool/$name"
  sync
  sha256sum "$spool/$name" > /dev/null
  openssl dgst -sm3 "$spool/$name" > /dev/null
  cp "$spool/$name" "$store/$name"
  sync
  rm "$spool/$name"
done
"""


def plain_tools(files: list[Path], work: Path) -> float:
    spool, store = work / "spool", work / "store"
    spool.mkdir(parents=True)
    store.mkdir()
    drop_caches()
    began = time.monotonic()
    subprocess.run(
        ["bash", "-c", PLAIN, "plain", str(spool), str(store), *map(str, files)], check=True
    )
    seconds = time.monotonic() - began
    shutil.rmtree(work)
    return seconds


def station(server: Server, spool: Path, *args: str) -> tuple[float, list[dict]]:
    drop_caches()
    began = time.monotonic()
    done = subprocess.run(
        [STATION, *args, "--server", server.url, "--token", server.token, "--spool", str(spool)],
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - began
    lines = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"jilu-station {args[0]} exited {done.returncode}")
    retries = done.stderr.count("server not available")
    if retries:
        say(f"note: the station waited for the server {retries} times in this run")
    return seconds, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=float, default=2048, help="size of the one volume")
    parser.add_argument("--volumes", type=int, default=10, help="volumes docked at once (watch)")
    parser.add_argument(
        "--watch-total-mib",
        type=float,
        default=None,
        help="total size of those volumes (default: --size-mib)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time the one-volume comparison this many times (best of each)",
    )
    parser.add_argument("--workdir", default=None, help="where to put the temporary files")
    parser.add_argument("--keep", action="store_true", help="keep the temporary files")
    args = parser.parse_args()
    watch_total = args.watch_total_mib if args.watch_total_mib is not None else args.size_mib
    work = Path(tempfile.mkdtemp(prefix="jilu-bench-ingest-", dir=args.workdir))
    one = ("A000001", "350201")
    many = [(f"B{i:06d}", f"3503{i:02d}") for i in range(1, args.volumes + 1)]
    server = None
    results: dict[str, object] = {"cpus": os.cpu_count(), "size_mib": args.size_mib}
    try:
        say(f"starting a Jilu server on loopback ({work / 'server'})")
        server = Server(work / "server", [one, *many], args.workers)
        plain_runs: list[float] = []
        jilu_runs: list[float] = []
        for run in range(args.repeat):
            say(f"simulating a {args.size_mib:.0f} MiB volume (run {run + 1})")
            files = simulate(work / "vol", *one, args.size_mib, 6 + run, "--clock-offset", "3")
            nbytes = sum(p.stat().st_size for p in files)
            say(f"{len(files)} files, {nbytes / 2**20:.1f} MiB; plain tools …")
            plain_runs.append(plain_tools(files, work / "plain"))
            say("jilu-station ingest …")
            jilu_s, lines = station(server, work / "station-spool", "ingest", str(work / "vol"))
            jilu_runs.append(jilu_s)
            summary = lines[-1]
            assert summary["verified"] == summary["files_found"] == len(files), summary
            shutil.rmtree(work / "vol")
        plain_s, jilu_s = min(plain_runs), min(jilu_runs)
        results.update(
            files=len(files),
            bytes=nbytes,
            plain_seconds=round(plain_s, 2),
            plain_mb_s=round(rate(nbytes, plain_s), 1),
            jilu_seconds=round(jilu_s, 2),
            jilu_mb_s=round(rate(nbytes, jilu_s), 1),
            ratio=round(plain_s / jilu_s, 2),
            runs={
                "plain_seconds": [round(x, 2) for x in plain_runs],
                "jilu_seconds": [round(x, 2) for x in jilu_runs],
            },
        )
        ingested = len(files) * args.repeat

        dock, staging = work / "dock", work / "staging"
        dock.mkdir()
        watch_files: list[Path] = []
        say(f"simulating {args.volumes} volumes, {watch_total:.0f} MiB in all")
        for serial, user_no in many:
            watch_files += simulate(
                staging / serial,
                serial,
                user_no,
                watch_total / args.volumes,
                6,
                "--clock-offset",
                "3",
            )
        wbytes = sum(p.stat().st_size for p in watch_files)
        plain_w = plain_tools(watch_files, work / "plain-watch")
        for serial, _ in many:
            os.rename(staging / serial, dock / serial)  # docked: the volumes appear at once
        say(f"jilu-station watch --once over {args.volumes} volumes …")
        watch_s, lines = station(
            server,
            work / "station-spool",
            "watch",
            str(dock),
            "--once",
            "--settle",
            "0.5",
            "--poll",
            "0.2",
        )
        total = lines[-1]
        assert total["volumes"] == total["complete"] == args.volumes, total
        assert total["verified"] == len(watch_files), total
        recordings = server.recordings()
        assert recordings == ingested + len(watch_files), recordings
        results.update(
            watch_volumes=args.volumes,
            watch_files=len(watch_files),
            watch_bytes=wbytes,
            watch_seconds=round(watch_s, 2),
            watch_mb_s=round(rate(wbytes, watch_s), 1),
            watch_plain_mb_s=round(rate(wbytes, plain_w), 1),
            watch_ratio=round(plain_w / watch_s, 2),
            recordings_on_server=recordings,
        )
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    r = results
    print(f"Jilu ingest benchmark ({r['cpus']} CPUs, loopback, SQLite + filesystem store)")
    print(f"  one volume: {r['files']} files, {r['bytes'] / 2**20:.1f} MiB")
    print(
        f"    plain tools (cp, sync, sha256sum, openssl sm3, cp, sync): "
        f"{r['plain_seconds']:.1f} s = {r['plain_mb_s']:.1f} MB/s"
    )
    print(
        f"    jilu-station ingest → verified on the server:           "
        f"{r['jilu_seconds']:.1f} s = {r['jilu_mb_s']:.1f} MB/s"
    )
    print(f"    ratio plain/jilu (time): {r['ratio']:.2f}  (target ≥ 1.0; best of {args.repeat})")
    print(
        f"  {r['watch_volumes']} volumes at once through watch: {r['watch_files']} files, "
        f"{r['watch_bytes'] / 2**20:.1f} MiB, all verified in {r['watch_seconds']:.1f} s "
        f"= {r['watch_mb_s']:.1f} MB/s aggregate (plain tools {r['watch_plain_mb_s']:.1f} MB/s, "
        f"ratio {r['watch_ratio']:.2f})"
    )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
