"""Benchmark: Range-serving throughput of Jilu's server against plain nginx.

Sets up a temporary ``JILU_DATA_DIR`` with one stored recording (random
bytes, ``--size-mib``) and a signed-in session, then measures, on loopback:

* nginx: nginx serving the stored file itself (the baseline);
* production: nginx in front of gunicorn (``jilu.wsgi``, 1 worker × 8 threads
  as ``make run``), ``JILU_SERVE_MODE=accel``: Django checks access, audits
  and answers with ``X-Accel-Redirect``; nginx sends the bytes;
* python: gunicorn alone, ``JILU_SERVE_MODE=python`` (``make run`` as is):
  the bytes stream through ``StreamingHttpResponse``.

Load: ``--clients`` processes, each with a keep-alive connection, asking for
random ``--range-kib`` ranges (what a seeking video player does) for
``--seconds``; then one client reading the whole file. Prints MB/s and each
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
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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


def prepare(work: Path, size: int) -> tuple[int, str, Path]:
    """Migrate, store one recording, sign a session in; returns (pk, session key, object path)."""
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
        print(rec.pk, session.session_key, get_store().path(obj.sha256))
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
    return int(out[0]), out[1], Path(out[2])


def client_loop(args: tuple) -> int:
    port, path, cookie, size, range_bytes, seconds, seed = args
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    total = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = rng.randrange(0, size - range_bytes)
        conn.request(
            "GET",
            path,
            headers={"Range": f"bytes={start}-{start + range_bytes - 1}", "Cookie": cookie},
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


def ranged(port: int, path: str, cookie: str, size: int, opts) -> float:
    jobs = [
        (port, path, cookie, size, opts.range_kib * 1024, opts.seconds, i)
        for i in range(opts.clients)
    ]
    began = time.monotonic()
    with multiprocessing.Pool(opts.clients) as pool:
        total = sum(pool.map(client_loop, jobs))
    return total / (time.monotonic() - began) / 1e6


def whole(port: int, path: str, cookie: str, size: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    buf = memoryview(bytearray(1 << 20))
    began = time.monotonic()
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    total = 0
    while n := response.readinto(buf):
        total += n
    assert total == size, (total, size)
    return size / (time.monotonic() - began) / 1e6


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


NGINX_CONF = """
{user}
worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    default_type application/octet-stream;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    fastcgi_temp_path {work}/nginx-fastcgi;
    uwsgi_temp_path {work}/nginx-uwsgi;
    scgi_temp_path {work}/nginx-scgi;
    upstream jilu {{ server 127.0.0.1:{gunicorn}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        # Baseline: nginx serving the stored object itself.
        location /direct/ {{ alias {store}/; }}
        # Production: Django decides, nginx sends the bytes (JILU_SERVE_MODE=accel).
        location /_jilu_store/ {{ internal; alias {store}/; }}
        location / {{
            proxy_pass http://jilu;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--range-kib", type=int, default=1024)
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
        pk, session, object_path = prepare(work, size)
        store = work / "data" / "store"
        cookie = f"sessionid={session}"
        # A settings module that reads JILU_SERVE_MODE, until jilu/settings.py does.
        (work / "bench_settings.py").write_text(
            "import os\nfrom jilu.settings import *  # noqa\n"
            "SERVE_MODE = os.environ.get('JILU_SERVE_MODE', 'python')\n"
            + ("SESSION_SAVE_EVERY_REQUEST = False\n" if opts.no_session_refresh else "")
        )
        results = {}
        for mode in ("accel", "python"):
            gport = free_port()
            env = dict(
                os.environ,
                JILU_DATA_DIR=str(work / "data"),
                JILU_SERVE_MODE=mode,
                DJANGO_SETTINGS_MODULE="bench_settings",
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
            play = f"/recordings/{pk}/play/"
            if mode == "accel":
                nport = free_port()
                conf = work / "nginx.conf"
                conf.write_text(
                    NGINX_CONF.format(
                        work=work,
                        port=nport,
                        gunicorn=gport,
                        store=store,
                        workers=opts.nginx_workers,
                        # The temporary store is private to this user: read it as this user.
                        user="user root;" if os.geteuid() == 0 else "",
                    )
                )
                ngx = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"])
                procs.append(ngx)
                wait_port(nport)
                direct = "/direct/" + str(object_path.relative_to(store))
                results["nginx"] = (
                    ranged(nport, direct, "", size, opts),
                    whole(nport, direct, "", size),
                )
                results["production (nginx + accel)"] = (
                    ranged(nport, play, cookie, size, opts),
                    whole(nport, play, cookie, size),
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
        print(f"{'server':32} {'ranges MB/s':>12} {'ratio':>6} {'whole MB/s':>11} {'ratio':>6}")
        for name, (r, w) in results.items():
            print(f"{name:32} {r:12.0f} {r / base_r:6.2f} {w:11.0f} {w / base_w:6.2f}")
        prod = results["production (nginx + accel)"][0] / base_r
        print(f"production/nginx (ranges) = {prod:.2f} (target >= 0.8)")
        return 0 if prod >= 0.8 else 1
    finally:
        stop(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
