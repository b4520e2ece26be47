"""Benchmark: a city's squad workstations docking at once, through nginx (TLS) to two web
processes and two workers on PostgreSQL, Redis and an S3 store, against plain tools doing
the same hashing of the same bytes.

    .venv/bin/python bench/city.py [--stations 25] [--total-gb 5] [--routing round-robin|sticky]

Everything runs on this machine and is set up and torn down by the script: a PostgreSQL
database with an owner role (``jilu migrate``) and an application role given its rights by
``jilu grant-app-role`` (on the server named by ``--pg-admin-url``), a Redis server and a
moto S3 server on free ports (the bucket with versioning and Object Lock), two gunicorn web
processes with separate upload folders (two machines' local disks), two ``jilu worker
--no-schedule`` and one ``jilu worker --schedule-only``, nginx in front with a self-signed
certificate, and ``--stations`` simulated recorder volumes of ``--total-gb`` in all. The
processes run with the settings of ``docs/deploy-city.md``, so the deploy checks pass.

1. Plain tools on the same files: ``cp`` to another directory, ``sha256sum`` and ``openssl
   dgst -sm3`` of the copy, one file after another (one stream), and the same in as many
   streams at once as the machine has CPUs; ``sync`` at the end.
2. One ``jilu-station ingest`` per volume, all started at once, each through nginx until
   every file is verified on the server (SHA-256 + SM3 re-hashed by the web process, stored
   in the bucket, confirmed by ``GET /station/files/{sha256}``).

Prints the aggregate MB/s (10^6 bytes a second) of both, the ratios plain time / Jilu time,
each station's time (min / median / max), how long the workers took to finish processing
the new recordings afterwards, then one JSON line with every figure.

``--routing round-robin`` (the default) sends each request to the next web process, as a
city's nginx would: a tus upload is continued by whichever web process gets its next PATCH,
each PATCH's bytes go on into the upload's S3 multipart upload (``JILU_UPLOAD_STAGING=store``,
the city default) and the uploads are locked in PostgreSQL, so the two processes' separate
local folders hold nothing an upload needs. ``--routing sticky`` sends every request for
one upload address to the same web process (nginx ``hash $request_uri consistent``), for
comparison. Uploads a station had to start again are counted and printed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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
stations = json.loads(open(sys.argv[-2]).read())
tokens = []
for i, (serial, user_no) in enumerate(stations, start=1):
    squad = o.create_unit(actor=a, parent=brigade, code=f"3502030001{i:02d}", name=f"第{i}中队",
                          short_name=f"第{i}中队", level="squad")
    person = o.create_person(actor=a, username=f"bench{i}", name=f"队员{i}", unit=squad,
                             roles=["officer"], frontline=True, user_no=user_no,
                             cert_no=f"C{i:07d}", password="bench-password-1234")
    rec = d.register_recorder(actor=a, serial=serial, unit=squad)
    d.issue_recorder(actor=a, recorder=rec, person=person, at=timezone.now() - timedelta(days=30))
    station, token = d.create_workstation(actor=a, unit=squad, name=f"第{i}中队工作站")
    tokens.append(token)
open(sys.argv[-1], "w").write(json.dumps(tokens))
"""
)

# Tasks still queued or running on the RQ queue (media processing of the new recordings).
PENDING = """
import django_rq
from rq.registry import StartedJobRegistry
q = django_rq.get_queue("default")
print("PENDING", q.count + StartedJobRegistry(queue=q).count)
"""

NGINX = """\
{user}worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {work}/access.log;
    default_type application/octet-stream;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;

    # As deploy/nginx/jilu.conf, on loopback ports.
    upstream jilu_web {{
{balance}{servers}
        keepalive 32;
        keepalive_timeout 60s;
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name _;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:jilu_tls:10m;
        client_max_body_size 25m;
        client_body_timeout 60s;
        send_timeout 300s;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_connect_timeout 5s;
        proxy_read_timeout 300s;
        proxy_send_timeout 300s;
        location /api/v1/uploads/ {{
            client_max_body_size 0;
            proxy_request_buffering off;
            proxy_read_timeout 900s;
            proxy_send_timeout 900s;
            proxy_pass http://jilu_web;
        }}
        location / {{
            proxy_pass http://jilu_web;
        }}
    }}
}}
"""

