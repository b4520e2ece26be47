"""Signed playback links: authorise once per play, let nginx send every range.

A browser player sends one Range request per seek and per buffer refill. When
each of them passes through Django (``restrict()``, session, audit) the
per-request cost dominates short ranges. In the production configuration
(``JILU_SERVE_MODE=accel`` with ``JILU_SERVE_LINK_SECRET``) the play view
checks ``restrict(user, "play")``, writes the audit entry (C6.3: nobody sees a
recording outside their scope; C6.5.7: every viewing is on record) and answers
with a redirect to

    <JILU_SERVE_LINK_PREFIX>objects/ab/cd/<sha256>.<ext>?e=<expires>&s=<signature>

which nginx checks by itself with its ``secure_link`` module (the location
block comes from ``jilu nginx-conf``, so both sides agree by construction)::

    secure_link $arg_s,$arg_e;
    secure_link_md5 "$secure_link_expires$uri$cookie_<session cookie> <secret>";

The signature binds the link to the object's path, an expiry
(``JILU_SERVE_LINK_SECONDS``, 10 minutes by default) and the session cookie of
the person it was issued to: copied into another browser, or used without that
session's cookie, nginx refuses it (403). After sign-out the browser no longer
sends the cookie, so the link is dead at once; a stolen session cookie is
bounded by the link's expiry as well as by the session. The player page asks
for a fresh link when one expires mid-viewing (the 302 comes from the play
view again, checked and audited as before).

With the S3 store (``JILU_STORAGE=s3``) nginx does not read files: it proxies
to the store (``JILU_S3_ENDPOINT``). The link then also carries a presigned
``GetObject`` query of the version recorded at ingest (C6.5.3), valid as long
as the link; nginx checks its own signature as above, strips ``e`` and ``s``
and passes the rest to the store, which checks its signature in turn. Only
nginx need reach the store: keep the store off the browsers' network, where
the presigned part alone would serve the object until it expires.

nginx's ``secure_link`` offers only MD5; the secret is appended last, so the
length-extension weakness of MD5 does not apply, and the signed text (expiry,
a hex path, a session key) leaves an attacker nothing to choose. As in
Django (``playback.asks_for_whole``), the link serves byte ranges only: a
request without a single ``bytes=`` range is refused (403), so the link is no
way round the copy procedure (C6.3). Downloads
and API access still pass each request through Django (``X-Accel-Redirect``):
they are single requests, and an API client has no session cookie.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from jilu.evidence.store import get_store

# The file extension tells nginx the Content-Type (see ``nginx_locations``).
LINK_TYPES = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".wav": "audio/wav",
    ".jpg": "image/jpeg",
}


def links_enabled() -> bool:
    """True when plays are answered with signed links nginx serves by itself
    (from the store directory, or proxied to the S3 store)."""
    return bool(
        getattr(settings, "SERVE_MODE", "python") == "accel"
        and getattr(settings, "SERVE_LINK_SECRET", "")
        and get_store().kind in {"file", "s3"}
    )


def store_request(
    store: Any, sha256: str, *, seconds: int, content_type: str = "", disposition: str = ""
) -> tuple[str, str]:
    """(path, query) of a presigned GetObject of the recorded version of
    ``sha256``, as nginx passes them to the store (path-style: ``/bucket/key``)."""
    url = store.presigned_get(
        sha256, seconds=seconds, content_type=content_type, disposition=disposition
    )
    parts = urlsplit(url)
    return parts.path, parts.query


def object_path(store: Any, sha256: str) -> str:
    """``objects/ab/cd/<sha256>``: the object's place in either store."""
    if store.kind == "file":
        return store.path(sha256).relative_to(store.root).as_posix()
    return store.object_key(sha256)


def link_extension(content_type: str) -> str:
    for ext, ctype in LINK_TYPES.items():
        if ctype == content_type:
            return ext
    return ".bin"


def signature(uri: str, expires: int, session_key: str, secret: str) -> str:
    """What nginx's ``secure_link_md5`` computes for this link (base64url, no padding)."""
    text = f"{expires}{uri}{session_key} {secret}".encode()
    return base64.urlsafe_b64encode(hashlib.md5(text).digest()).rstrip(b"=").decode("ascii")


def signed_link(
    *, sha256: str, content_type: str, session_key: str, now: float | None = None
) -> str:
    """A path + query that serves stored object ``sha256`` to this session until it expires."""
    store = get_store()
    prefix = settings.SERVE_LINK_PREFIX.rstrip("/") + "/"
    uri = f"{prefix}{object_path(store, sha256)}{link_extension(content_type)}"
    seconds = int(settings.SERVE_LINK_SECONDS)
    expires = int(now if now is not None else time.time()) + seconds
    sig = signature(uri, expires, session_key, settings.SERVE_LINK_SECRET)
    if store.kind == "s3":
        # The store's own signature for nginx to pass on, as long-lived as the link.
        _path, query = store_request(store, sha256, seconds=seconds, content_type=content_type)
        return f"{uri}?{query}&e={expires}&s={sig}"
    return f"{uri}?e={expires}&s={sig}"


def _store_upstream() -> tuple[str, str]:
    """(scheme, host:port) of the S3 store nginx proxies to; ``ValueError``
    when none is configured (AWS itself: use ``JILU_SERVE_MODE=s3``)."""
    endpoint = getattr(getattr(settings, "S3", None), "endpoint_url", None)
    if not endpoint:
        raise ValueError(
            "JILU_S3_ENDPOINT is unset: nginx proxies plays to the store's own address "
            "(MinIO, Ceph RGW); with AWS S3 itself use JILU_SERVE_MODE=s3"
        )
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, f"{parts.hostname}:{port}"


