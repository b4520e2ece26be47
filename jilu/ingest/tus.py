"""Our tus 1.0 server at ``/api/v1/uploads/`` (core, creation, checksum, termination, expiration).

Plain Django views, so the request body is never buffered: each PATCH body is
read from the request stream in chunks and written to the upload's staging
area (``staging.py``: this machine's spool, a shared directory, or S3
multipart parts in the bucket), with the ``Upload-Checksum`` digest of the
chunk computed beside the write, under a lock every web process sees
(``locks.py``). The bytes are durable before the new offset is written to the
database and acknowledged, so after a crash of the server the upload resumes
from the last acknowledged offset, on any web process (C6.5.4: nothing
acknowledged is ever lost).

When the last byte has arrived the whole file goes into the evidence store
with the SHA-256, SM3 and size the station declared; the store hashes both in
one read pass and refuses bytes that differ *before* anything becomes visible
(422, the upload is discarded, the station re-sends). The server deliberately
does not also keep running hashes across PATCHes: on these machines SM3 runs
at ~150 MB/s a core, and a second full SM3 pass on the server would be the
slowest step of the whole ingest while proving nothing the store's check does
not (see docs/station-protocol.md).

Protocol additions (documented in docs/station-protocol.md): ``423`` while
another request is writing the same upload, ``507`` when the spool is full,
``503`` when the store is unavailable at completion (retry; the bytes are
kept), ``Jilu-*`` headers on completion (also on ``HEAD`` of a completed
upload), and zero-length uploads that complete at creation.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from jilu.devices.models import Workstation
from jilu.ingest import actions, locks, naming
from jilu.ingest.models import DockingSession, Upload
from jilu.ingest.tus_common import (
    CHECKSUM_ALGORITHMS,
    EXTENSIONS,
    HEX64,
    METADATA_KEY,
    TUS_VERSION,
    Uploader,
    expire_if_due,
    expires_header,
    gone,
    location_of,
    max_size,
    outcome_headers,
    parse_length,
    reply,
)
from jilu.ingest.tus_patch import finalise, patch
from jilu.org.models import Person
from jilu.org.roles import Role

log = logging.getLogger(__name__)


def _options() -> HttpResponse:
    resp = reply(204)
    resp["Tus-Version"] = TUS_VERSION
    resp["Tus-Extension"] = ",".join(EXTENSIONS)
    resp["Tus-Checksum-Algorithm"] = ",".join(CHECKSUM_ALGORITHMS)
    resp["Tus-Max-Size"] = str(max_size())
    return resp


# --- who is uploading -----------------------------------------------------


def _authenticate(request: HttpRequest) -> Uploader | HttpResponse:
    """The same bearer tokens as the JSON API (``jilu.org.api_auth.BearerAuth``)."""
    from jilu.org.api_auth import BearerAuth

    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    who = None
    if scheme.lower() == "bearer" and raw.strip():
        who = BearerAuth().authenticate(request, raw.strip())
    if isinstance(who, Workstation):
        return Uploader(station=who, person=None)
    if isinstance(who, Person):
        # An administrator may import files by hand (no docking session).
        if not who.has_role(Role.ADMIN):
            return reply(403, "上传需要工作站令牌或系统管理员的令牌")
        return Uploader(station=None, person=who)
    return reply(401, "令牌无效、已过期或已吊销，请使用有效的工作站令牌")


def _method(request: HttpRequest) -> str:
    override = request.headers.get("X-HTTP-Method-Override", "").upper()
    if request.method == "POST" and override in ("PATCH", "DELETE", "HEAD"):
        return override
    return request.method or ""


def _version_problem(request: HttpRequest) -> HttpResponse | None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        resp = reply(412, f"需要 Tus-Resumable: {TUS_VERSION}")
        resp["Tus-Version"] = TUS_VERSION
        return resp
    return None


# --- the two resources ----------------------------------------------------


@csrf_exempt
def uploads(request: HttpRequest) -> HttpResponse:
    """``/api/v1/uploads/``: OPTIONS (discovery) and POST (creation)."""
    method = _method(request)
    if method == "OPTIONS":
        return _options()
    if method != "POST":
        return reply(405, "此地址只接受 OPTIONS 与 POST", Allow="OPTIONS, POST")
    who = _authenticate(request)
    if isinstance(who, HttpResponse):
        return who
    problem = _version_problem(request)
    if problem is not None:
        return problem
    return _create(request, who)


@csrf_exempt
def upload(request: HttpRequest, upload_id: uuid.UUID) -> HttpResponse:
    """``/api/v1/uploads/<id>``: HEAD (offset), PATCH (bytes), DELETE (termination)."""
    method = _method(request)
    if method == "OPTIONS":
        return _options()
    if method not in ("HEAD", "PATCH", "DELETE"):
        return reply(405, "此地址只接受 HEAD、PATCH、DELETE", Allow="OPTIONS, HEAD, PATCH, DELETE")
    who = _authenticate(request)
    if isinstance(who, HttpResponse):
        return who
    problem = _version_problem(request)
    if problem is not None:
        return problem
    found = Upload.objects.filter(pk=upload_id).first()
    if found is None or not who.owns(found):
        return reply(404, "没有这个上传")
    if method == "HEAD":
        return _head(found, who)
    if method == "PATCH":
        return patch(request, found, who)
    return _delete(found, who)


# --- creation -------------------------------------------------------------


def parse_metadata(raw: str) -> dict[str, str]:
    """``key base64,key2 base64`` → dict; raises ValueError naming what is wrong."""
    out: dict[str, str] = {}
    if not raw.strip():
        return out
    for pair in raw.split(","):
        parts = pair.strip().split(" ")
        if len(parts) > 2 or not parts[0] or not METADATA_KEY.match(parts[0]):
            raise ValueError(f"Upload-Metadata 格式错误：“{pair.strip()}”")
        key = parts[0]
        if key in out:
            raise ValueError(f"Upload-Metadata 中的键 {key} 重复")
        value = ""
        if len(parts) == 2:
            try:
                value = base64.b64decode(parts[1], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise ValueError(f"Upload-Metadata 中 {key} 的值不是有效的 base64 UTF-8") from None
        out[key] = value
    return out


# Expiration runs here too, at most this often per process, so that no
# scheduler is needed for it (the ``expire_uploads`` task does the same).
SWEEP_EVERY = 3600.0
_last_sweep: float | None = None  # monotonic time of the last sweep; None: not yet swept


def _sweep_expired() -> None:
    global _last_sweep
    now = time.monotonic()
    if _last_sweep is not None and now - _last_sweep < SWEEP_EVERY:
        return
    _last_sweep = now
    try:
        actions.expire_uploads(actor="system:ingest")
    except Exception:  # never fail an upload because housekeeping failed
        log.exception("expiring uploads failed")


def _create(request: HttpRequest, who: Uploader) -> HttpResponse:
    _sweep_expired()
    if request.headers.get("Upload-Defer-Length") is not None:
        return reply(400, "不支持延迟声明长度（Upload-Defer-Length），请提供 Upload-Length")
    length = parse_length(request.headers.get("Upload-Length"))
    if length is None:
        return reply(400, "缺少或无效的 Upload-Length（应为非负整数字节数）")
    if length > max_size():
        return reply(413, f"文件大小 {length} 字节超过服务器上限 {max_size()} 字节")
    raw = request.headers.get("Upload-Metadata", "")
    try:
        meta = parse_metadata(raw)
    except ValueError as exc:
        return reply(400, str(exc))
    filename = meta.get("filename", "")
    bad = naming.problem_with_path(filename)
    if bad:
        return reply(400, f"元数据 filename 无效：{bad}")
    digests = {}
    for key, label in (("sha256", "SHA-256"), ("sm3", "SM3")):
        value = meta.get(key, "")
        if not HEX64.match(value):
            return reply(400, f"元数据 {key} 必须是整个文件的 {label}（64位十六进制）")
        digests[key] = value.lower()
    mtime: datetime | None = None
    if meta.get("mtime"):
        try:
            mtime = datetime.fromisoformat(meta["mtime"].replace("Z", "+00:00"))
        except ValueError:
            return reply(400, f"元数据 mtime 不是 ISO 8601 时间：{meta['mtime']}")
        if timezone.is_naive(mtime):
            mtime = timezone.make_aware(mtime, naming.DEVICE_TZ)
    docking = None
    if who.station is not None:
        docking_id = meta.get("docking", "")
        if not docking_id.isdigit():
            return reply(400, "元数据 docking（对接会话编号）必填，请先开启对接会话")
        docking = DockingSession.objects.filter(pk=int(docking_id), station=who.station).first()
        if docking is None:
            return reply(400, f"对接会话 {docking_id} 不存在或不属于本工作站")
    elif meta.get("docking"):
        return reply(400, "人员上传不属于对接会话，请去掉元数据 docking")
    new = actions.create_upload(
        actor=who.actor,
        station=who.station,
        person=who.person,
        docking=docking,
        length=length,
        filename=filename,
        sha256=digests["sha256"],
        sm3=digests["sm3"],
        mtime=mtime,
        metadata_raw=raw,
    )
    headers: dict[str, Any] = {"Location": location_of(new), "Upload_Expires": expires_header(new)}
    if length == 0:
        # Nothing to PATCH: an empty file is complete as soon as it is declared.
        done = finalise(new, who)
        if isinstance(done, HttpResponse):
            return done
        headers.update(outcome_headers(done), Upload_Offset=0, Upload_Expires=None)
    return reply(201, **headers)


# --- HEAD -----------------------------------------------------------------


def _head(upload: Upload, who: Uploader) -> HttpResponse:
    upload = expire_if_due(upload)
    if upload.state not in (Upload.State.RECEIVING, Upload.State.COMPLETE):
        return gone(upload)
    if upload.state == Upload.State.RECEIVING and upload.offset == upload.length:
        # All bytes were acknowledged but completion did not finish (a crash or
        # the store was unavailable): complete it now, so a client that resumes
        # with HEAD gets the outcome instead of a silent "done".
        try:
            with locks.upload_lock(upload.pk):
                upload.refresh_from_db()
                if upload.state == Upload.State.RECEIVING:
                    done = finalise(upload, who)
                    if isinstance(done, HttpResponse):
                        return done
                    upload = done
        except locks.Locked:
            return reply(423, "该上传正在被另一个请求处理，请稍后重试")
    return reply(
        200,
        Upload_Offset=upload.offset,
        Upload_Length=upload.length,
        Upload_Metadata=upload.metadata_raw or None,
        Upload_Expires=expires_header(upload),
        **outcome_headers(upload),
    )


# --- DELETE ---------------------------------------------------------------


def _delete(upload: Upload, who: Uploader) -> HttpResponse:
    if upload.state == Upload.State.COMPLETE:
        return reply(403, "已入库的上传不能删除：证据一经入库不可删除", **outcome_headers(upload))
    if upload.state != Upload.State.RECEIVING:
        return reply(204)
    try:
        with locks.upload_lock(upload.pk):
            actions.terminate_upload(actor=who.actor, upload=upload)
    except locks.Locked:
        return reply(423, "该上传正在被写入，请稍后再终止")
    except ValidationError as exc:
        return reply(403, "；".join(exc.messages))
    return reply(204)
