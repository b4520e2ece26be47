"""Benchmark: Range-serving throughput of Jilu's server against plain nginx.

Sets up a temporary ``JILU_DATA_DIR`` with one stored recording (random
bytes, ``--size-mib``) and a signed-in session, then measures, on loopback:

* nginx: nginx serving the stored file itself (the baseline);
* production: the production configuration, nginx as ``jilu nginx-conf``
  writes it in front of gunicorn (``jilu.wsgi``, 1 worker x 8 threads as
  ``make run``) with ``JILU_SERVE_MODE=accel`` and ``JILU_SERVE_LINK_SECRET``:
  each client opens the play address once (Django checks access, audits and
  answers with a signed link, as for a browser's ``<video>``), then asks
  nginx for its ranges by that link;
* accel per request: the same servers, every range through Django, which
  answers with ``X-Accel-Redirect`` (how downloads and API clients are served);
* python: gunicorn alone, ``JILU_SERVE_MODE=python`` (``make run`` as is):
  the bytes stream through ``StreamingHttpResponse``.

Load: ``--clients`` processes, each with a keep-alive connection, asking for
random ``--range-kib`` ranges (what a seeking video player does) for
``--seconds``; then one client reading the whole file. The baseline and the
production configuration alternate for ``--rounds`` rounds after an untimed
warm-up read; their medians are compared. Prints MB/s and each
configuration's ratio to nginx (target: production >= 0.8).

nginx (Debian package) is installed with apt-get when missing (needs root).

    .venv/bin/python bench/media_serve.py [--size-mib 256] [--clients 4] [--seconds 8]
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

ROOT = Path(__file__).resolve().parent.parent
LINK_SECRET = "bench-link-secret-" + os.urandom(12).hex()
VENV = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def prepare(work: Path, size: int) -> tuple[int, str, str, Path]:
    """Migrate, store one recording, sign a session in and issue an API token.

    Returns (recording pk, session key, API token, object path).
    """
    env = dict(os.environ, JILU_DATA_DIR=str(work / "data"))
    subprocess.run([str(VENV / "jilu"), "migrate", "-v0"], env=env, check=True)
    script = textwrap.dedent(
        """
        import io, os, sys
        from datetime import timedelta
        import django
        django.setup()
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore
        from django.utils import timezone
        from jilu.devices import actions as devices
        from jilu.evidence.actions import store_object
        from jilu.evidence.models import Recording
        from jilu.evidence.store import get_store
        from jilu.org import actions as org
        from jilu.org.models import Person, Unit
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
        print(rec.pk, session.session_key, raw, get_store().path(obj.sha256))
        """
    )
    source = work / "source.bin"
    block = os.urandom(1 << 20)
    with open(source, "wb") as fh:
        for i in range(size >> 20):
            fh.write(i.to_bytes(8, "big") + block[8:])
    out = subprocess.run(
        [str(VENV / "python"), "-c", script, str(source)],
        env=dict(env, DJANGO_SETTINGS_MODULE="jilu.settings", PYTHONPATH=str(ROOT)),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    source.unlink()
    return int(out[0]), out[1], out[2], Path(out[3])


def credentials(cred: str) -> dict[str, str]:
    """``Bearer …`` goes in Authorization (API clients); anything else is a cookie."""
    if cred.startswith("Bearer "):
        return {"Authorization": cred}
    return {"Cookie": cred} if cred else {}


def resolve(conn: http.client.HTTPConnection, path: str, cookie: str) -> str:
    """Open the play address once, as a browser's player does, and return where it leads."""
    conn.request("GET", path, headers=credentials(cookie))
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"{path}: expected a signed link (302), got HTTP {response.status}")
    return response.getheader("Location")


