"""What happens to one media file: copy into the spool, upload, confirm, wipe.

Each step is recorded in the journal before the next one starts, and each
step first looks at what the journal (and the server) already know, so a run
that was killed at any point continues without losing or repeating anything:

- copy: the file is read once from the volume into the spool while hashed
  (SHA-256 and SM3);
- upload: the server is asked first whether it already holds those bytes
  (protocol §3); if not, a tus upload is created (its URL is journaled before
  the first byte is sent) or resumed from the server's offset;
- confirm: the server must answer ``GET /station/files/{sha256}`` with the
  same SHA-256, SM3 and size before the file counts as verified;
- wipe (only with ``--wipe-verified``): the server is asked again, the file
  on the volume is hashed again, and only then is it deleted (C6.5.3–4).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime

from jilu_station import faults, safefs
from jilu_station.api import Held, StationApi
from jilu_station.http import Unreachable
from jilu_station.journal import Entry, State
from jilu_station.progress import VolumeProgress, human_bytes
from jilu_station.retry import Backoff
from jilu_station.spool import SourceChanged, Spool, sha256_of
from jilu_station.tus import (
    ChunkRejected,
    HashMismatch,
    OffsetMismatch,
    TooLarge,
    TusClient,
    UploadGone,
)
from jilu_station.volume import CHINA

MAX_RESENDS = 3  # whole-file re-sends after 422 before the file is marked failed
MAX_CHUNK_REJECTS = 5


class FileFailed(Exception):
    """This file cannot go further in this run; the reason is in the message."""


class SpoolDamaged(Exception):
    """The spool copy is shorter than the file: it is dropped and copied again."""


@dataclass
class Volume:
    """Everything the workers of one volume share."""

    key: str
    root_fd: int
    run_id: int
    docking_id: int
    spool: Spool
    api: StationApi
    tus: TusClient
    progress: VolumeProgress
    backoff: Backoff
    stop: threading.Event
    chunk_size: int = 16 * 1024 * 1024
    wipe: bool = False
    serial: str = ""  # the recorder's, from ZFY_INFO.json ("" when unknown)
    copy_slot: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(64))
    sent: int = 0  # bytes sent in PATCH bodies during this run
    lock: threading.Lock = field(default_factory=threading.Lock)


class Worker:
    def __init__(self, vol: Volume) -> None:
        self.vol = vol
        self.journal = vol.spool.journal

    def say(self, text: str) -> None:
        self.vol.progress.say(text)

    def move(self, entry: Entry, to: State, **fields: object) -> Entry:
        new = self.journal.move(entry.id, to, run_id=self.vol.run_id, **fields)
        self.vol.progress.state(entry.id, to)
        return new

    # copy ------------------------------------------------------------------------------

    def copy(self, entry: Entry) -> Entry:
        """found → spooled (or failed/flagged with the reason)."""
        if entry.state != State.FOUND:
            entry = self.move(entry, State.FOUND)
        with self.vol.copy_slot:
            try:
                copied = self.vol.spool.copy_in(
                    self.vol.root_fd,
                    entry.rel_path,
                    size=entry.size,
                    mtime_ns=entry.mtime_ns,
                    entry_id=entry.id,
                    on_bytes=lambda n: self.vol.progress.copied(entry.id, n),
                )
            except safefs.OutsideVolume as exc:
                self.move(entry, State.FLAGGED, reason=str(exc))
                raise FileFailed(str(exc)) from exc
            except SourceChanged as exc:
                self.move(entry, State.FAILED, reason=str(exc))
                raise FileFailed(str(exc)) from exc
        if copied.note:
            self.say(f"{entry.rel_path}: {copied.note}")
        return self.move(
            entry, State.SPOOLED, sha256=copied.sha256, sm3=copied.sm3, reason=copied.note
        )

    def spooled(self, entry: Entry) -> Entry:
        """Make sure the spool holds this entry's bytes (copy again from the volume if not)."""
        if entry.sha256 and self.vol.spool.object_path(entry.sha256).exists():
            return entry
        if entry.state == State.UPLOADING:
            entry = self.move(entry, State.SPOOLED, upload_url=None)
        self.say(f"{entry.rel_path}: the spool copy is missing; copying it again from the volume")
        old = entry.sha256
        entry = self.copy(entry)
        if old and entry.sha256 != old:
            self.say(f"{entry.rel_path}: its bytes on the volume differ from the first copy")
        return entry

    # upload ----------------------------------------------------------------------------

    def held(self, entry: Entry) -> Held | None:
        assert entry.sha256
        sha256 = entry.sha256
        serial = self.vol.serial
        return self.vol.backoff(lambda: self.vol.api.held(sha256, serial), "asking for a file")

    def deliver(self, entry: Entry) -> tuple[Entry, str]:
        """spooled/uploading/verified → verified; answers (entry, "uploaded" | "present")."""
        if entry.state in (State.VERIFIED, State.WIPED):
            held = self.held(entry)
            if held is not None and held.matches(entry.sha256 or "", entry.sm3 or "", entry.size):
                mine = entry.run_id == self.vol.run_id and entry.outcome == "uploaded"
                # A crash may have come between journaling "verified" and releasing the copy.
                self.vol.spool.release(entry.sha256 or "", entry_id=entry.id)
                return entry, "uploaded" if mine else "present"
            self.say(f"{entry.rel_path}: the server no longer holds it; sending it again")
            entry = self.copy(self.move(entry, State.FOUND))
        held = self.held(entry)
        if held is not None:
            self._check_same(entry, held)
            outcome = "uploaded" if entry.state == State.UPLOADING else "present"
            return self._verified(entry, held, outcome), outcome
        entry = self.spooled(entry)
        for _ in range(MAX_RESENDS + 1):
            try:
                entry = self._send(entry)
            except HashMismatch as exc:
                entry = self._after_mismatch(entry, str(exc))
                continue
            held = self.held(entry)
            if held is None:
                raise FileFailed(
                    "the upload finished but the server does not confirm holding the file; "
                    "it stays in the spool for the next run"
                )
            self._check_same(entry, held)
            return self._verified(entry, held, "uploaded"), "uploaded"
        raise FileFailed(f"the server refused the file {MAX_RESENDS + 1} times (hash mismatch)")

    def _check_same(self, entry: Entry, held: Held) -> None:
        if not held.matches(entry.sha256 or "", entry.sm3 or "", entry.size):
            raise FileFailed(
                f"the server holds SHA-256 {entry.sha256} with SM3 {held.sm3} and size "
                f"{held.size}, which differ from this file's SM3 {entry.sm3} and size "
                f"{entry.size}; not counted as verified"
            )

    def _verified(self, entry: Entry, held: Held, outcome: str) -> Entry:
        entry = self.move(
            entry,
            State.VERIFIED,
            outcome=outcome,
            upload_url=None,
            recording_id=held.recording_id,
            quarantine_id=held.quarantine_id,
        )
        faults.reached("verified")
        assert entry.sha256
        self.vol.spool.release(entry.sha256, entry_id=entry.id)
        return entry

    def _after_mismatch(self, entry: Entry, detail: str) -> Entry:
        """422: the server's whole-file hashes differ from ours. Check the spool and re-send."""
        self.say(f"{entry.rel_path}: the server refused the upload ({detail}); sending it again")
        entry = self.move(
            entry, State.SPOOLED, upload_url=None, attempts=entry.attempts + 1, reason=detail
        )
        assert entry.sha256
        again = self.vol.spool.rehash(entry.sha256)
        if again is None or again[:2] != (entry.sha256, entry.sm3):
            self.say(f"{entry.rel_path}: the spool copy is damaged; copying again from the volume")
            if again is not None:
                self.vol.spool.object_path(entry.sha256).unlink(missing_ok=True)
            entry = self.spooled(entry)
        return entry

    def _metadata(self, entry: Entry) -> dict[str, str]:
        assert entry.sha256 and entry.sm3
        mtime = datetime.fromtimestamp(entry.mtime_ns / 1e9, CHINA).isoformat(timespec="seconds")
        return {
            "docking": str(self.vol.docking_id),
            "filename": entry.rel_path,
            "sha256": entry.sha256,
            "sm3": entry.sm3,
            "mtime": mtime,
        }

    def _send(self, entry: Entry) -> Entry:
        """Create or resume the tus upload and send every byte the server does not hold."""
        tus = self.vol.tus
        backoff = self.vol.backoff
        offset = 0
        url = entry.upload_url if entry.state == State.UPLOADING else None
        if url:
            try:
                offset = backoff(lambda: tus.offset(url), "resuming an upload")
            except UploadGone:
                url = None
        if not url:
            meta = self._metadata(entry)
            try:
                url = backoff(lambda: tus.create(entry.size, meta), "creating an upload")
            except TooLarge as exc:
                raise FileFailed(f"the server refuses a file this large: {exc}") from exc
            entry = self.move(
                entry, State.UPLOADING, upload_url=url, docking_id=self.vol.docking_id
            )
            offset = 0
        elif entry.state != State.UPLOADING:
            entry = self.move(entry, State.UPLOADING)
        self.vol.progress.state(entry.id, State.UPLOADING)
        self.vol.progress.uploaded(entry.id, offset)
        assert entry.sha256
        path = self.vol.spool.object_path(entry.sha256)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return self._send(self.spooled(entry))  # the spool copy vanished: copy it again
        try:
            self._patch_all(entry, url, fd, offset)
        except UploadGone:
            self.say(f"{entry.rel_path}: the upload expired on the server; starting a new one")
            entry = self.move(entry, State.SPOOLED, upload_url=None)
            return self._send(entry)
        except SpoolDamaged:
            self.say(f"{entry.rel_path}: the spool copy is damaged; copying again from the volume")
            path.unlink(missing_ok=True)
            return self._send(self.spooled(entry))
        finally:
            os.close(fd)
        faults.reached("server-verified")
        return entry

    def _patch_all(self, entry: Entry, url: str, fd: int, offset: int) -> None:
        tus = self.vol.tus
        chunk = self.vol.chunk_size
        rejects = 0
        first = True
        sent_empty = False
        buffer = memoryview(bytearray(min(chunk, entry.size)))  # one buffer for every PATCH
        while offset < entry.size or (entry.size == 0 and not sent_empty):
            if self.vol.stop.is_set():
                raise FileFailed("stopped before the upload finished; it resumes on the next run")
            want = min(chunk, entry.size - offset)
            got = os.preadv(fd, [buffer[:want]], offset) if want else 0
            if got != want:
                raise SpoolDamaged()
            data = buffer[:want]
            if offset + want == entry.size:
                self.vol.progress.uploaded(entry.id, offset, last=True)
            corrupt = first and faults.corrupt("upload")
            try:
                result = tus.patch(url, offset, data, corrupt=corrupt)
            except ChunkRejected as exc:
                rejects += 1
                if rejects > MAX_CHUNK_REJECTS:
                    raise FileFailed(f"the server refused a chunk {rejects} times: {exc}") from exc
                continue
            except OffsetMismatch:
                offset = self.vol.backoff(lambda: tus.offset(url), "resuming an upload")
                continue
            except TooLarge as exc:
                if chunk <= 64 * 1024:
                    raise FileFailed(f"the server refuses even small chunks: {exc}") from exc
                chunk //= 2
                continue
            except Unreachable as exc:
                self.say(f"{entry.rel_path}: upload interrupted ({exc}); resuming")
                offset = self.vol.backoff(lambda: tus.offset(url), "resuming an upload")
                continue
            first = False
            sent_empty = True
            with self.vol.lock:
                self.vol.sent += len(data)
            offset = result.offset
            self.vol.progress.uploaded(entry.id, offset)
            faults.reached("upload-chunk")

    # wipe ------------------------------------------------------------------------------

    def wipe(self, entry: Entry) -> Entry:
        """Delete the file from the recorder, only once the server has proved it holds it."""
        faults.reached("before-wipe")
        assert entry.sha256 and entry.sm3
        held = self.held(entry)  # asked again right before deleting (protocol §3)
        if held is None or not held.matches(entry.sha256, entry.sm3, entry.size):
            raise FileFailed("not wiped: the server did not confirm the same SHA-256, SM3 and size")
        try:
            fd = safefs.open_file(self.vol.root_fd, entry.rel_path)
        except FileNotFoundError:
            return self.move(entry, State.WIPED, reason="already gone from the volume")
        try:
            st = os.fstat(fd)
            if (st.st_size, st.st_mtime_ns) != (entry.size, entry.mtime_ns):
                raise FileFailed("not wiped: the file on the volume changed since it was copied")
            if sha256_of(fd) != entry.sha256:
                raise FileFailed("not wiped: the file on the volume no longer has the same bytes")
        finally:
            os.close(fd)
        safefs.unlink(self.vol.root_fd, entry.rel_path)
        entry = self.move(entry, State.WIPED)
        self.say(f"wiped {entry.rel_path} ({human_bytes(entry.size)}) from the recorder")
        return entry
