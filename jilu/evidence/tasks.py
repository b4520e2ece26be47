"""Background media processing (django-tasks; the django-tasks-db worker runs it).

``enqueue_processing(recording_id)`` is called by ingest once a recording's
transaction commits. ``process_recording`` takes the ID, is idempotent (a
recording already processed is left alone; a forced re-run makes only what is
missing), and retries named transient errors with exponential back-off:
django-tasks has no retry of its own, so a failed attempt is counted in
``MediaInfo.attempts`` and the task enqueues itself again with ``run_after``.
After ``MAX_ATTEMPTS`` it gives up: ``last_error`` is kept, integrity stays
待检测 and the task page lists the recording for an administrator to re-queue.
``last_error`` begins with a line in plain Chinese (``describe_failure``; the
recording page shows it as 处理失败 with ``failure_reason``), the exception
follows for the administrator. An original missing from the store
(``ObjectMissing``) is not retried and raises the fixity alarm (C6.5.4).

A run stores its derived files first (content-addressed: harmless to repeat)
and writes all its results in one transaction at the end
(``processing.record_processing``), so a run that fails never leaves a
recording half processed.
"""

from __future__ import annotations

import errno
import logging
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from jilu.evidence import derive
from jilu.evidence.actions import store_object
from jilu.evidence.media import ProbeResult, probe
from jilu.evidence.media_models import Derivative, MediaInfo
from jilu.evidence.models import Recording, StoredObject
from jilu.evidence.processing import (
    SYSTEM_ACTOR,
    NewDerivative,
    record_failure,
    record_processing,
)
from jilu.evidence.store import ObjectMissing, get_store
from jilu.evidence.store.errors import StoreUnavailable

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 3600
SPOOL_CHUNK = 8 * 1024 * 1024

Kind = Derivative.Kind
Integrity = MediaInfo.Integrity


class TransientError(Exception):
    """A failure worth retrying later: the store or the spool disk was unavailable."""


# What went wrong, in words, by exception name (older rows hold only the exception).
FAILURE_TEXTS = {
    "ObjectMissing": gettext_lazy("存储中找不到原始文件，已发出固定性告警"),
    "StoredObjectMissing": gettext_lazy("存储中找不到原始文件，已发出固定性告警"),
    "TransientError": gettext_lazy("证据存储或临时磁盘暂时不可用"),
    "ConnectionError": gettext_lazy("无法连接证据存储"),
    "TimeoutError": gettext_lazy("读取证据存储超时"),
    "OSError": gettext_lazy("读写文件出错"),
    "MemoryError": gettext_lazy("服务器内存不足"),
}
GAVE_UP_NOTE = gettext_lazy("已停止自动处理，请系统管理员在任务页查看后重新排队")
# ``last_error`` is written in Chinese whatever the language in force (it is
# read on the task page and in the audit log); this marks a run still retried.
RETRY_MARK = "系统将自动重试"
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")


def describe_failure(exc: BaseException, *, gave_up: bool) -> str:
    """``last_error`` for a failed attempt: a plain line, then the exception itself."""
    with translation.override("zh-hans"):
        reason = str(FAILURE_TEXTS.get(type(exc).__name__) or _("处理程序出错"))
        note = str(GAVE_UP_NOTE) if gave_up else RETRY_MARK
    return f"{reason}；{note}\n{type(exc).__name__}: {exc}"


def failure_reason(last_error: str) -> str:
    """What went wrong, in words in the reader's language (no raw exception text):
    by the exception's name, kept on the line after the words (or alone, in rows
    written before the words were)."""
    for line in (last_error or "").strip().splitlines():
        match = _EXCEPTION_LINE.match(line.strip())
        if match is not None:
            name = match.group(1).rsplit(".", 1)[-1]
            return str(FAILURE_TEXTS.get(name) or _("处理程序出错"))
    return str(_("处理程序出错"))


def still_retried(last_error: str, attempts: int) -> bool:
    """True while a failed run is due to be tried again (not given up)."""
    if attempts >= MAX_ATTEMPTS:
        return False
    if RETRY_MARK in (last_error or ""):
        return True
    return (last_error or "").startswith("TransientError")  # rows written before the words


def backoff(attempt: int) -> timedelta:
    """Wait before attempt ``attempt + 1``: 1, 2, 4, 8 … minutes, at most an hour."""
    base = getattr(settings, "MEDIA_RETRY_BASE_SECONDS", BACKOFF_BASE_SECONDS)
    return timedelta(seconds=min(base * 2 ** max(attempt - 1, 0), BACKOFF_MAX_SECONDS))


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientError | StoreUnavailable):  # the store is unreachable
        return True
    try:
        from botocore.exceptions import BotoCoreError

        if isinstance(exc, BotoCoreError):  # endpoint unreachable, timeouts
            return True
    except ImportError:  # pragma: no cover - botocore comes with django-storages[s3]
        pass
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    return isinstance(exc, OSError) and exc.errno in {errno.ENOSPC, errno.EIO, errno.EAGAIN}


