"""Benchmark: the evidence store's ``put`` against the plain-tools pipeline.

Both do the same work on the same file, on the same disk:

* store: ``get_store().put_path(src)`` on the file backend: one read pass
  hashing SHA-256 and SM3 in parallel threads while writing, fsync, publish;
* plain: ``cp src dst && sync && sha256sum src && openssl dgst -sm3 src``,
  run through the shell and timed as a whole.

The source file is read once before timing so both start from a warm page
cache; every copy is removed and the disk synced between runs (untimed).
Runs are interleaved store, plain, plain, store, … so neither order is
favoured. Prints MB/s (10^6 bytes a second) of each and plain_time /
store_time (target: >= 1.0).

    .venv/bin/python bench/store.py [--size-mib 1024] [--rounds 2] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BLOCK = 16 * 1024 * 1024


def make_source(path: Path, size: int) -> None:
    """Random-ish bytes: one random 16 MiB block, each copy stamped with its number."""
    base = os.urandom(BLOCK)
    with open(path, "wb") as fh:
        written, n = 0, 0
        while written < size:
            block = n.to_bytes(8, "big") + base[8:]
            block = block[: size - written]
            fh.write(block)
            written += len(block)
            n += 1
        fh.flush()
        os.fsync(fh.fileno())


def warm(path: Path) -> None:
    with open(path, "rb", buffering=0) as fh:
        while fh.read(BLOCK):
            pass


def settle() -> None:
    subprocess.run(["sync"], check=True)


def time_store(src: Path, root: Path) -> tuple[float, str, str]:
    from django.test import override_settings

    from jilu.evidence.store import get_store

    with override_settings(STORAGE_KIND="file", STORE_ROOT=root):
        store = get_store()
        started = time.perf_counter()
        result = store.put_path(src)
        elapsed = time.perf_counter() - started
    assert result.created and result.size == src.stat().st_size
    shutil.rmtree(root)
    settle()
    return elapsed, result.sha256, result.sm3


def time_plain(src: Path, dst: Path) -> tuple[float, str, str]:
    command = f"cp {src} {dst} && sync && sha256sum {src} && openssl dgst -sm3 {src}"
    started = time.perf_counter()
    done = subprocess.run(command, shell=True, check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    lines = done.stdout.split("\n")
    sha256 = lines[0].split()[0]
    sm3 = lines[1].rsplit("= ", 1)[-1].strip()
    dst.unlink()
    settle()
    return elapsed, sha256, sm3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="source size (default 1024)")
    parser.add_argument("--rounds", type=int, default=2, help="measured store/plain pairs")
    parser.add_argument(
        "--dir", type=Path, default=None, help="work directory (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    if args.size_mib < 1 or args.rounds < 1:
        parser.error("--size-mib and --rounds must be at least 1")
    for tool in ("cp", "sync", "sha256sum", "openssl"):
        if shutil.which(tool) is None:
            parser.error(f"the plain pipeline needs {tool!r} on PATH")

    work = Path(tempfile.mkdtemp(prefix="jilu-bench-", dir=args.dir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "jilu.settings"
    os.environ["JILU_DATA_DIR"] = str(work / "data")
    os.environ["JILU_STORAGE"] = "file"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()

    size = args.size_mib * 1024 * 1024
    src = work / "src.bin"
    try:
        print(f"work dir {work}; source {args.size_mib} MiB", flush=True)
        make_source(src, size)
        warm(src)
        settle()
        runs: dict[str, list[float]] = {"store": [], "plain": []}
        digests = set()

        def run(kind: str, n: int, record: bool) -> None:
            if kind == "store":
                elapsed, sha256, sm3 = time_store(src, work / f"store-{n}")
            else:
                elapsed, sha256, sm3 = time_plain(src, work / f"plain-{n}")
            digests.add((sha256, sm3))
            label = "measured" if record else "warm-up "
            print(
                f"  {label} {kind:5}  {elapsed:7.3f} s  {size / elapsed / 1e6:8.1f} MB/s",
                flush=True,
            )
            if record:
                runs[kind].append(elapsed)

        run("store", 0, False)
        run("plain", 0, False)
        for n in range(1, args.rounds + 1):
            order = ("store", "plain") if n % 2 else ("plain", "store")
            for kind in order:
                run(kind, n, True)
        if len(digests) != 1:
            print(f"MISMATCH: store and plain tools disagree on the hashes: {digests}")
            return 2
        store_t = statistics.median(runs["store"])
        plain_t = statistics.median(runs["plain"])
        print(f"store  {size / store_t / 1e6:8.1f} MB/s  (median {store_t:.3f} s)")
        print(f"plain  {size / plain_t / 1e6:8.1f} MB/s  (median {plain_t:.3f} s)")
        print(f"ratio plain_time/store_time = {plain_t / store_t:.2f}  (target >= 1.0)")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
