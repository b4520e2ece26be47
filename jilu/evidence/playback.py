"""Serving stored objects over HTTP with Range (playback and download).

Every byte of a recording leaves through ``serve_object``. The caller has
already checked the person's scope with ``restrict(user, "view")`` and written
the audit entry (``note_access``); this module only speaks HTTP:

- ``python`` mode (the embedded default): a ``StreamingHttpResponse`` over
  ``store.open_range``; 206 with ``Content-Range`` for a satisfiable single
  range (``bytes=a-b``, ``bytes=a-``, suffix ``bytes=-n``), 416 when it cannot
  be satisfied, 200 for the whole object. Nothing is held in memory beyond one
  read chunk.
- ``accel`` mode (behind nginx): an empty response with ``X-Accel-Redirect``
  to an internal location that maps to ``STORE_ROOT``, or with the S3 store
  passes a presigned request (of the recorded version, for a minute) on to it;
  nginx sends the body and its ranges.
- ``s3`` mode: a 302 to a presigned ``GetObject`` URL of the version recorded
  at ingest (C6.5.3), issued for this request alone (valid
  ``SERVE_PRESIGN_SECONDS``, 60 s by default). The browser's player follows it
  and asks the store for every later range of the play itself: authorised and
  audited once per play, no Python per range.

ETag is the SHA-256 of the bytes, which never change (C6.5.3), so ``If-Range``
and ``If-None-Match`` compare against it.

A play is never a copy (C6.3, C6.5.7): a play (web or API, original or derived
playback copy) is served only as a satisfiable byte range, which is what a
media element always asks for. A request that would get the whole object in
one 200 (no ``Range``, an invalid or multiple range, an ``If-Range`` that no
longer matches) is refused with ``WholeObjectRefused`` and the refusal is
audited; a whole copy of an original is a download under an approved 调用单.
The derived H.264 copy gets the same rule: it carries the whole content of the
evidence (C6.5.2), and no player needs it whole. (A client may still ask for
``bytes=0-``; that is audited as a play, like any other, and the nginx
signed-link location applies the same rule, see ``links.nginx_locations``.)

A stored object that is missing raises ``missing.StoredObjectMissing`` before
anything is audited or sent; the views answer 410 and raise the fixity alarm.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.translation import gettext_lazy

from jilu.audit.chain import record
from jilu.evidence import links
from jilu.evidence.missing import StoredObjectMissing
from jilu.evidence.store import ObjectMissing, get_store

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)

# Playback sends many Range requests per viewing (every seek is one); one
# audit entry per person, recording and kind of access per this many seconds.
AUDIT_DEDUPE_SECONDS = 300

CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".wav": "audio/wav",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


# Why a play asking for the whole object is refused (403).
WHOLE_PLAY_REFUSAL = gettext_lazy(
    "播放只能由网页播放器分段（Range）读取，不能整份获取。整份获取原始文件即是复制，"
    "须经负责领导审批调用单（C6.3），由档案管理员按调用单提供。"
)


class Unsatisfiable(Exception):
    """The Range header names no byte of the object (HTTP 416)."""


class WholeObjectRefused(Exception):
    """A play asked for the whole object in one response (see the module docstring)."""

    message = WHOLE_PLAY_REFUSAL


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range ``header`` asks for, clipped to ``size``.

    None means "send the whole object": no header, a header that is not a
    single ``bytes=`` range (multiple ranges or other units may be ignored,
    RFC 9110 §14.2) or a syntactically invalid one (``bytes=5-2``).
    ``Unsatisfiable`` when the range is valid but lies outside the object.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return ByteRange(start, min(end, size - 1))


def content_type_for(name: str) -> str:
    lower = name.lower()
    for ext, ctype in CONTENT_TYPES.items():
        if lower.endswith(ext):
            return ctype
    return mimetypes.guess_type(lower)[0] or "application/octet-stream"


def content_disposition(disposition: str, filename: str) -> str:
    """``attachment``/``inline`` with an ASCII fallback and the real name (RFC 5987/6266)."""
    filename = filename.rsplit("/", 1)[-1].replace("\\", "_")
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    ascii_name = ascii_name.replace('"', "_")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def serve_mode() -> str:
    mode = getattr(settings, "SERVE_MODE", "python")
    if mode not in {"python", "accel", "s3"}:
        raise ValueError(f"JILU_SERVE_MODE must be python, accel or s3, not {mode!r}")
    return mode


def _etag(sha256: str) -> str:
    return f'"{sha256}"'


def asks_for_whole(request: HttpRequest, *, sha256: str, size: int) -> bool:
    """True when ``serve_object`` would answer this request with the whole object
    (200): no Range, one it ignores (invalid, multiple ranges, other units), or an
    If-Range that does not match. An unsatisfiable range (416) sends nothing."""
    header = request.headers.get("Range")
    if not header:
        return True
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != _etag(sha256):
        return True
    try:
        return parse_range(header, size) is None
    except Unsatisfiable:
        return False


def _open(store: Any, sha256: str, start: int, end: int | None, *, original: bool):
    try:
        return store.open_range(sha256, start, end)
    except ObjectMissing:
        raise StoredObjectMissing(sha256, original=original) from None


def serve_object(
    request: HttpRequest,
    *,
    sha256: str,
    size: int,
    content_type: str,
    filename: str,
    disposition: str = "inline",
    original: bool = True,
    checked: bool = False,
) -> HttpResponse:
    """The HTTP response carrying stored object ``sha256`` (``size`` bytes).

    ``StoredObjectMissing`` when the store has no such object (``original``
    says which message fits); ``checked`` when the caller has just made sure it
    is there (nginx and S3 would otherwise answer a missing object with 404).
    """
    store = get_store()
    mode = serve_mode()
    if not checked and mode != "python" and not store.exists(sha256):
        raise StoredObjectMissing(sha256, original=original)
    etag = _etag(sha256)
    common: dict[str, Any] = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(disposition, filename),
        # Private: the bytes are evidence; the ETag still lets the browser revalidate.
        "Cache-Control": "private, no-transform, max-age=0",
        "X-Content-Type-Options": "nosniff",
    }
    if mode == "s3" and store.kind == "s3":
        # Pinned to the version recorded at ingest (C6.5.3), for a minute.
        url = store.presigned_get(
            sha256,
            seconds=int(getattr(settings, "SERVE_PRESIGN_SECONDS", 60)),
            content_type=content_type,
            disposition=common["Content-Disposition"],
        )
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"
        return response
    if mode == "accel":
        prefix = getattr(settings, "SERVE_ACCEL_PREFIX", "/_jilu_store/").rstrip("/")
        response = HttpResponse(content_type=content_type)
        if store.kind == "s3":
            # nginx passes a presigned request of the recorded version (C6.3:
            # used at once by nginx alone) to the store.
            path, query = links.store_request(
                store,
                sha256,
                seconds=int(getattr(settings, "SERVE_PRESIGN_SECONDS", 60)),
                content_type=content_type,
                disposition=common["Content-Disposition"],
            )
            response["X-Accel-Redirect"] = f"{prefix}{path}?{query}"
        else:
            relative = links.object_path(store, sha256)
            response["X-Accel-Redirect"] = f"{prefix}/{relative}"
        for name, value in common.items():
            response[name] = value
        return response

    if_none_match = request.headers.get("If-None-Match", "")
    if etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*":
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return response

    header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if header and if_range is not None and if_range.strip() != etag:
        header = None  # the client holds other bytes (or a date): send the whole object
    try:
        wanted = parse_range(header, size)
    except Unsatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        response["ETag"] = etag
        return response
    if wanted is None:
        body = _open(store, sha256, 0, None, original=original)
        response = StreamingHttpResponse(body, content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        body = _open(store, sha256, wanted.start, wanted.end + 1, original=original)
        response = StreamingHttpResponse(body, status=206, content_type=content_type)
        response["Content-Length"] = str(wanted.length)
        response["Content-Range"] = f"bytes {wanted.start}-{wanted.end}/{size}"
    for name, value in common.items():
        response[name] = value
    return response


def note_access(
    *, actor: Any, recording_id: int, action: str, details: dict | None = None, dedupe: bool = False
) -> None:
    """Write ``evidence.recording.<action>`` to the audit log (C6.5.7, C6.3).

    With ``dedupe`` (playback's many Range requests) one entry per person,
    recording and action per ``AUDIT_DEDUPE_SECONDS``; refusals never dedupe.
    """
    if dedupe:
        key = f"jilu:evidence:{action}:{getattr(actor, 'pk', actor)}:{recording_id}"
        if not cache.add(key, 1, AUDIT_DEDUPE_SECONDS):
            return
    with transaction.atomic():
        record(
            f"evidence.recording.{action}",
            actor=actor,
            object_type="evidence.recording",
            object_id=str(recording_id),
            details=details or {},
        )


def serve_recording(
    request: HttpRequest,
    recording: Any,
    *,
    download: bool = False,
    via: str = "web",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """Play or download a recording the caller may see (already checked with restrict()).

    Playing serves the derived H.264 copy when the original cannot be played in
    the browser (H.265 and others), and only by byte ranges
    (``WholeObjectRefused`` otherwise, audited); downloading (the caller has
    checked the 调用单) serves the original. ``StoredObjectMissing`` when the
    bytes are not in the store. The access is audited (deduplicated over a
    short window, since seeking sends many Range requests).
    """
    from jilu.evidence.media_models import Derivative, MediaInfo

    derived = None
    info = MediaInfo.objects.filter(recording_id=recording.pk).first()
    if (
        not download
        and info is not None
        and info.integrity != MediaInfo.Integrity.PENDING
        and not info.browser_playable
    ):
        derived = (
            recording.derivatives.filter(kind=Derivative.Kind.PLAYBACK)
            .select_related("stored_object")
            .first()
        )
    if derived is not None:
        sha256, size, content_type = (
            derived.stored_object_id,
            derived.stored_object.size,
            derived.content_type,
        )
    else:
        sha256, size = recording.sha256, recording.size
        content_type = content_type_for(recording.original_name)
    if not download and asks_for_whole(request, sha256=sha256, size=size):
        details: dict[str, Any] = {"wanted": "play", "reason": "whole_object"}
        if via != "web":
            details["via"] = via
        note_access(
            actor=request.user, recording_id=recording.pk, action="refused", details=details
        )
        raise WholeObjectRefused
    if not get_store().exists(sha256):
        raise StoredObjectMissing(sha256, original=derived is None)
    details = {"sha256": recording.sha256} if download else {"derived": bool(derived)}
    if via != "web":
        details["via"] = via
    details.update(extra or {})  # e.g. the access request a copy is made under (C6.3)
    note_access(
        actor=request.user,
        recording_id=recording.pk,
        action="download" if download else "play",
        details=details,
        dedupe=True,
    )
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if not download and via == "web" and session_key and links.links_enabled():
        # Authorised and audited above; nginx serves this play's ranges itself.
        target = links.signed_link(
            sha256=sha256, content_type=content_type, session_key=session_key
        )
        response = HttpResponseRedirect(target)
        response["Cache-Control"] = "no-store"
        return response
    if derived is not None:
        return serve_object(
            request,
            sha256=sha256,
            size=size,
            content_type=content_type,
            filename=f"{recording}.playback.mp4",
            original=False,
            checked=True,
        )
    return serve_object(
        request,
        sha256=recording.sha256,
        size=recording.size,
        content_type=content_type,
        filename=str(recording),
        disposition="attachment" if download else "inline",
        checked=True,
    )