def nginx_http_blocks() -> str:
    """What the S3 store needs at nginx's ``http`` level, before the server:
    the store as an upstream (kept-alive connections) and the map that takes
    nginx's own ``e`` and ``s`` off a play link's query. Empty for files."""
    if getattr(settings, "STORAGE_KIND", "file") != "s3":
        return ""
    _scheme, hostport = _store_upstream()
    return "\n".join(
        [
            "# The evidence store (JILU_S3_ENDPOINT): nginx passes plays and hand-overs to it.",
            "upstream jilu_store {",
            f"    server {hostport};",
            "    keepalive 32;",
            "}",
            "# A play link's query is the store's presigned query, then nginx's e and s.",
            "map $args $jilu_store_args {",
            '    "~^(?<presigned>.+)&e=[0-9]+&s=[A-Za-z0-9_-]+$" $presigned;',
            '    default "";',
            "}",
            "",
        ]
    )


def _proxy_to_store() -> list[str]:
    """Directives of a location that passes the request on to the S3 store."""
    scheme, hostport = _store_upstream()
    host = hostport.removesuffix(":443" if scheme == "https" else ":80")
    lines = [
        "        proxy_http_version 1.1;",
        '        proxy_set_header Connection "";',
        # The presigned signature covers the store's own host name.
        f"        proxy_set_header Host {host};",
        # Neither the person's session nor an API token goes to the store.
        '        proxy_set_header Cookie "";',
        '        proxy_set_header Authorization "";',
        "        proxy_buffering on;",
        "        proxy_buffers 16 64k;",
        "        proxy_max_temp_file_size 0;",
        "        proxy_hide_header x-amz-meta-sm3;",
        "        proxy_hide_header x-amz-version-id;",
        "        proxy_hide_header x-amz-request-id;",
        "        proxy_hide_header x-amz-id-2;",
    ]
    if scheme == "https":
        lines += [
            "        proxy_ssl_server_name on;",
            f"        proxy_ssl_name {host.split(':')[0]};",
        ]
    return lines


def nginx_locations() -> str:
    """The nginx ``location`` blocks that serve stored objects for Jilu.

    ``SERVE_ACCEL_PREFIX`` is internal (reachable only by ``X-Accel-Redirect``
    from Django); ``SERVE_LINK_PREFIX`` answers signed links only. Both map to
    ``STORE_ROOT``, read-only, or with the S3 store pass the request on to it
    (``nginx_http_blocks``) with the presigned query Django or the link gave.
    """
    s3 = getattr(settings, "STORAGE_KIND", "file") == "s3"
    root = str(settings.STORE_ROOT).rstrip("/")
    accel = settings.SERVE_ACCEL_PREFIX.rstrip("/") + "/"
    if s3:
        blocks = [
            "    # Stored objects handed over by Django (X-Accel-Redirect to a presigned",
            "    # request of the recorded version): never reachable directly.",
            f"    location {accel} {{",
            "        internal;",
            "        proxy_pass http://jilu_store/;",
            *_proxy_to_store(),
            "    }",
        ]
    else:
        blocks = [
            "    # Stored objects handed over by Django (X-Accel-Redirect): never reachable directly.",
            f"    location {accel} {{",
            "        internal;",
            f"        alias {root}/;",
            "    }",
        ]
    secret = getattr(settings, "SERVE_LINK_SECRET", "")
    if secret:
        if any(ch in secret for ch in "\"'\\$;{} \t\n"):
            raise ValueError(
                "JILU_SERVE_LINK_SECRET may not contain quotes, spaces, '$', ';' or braces "
                "(it is written into nginx's configuration)"
            )
        prefix = settings.SERVE_LINK_PREFIX.rstrip("/") + "/"
        cookie = settings.SESSION_COOKIE_NAME
        types = " ".join(f"{ctype} {ext[1:]};" for ext, ctype in LINK_TYPES.items())
        # Quoted: the {2}/{64} quantifiers would otherwise end the directive.
        pattern = (
            f'"^{re.escape(prefix)}'
            '(?<obj>objects/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64})\\.[a-z0-9]+$"'
        )
        if s3:
            bucket = settings.S3.bucket
            serve = [
                '        if ($jilu_store_args = "") { return 403; }',
                f"        proxy_pass http://jilu_store/{bucket}/$obj?$jilu_store_args;",
                *_proxy_to_store(),
            ]
        else:
            serve = [
                f"        types {{ {types} }}",
                "        default_type application/octet-stream;",
                f"        alias {root}/$obj;",
            ]
        blocks += [
            "    # Signed play links issued by Django (jilu/evidence/links.py): nginx checks",
            "    # the signature, the expiry and the session cookie, then sends the ranges.",
            f"    location ~ {pattern} {{",
            "        secure_link $arg_s,$arg_e;",
            f'        secure_link_md5 "$secure_link_expires$uri$cookie_{cookie} {secret}";',
            '        if ($secure_link = "") { return 403; }',
            '        if ($secure_link = "0") { return 410; }',
            "        # A play is read by byte ranges, as a media element always asks: a",
            "        # request for the whole file (no Range, or one nginx would answer",
            "        # whole) is a copy, which needs an approved 调用单 (C6.3).",
            '        if ($http_range !~ "^bytes=[0-9]*-[0-9]*$") { return 403; }',
            *serve,
            '        add_header Cache-Control "private, no-transform, max-age=0" always;',
            "        add_header X-Content-Type-Options nosniff always;",
            "    }",
        ]
    return "\n".join(blocks)