@contextmanager
def local_copy(obj: StoredObject) -> Iterator[Path]:
    """A file path holding the object's bytes, for PyAV.

    The filesystem store gives its own read-only file (never written to); from
    S3 the object is streamed in chunks to a temporary file under
    ``SPOOL_DIR/media`` (memory stays flat) and removed afterwards.
    """
    store = get_store()
    path_of = getattr(store, "path", None)
    if store.kind == "file" and callable(path_of):
        path = path_of(obj.sha256)
        if not path.is_file():
            from jilu.evidence.store import ObjectMissing

            raise ObjectMissing(f"no stored object {obj.sha256}")
        yield path
        return
    spool = Path(settings.SPOOL_DIR) / "media"
    spool.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=spool, prefix=f"{obj.sha256[:16]}-") as tmp:
        try:
            for chunk in store.open_range(obj.sha256):
                tmp.write(chunk)
            tmp.flush()
        except Exception as exc:
            if _transient(exc):
                raise TransientError(f"读取存储对象失败：{exc}") from exc
            raise
        yield Path(tmp.name)


def plan(result: ProbeResult, src: Path, out: Path) -> list[tuple[str, Callable]]:
    """The derivatives a probed recording gets, each with the function that makes it."""
    if result.is_image:
        return [(Kind.PREVIEW, partial(derive.preview, src, out))]
    steps: list[tuple[str, Callable]] = []
    duration = result.duration_seconds
    if result.has_video:
        steps.append((Kind.POSTER, partial(derive.poster, src, out, duration=duration)))
        steps.append((Kind.STRIP, partial(derive.strip, src, out, duration=duration)))
    elif result.has_audio:
        steps.append((Kind.WAVEFORM, partial(derive.waveform, src, out, duration=duration)))
    if (result.has_video or result.has_audio) and not result.browser_playable:
        steps.append((Kind.PLAYBACK, partial(derive.playback, src, out)))
    return steps


def is_processed(media: MediaInfo | None) -> bool:
    return bool(
        media is not None
        and media.probed_at is not None
        and not media.last_error
        and media.integrity != Integrity.PENDING
    )


def run_processing(recording: Recording) -> MediaInfo:
    """Probe, make what derivatives are missing, store them, then write it all at once."""
    have = set(recording.derivatives.values_list("kind", flat=True))
    spool = Path(settings.SPOOL_DIR) / "media"
    spool.mkdir(parents=True, exist_ok=True)
    with local_copy(recording.stored_object) as src, tempfile.TemporaryDirectory(dir=spool) as tmp:
        result = probe(src)
        made: list[NewDerivative] = []
        for kind, make in plan(result, src, Path(tmp)):
            if kind in have:
                continue
            try:
                derived = make()
            except derive.DeriveError as exc:
                # The index was whole but the frames do not decode: damaged (the probe
                # reads metadata only, so decoding is where this shows). A damaged
                # recording gives what it can; its integrity reason says why.
                result.damaged(str(exc))
                result.browser_playable = False
                logger.info("recording %s: no %s (%s)", recording.pk, kind, exc)
                continue
            with open(derived.path, "rb") as fh:
                stored = store_object(actor=SYSTEM_ACTOR, stream=fh)
            made.append(
                NewDerivative(kind, stored, derived.content_type, derived.width, derived.height)
            )
    return record_processing(recording_id=recording.pk, result=result, derivatives=made)


def _enqueue(recording_id: int, *, force: bool = False, run_after=None) -> None:
    job = process_recording
    if run_after is not None and job.get_backend().supports_defer:
        job = job.using(run_after=run_after)
    job.enqueue(recording_id, force=force)


def enqueue_processing(recording_id: int, *, force: bool = False) -> None:
    """Queue media processing of a recording once the current transaction commits.

    Ingest calls this inside the transaction that creates the recording; if
    enqueueing fails the recording stays 待检测 and the task page lists it.
    """
    transaction.on_commit(partial(_enqueue, recording_id, force=force), robust=True)


@task()
def process_recording(recording_id: int, force: bool = False) -> str:
    """Process one recording (see the module docstring); returns what happened."""
    recording = (
        Recording.objects.select_related("stored_object", "media").filter(pk=recording_id).first()
    )
    if recording is None:
        return "no such recording"
    media = getattr(recording, "media", None)
    if not force and is_processed(media):
        return "already processed"
    try:
        media = run_processing(recording)
    except Exception as exc:
        if isinstance(exc, ObjectMissing):
            # C6.5.4: the original is gone; say so where it is seen (fixity alarm).
            from jilu.evidence.missing import raise_alarm

            try:
                raise_alarm(recording.sha256)
            except Exception:  # the failure below is still recorded
                logger.exception("recording %s: could not raise the fixity alarm", recording_id)
        attempts = (
            MediaInfo.objects.filter(recording_id=recording_id)
            .values_list("attempts", flat=True)
            .first()
            or 0
        )
        if _transient(exc) and attempts + 1 < MAX_ATTEMPTS:
            retry_at = timezone.now() + backoff(attempts + 1)
            error = describe_failure(exc, gave_up=False)
            record_failure(recording_id=recording_id, error=error, retry_at=retry_at, gave_up=False)
            _enqueue(recording_id, force=force, run_after=retry_at)
            logger.warning("recording %s: %s; retry at %s", recording_id, error, retry_at)
            return f"retry at {retry_at.isoformat()}"
        error = describe_failure(exc, gave_up=True)
        record_failure(recording_id=recording_id, error=error, gave_up=True)
        raise
    return str(media.integrity)
