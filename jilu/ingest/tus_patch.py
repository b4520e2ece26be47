"""tus PATCH: the bytes of an upload, chunk by chunk, and its completion.

Each PATCH body is read from the request stream in chunks and written to the
upload's staging area (``staging.py``: a partial file on this machine's spool
or a shared directory, or S3 multipart parts), with the ``Upload-Checksum``
digest of the chunk computed beside the write, under the upload's lock
(``locks.py``). The bytes are made durable (fsynced, or the part stored) before
the new offset is written and acknowledged, so any web process can take the
next PATCH. The last byte hands the whole file to the evidence store with the
declared SHA-256, SM3 and size (see ``tus.py``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from jilu.evidence.store import StoreError
from jilu.ingest import actions, locks
from jilu.ingest.models import Upload
from jilu.ingest.staging import StagingLost, Writer, staging_for
from jilu.ingest.tus_common import (
    CHECKSUM_ALGORITHMS,
    READ_CHUNK,
    Uploader,
    expire_if_due,
    expires_header,
    gone,
    outcome_headers,
    parse_length,
    reply,
)
from jilu.outage import RETRY_AFTER

log = logging.getLogger(__name__)

# --- PATCH ----------------------------------------------------------------


def _parse_checksum(value: str | None) -> tuple[str, bytes] | None | HttpResponse:
    if value is None:
        return None
    algo, _, b64 = value.strip().partition(" ")
    algo = algo.lower()
    if algo not in CHECKSUM_ALGORITHMS:
        return reply(
            400, f"不支持的校验算法 {algo or '（空）'}；支持：{', '.join(CHECKSUM_ALGORITHMS)}"
        )
    try:
        digest = base64.b64decode(b64.strip(), validate=True)
    except binascii.Error:
        return reply(400, "Upload-Checksum 的摘要不是有效的 base64")
    if len(digest) != hashlib.new(algo).digest_size:
        return reply(400, f"Upload-Checksum 的 {algo} 摘要长度不对")
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


def patch(request: HttpRequest, upload: Upload, who: Uploader) -> HttpResponse:
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        return reply(411, "PATCH 需要 Content-Length（不支持分块传输编码）")
    content_length = parse_length(request.META.get("CONTENT_LENGTH") or "0")
    if content_length is None:
        return reply(400, "无效的 Content-Length")
    ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype != "application/offset+octet-stream" and (ctype or content_length):
        return reply(415, "PATCH 的 Content-Type 必须是 application/offset+octet-stream")
    offset = parse_length(request.headers.get("Upload-Offset"))
    if offset is None:
        return reply(400, "缺少或无效的 Upload-Offset")
    checksum = _parse_checksum(request.headers.get("Upload-Checksum"))
    if isinstance(checksum, HttpResponse):
        return checksum
    upload = expire_if_due(upload)
    if upload.state == Upload.State.COMPLETE:
        if offset == upload.length and content_length == 0:
            return reply(204, Upload_Offset=upload.offset, **outcome_headers(upload))
        return reply(409, "该上传已完成", Upload_Offset=upload.offset, **outcome_headers(upload))
    if upload.state != Upload.State.RECEIVING:
        return gone(upload)
    if offset != upload.offset:
        return reply(
            409,
            f"Upload-Offset {offset} 与服务器已确认的偏移 {upload.offset} 不一致，请先 HEAD 再续传",
            Upload_Offset=upload.offset,
        )
    if offset + content_length > upload.length:
        return reply(
            413,
            f"本次数据（{content_length} 字节，自偏移 {offset}）超出声明的长度 {upload.length}",
            Upload_Offset=upload.offset,
        )
    try:
        with locks.upload_lock(upload.pk):
            return _patch_locked(request, upload, who, offset, content_length, checksum)
    except locks.Locked:
        return reply(423, "该上传正在被另一个请求写入，请稍后重试", Upload_Offset=upload.offset)


def _patch_locked(
    request: HttpRequest,
    upload: Upload,
    who: Uploader,
    offset: int,
    content_length: int,
    checksum: tuple[str, bytes] | None,
) -> HttpResponse:
    upload.refresh_from_db()
    if upload.state != Upload.State.RECEIVING:
        if upload.state == Upload.State.COMPLETE and offset == upload.length:
            return reply(204, Upload_Offset=upload.offset, **outcome_headers(upload))
        if upload.state == Upload.State.COMPLETE:
            return reply(409, "该上传已完成", Upload_Offset=upload.offset)
        return gone(upload)
    if offset != upload.offset:
        return reply(409, "偏移已变化，请先 HEAD 再续传", Upload_Offset=upload.offset)
    try:
        writer = staging_for(upload).writer(upload)
    except StagingLost as exc:
        actions.reject_upload(actor="system:ingest", upload=upload, detail=str(exc))
        return reply(410, f"{exc}；该上传已作废，请重新创建上传")
    except StoreError as exc:
        return _unavailable(upload, exc)
    except OSError as exc:
        return _spool_failed(upload, offset, exc)
    try:
        return _receive(request, upload, who, writer, offset, content_length, checksum)
    finally:
        writer.close()


def _receive(
    request: HttpRequest,
    upload: Upload,
    who: Uploader,
    writer: Writer,
    offset: int,
    content_length: int,
    checksum: tuple[str, bytes] | None,
) -> HttpResponse:
    from jilu.evidence.store.hashing import pump

    body = _Body(request, content_length)
    chunk_hash = hashlib.new(checksum[0]) if checksum else None
    written = 0

    def write(data: bytes) -> None:
        nonlocal written
        writer.write(data)
        written += len(data)

    sinks = [write] + ([chunk_hash.update] if chunk_hash is not None else [])
    try:
        pump(body, sinks)
        if checksum is not None:
            if not body.complete:
                writer.abandon()  # a partial chunk cannot be checked: discard it
                return reply(400, "数据未完整到达，本次数据已丢弃", Upload_Offset=offset)
            if chunk_hash.digest() != checksum[1]:
                writer.abandon()
                return reply(
                    460,
                    f"本次数据的 {checksum[0]} 校验值不符，数据已丢弃，请从偏移 {offset} 重新发送",
                    Upload_Offset=offset,
                )
        new_offset = offset + written
        staged = writer.commit(complete=new_offset == upload.length) if written else None
    except StoreError as exc:
        _abandon(writer)
        return _unavailable(upload, exc)
    except OSError as exc:
        _abandon(writer)
        return _spool_failed(upload, offset, exc)
    if written and not actions.advance_upload(
        upload=upload, old_offset=offset, new_offset=new_offset, staged=staged
    ):
        _abandon(writer)
        upload.refresh_from_db()
        return (
            gone(upload)
            if upload.state != Upload.State.RECEIVING
            else reply(409, "偏移已变化，请先 HEAD 再续传", Upload_Offset=upload.offset)
        )
    if written:
        writer.acknowledged()
    if not body.complete:
        return reply(400, "数据未完整到达，已保存收到的部分", Upload_Offset=new_offset)
    if new_offset < upload.length:
        return reply(204, Upload_Offset=new_offset, Upload_Expires=expires_header(upload))
    done = finalise(upload, who)
    if isinstance(done, HttpResponse):
        return done
    return reply(204, Upload_Offset=done.offset, **outcome_headers(done))


def _abandon(writer: Writer) -> None:
    try:
        writer.abandon()
    except Exception as exc:  # nothing of it is acknowledged anyway
        log.warning("discarding unacknowledged bytes failed: %s", exc)


def _spool_failed(upload: Upload, offset: int, exc: OSError) -> HttpResponse:
    log.warning("upload %s: staging write failed: %s", upload.pk, exc)
    return reply(
        507,
        f"服务器暂存空间写入失败（{exc.strerror or exc}），本次数据未保存，请稍后重试",
        Upload_Offset=offset,
    )


def _unavailable(upload: Upload, exc: Exception) -> HttpResponse:
    log.error("upload %s: the store's staging area failed: %s", upload.pk, exc)
    return reply(
        503,
        f"证据存储暂时不可用（{exc}），本次数据未保存；已确认的数据保留，请稍后重试（HEAD 该上传）",
        Retry_After=RETRY_AFTER,
        Upload_Offset=upload.offset,
    )


# --- completion -----------------------------------------------------------


def finalise(upload: Upload, who: Uploader) -> Upload | HttpResponse:
    """Verify the whole file into the store, then attribute it (call with the lock held)."""
    from jilu.evidence.actions import store_object
    from jilu.evidence.store import HashMismatch

    try:
        if upload.length == 0:
            stored = store_object(
                actor=who.actor,
                stream=io.BytesIO(b""),
                expected_sha256=upload.sha256,
                expected_sm3=upload.sm3,
                expected_size=0,
            )
        else:
            # The staging area hands every byte to the store, which hashes
            # SHA-256 and SM3 in one pass and refuses bytes that differ from
            # the declared ones before anything is visible (C6.5.3, C6.5.4).
            stored = staging_for(upload).put(upload, actor=who.actor)
    except HashMismatch as exc:
        detail = _mismatch_detail(upload, exc)
        actions.reject_upload(actor=who.actor, upload=upload, detail=detail)
        return reply(422, detail)
    except StagingLost as exc:
        actions.reject_upload(actor="system:ingest", upload=upload, detail=str(exc))
        return reply(410, f"{exc}；该上传已作废，请重新创建上传")
    except (StoreError, OSError) as exc:
        log.error("upload %s: storing failed: %s", upload.pk, exc)
        return reply(
            503,
            f"证据存储暂时不可用（{exc}）。已收到的数据保留在服务器上，请稍后重试（HEAD 该上传）",
            Retry_After=RETRY_AFTER,
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
            return gone(upload)
        return reply(409, "；".join(exc.messages))
    actions.discard_staged(done)  # the bytes are in the store now
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
