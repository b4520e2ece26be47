"""Benchmark: Range-serving throughput of Jilu's server against plain nginx.

Sets up a temporary ``JILU_DATA_DIR`` with one stored recording (random
bytes, ``--size-mib``) and a signed-in session, then measures, on loopback,
on the filesystem store:

* nginx: nginx serving the stored file itself (the baseline);
* production: the production configuration, nginx as ``jilu nginx-conf``
  writes it in front of gunicorn (``jilu.wsgi``, 1 worker x 8 threads as
  ``make run``) with ``JILU_SERVE_MODE=accel`` and ``JILU_SERVE_LINK_SECRET``:
  each client opens the play address once with ``Range: bytes=0-`` (Django
  checks access, audits and answers with a signed link, as for a browser's
  ``<video>``; a play without a Range is refused since it would be a copy),
  then asks nginx for its ranges by that link;
* accel per request: the same servers, every range through Django, which
  answers with ``X-Accel-Redirect`` (how downloads and API clients are served);
* python: gunicorn alone, ``JILU_SERVE_MODE=python`` (``make run`` as is):
  the bytes stream through ``StreamingHttpResponse``.

Then the same recording in the S3 store (``--s3 s3rver``: the npm package
``s3rver``, installed under ``bench/out/`` when missing; ``--s3 moto``: moto's
server from the virtualenv; ``--s3 none`` skips this part):

* store direct: a presigned URL of the object, every range read from the
  store by the clients themselves (the store's own ceiling);
* production S3 (nginx): the same ``jilu nginx-conf`` configuration with
  ``JILU_STORAGE=s3``: the play address answers with a signed link carrying a
  presigned request, nginx checks it and proxies each range to the store;
* s3 mode: ``JILU_SERVE_MODE=s3``, the play address answers with a 302 to a
  presigned URL of the recorded version and the clients read the ranges from
  the store.

Both are compared with nginx serving the same bytes from disk and with the
store direct. Load: ``--clients`` processes, each with a keep-alive
connection, asking for random ``--range-kib`` ranges (what a seeking video
player does) for ``--seconds``; then one client reading the whole file (as one
``bytes=0-`` range). The configurations of a part alternate for ``--rounds``
rounds after an untimed warm-up read; their medians are compared. Prints MB/s
and each configuration's ratios (target: production >= 0.8 of nginx).

nginx (Debian package) is installed with apt-get when missing (needs root).

    .venv/bin/python bench/media_serve.py [--size-mib 256] [--clients 4] [--seconds 8]
                                          [--s3 s3rver|moto|none]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit

from common import free_port

ROOT = Path(__file__).resolve().parent.parent
LINK_SECRET = "bench-link-secret-" + os.urandom(12).hex()
VENV = ROOT / ".venv" / "bin"
OUT = ROOT / "bench" / "out"
S3RVER_VERSION = "3.7.1"
BUCKET = "jilu-bench"


def ensure_nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("nginx is not installed; run: sudo apt-get install -y nginx")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"], check=True, env=env
    )
    return shutil.which("nginx") or "/usr/sbin/nginx"


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


PREPARE = textwrap.dedent(
    """
    import io, os, sys
    from datetime import timedelta
    import django
    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone
    from jilu.devices import actions as devices
    from jilu.evidence.actions import store_object
    from jilu.evidence.models import Recording
    from jilu.evidence.store import get_store
    from jilu.org import actions as org
    from jilu.org.models import Person, Unit
    store = get_store()
    if store.kind == "s3":
        store.client.create_bucket(Bucket=store.bucket)
        try:  # a versioned bucket where the store keeps versions (s3rver keeps none)
            store.client.put_bucket_versioning(
                Bucket=store.bucket, VersioningConfiguration={"Status": "Enabled"})
        except Exception:
            pass
    unit = Unit.objects.filter(code="350200000000").first() or org.create_unit(
        actor="system:bench", parent=None, code="350200000000",
        name="基准测试市城市管理行政执法局", short_name="基准测试市城管", level="city")
    person = Person.objects.filter(username="bench_inspector").first() or org.create_person(
        actor="system:bench", username="bench_inspector", name="基准督察", unit=unit,
        roles=["inspector"], password="bench-password-2026")
    recorder = devices.register_recorder(actor="system:bench", serial="B000001", unit=unit)
    with open(sys.argv[1], "rb") as fh:
        obj = store_object(actor="system:bench", stream=fh)
    now = timezone.now()
    rec = Recording.objects.create(
        stored_object=obj, recorder=recorder, officer=None, kind="video",
        original_name="B000001_000000_20261120090000_0001.MP4", started_at=now,
        size=obj.size, sha256=obj.sha256, sm3=obj.sm3, docked_at=now)
    session = SessionStore()
    session[SESSION_KEY] = str(person.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = person.get_session_auth_hash()
    session.set_expiry(3600)
    session.save()
    from jilu.org.api_auth import token_digest
    from jilu.org.models import ApiToken
    raw = "jpt_bench-" + os.urandom(16).hex()
    ApiToken.objects.create(person=person, digest=token_digest(raw), prefix=raw[:8],
                            expires_at=now + timedelta(hours=2))
    if store.kind == "s3":
        where = store.presigned_get(obj.sha256, seconds=3600)
    else:
        where = str(store.path(obj.sha256))
    print(rec.pk, session.session_key, raw, where)
    """
)


def prepare(env: dict[str, str], source: Path) -> tuple[int, str, str, str]:
    """Migrate, store one recording, sign a session in and issue an API token.

    Returns (recording pk, session key, API token, object path or presigned URL).
    """
    subprocess.run([str(VENV / "jilu"), "migrate", "-v0"], env=env, check=True)
    out = subprocess.run(
        [str(VENV / "python"), "-c", PREPARE, str(source)],
        env=dict(env, DJANGO_SETTINGS_MODULE="jilu.settings"),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return int(out[0]), out[1], out[2], out[3]


def write_source(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        for i in range(size >> 20):
            fh.write(i.to_bytes(8, "big") + block[8:])


def credentials(cred: str) -> dict[str, str]:
    """``Bearer …`` goes in Authorization (API clients); anything else is a cookie."""
    if cred.startswith("Bearer "):
        return {"Authorization": cred}
    return {"Cookie": cred} if cred else {}


def connect(port: int, target: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    """A connection for ``target``: a path on ``port``, or an absolute URL (the store's)."""
    if target.startswith("http"):
        parts = urlsplit(target)
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
        return conn, parts.path + (f"?{parts.query}" if parts.query else "")
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout), target


def resolve(port: int, path: str, cookie: str) -> str:
    """Open the play address once, as a browser's player does (always with a
    Range: a play without one would be a copy, refused), and return where it leads."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", path, headers={"Range": "bytes=0-", **credentials(cookie)})
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 302:
        raise RuntimeError(f"{path}: expected a signed link (302), got HTTP {response.status}")
    return response.getheader("Location")


def client_loop(args: tuple) -> int:
    port, path, cookie, size, range_bytes, seconds, seed, follow = args
    rng = random.Random(seed)
    if follow:
        path = resolve(port, path, cookie)
    conn, path = connect(port, path, 20)
    # Credentials go to Jilu (and its signed links), never to the store.
    sent = credentials(cookie) if conn.host == "127.0.0.1" and conn.port == port else {}
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    total = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = rng.randrange(0, size - range_bytes)
        conn.request(
            "GET", path, headers={"Range": f"bytes={start}-{start + range_bytes - 1}", **sent}
        )
        response = conn.getresponse()
        if response.status != 206:
            raise RuntimeError(f"{path}: HTTP {response.status} {response.read(300)!r}")
        while True:
            n = response.readinto(view)
            if not n:
                break
            total += n
    conn.close()
    return total


def ranged(port: int, path: str, cookie: str, size: int, opts, follow: bool = False) -> float:
    jobs = [
        (port, path, cookie, size, opts.range_kib * 1024, opts.seconds, i, follow)
        for i in range(opts.clients)
    ]
    began = time.monotonic()
    with multiprocessing.Pool(opts.clients) as pool:
        total = sum(pool.map(client_loop, jobs))
    return total / (time.monotonic() - began) / 1e6


def whole(port: int, path: str, cookie: str, size: int, follow: bool = False) -> float:
    """One client reading the whole object as one ``bytes=0-`` range (a play's first request)."""
    buf = memoryview(bytearray(1 << 20))
    began = time.monotonic()
    if follow:
        path = resolve(port, path, cookie)
    conn, target = connect(port, path, 120)
    sent = credentials(cookie) if conn.host == "127.0.0.1" and conn.port == port else {}
    conn.request("GET", target, headers={"Range": "bytes=0-", **sent})
    response = conn.getresponse()
    if response.status not in (200, 206):
        raise RuntimeError(f"{path}: HTTP {response.status} {response.read(300)!r}")
    total = 0
    while n := response.readinto(buf):
        total += n
    conn.close()
    assert total == size, (total, size)
    return size / (time.monotonic() - began) / 1e6


def median_pair(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r for r, _ in runs), statistics.median(w for _, w in runs)


def stop(procs: list[subprocess.Popen]) -> None:
    """Stop the servers this bench started (nginx's QUIT lets its workers finish)."""
    for proc in procs:
        proc.send_signal(signal.SIGQUIT if "nginx" in str(proc.args[0]) else signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    procs.clear()


def start_gunicorn(env: dict[str, str], work: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [str(VENV / "gunicorn"), "jilu.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", "8", "--timeout", "300"],
        env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_port(port)
    return proc, port


def start_nginx(nginx: str, env: dict, work: Path, gport: int, direct: Path, opts) -> tuple:
    """nginx as ``jilu nginx-conf`` writes it, plus ``/direct/`` serving ``direct`` (the
    baseline: the same bytes as a file on disk)."""
    nport = free_port()
    home = work / f"nginx-{nport}"
    text = subprocess.run(
        [str(VENV / "jilu"), "nginx-conf", "--listen", f"127.0.0.1:{nport}",
         "--upstream", f"127.0.0.1:{gport}", "--standalone", str(home),
         "--workers", str(opts.nginx_workers)],
        env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    baseline = f"    location /direct/ {{ alias {direct.parent}/; }}\n"
    text = text.replace("    location / {", baseline + "    location / {", 1)
    (home / "nginx.conf").write_text(text)
    proc = subprocess.Popen([nginx, "-c", str(home / "nginx.conf"), "-g", "daemon off;"])
    wait_port(nport)
    return proc, nport, f"/direct/{direct.name}"


def start_s3(kind: str, work: Path) -> tuple[subprocess.Popen, str]:
    """An S3 server on loopback: s3rver (npm, installed under bench/out/) or moto."""
    port = free_port()
    if kind == "moto":
        command = [str(VENV / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    else:
        binary = OUT / "node_modules" / ".bin" / "s3rver"
        if not binary.exists():
            if not shutil.which("npm"):
                sys.exit("--s3 s3rver needs npm (apt-get install -y nodejs npm), or use --s3 moto")
            OUT.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["npm", "install", "--prefix", str(OUT), "--no-audit", "--no-fund", "--silent",
                 f"s3rver@{S3RVER_VERSION}"],
                check=True,
            )  # fmt: skip
        (work / "s3rver").mkdir()
        command = [str(binary), "-d", str(work / "s3rver"), "-a", "127.0.0.1", "-p", str(port),
                   "--silent"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, f"http://127.0.0.1:{port}"


def table(title: str, results: dict, bases: list[str]) -> None:
    print(title)
    head = f"{'server':40} {'ranges MB/s':>12}"
    for base in bases:
        head += f" {'/' + base[:10]:>11}"
    print(head + f" {'whole MB/s':>11}" + "".join(f" {'/' + b[:10]:>11}" for b in bases))
    for name, (r, w) in results.items():
        line = f"{name:40} {r:12.0f}"
        line += "".join(f" {r / results[b][0]:11.2f}" for b in bases)
        line += f" {w:11.0f}" + "".join(f" {w / results[b][1]:11.2f}" for b in bases)
        print(line)


def file_part(opts, nginx: str, work: Path, settings_module: str, procs: list) -> dict:
    size = opts.size_mib << 20
    base = dict(
        os.environ,
        JILU_DATA_DIR=str(work / "data"),
        JILU_DEPLOYMENT="embedded",
        DJANGO_SETTINGS_MODULE=settings_module,
        PYTHONPATH=f"{work}:{ROOT}",
    )
    source = work / "source.bin"
    write_source(source, size)
    pk, session, token, object_path = prepare(base, source)
    source.unlink()
    cookie = f"sessionid={session}"
    play = f"/recordings/{pk}/play/"
    api = f"/api/v1/recordings/{pk}/content"
    results: dict[str, tuple[float, float]] = {}
    env = dict(base, JILU_SERVE_MODE="accel", JILU_SERVE_LINK_SECRET=LINK_SECRET)
    gunicorn, gport = start_gunicorn(env, work, opts.web_workers)
    procs.append(gunicorn)
    ngx, nport, direct = start_nginx(nginx, env, work, gport, Path(object_path), opts)
    procs.append(ngx)
    whole(nport, direct, "", size)  # warm the page cache, untimed
    basel, prod = [], []
    for _ in range(opts.rounds):
        basel.append((ranged(nport, direct, "", size, opts), whole(nport, direct, "", size)))
        prod.append(
            (
                ranged(nport, play, cookie, size, opts, follow=True),
                whole(nport, play, cookie, size, follow=True),
            )
        )
    results["nginx (file on disk)"] = median_pair(basel)
    results["production (nginx + signed link)"] = median_pair(prod)
    results["accel per request (API)"] = (
        ranged(nport, api, f"Bearer {token}", size, opts),
        whole(nport, api, f"Bearer {token}", size),
    )
    stop(procs)
    env = dict(base, JILU_SERVE_MODE="python", JILU_SERVE_LINK_SECRET="")
    gunicorn, gport = start_gunicorn(env, work, 1)
    procs.append(gunicorn)
    results["python (gunicorn streaming)"] = (
        ranged(gport, play, cookie, size, opts),
        whole(gport, play, cookie, size),
    )
    stop(procs)
    return results


def s3_part(opts, nginx: str, work: Path, settings_module: str, procs: list) -> dict:
    size = opts.size_mib << 20
    server, endpoint = start_s3(opts.s3, work)
    procs.append(server)
    base = dict(
        os.environ,
        JILU_DATA_DIR=str(work / "data-s3"),
        JILU_DEPLOYMENT="embedded",
        JILU_STORAGE="s3",
        JILU_S3_ENDPOINT=endpoint,
        JILU_S3_BUCKET=BUCKET,
        JILU_S3_ACCESS_KEY="S3RVER",
        JILU_S3_SECRET_KEY="S3RVER",
        JILU_S3_REGION="us-east-1",
        DJANGO_SETTINGS_MODULE=settings_module,
        PYTHONPATH=f"{work}:{ROOT}",
    )
    disk = work / "disk"
    disk.mkdir()
    source = disk / "object.bin"
    write_source(source, size)
    pk, session, _token, presigned = prepare(base, source)
    cookie = f"sessionid={session}"
    play = f"/recordings/{pk}/play/"
    env = dict(base, JILU_SERVE_MODE="accel", JILU_SERVE_LINK_SECRET=LINK_SECRET)
    gunicorn, gport = start_gunicorn(env, work, opts.web_workers)
    procs.append(gunicorn)
    ngx, nport, direct = start_nginx(nginx, env, work, gport, source, opts)
    procs.append(ngx)
    s3env = dict(base, JILU_SERVE_MODE="s3")
    s3web, s3port = start_gunicorn(s3env, work, opts.web_workers)
    procs.append(s3web)
    whole(nport, direct, "", size)  # warm the page cache and the store, untimed
    whole(0, presigned, "", size)
    runs: dict[str, list] = {
        "nginx (file on disk)": [],
        "store direct (presigned URL)": [],
        "production S3 (nginx + signed link)": [],
        "s3 mode (302 to presigned URL)": [],
    }
    for _ in range(opts.rounds):
        runs["nginx (file on disk)"].append(
            (ranged(nport, direct, "", size, opts), whole(nport, direct, "", size))
        )
        runs["store direct (presigned URL)"].append(
            (ranged(0, presigned, "", size, opts), whole(0, presigned, "", size))
        )
        runs["production S3 (nginx + signed link)"].append(
            (
                ranged(nport, play, cookie, size, opts, follow=True),
                whole(nport, play, cookie, size, follow=True),
            )
        )
        runs["s3 mode (302 to presigned URL)"].append(
            (
                ranged(s3port, play, cookie, size, opts, follow=True),
                whole(s3port, play, cookie, size, follow=True),
            )
        )
    stop(procs)
    return {name: median_pair(values) for name, values in runs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--range-kib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (medians)")
    parser.add_argument("--nginx-workers", type=int, default=1)
    parser.add_argument(
        "--web-workers",
        type=int,
        default=1,
        help="gunicorn processes behind nginx in the production run (make run uses 1)",
    )
    parser.add_argument(
        "--s3",
        choices=["s3rver", "moto", "none"],
        default="s3rver",
        help="the S3 server for the S3 part (default s3rver, from npm)",
    )
    parser.add_argument(
        "--no-session-refresh",
        action="store_true",
        help="what-if: SESSION_SAVE_EVERY_REQUEST=False (no database write per Range request)",
    )
    opts = parser.parse_args()
    if opts.size_mib < 2 * opts.range_kib / 1024:
        parser.error("--size-mib must hold at least two ranges of --range-kib")
    nginx = ensure_nginx()
    work = Path(tempfile.mkdtemp(prefix="jilu-bench-serve-"))
    procs: list[subprocess.Popen] = []
    settings_module = "jilu.settings"
    if opts.no_session_refresh:
        (work / "bench_settings.py").write_text(
            "from jilu.settings import *  # noqa\nSESSION_SAVE_EVERY_REQUEST = False\n"
        )
        settings_module = "bench_settings"
    try:
        files = file_part(opts, nginx, work, settings_module, procs)
        print(
            f"{opts.size_mib} MiB object, {opts.clients} clients × random {opts.range_kib} KiB "
            f"ranges for {opts.seconds:g}s; then one whole-file read (one bytes=0- range); "
            f"{opts.web_workers} gunicorn process(es) behind nginx"
        )
        table("\nfilesystem store", files, ["nginx (file on disk)"])
        ratios = {"production (nginx + signed link)": files}
        if opts.s3 != "none":
            s3 = s3_part(opts, nginx, work, settings_module, procs)
            table(
                f"\nS3 store ({opts.s3} on loopback)",
                s3,
                ["nginx (file on disk)", "store direct (presigned URL)"],
            )
            ratios["production S3 (nginx + signed link)"] = s3
            ratios["s3 mode (302 to presigned URL)"] = s3
        print()
        met = True
        for name, results in ratios.items():
            disk = results[name][0] / results["nginx (file on disk)"][0]
            line = f"{name}: ranges {disk:.2f} of nginx from disk (target >= 0.8)"
            if "store direct (presigned URL)" in results:
                store = results[name][0] / results["store direct (presigned URL)"][0]
                line += f", {store:.2f} of reading the store directly"
            print(line)
            met = met and disk >= 0.8
        return 0 if met else 1
    finally:
        stop(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