PLAIN = """set -euo pipefail
out="$1"; shift
for f in "$@"; do
  name=$(basename "$f")
  cp "$f" "$out/$name"
  sha256sum "$out/$name" > /dev/null
  openssl dgst -sm3 "$out/$name" > /dev/null
done
"""


def wait_for_port(port: int, what: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode} while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not listen on port {port} within {seconds:.0f} s")


@dataclass
class Procs:
    """Every process the bench started, stopped in reverse order."""

    logs: Path
    running: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 (the child keeps it)
        proc = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.running.append((name, proc))
        return proc

    def stop_all(self) -> None:
        for _, proc in reversed(self.running):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in reversed(self.running):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.running.clear()


class Postgres:
    """A database of the bench's own with an owner role and an application role."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        tag = f"{os.getpid()}_{secrets.token_hex(3)}"
        self.db = f"jilu_bench_city_{tag}"
        self.owner, self.app = f"jilu_bench_owner_{tag}", f"jilu_bench_app_{tag}"
        self.owner_pw, self.app_pw = secrets.token_hex(16), secrets.token_hex(16)
        parts = urlsplit(admin_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 5432
        self.created: list[str] = []

    def psql(self, sql: str, database: str | None = None) -> None:
        url = self.admin_url
        if database:
            url = urlunsplit(urlsplit(url)._replace(path=f"/{database}"))
        subprocess.run(
            ["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def url(self, role: str, password: str) -> str:
        return f"postgres://{role}:{password}@{self.host}:{self.port}/{self.db}"

    def create(self) -> None:
        self.psql(f"CREATE ROLE {self.owner} LOGIN PASSWORD '{self.owner_pw}'")
        self.created.append(f"ROLE {self.owner}")
        self.psql(f"CREATE ROLE {self.app} LOGIN PASSWORD '{self.app_pw}'")
        self.created.append(f"ROLE {self.app}")
        self.psql(f"CREATE DATABASE {self.db} OWNER {self.owner}")
        self.created.append(f"DATABASE {self.db}")
        self.psql(
            f"REVOKE CREATE ON SCHEMA public FROM PUBLIC; REVOKE ALL ON DATABASE {self.db} "
            "FROM PUBLIC",
            self.db,
        )

    def drop(self) -> None:
        for thing in reversed(self.created):
            kind, name = thing.split(" ", 1)
            suffix = " WITH (FORCE)" if kind == "DATABASE" else ""
            try:
                self.psql(f"DROP {kind} IF EXISTS {name}{suffix}")
            except subprocess.CalledProcessError:
                say(f"could not drop {thing}; drop it by hand")
        self.created.clear()


def self_signed(work: Path) -> Path:
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(work / "tls.key"),
            "-out",
            str(work / "tls.crt"),
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return work / "tls.crt"


def create_bucket(env: dict[str, str]) -> str:
    """The bucket, versioned with Object Lock: ``jilu create-bucket`` where Jilu has it."""
    has_command = (
        subprocess.run(
            [JILU, "help", "create-bucket"], env=env, capture_output=True, text=True
        ).returncode
        == 0
    )
    if has_command:
        subprocess.run(
            [JILU, "create-bucket", "--object-lock-days", "1"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return "jilu create-bucket"
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=env["JILU_S3_ENDPOINT"],
        aws_access_key_id=env["JILU_S3_ACCESS_KEY"],
        aws_secret_access_key=env["JILU_S3_SECRET_KEY"],
        region_name=env["JILU_S3_REGION"],
    )
    bucket = env["JILU_S3_BUCKET"]
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return "boto3 (create_bucket with Object Lock, versioning)"


def plain_tools(files: list[Path], work: Path, streams: int) -> float:
    """``cp`` + ``sha256sum`` + ``openssl dgst -sm3`` of every file, in ``streams`` streams."""
    out = work / "plain"
    out.mkdir()
    shares = [[str(f) for f in files[i::streams]] for i in range(streams)]
    drop_caches()
    began = time.monotonic()
    procs = [
        subprocess.Popen(["bash", "-c", PLAIN, "plain", str(out), *share])
        for share in shares
        if share
    ]
    codes = [p.wait() for p in procs]
    subprocess.run(["sync"], check=True)
    seconds = time.monotonic() - began
    shutil.rmtree(out)
    if any(codes):
        raise SystemExit("the plain-tools baseline failed")
    return seconds


def jilu_shell(code: str, env: dict[str, str], *extra: str) -> str:
    argv = [JILU, "shell", "-c", code]
    if extra:
        argv = [
            JILU,
            "shell",
            "-c",
            f"import sys; sys.argv += {list(extra)!r}; exec({code!r})",
        ]
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout


def tagged(out: str, tag: str) -> int:
    return int(next(line for line in out.splitlines() if line.startswith(tag)).split()[1])


def wait_ready(url: str, token: str, cafile: Path, seconds: float = 90) -> None:
    import ssl

    context = ssl.create_default_context(cafile=str(cafile))
    request = urllib.request.Request(
        url + "/api/v1/station/me", headers={"Authorization": f"Bearer {token}"}
    )
    deadline = time.monotonic() + seconds
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=5, context=context) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.5)
    raise SystemExit(f"Jilu did not answer through nginx within {seconds:.0f} s ({last})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=25, help="stations docking at once")
    parser.add_argument("--total-gb", type=float, default=5.0, help="GB (10^9 bytes) in all")
    parser.add_argument(
        "--routing",
        choices=("round-robin", "sticky"),
        default="round-robin",
        help="how nginx spreads requests over the web processes (see above)",
    )
    parser.add_argument("--web", type=int, default=2, help="web processes (gunicorn masters)")
    parser.add_argument("--gunicorn-workers", type=int, default=2, help="workers per web process")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--workers", type=int, default=2, help="jilu worker processes")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL superuser connection that may create roles and databases",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600, help="give up on the stations after this long"
    )
    parser.add_argument(
        "--media-timeout",
        type=float,
        default=900,
        help="wait at most this long for the workers to finish afterwards",
    )
    parser.add_argument("--workdir", default=None, help="where to put the temporary files")
    parser.add_argument("--keep", action="store_true", help="keep the temporary files")
    args = parser.parse_args()
    if args.stations < 1 or args.stations > 99 or args.total_gb <= 0:
        parser.error("--stations must be 1 to 99 and --total-gb above 0")
    for tool in ("nginx", "redis-server", "psql", "openssl", "sha256sum"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is not installed")

    work = Path(tempfile.mkdtemp(prefix="jilu-bench-city-", dir=args.workdir))
    work.chmod(0o755)
    logs = work / "logs"
    logs.mkdir()
    procs = Procs(logs)
    pg = Postgres(args.pg_admin_url)
    cpus = os.cpu_count() or 1
    results: dict[str, object] = {
        "cpus": cpus,
        "stations": args.stations,
        "routing": args.routing,
        "web_processes": args.web,
        "gunicorn_workers": args.gunicorn_workers,
        "threads": args.threads,
        "workers": args.workers,
    }
    try:
        # --- the services ------------------------------------------------------------
        say(f"work directory {work}")
        redis_port, s3_port, nginx_port = free_port(), free_port(), free_port()
        (work / "redis").mkdir()
        redis = procs.start(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(redis_port),
                "--dir",
                str(work / "redis"),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
            ],
            dict(os.environ),
        )
        wait_for_port(redis_port, "redis-server", redis)
        (work / "s3tmp").mkdir()
        moto = procs.start(
            "s3",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
            {**os.environ, "TMPDIR": str(work / "s3tmp")},
        )
        wait_for_port(s3_port, "the moto S3 server", moto)
        say("PostgreSQL: database, owner role and application role")
        pg.create()

        audit_key = work / "audit_key"
        audit_key.write_text(secrets.token_urlsafe(48))
        audit_key.chmod(0o600)
        (work / "checkpoints").mkdir()
        origin = f"https://127.0.0.1:{nginx_port}"
        base = {k: v for k, v in os.environ.items() if not k.startswith("JILU_")}
        env = {
            **base,
            "JILU_DATA_DIR": str(work / "data"),
            "JILU_DATABASE_URL": pg.url(pg.app, pg.app_pw),
            "JILU_STORAGE": "s3",
            "JILU_S3_ENDPOINT": f"http://127.0.0.1:{s3_port}",
            "JILU_S3_BUCKET": "jilu-bench-city",
            "JILU_S3_ACCESS_KEY": "bench",
            "JILU_S3_SECRET_KEY": "bench-secret",
            "JILU_S3_REGION": "us-east-1",
            "JILU_S3_OBJECT_LOCK_DAYS": "1",
            "JILU_SERVE_MODE": "s3",
            "JILU_SECRET_KEY": secrets.token_urlsafe(48),
            "JILU_SERVE_LINK_SECRET": secrets.token_urlsafe(32),
            "JILU_AUDIT_KEY_FILE": str(audit_key),
            "JILU_AUDIT_CHECKPOINT_DIR": str(work / "checkpoints"),
            "JILU_TASKS_BACKEND": "rq",
            "JILU_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "JILU_CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
            "JILU_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "JILU_CSRF_TRUSTED_ORIGINS": origin,
            "JILU_TRUSTED_PROXIES": "127.0.0.1",
            "JILU_SECURE_COOKIES": "always",
            "JILU_LOG_LEVEL": "WARNING",
        }
        owner_env = {**env, "JILU_DATABASE_URL": pg.url(pg.owner, pg.owner_pw)}
        say("jilu migrate (owner role), jilu grant-app-role, bucket")
        subprocess.run(
            [JILU, "migrate", "--no-input"], env=owner_env, check=True, stdout=subprocess.DEVNULL
        )
        subprocess.run(
            [JILU, "grant-app-role", pg.app], env=owner_env, check=True, stdout=subprocess.DEVNULL
        )
        results["bucket_made_by"] = create_bucket(env)
        check = subprocess.run(
            [JILU, "check", "--deploy", "--fail-level", "ERROR"],
            env=env,
            capture_output=True,
            text=True,
        )
        if check.returncode != 0:
            raise SystemExit(f"the deploy checks refuse this configuration:\n{check.stderr}")

        recorders = [(f"C{i:06d}", f"36{i:04d}") for i in range(1, args.stations + 1)]
        (work / "stations.json").write_text(json.dumps(recorders))
        jilu_shell(SETUP, env, str(work / "stations.json"), str(work / "tokens.json"))
        tokens = json.loads((work / "tokens.json").read_text())

        say(
            f"{args.web} web processes, {args.workers} workers, a scheduler, nginx ({args.routing})"
        )
        web_ports, web_procs = [], []
        for n in range(1, args.web + 1):
            port = free_port()
            web_ports.append(port)
            node = work / f"web{n}"
            node.mkdir()
            web = procs.start(
                f"web{n}",
                [
                    GUNICORN,
                    "jilu.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--worker-class",
                    "gthread",
                    "--workers",
                    str(args.gunicorn_workers),
                    "--threads",
                    str(args.threads),
                    "--timeout",
                    "120",
                    "--graceful-timeout",
                    "30",
                    "--keep-alive",
                    "75",
                    "--control-socket",
                    str(node / "gunicorn.ctl"),
                ],
                # Each web process has its own upload folder, as on its own machine.
                {**env, "JILU_SPOOL_DIR": str(node / "spool")},
            )
            web_procs.append(web)
        for n in range(1, args.workers + 1):
            procs.start(
                f"worker{n}",
                [JILU, "worker", "--no-schedule"],
                {**env, "JILU_SPOOL_DIR": str(work / f"worker{n}" / "spool")},
            )
        procs.start("scheduler", [JILU, "worker", "--schedule-only"], env)
        for n, (proc, port) in enumerate(zip(web_procs, web_ports, strict=True), start=1):
            wait_for_port(port, f"web process {n}", proc)

        cert = self_signed(work)
        (work / "nginx").mkdir()
        balance = "        hash $request_uri consistent;\n" if args.routing == "sticky" else ""
        (work / "nginx" / "nginx.conf").write_text(
            NGINX.format(
                user="user root;\n" if os.geteuid() == 0 else "",
                workers=min(cpus, 4),
                work=str(work / "nginx"),
                balance=balance,
                servers="\n".join(f"        server 127.0.0.1:{p};" for p in web_ports),
                port=nginx_port,
                cert=cert,
                key=work / "tls.key",
            )
        )
        nginx = procs.start(
            "nginx",
            ["nginx", "-c", str(work / "nginx" / "nginx.conf"), "-g", "daemon off;"],
            dict(os.environ),
        )
        wait_for_port(nginx_port, "nginx", nginx)
        wait_ready(origin, tokens[0], cert)

        # --- the volumes and the plain tools -------------------------------------------
        per_station_mib = args.total_gb * 1e9 / args.stations / 2**20
        say(f"simulating {args.stations} volumes of {per_station_mib:.0f} MiB")
        volumes, files = [], []
        scale = 1.0  # the simulator's bytes per requested MiB, measured on the first volume
        for i, (serial, user_no) in enumerate(recorders):
            volume = work / "volumes" / serial
            made = simulate(volume, serial, user_no, per_station_mib * scale, hours_ago=3 + i % 5)
            got = sum(p.stat().st_size for p in made)
            if i == 0 and got < per_station_mib * 2**20:
                # Encoded segments come out a little smaller than the bitrate says: make
                # the volumes again, large enough for --total-gb in all.
                scale = per_station_mib * 2**20 / got * 1.01
                shutil.rmtree(volume)
                made = simulate(volume, serial, user_no, per_station_mib * scale, hours_ago=3)
            files += made
            volumes.append(volume)
        nbytes = sum(p.stat().st_size for p in files)
        results.update(files=len(files), bytes=nbytes)
        say(f"{len(files)} files, {nbytes / 1e9:.2f} GB; plain tools, one stream …")
        plain_one = plain_tools(files, work, 1)
        say(f"plain tools, {cpus} streams …")
        plain_many = plain_tools(files, work, cpus)

        # --- the stations ----------------------------------------------------------------
        say(f"{args.stations} stations docking at once …")
        station_env = {**base, "SSL_CERT_FILE": str(cert)}
        drop_caches()
        began = time.monotonic()
        running = []
        for i, (volume, token) in enumerate(zip(volumes, tokens, strict=True), start=1):
            err = open(logs / f"station{i}.err", "w")  # noqa: SIM115 (closed below)
            proc = subprocess.Popen(
                [
                    STATION,
                    "ingest",
                    str(volume),
                    "--server",
                    origin,
                    "--token",
                    token,
                    "--spool",
                    str(work / "station-spool" / f"s{i}"),
                ],
                env=station_env,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                start_new_session=True,
            )
            running.append((i, proc, err))
        ended: dict[int, float] = {}
        outputs: dict[int, str] = {}
        deadline = began + args.timeout
        while len(ended) < len(running) and time.monotonic() < deadline:
            for i, proc, _ in running:
                if i not in ended and proc.poll() is not None:
                    ended[i] = time.monotonic() - began
                    outputs[i] = proc.stdout.read() if proc.stdout else ""
            time.sleep(0.2)
        total_s = time.monotonic() - began
        for _, proc, err in running:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            err.close()
        restarted = sum(
            (logs / f"station{i}.err").read_text().count("starting a new one")
            for i, _, _ in running
        )
        failed = []
        for i, proc, _ in running:
            lines = [json.loads(x) for x in outputs.get(i, "").splitlines() if x.startswith("{")]
            summary = lines[-1] if lines else {}
            if (
                i not in ended
                or proc.returncode != 0
                or summary.get("verified") != summary.get("files_found")
            ):
                failed.append(i)
        results.update(uploads_started_again=restarted, stations_failed=len(failed))
        if failed:
            unfinished = [i for i in failed if i not in ended]
            raise SystemExit(
                f"{len(failed)} of {args.stations} stations did not get every file verified "
                f"({len(unfinished)} still running after {args.timeout:.0f} s; {restarted} "
                f"uploads started again). Logs: {logs}/station*.err"
            )
        recordings = tagged(jilu_shell(COUNT, env), "RECORDINGS")
        if recordings != len(files):
            raise SystemExit(f"{recordings} recordings on the server, {len(files)} files docked")
        jilu_s = max(ended.values())
        times = sorted(ended.values())

        say("waiting for the workers to finish the new recordings …")
        media_began = time.monotonic()
        media_s: float | None = None
        while time.monotonic() - media_began < args.media_timeout:
            if tagged(jilu_shell(PENDING, env), "PENDING") == 0:
                media_s = time.monotonic() - began
                break
            time.sleep(3)
        results.update(
            plain_one_stream_seconds=round(plain_one, 2),
            plain_one_stream_mb_s=round(rate(nbytes, plain_one), 1),
            plain_parallel_streams=cpus,
            plain_parallel_seconds=round(plain_many, 2),
            plain_parallel_mb_s=round(rate(nbytes, plain_many), 1),
            jilu_seconds=round(jilu_s, 2),
            jilu_mb_s=round(rate(nbytes, jilu_s), 1),
            ratio_one_stream=round(plain_one / jilu_s, 2),
            ratio_parallel=round(plain_many / jilu_s, 2),
            station_seconds_min=round(times[0], 2),
            station_seconds_median=round(statistics.median(times), 2),
            station_seconds_max=round(times[-1], 2),
            media_done_seconds=round(media_s, 1) if media_s is not None else None,
            recordings_on_server=recordings,
            total_seconds=round(total_s, 2),
        )
    finally:
        procs.stop_all()
        pg.drop()
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    r = results
    routing = (
        "round-robin" if r["routing"] == "round-robin" else "sticky: hash $request_uri consistent"
    )
    print(
        f"Jilu city benchmark ({r['cpus']} CPUs, one machine): {r['stations']} stations → nginx "
        f"(TLS, {routing}) → {r['web_processes']} web processes × {r['gunicorn_workers']} "
        f"gunicorn workers × {r['threads']} threads; {r['workers']} workers + scheduler; "
        "PostgreSQL, Redis (RQ), moto S3"
    )
    print(f"  data: {r['files']} files, {r['bytes'] / 1e9:.2f} GB on {r['stations']} volumes")
    print(
        f"  plain tools, one stream (cp, sha256sum, openssl dgst -sm3; sync): "
        f"{r['plain_one_stream_seconds']:.1f} s = {r['plain_one_stream_mb_s']:.1f} MB/s"
    )
    print(
        f"  plain tools, {r['plain_parallel_streams']} streams at once:                  "
        f"{r['plain_parallel_seconds']:.1f} s = {r['plain_parallel_mb_s']:.1f} MB/s"
    )
    print(
        f"  Jilu, every station's files verified on the server:     "
        f"{r['jilu_seconds']:.1f} s = {r['jilu_mb_s']:.1f} MB/s aggregate"
    )
    print(
        f"  ratio plain/Jilu (time): {r['ratio_one_stream']:.2f} against one stream, "
        f"{r['ratio_parallel']:.2f} against {r['plain_parallel_streams']} streams"
    )
    print(
        f"  per station: min {r['station_seconds_min']:.1f} s, median "
        f"{r['station_seconds_median']:.1f} s, max {r['station_seconds_max']:.1f} s; "
        f"uploads started again: {r['uploads_started_again']}"
    )
    media = r["media_done_seconds"]
    print(
        "  workers: "
        + (
            f"every new recording processed {media:.1f} s after the stations started"
            if media is not None
            else f"still processing after --media-timeout {args.media_timeout:.0f} s"
        )
    )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