def client_loop(args: tuple) -> int:
    port, path, cookie, size, range_bytes, seconds, seed, follow = args
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    if follow:
        path = resolve(conn, path, cookie)
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    total = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = rng.randrange(0, size - range_bytes)
        conn.request(
            "GET",
            path,
            headers={"Range": f"bytes={start}-{start + range_bytes - 1}", **credentials(cookie)},
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
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    buf = memoryview(bytearray(1 << 20))
    began = time.monotonic()
    if follow:
        path = resolve(conn, path, cookie)
    conn.request("GET", path, headers=credentials(cookie))
    response = conn.getresponse()
    total = 0
    while n := response.readinto(buf):
        total += n
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
        "--no-session-refresh",
        action="store_true",
        help="what-if: SESSION_SAVE_EVERY_REQUEST=False (no database write per Range request)",
    )
    opts = parser.parse_args()
    nginx = ensure_nginx()
    work = Path(tempfile.mkdtemp(prefix="jilu-bench-serve-"))
    procs: list[subprocess.Popen] = []
    try:
        size = opts.size_mib << 20
        pk, session, token, object_path = prepare(work, size)
        store = work / "data" / "store"
        cookie = f"sessionid={session}"
        settings_module = "jilu.settings"
        if opts.no_session_refresh:
            (work / "bench_settings.py").write_text(
                "from jilu.settings import *  # noqa\nSESSION_SAVE_EVERY_REQUEST = False\n"
            )
            settings_module = "bench_settings"
        results = {}
        play = f"/recordings/{pk}/play/"
        for mode in ("accel", "python"):
            gport = free_port()
            env = dict(
                os.environ,
                JILU_DATA_DIR=str(work / "data"),
                JILU_SERVE_MODE=mode,
                JILU_SERVE_LINK_SECRET=LINK_SECRET if mode == "accel" else "",
                DJANGO_SETTINGS_MODULE=settings_module,
                PYTHONPATH=f"{work}:{ROOT}",
            )
            gunicorn = subprocess.Popen(
                [str(VENV / "gunicorn"), "jilu.wsgi", "--bind", f"127.0.0.1:{gport}",
                 "--workers", str(opts.web_workers if mode == "accel" else 1),
                 "--threads", "8", "--timeout", "300"],
                env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            procs.append(gunicorn)
            wait_port(gport)
            if mode == "accel":
                nport = free_port()
                conf = work / "nginx" / "nginx.conf"
                # The configuration a deployment uses, written by Jilu itself, plus
                # one location for the baseline: nginx serving the object directly.
                text = subprocess.run(
                    [str(VENV / "jilu"), "nginx-conf", "--listen", f"127.0.0.1:{nport}",
                     "--upstream", f"127.0.0.1:{gport}", "--standalone", str(work / "nginx"),
                     "--workers", str(opts.nginx_workers)],
                    env=env, check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
                baseline = f"    location /direct/ {{ alias {store}/; }}\n"
                text = text.replace("    location / {", baseline + "    location / {", 1)
                conf.write_text(text)
                ngx = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"])
                procs.append(ngx)
                wait_port(nport)
                direct = "/direct/" + str(object_path.relative_to(store))
                whole(nport, direct, "", size)  # warm the page cache, untimed
                # Baseline and production alternate, --rounds times each; medians.
                base, prod = [], []
                for _ in range(opts.rounds):
                    base.append(
                        (ranged(nport, direct, "", size, opts), whole(nport, direct, "", size))
                    )
                    prod.append(
                        (
                            ranged(nport, play, cookie, size, opts, follow=True),
                            whole(nport, play, cookie, size, follow=True),
                        )
                    )
                results["nginx"] = median_pair(base)
                results["production (nginx + signed link)"] = median_pair(prod)
                api = f"/api/v1/recordings/{pk}/content"
                results["accel per request (API)"] = (
                    ranged(nport, api, f"Bearer {token}", size, opts),
                    whole(nport, api, f"Bearer {token}", size),
                )
            else:
                results["python (gunicorn streaming)"] = (
                    ranged(gport, play, cookie, size, opts),
                    whole(gport, play, cookie, size),
                )
            stop(procs)
        base_r, base_w = results["nginx"]
        print(
            f"{opts.size_mib} MiB object, {opts.clients} clients × random {opts.range_kib} KiB "
            f"ranges for {opts.seconds:g}s; then one whole-file read; "
            f"{opts.web_workers} gunicorn process(es) behind nginx"
        )
        print(f"{'server':36} {'ranges MB/s':>12} {'ratio':>6} {'whole MB/s':>11} {'ratio':>6}")
        for name, (r, w) in results.items():
            print(f"{name:36} {r:12.0f} {r / base_r:6.2f} {w:11.0f} {w / base_w:6.2f}")
        prod_r = results["production (nginx + signed link)"][0] / base_r
        prod_w = results["production (nginx + signed link)"][1] / base_w
        print(
            f"production/nginx: ranges {prod_r:.2f} (target >= 0.8); whole file {prod_w:.2f} "
            "(one authorising request per read included; on loopback a file of a few hundred "
            "MiB reads in tens of ms, so that request weighs more than on a real recording)"
        )
        return 0 if prod_r >= 0.8 else 1
    finally:
        stop(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
