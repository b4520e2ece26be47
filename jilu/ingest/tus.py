"""Our tus 1.0 server at ``/api/v1/uploads/`` (core, creation, checksum, termination, expiration).

Plain Django views, so the request body is never buffered: each PATCH body is
read from the request stream in chunks and written to the upload's partial
file on the spool (``spool.py``), with the ``Upload-Checksum`` digest of the
chunk computed beside the write. The bytes are fsynced before the new offset
is written to the database and acknowledged, so after a crash of the server
the upload resumes from the last acknowledged offset (C6.5.4: nothing
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
import hashlib
import io
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from jilu.devices.models import Workstation
from jilu.ingest import actions, naming, spool
from jilu.ingest.models import DockingSession, Upload
from jilu.org.models import Person
from jilu.org.roles import Role

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "checksum", "termination", "expiration")
CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")
READ_CHUNK = 1024 * 1024
DEFAULT_MAX_SIZE = 64 * 1024**3  # 64 GiB: far above one recorder file
HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
METADATA_KEY = re.compile(r"^[^\s,]+$")


def max_size() -> int:
    return int(getattr(settings, "TUS_MAX_SIZE", DEFAULT_MAX_SIZE))


# --- responses ------------------------------------------------------------


def _response(status: int, detail: str | None = None, **headers: Any) -> HttpResponse:
    if detail is not None:
        resp: HttpResponse = JsonResponse(
            {"detail": detail}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    else:
        resp = HttpResponse(status=status)
        del resp["Content-Type"]
    if status == 460:
        resp.reason_phrase = "Checksum Mismatch"
    resp["Tus-Resumable"] = TUS_VERSION
    resp["Cache-Control"] = "no-store"
    for key, value in headers.items():
        if value is not None:
            resp[key.replace("_", "-")] = str(value)
    return resp


def _options() -> HttpResponse:
    resp = _response(204)
    resp["Tus-Version"] = TUS_VERSION
    resp["Tus-Extension"] = ",".join(EXTENSIONS)
    resp["Tus-Checksum-Algorithm"] = ",".join(CHECKSUM_ALGORITHMS)
    resp["Tus-Max-Size"] = str(max_size())
    return resp


def _expires(upload: Upload) -> str | None:
    if upload.state != Upload.State.RECEIVING:
        return None
    return http_date(upload.expires_at.timestamp())


def _outcome_headers(upload: Upload) -> dict[str, Any]:
    if upload.state != Upload.State.COMPLETE:
        return {}
    return {
        "Jilu_Sha256": upload.sha256,
        "Jilu_Recording_Id": upload.recording_id,
        "Jilu_Quarantine_Id": upload.quarantine_id,
    }


def _location(upload: Upload) -> str:
    return reverse("tus:upload", kwargs={"upload_id": upload.pk})


# --- who is uploading -----------------------------------------------------


@dataclass
class Uploader:
    station: Workstation | None
    person: Person | None

    @property
    def actor(self) -> Any:
        return actions.station_actor(self.station) if self.station else self.person

    def owns(self, upload: Upload) -> bool:
        if self.station is not None:
            return upload.station_id == self.station.pk
        return self.person is not None and upload.person_id == self.person.pk


def _authenticate(request: HttpRequest) -> Uploader | HttpResponse:
    """The same bearer tokens as the JSON API (``jilu.api_auth.BearerAuth``)."""
    from jilu.api_auth import BearerAuth

    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    who = None
    if scheme.lower() == "bearer" and raw.strip():
        who = BearerAuth().authenticate(request, raw.strip())
    if isinstance(who, Workstation):
        return Uploader(station=who, person=None)
    if isinstance(who, Person):
        # An administrator may import files by hand (no docking session).
        if not who.has_role(Role.ADMIN):
            return _response(403, "上传需要工作站令牌或系统管理员的令牌")
        return Uploader(station=None, person=who)
    return _response(401, "令牌无效、已过期或已吊销，请使用有效的工作站令牌")


def _method(request: HttpRequest) -> str:
    override = request.headers.get("X-HTTP-Method-Override", "").upper()
    if request.method == "POST" and override in ("PATCH", "DELETE", "HEAD"):
        return override
    return request.method or ""


def _version_problem(request: HttpRequest) -> HttpResponse | None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        resp = _response(412, f"需要 Tus-Resumable: {TUS_VERSION}")
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
        return _response(405, "此地址只接受 OPTIONS 与 POST", Allow="OPTIONS, POST")
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
        return _response(
            405, "此地址只接受 HEAD、PATCH、DELETE", Allow="OPTIONS, HEAD, PATCH, DELETE"
        )
    who = _authenticate(request)
    if isinstance(who, HttpResponse):
        return who
    problem = _version_problem(request)
    if problem is not None:
        return problem
    found = Upload.objects.filter(pk=upload_id).first()
    if found is None or not who.owns(found):
        return _response(404, "没有这个上传")
    if method == "HEAD":
        return _head(found, who)
    if method == "PATCH":
        return _patch(request, found, who)
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


def _parse_length(value: str | None) -> int | None:
    if value is None or not value.isdigit():
        return None
    return int(value)


# Expiration runs here too, at most this often per process, so that no
# scheduler is needed for it (the ``expire_uploads`` task does the same).
SWEEP_EVERY = 3600.0
_last_sweep = 0.0


def _sweep_expired() -> None:
    global _last_sweep
    now = time.monotonic()
    if now - _last_sweep < SWEEP_EVERY:
        return
    _last_sweep = now
    try:
        actions.expire_uploads(actor="system:ingest")
    except Exception:  # never fail an upload because housekeeping failed
        log.exception("expiring uploads failed")


def _create(request: HttpRequest, who: Uploader) -> HttpResponse:
    _sweep_expired()
    if request.headers.get("Upload-Defer-Length") is not None:
        return _response(400, "不支持延迟声明长度（Upload-Defer-Length），请提供 Upload-Length")
    length = _parse_length(request.headers.get("Upload-Length"))
    if length is None:
        return _response(400, "缺少或无效的 Upload-Length（应为非负整数字节数）")
    if length > max_size():
        return _response(413, f"文件大小 {length} 字节超过服务器上限 {max_size()} 字节")
    raw = request.headers.get("Upload-Metadata", "")
    try:
        meta = parse_metadata(raw)
    except ValueError as exc:
        return _response(400, str(exc))
    filename = meta.get("filename", "")
    bad = naming.problem_with_path(filename)
    if bad:
        return _response(400, f"元数据 filename 无效：{bad}")
    digests = {}
    for key, label in (("sha256", "SHA-256"), ("sm3", "SM3")):
        value = meta.get(key, "")
        if not HEX64.match(value):
            return _response(400, f"元数据 {key} 必须是整个文件的 {label}（64位十六进制）")
        digests[key] = value.lower()
    mtime: datetime | None = None
    if meta.get("mtime"):
        try:
            mtime = datetime.fromisoformat(meta["mtime"].replace("Z", "+00:00"))
        except ValueError:
            return _response(400, f"元数据 mtime 不是 ISO 8601 时间：{meta['mtime']}")
        if timezone.is_naive(mtime):
            mtime = timezone.make_aware(mtime, naming.DEVICE_TZ)
    docking = None
    if who.station is not None:
        docking_id = meta.get("docking", "")
        if not docking_id.isdigit():
            return _response(400, "元数据 docking（对接会话编号）必填，请先开启对接会话")
        docking = DockingSession.objects.filter(pk=int(docking_id), station=who.station).first()
        if docking is None:
            return _response(400, f"对接会话 {docking_id} 不存在或不属于本工作站")
    elif meta.get("docking"):
        return _response(400, "人员上传不属于对接会话，请去掉元数据 docking")
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
    headers: dict[str, Any] = {"Location": _location(new), "Upload_Expires": _expires(new)}
    if length == 0:
        # Nothing to PATCH: an empty file is complete as soon as it is declared.
        done = _finalise(new, who)
        if isinstance(done, HttpResponse):
            return done
        headers.update(_outcome_headers(done), Upload_Offset=0, Upload_Expires=None)
    return _response(201, **headers)


# --- HEAD -----------------------------------------------------------------


def _gone(upload: Upload) -> HttpResponse:
    if upload.state == Upload.State.FAILED:
        return _response(410, f"该上传已因校验失败而丢弃：{upload.failure}；请重新创建上传")
    return _response(410, f"该上传已{upload.get_state_display()}，请重新创建上传")


def _expire_if_due(upload: Upload) -> Upload:
    if upload.state == Upload.State.RECEIVING and upload.expires_at < timezone.now():
        actions.expire_upload(actor="system:ingest", upload_id=upload.pk)
        upload.refresh_from_db()
    return upload


def _head(upload: Upload, who: Uploader) -> HttpResponse:
    upload = _expire_if_due(upload)
    if upload.state not in (Upload.State.RECEIVING, Upload.State.COMPLETE):
        return _gone(upload)
    if upload.state == Upload.State.RECEIVING and upload.offset == upload.length:
        # All bytes were acknowledged but completion did not finish (a crash or
        # the store was unavailable): complete it now, so a client that resumes
        # with HEAD gets the outcome instead of a silent "done".
        try:
            with spool.locked_partial(upload.pk):
                upload.refresh_from_db()
                if upload.state == Upload.State.RECEIVING:
                    done = _finalise(upload, who)
                    if isinstance(done, HttpResponse):
                        return done
                    upload = done
        except spool.Locked:
            return _response(423, "该上传正在被另一个请求处理，请稍后重试")
    return _response(
        200,
        Upload_Offset=upload.offset,
        Upload_Length=upload.length,
        Upload_Metadata=upload.metadata_raw or None,
        Upload_Expires=_expires(upload),
        **_outcome_headers(upload),
    )


# --- PATCH ----------------------------------------------------------------


def _parse_checksum(value: str | None) -> tuple[str, bytes] | None | HttpResponse:
    if value is None:
        return None
    algo, _, b64 = value.strip().partition(" ")
    algo = algo.lower()
    if algo not in CHECKSUM_ALGORITHMS:
        return _response(
            400, f"不支持的校验算法 {algo or '（空）'}；支持：{', '.join(CHECKSUM_ALGORITHMS)}"
        )
    try:
        digest = base64.b64decode(b64.strip(), validate=True)
    except binascii.Error:
        return _response(400, "Upload-Checksum 的摘要不是有效的 base64")
    if len(digest) != hashlib.new(algo).digest_size:
        return _response(400, f"Upload-Checksum 的 {algo} 摘要长度不对")
    return algo, digest


class _Body:
    """The request body in chunks, stopping quietly if the client goes away."""

    def __init__(self, request: HttpRequest, length: int) -> None:
        self.request = request
        self.remaining = length
        self.complete = length == 0

    def __iter__(self):
        while self.remaining > 0:
            try:
                data = self.request.read(min(READ_CHUNK, self.remaining))
            except Exception as exc:  # connection reset, timeout: the client is gone
                log.info("upload body ended early: %s", exc)
                return
            if not data:
                return
            self.remaining -= len(data)
            yield data
        self.complete = True


def _patch(request: HttpRequest, upload: Upload, who: Uploader) -> HttpResponse:
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        return _response(411, "PATCH 需要 Content-Length（不支持分块传输编码）")
    content_length = _parse_length(request.META.get("CONTENT_LENGTH") or "0")
    if content_length is None:
        return _response(400, "无效的 Content-Length")
    ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype != "application/offset+octet-stream" and (ctype or content_length):
        return _response(415, "PATCH 的 Content-Type 必须是 application/offset+octet-stream")
    offset = _parse_length(request.headers.get("Upload-Offset"))
    if offset is None:
        return _response(400, "缺少或无效的 Upload-Offset")
    checksum = _parse_checksum(request.headers.get("Upload-Checksum"))
    if isinstance(checksum, HttpResponse):
        return checksum
    upload = _expire_if_due(upload)
    if upload.state == Upload.State.COMPLETE:
        if offset == upload.length and content_length == 0:
            return _response(204, Upload_Offset=upload.offset, **_outcome_headers(upload))
        return _response(
            409, "该上传已完成", Upload_Offset=upload.offset, **_outcome_headers(upload)
        )
    if upload.state != Upload.State.RECEIVING:
        return _gone(upload)
    if offset != upload.offset:
        return _response(
            409,
            f"Upload-Offset {offset} 与服务器已确认的偏移 {upload.offset} 不一致，请先 HEAD 再续传",
            Upload_Offset=upload.offset,
        )
    if offset + content_length > upload.length:
        return _response(
            413,
            f"本次数据（{content_length} 字节，自偏移 {offset}）超出声明的长度 {upload.length}",
            Upload_Offset=upload.offset,
        )
    try:
        with spool.locked_partial(upload.pk) as fd:
            return _patch_locked(request, upload, who, fd, offset, content_length, checksum)
    except spool.Locked:
        return _response(423, "该上传正在被另一个请求写入，请稍后重试", Upload_Offset=upload.offset)


def _patch_locked(
    request: HttpRequest,
    upload: Upload,
    who: Uploader,
    fd: int,
    offset: int,
    content_length: int,
    checksum: tuple[str, bytes] | None,
) -> HttpResponse:
    from jilu.evidence.store.hashing import pump

    upload.refresh_from_db()
    if upload.state != Upload.State.RECEIVING:
        spool.remove(upload.pk)  # finished meanwhile; opening may have re-created the file
        if upload.state == Upload.State.COMPLETE and offset == upload.length:
            return _response(204, Upload_Offset=upload.offset, **_outcome_headers(upload))
        if upload.state == Upload.State.COMPLETE:
            return _response(409, "该上传已完成", Upload_Offset=upload.offset)
        return _gone(upload)
    if offset != upload.offset:
        return _response(409, "偏移已变化，请先 HEAD 再续传", Upload_Offset=upload.offset)
    size = os.fstat(fd).st_size
    if size < offset:
        detail = f"服务器暂存文件只有 {size} 字节，少于已确认的 {offset} 字节（暂存区被改动）"
        actions.reject_upload(actor="system:ingest", upload=upload, detail=detail)
        return _response(410, f"{detail}；该上传已作废，请重新创建上传")
    if size > offset:
        os.ftruncate(fd, offset)  # bytes written but never acknowledged (a crash)
    os.lseek(fd, offset, os.SEEK_SET)
    body = _Body(request, content_length)
    chunk_hash = hashlib.new(checksum[0]) if checksum else None
    written = 0

    def write(data: bytes) -> None:
        nonlocal written
        spool.write_all(fd, data)
        written += len(data)

    sinks = [write] + ([chunk_hash.update] if chunk_hash is not None else [])
    try:
        pump(body, sinks)
    except OSError as exc:
        _rewind(fd, offset)
        log.warning("upload %s: spool write failed: %s", upload.pk, exc)
        return _response(
            507,
            f"服务器暂存空间写入失败（{exc.strerror or exc}），本次数据未保存，请稍后重试",
            Upload_Offset=offset,
        )
    if checksum is not None:
        if not body.complete:
            _rewind(fd, offset)  # a partial chunk cannot be checked: discard it
            return _response(400, "数据未完整到达，本次数据已丢弃", Upload_Offset=offset)
        if chunk_hash.digest() != checksum[1]:
            _rewind(fd, offset)
            return _response(
                460,
                f"本次数据的 {checksum[0]} 校验值不符，数据已丢弃，请从偏移 {offset} 重新发送",
                Upload_Offset=offset,
            )
    os.fsync(fd)
    if offset == 0 and written:
        spool.fsync_dir(spool.uploads_dir())  # the partial file's name is durable too
    new_offset = offset + written
    if written and not actions.advance_upload(
        upload=upload, old_offset=offset, new_offset=new_offset
    ):
        upload.refresh_from_db()
        return (
            _gone(upload)
            if upload.state != Upload.State.RECEIVING
            else _response(409, "偏移已变化，请先 HEAD 再续传", Upload_Offset=upload.offset)
        )
    if not body.complete:
        return _response(400, "数据未完整到达，已保存收到的部分", Upload_Offset=new_offset)
    if new_offset < upload.length:
        return _response(204, Upload_Offset=new_offset, Upload_Expires=_expires(upload))
    done = _finalise(upload, who)
    if isinstance(done, HttpResponse):
        return done
    return _response(204, Upload_Offset=done.offset, **_outcome_headers(done))


def _rewind(fd: int, offset: int) -> None:
    os.ftruncate(fd, offset)
    os.fsync(fd)


# --- completion -----------------------------------------------------------


def _finalise(upload: Upload, who: Uploader) -> Upload | HttpResponse:
    """Verify the whole file into the store, then attribute it (call with the lock held)."""
    from jilu.evidence.actions import store_object
    from jilu.evidence.store import HashMismatch, StoreError

    path = spool.partial_path(upload.pk)
    expected = {
        "expected_sha256": upload.sha256,
        "expected_sm3": upload.sm3,
        "expected_size": upload.length,
    }
    try:
        if upload.length == 0:
            stored = store_object(actor=who.actor, stream=io.BytesIO(b""), **expected)
        else:
            # Every byte has arrived and the lock is held: the finished file is
            # hashed where it lies and linked into the store, not copied.
            stored = store_object(actor=who.actor, path=path, **expected)
    except HashMismatch as exc:
        detail = _mismatch_detail(upload, exc)
        actions.reject_upload(actor=who.actor, upload=upload, detail=detail)
        return _response(422, detail)
    except (StoreError, OSError) as exc:
        log.error("upload %s: storing failed: %s", upload.pk, exc)
        return _response(
            503,
            f"证据存储暂时不可用（{exc}）。已收到的数据保留在服务器上，请稍后重试（HEAD 该上传）",
            Retry_After=30,
            Upload_Offset=upload.offset,
        )
    try:
        done = actions.complete_upload(
            actor=who.actor,
            upload=upload,
            stored=stored,
        )
    except ValidationError as exc:
        upload.refresh_from_db()
        if upload.state != Upload.State.RECEIVING:
            return _gone(upload)
        return _response(409, "；".join(exc.messages))
    spool.remove(upload.pk)
    return done


def _mismatch_detail(upload: Upload, exc: Exception) -> str:
    got = getattr(exc, "actual", None)
    parts = []
    if got is not None:
        if got.size != upload.length:
            parts.append(f"大小应为 {upload.length} 字节，收到 {got.size} 字节")
        if got.sha256 != upload.sha256:
            parts.append(f"SHA-256 应为 {upload.sha256}，收到的是 {got.sha256}")
        if got.sm3 != upload.sm3:
            parts.append(f"SM3 应为 {upload.sm3}，收到的是 {got.sm3}")
    what = "；".join(parts) or str(exc)
    return (
        f"文件“{upload.filename}”校验失败：{what}。本次上传已丢弃，服务器没有保存任何内容；"
        "请从工作站暂存区重新上传该文件。"
    )


# --- DELETE ---------------------------------------------------------------


def _delete(upload: Upload, who: Uploader) -> HttpResponse:
    if upload.state == Upload.State.COMPLETE:
        return _response(
            403, "已入库的上传不能删除：证据一经入库不可删除", **_outcome_headers(upload)
        )
    if upload.state != Upload.State.RECEIVING:
        return _response(204)
    try:
        with spool.locked_partial(upload.pk):
            actions.terminate_upload(actor=who.actor, upload=upload)
    except spool.Locked:
        return _response(423, "该上传正在被写入，请稍后再终止")
    except ValidationError as exc:
        return _response(403, "；".join(exc.messages))
    return _response(204)
