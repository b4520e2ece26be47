"""A small city on one machine, for the scale-out test: a fresh PostgreSQL
database, an S3 server (moto), two gunicorn web processes with their own
directories behind nginx (round robin), and ``jilu worker`` processes on RQ.

Every process runs in a session of its own, so one can be killed with what it
started (gunicorn's workers, an RQ worker's work horse) as when its machine
is lost.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("JILU_TEST_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("JILU_TEST_REDIS", "redis://127.0.0.1:6379")

NGINX_CONF = """
user root;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream jilu {{
        server 127.0.0.1:{web0} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:{web1} max_fails=1 fail_timeout=5s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        location / {{
            proxy_pass http://jilu;
            proxy_request_buffering off;
            proxy_set_header Host $http_host;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting ({timeout:.0f} s): {what}")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL the process, its session and everything below it: its machine is lost."""
    below = descendants(proc.pid)
    for pid in [proc.pid, *below]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        kill_hard(proc)


class Cluster:
    def __init__(self, root: Path, database: str, s3: dict[str, str], redis_url: str) -> None:
        self.root = root
        self.database = database
        self.s3 = s3
        self.redis_url = redis_url
        self.procs: list[subprocess.Popen] = []

    def env(self, name: str, **extra: str) -> dict[str, str]:
        """One machine's environment: its own data and spool directories, the rest shared."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("JILU_")}
        data = self.root / name
        data.mkdir(parents=True, exist_ok=True)
        env.update(
            DJANGO_SETTINGS_MODULE="jilu.settings",
            JILU_DATA_DIR=str(data),
            JILU_SPOOL_DIR=str(data / "spool"),
            JILU_SECRET_KEY="s" * 50,
            JILU_AUDIT_KEY="a" * 50,
            JILU_DATABASE_URL=self.database,
            # A test machine: the superuser role and the missing TLS would be refused.
            JILU_DEPLOYMENT="embedded",
            JILU_STORAGE="s3",
            JILU_UPLOAD_STAGING="store",
            JILU_UPLOAD_PART_MIB="5",
            JILU_TASKS_BACKEND="rq",
            JILU_REDIS_URL=self.redis_url,
            JILU_CACHE_URL=self.redis_url,
            JILU_RQ_RETRIES="3",
            JILU_RQ_RETRY_DELAY_SECONDS="0",
            JILU_RQ_ABANDONED_AFTER_SECONDS="3",
            JILU_LOG_LEVEL="WARNING",
            **self.s3,
        )
        env.update(extra)
        return env

    def start(self, argv: list[str], name: str, env: dict[str, str]) -> subprocess.Popen:
        with open(self.root / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs.append(proc)
        return proc

    def django(self, script: str, name: str = "admin", timeout: float = 120) -> Any:
        """Run ``script`` (after django.setup()) as one more machine; its JSON output."""
        done = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + script],
            env=self.env(name),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def migrate(self) -> None:
        done = subprocess.run(
            [str(BIN / "jilu"), "migrate", "--no-input"],
            env=self.env("admin"),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-4000:]

    def web(self, name: str, port: int) -> subprocess.Popen:
        argv = [
            str(BIN / "gunicorn"),
            "jilu.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "8",
            "--timeout",
            "120",
            "--access-logfile",
            str(self.root / f"{name}.access.log"),
        ]
        return self.start(argv, name, self.env(name))

    def worker(self, name: str) -> subprocess.Popen:
        return self.start([str(BIN / "jilu"), "worker", "--no-schedule"], name, self.env(name))

    def nginx(self, port: int, web0: int, web1: int) -> subprocess.Popen:
        conf_dir = self.root / "nginx"
        conf_dir.mkdir(exist_ok=True)
        conf = conf_dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=conf_dir, port=port, web0=web0, web1=web1))
        argv = ["nginx", "-p", str(conf_dir), "-c", str(conf), "-g", "daemon off;"]
        return self.start(argv, "nginx", dict(os.environ))

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            stop(proc)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except Exception:
        return False
