"""``jilu nginx-conf``: the nginx configuration in front of Jilu's web processes.

Printed from the same settings Django runs with (store root or S3 endpoint and
bucket, X-Accel prefix, signed-link prefix and secret, session cookie name), so
nginx and Django agree by construction. With the S3 store nginx proxies to
``JILU_S3_ENDPOINT`` (see ``jilu/evidence/links.py`` and docs/storage.md). Without ``--standalone`` it prints one ``server { }`` block
for ``/etc/nginx/conf.d/``; with ``--standalone DIR`` a whole ``nginx.conf``
whose pid, logs and temporary files live in DIR (for trying it out, tests and
benchmarks: ``nginx -c DIR/nginx.conf -g 'daemon off;'``).

The file holds ``JILU_SERVE_LINK_SECRET`` when one is set: keep it readable by
root and nginx only.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jilu.evidence.links import nginx_http_blocks, nginx_locations

SERVER = """\
{http_blocks}upstream jilu_web {{
{upstreams}
    keepalive 32;
}}

server {{
    listen {listen};
    server_name {server_name};
    sendfile on;
    tcp_nopush on;
    # Uploads from stations are tus PATCHes of up to a few hundred MiB: stream
    # them to Jilu as they arrive (it hashes while writing) instead of spooling.
    client_max_body_size 0;
    proxy_request_buffering off;

{locations}

    location / {{
        proxy_pass http://jilu_web;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        # The audit log records the client's address: Jilu takes it from
        # X-Real-IP only when the request comes from JILU_TRUSTED_PROXIES.
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_read_timeout 300s;
        proxy_send_timeout 300s;
    }}
}}
"""

STANDALONE = """\
{user}worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {access_log};
    keepalive_requests 100000;
    default_type application/octet-stream;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
{server}
}}
"""


def render(
    *,
    listen: str,
    upstreams: list[str],
    server_name: str = "_",
    standalone: Path | None = None,
    workers: int = 1,
    access_log: bool = False,
) -> str:
    """The configuration text (see the module docstring)."""
    server = SERVER.format(
        http_blocks=nginx_http_blocks(),
        upstreams="\n".join(f"    server {u};" for u in upstreams),
        listen=listen,
        server_name=server_name,
        locations=nginx_locations(),
    )
    if standalone is None:
        return server
    work = str(standalone.resolve())
    return STANDALONE.format(
        # The store belongs to the user running Jilu: a standalone nginx started
        # by root reads it as root (as a packaged nginx would by group membership).
        user="user root;\n" if os.geteuid() == 0 else "",
        workers=workers,
        work=work,
        access_log=f"{work}/access.log" if access_log else "off",
        server="\n".join("    " + line if line else line for line in server.splitlines()),
    )


class Command(BaseCommand):
    help = (
        "Print the nginx configuration that serves Jilu (X-Accel-Redirect and signed play links)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--listen", default="80", help="nginx listen address (default 80)")
        parser.add_argument(
            "--upstream",
            action="append",
            default=None,
            help="a Jilu web process host:port (repeat for several; default 127.0.0.1:8000)",
        )
        parser.add_argument("--server-name", default="_")
        parser.add_argument(
            "--standalone",
            metavar="DIR",
            help="print a whole nginx.conf keeping pid, logs and temporary files in DIR",
        )
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--access-log", action="store_true")

    def handle(self, *args, **opts) -> None:
        if settings.SERVE_MODE != "accel":
            raise CommandError(
                f"JILU_SERVE_MODE is {settings.SERVE_MODE!r}: set JILU_SERVE_MODE=accel for the "
                "web processes behind nginx (and JILU_SERVE_LINK_SECRET for signed play links)"
            )
        standalone = Path(opts["standalone"]) if opts["standalone"] else None
        if standalone is not None:
            standalone.mkdir(parents=True, exist_ok=True)
        try:
            text = render(
                listen=opts["listen"],
                upstreams=opts["upstream"] or ["127.0.0.1:8000"],
                server_name=opts["server_name"],
                standalone=standalone,
                workers=opts["workers"],
                access_log=opts["access_log"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(text)
