"""Ingest one docked recorder volume: scan, open a docking session, copy, upload, verify.

The volume's files are copied into the spool one at a time (each read once
and hashed on the way) while uploads of the already-spooled ones run in
parallel threads, so reading the recorder and sending to the server overlap.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jilu_station import safefs
from jilu_station.api import StationApi
from jilu_station.http import AuthRefused, Http, HttpError, Unreachable
from jilu_station.journal import Entry, JournalError, State
from jilu_station.progress import Console, Ticker, VolumeProgress, human_bytes
from jilu_station.retry import Backoff, GaveUp, Stopped
from jilu_station.spool import Spool, SpoolFull, VolumeBusy
from jilu_station.tus import TusClient
from jilu_station.volume import Scan, VolumeInfo, adapter_for
from jilu_station.worker import FileFailed, Volume, Worker

EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3


@dataclass
class Options:
    server: str
    token: str
    spool: Path
    wipe: bool = False
    retry_for: float = 0.0  # seconds of unbroken outage before giving up; 0: never
    chunk_size: int = 16 * 1024 * 1024
    uploads: int = 2
    console: Console | None = None
    copy_slot: threading.Semaphore | None = None  # copies at once, shared by the volumes of watch
    upload_slot: threading.Semaphore | None = None  # uploads at once, shared likewise


@dataclass
class Summary:
    volume: str
    serial: str = ""
    adapter: str = ""
    docking_id: int | None = None
    files_found: int = 0
    verified: int = 0
    already_present: int = 0
    flagged: int = 0
    failed: int = 0
    wiped: int = 0
    earlier_copies_verified: int = 0
    bytes: int = 0
    bytes_sent: int = 0
    seconds: float = 0.0
    rate_mb_s: float = 0.0
    clock_offset_seconds: float | None = None
    info_problem: str = ""
    error: str = ""
    problems: list[dict[str, str]] = field(default_factory=list)
    exit_code: int = EXIT_INCOMPLETE

    def json_line(self) -> str:
        data = asdict(self)
        data.pop("exit_code")
        return json.dumps(data, ensure_ascii=False)


class Fatal(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _refused_message(exc: AuthRefused) -> str:
    return (
        f"the server refused this station's token (HTTP {exc.status}: {exc.detail}). "
        "The token may have been revoked or mistyped: ask an administrator for the workstation's "
        "token and pass it with --token or JILU_STATION_TOKEN. Nothing was wiped."
    )


def _banner(
    volume: Path, info: VolumeInfo, files: int, size: int, progress: VolumeProgress
) -> None:
    who = " ".join(x for x in (info.user_name, f"({info.user_no})" if info.user_no else "") if x)
    parts = [f"docked {volume}", f"recorder {info.serial or '?'}"]
    if who:
        parts.append(who)
    if info.clock_offset_seconds is not None:
        parts.append(f"device clock {info.clock_offset_seconds:+.1f} s against the station (C3.2)")
    if info.battery_pct is not None:
        parts.append(f"battery {info.battery_pct}%")
    if info.storage_free_bytes is not None and info.storage_total_bytes:
        parts.append(
            f"storage {human_bytes(info.storage_free_bytes)} free of "
            f"{human_bytes(info.storage_total_bytes)} (C1.4)"
        )
    parts.append(f"{files} media files, {human_bytes(size)}")
    progress.say("; ".join(parts))
    if info.problem:
        progress.say(
            f"ZFY_INFO.json: {info.problem}. The files are still taken; the server keeps them "
            "in quarantine until an administrator attributes them."
        )
    offset = info.clock_offset_seconds
    if offset is not None and abs(offset) > 60:
        progress.say(f"the recorder's clock is off by {offset:+.0f} s: calibrate it (C3.2)")
    if info.battery_pct is not None and info.battery_pct < 20:
        progress.say(f"battery low ({info.battery_pct}%): charge the recorder (C1.4)")
    if info.storage_free_bytes is not None and info.storage_total_bytes:
        if info.storage_free_bytes < info.storage_total_bytes * 0.1:
            progress.say("recorder storage is over 90% full (C1.4)")


class _Run:
    """State of one ingest while it runs (the uploader threads and the copy loop share it)."""

    def __init__(
        self, worker: Worker, uploads: int, wipe: bool, slot: threading.Semaphore | None
    ) -> None:
        self.worker = worker
        self.slot = slot or threading.Semaphore(max(1, uploads))
        self.wipe = wipe
        self.queue: queue.Queue[int | None] = queue.Queue()
        self.outcomes: dict[int, str] = {}
        self.leftovers: set[int] = set()  # spooled by an earlier run, no longer on the volume
        self.leftovers_verified = 0
        self.problems: dict[str, str] = {}
        self.flagged: set[str] = set()
        self.wiped = 0
        self.fatal: Fatal | None = None
        self._pending = 0
        self._cond = threading.Condition()
        self.threads = [
            threading.Thread(target=self._upload_loop, daemon=True, name=f"upload-{i}")
            for i in range(max(1, uploads))
        ]

    @property
    def stop(self) -> threading.Event:
        return self.worker.vol.stop

    def set_fatal(self, message: str, code: int = EXIT_INCOMPLETE) -> None:
        with self._cond:
            if self.fatal is None:
                self.fatal = Fatal(message, code)
        self.stop.set()

    def submit(self, entry_id: int) -> None:
        with self._cond:
            self._pending += 1
        self.queue.put(entry_id)

    def wait_uploads_idle(self) -> None:
        with self._cond:
            while self._pending and not self.stop.is_set():
                self._cond.wait(1.0)

    def problem(self, entry: Entry, reason: str) -> None:
        self.problems[entry.rel_path] = reason
        self.worker.say(f"{entry.rel_path}: {reason}")
        try:
            current = self.worker.journal.get(entry.id)
            self.worker.journal.move(entry.id, current.state, reason=reason)
        except JournalError:
            pass  # the journal disk is full; the message above says what happened

    def _upload_loop(self) -> None:
        journal = self.worker.journal
        while (entry_id := self.queue.get()) is not None:
            try:
                if not self.stop.is_set():
                    self._deliver(journal.get(entry_id))
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _deliver(self, entry: Entry) -> None:
        worker = self.worker
        try:
            with self.slot:
                entry, outcome = worker.deliver(entry)
            if entry.id in self.leftovers:
                self.leftovers_verified += 1
                worker.say(f"verified the spool copy of {entry.rel_path} from an earlier docking")
                return
            self.outcomes[entry.id] = outcome
            note = "verified" if outcome == "uploaded" else "already on the server"
            worker.say(f"{note}: {entry.rel_path} ({human_bytes(entry.size)})")
            if self.wipe:
                worker.wipe(entry)
                self.wiped += 1
        except FileFailed as exc:
            self.problem(entry, str(exc))
        except AuthRefused as exc:
            self.set_fatal(_refused_message(exc), EXIT_REFUSED)
        except GaveUp as exc:
            self.set_fatal(str(exc))
        except Stopped:
            pass  # the run is stopping; the journal keeps this file's state for the next run
        except (SpoolFull, JournalError) as exc:
            self.set_fatal(str(exc))
        except (HttpError, OSError, ValueError) as exc:
            self.problem(entry, f"not verified in this run: {exc}")
        except Exception as exc:  # never lose the thread: report, and the journal keeps the state
            self.problem(
                entry, f"not verified in this run (unexpected {type(exc).__name__}: {exc})"
            )


def _entries(worker: Worker, scan: Scan, run: _Run) -> tuple[list[Entry], list[Entry]]:
    """Journal rows for every file found: (to copy, already spooled or verified)."""
    vol = worker.vol
    journal = worker.journal
    to_copy: list[Entry] = []
    ready: list[Entry] = []
    for media in scan.media:
        entry = journal.entry(
            vol.key, media.rel_path, media.size, media.mtime_ns, run_id=vol.run_id
        )
        vol.progress.add(entry.id, media.rel_path, media.size, entry.state)
        spooled = bool(entry.sha256) and vol.spool.object_path(entry.sha256 or "0" * 64).exists()
        if entry.state in (State.VERIFIED, State.WIPED):
            ready.append(entry)
        elif entry.state in (State.SPOOLED, State.UPLOADING) and spooled:
            ready.append(entry)
        elif entry.state == State.UPLOADING:
            ready.append(entry)  # the server may hold it already; else it is copied again
        else:
            to_copy.append(entry)
    # Bytes spooled by an earlier run whose file has since changed or left the volume: the
    # spool copy may be the only one left, so it is delivered too (never wiped: not on the volume).
    seen = {e.id for e in to_copy + ready}
    for entry in journal.entries(vol.key):
        if entry.id in seen or entry.state not in (State.SPOOLED, State.UPLOADING):
            continue
        if entry.sha256 and vol.spool.object_path(entry.sha256).exists():
            vol.progress.add(entry.id, entry.rel_path, entry.size, entry.state)
            run.leftovers.add(entry.id)
            ready.append(entry)
    for item in scan.flagged:
        entry = journal.entry(vol.key, item.rel_path, 0, 0, run_id=vol.run_id)
        if entry.state != State.FLAGGED or entry.reason != item.reason:
            journal.move(entry.id, State.FLAGGED, run_id=vol.run_id, reason=item.reason)
        run.flagged.add(item.rel_path)
        run.problems[item.rel_path] = item.reason
        vol.progress.say(f"flagged {item.rel_path}: {item.reason}")
    return to_copy, ready


def _copy_all(run: _Run, to_copy: list[Entry]) -> None:
    worker = run.worker
    for entry in to_copy:
        if run.stop.is_set():
            return
        for attempt in (1, 2):
            try:
                entry = worker.copy(entry)
            except FileFailed as exc:
                if worker.journal.get(entry.id).state == State.FLAGGED:
                    run.flagged.add(entry.rel_path)
                run.problem(entry, str(exc))
                break
            except (SpoolFull, JournalError) as exc:
                if attempt == 1 and run._pending:
                    worker.say("the spool is full; waiting for uploads in progress to free space")
                    run.wait_uploads_idle()
                    continue
                run.set_fatal(str(exc))
                return
            except OSError as exc:
                run.problem(entry, f"cannot be read from the volume: {exc}")
                break
            except Exception as exc:  # report it; the journal keeps the state for the next run
                run.problem(entry, f"not copied (unexpected {type(exc).__name__}: {exc})")
                break
            run.submit(entry.id)
            break


def ingest(
    volume: str | os.PathLike[str], opts: Options, *, stop: threading.Event | None = None
) -> Summary:
    """Ingest one volume; never raises for what happens to files (see the summary)."""
    started = time.monotonic()
    volume = Path(volume)
    summary = Summary(volume=str(volume))
    console = opts.console or Console()
    try:
        root_fd = safefs.open_root(volume)
    except OSError as exc:
        summary.error = f"cannot open the volume {volume}: {exc.strerror}"
        summary.exit_code = EXIT_USAGE
        console.say(f"[{volume.name}] {summary.error}")
        return summary
    try:
        return _ingest(volume, root_fd, opts, console, summary, started, stop or threading.Event())
    except Fatal as exc:
        summary.error = str(exc)
        summary.exit_code = exc.code
        console.say(f"[{summary.serial or volume.name}] {exc}")
        return summary
    finally:
        os.close(root_fd)
        summary.seconds = round(time.monotonic() - started, 3)


def _ingest(
    volume: Path,
    root_fd: int,
    opts: Options,
    console: Console,
    summary: Summary,
    started: float,
    stop: threading.Event,
) -> Summary:
    adapter = adapter_for(root_fd)
    if adapter is None:
        raise Fatal(
            f"{volume} does not look like a recorder volume (no ZFY_INFO.json and no DCIM/)",
            EXIT_USAGE,
        )
    scan = adapter.scan(root_fd)
    info = scan.info
    summary.serial, summary.adapter = info.serial, scan.adapter
    summary.files_found = len(scan.media)
    summary.bytes = sum(m.size for m in scan.media)
    summary.info_problem = info.problem
    key = info.serial or f"path:{os.path.realpath(volume)}"
    progress = VolumeProgress(info.serial or volume.name, console)
    try:
        spool = Spool(opts.spool)
    except SpoolFull as exc:
        raise Fatal(str(exc), EXIT_INCOMPLETE) from exc
    http = Http(opts.server, opts.token)
    api = StationApi(http)
    backoff = Backoff(retry_for=opts.retry_for, say=progress.say, stop=stop)
    try:
        with spool.volume_lock(key):
            spool.sweep()
            run_id = spool.journal.begin_run(key, str(volume))
            if info.device_clock is not None:
                first = spool.journal.first_clock_reading(
                    key, info.device_clock, info.station_clock
                )
                info = dataclasses.replace(info, station_clock=first)
            summary.clock_offset_seconds = info.clock_offset_seconds
            _banner(volume, info, len(scan.media), summary.bytes, progress)
            try:
                backoff(api.me, "checking the station token")
                reply = backoff(
                    lambda: api.open_docking(info.docking_payload(len(scan.media))),
                    "opening the docking session",
                )
            except AuthRefused as exc:
                raise Fatal(_refused_message(exc), EXIT_REFUSED) from exc
            except GaveUp as exc:
                raise Fatal(str(exc), EXIT_INCOMPLETE) from exc
            except HttpError as exc:
                raise Fatal(
                    f"the server refused the docking session: {exc}", EXIT_INCOMPLETE
                ) from exc
            docking_id = int(reply["id"])
            summary.docking_id = docking_id
            if reply.get("recorder_known") is False:
                progress.say(
                    f"recorder {info.serial or '?'} is not registered on the server: its files are "
                    "kept in quarantine until an administrator registers it"
                )
            vol = Volume(
                key=key,
                root_fd=root_fd,
                run_id=run_id,
                docking_id=docking_id,
                spool=spool,
                api=api,
                tus=TusClient(http),
                progress=progress,
                backoff=backoff,
                stop=stop,
                chunk_size=opts.chunk_size,
                wipe=opts.wipe,
                serial=info.serial,
                copy_slot=opts.copy_slot or threading.Semaphore(1),
            )
            run = _Run(Worker(vol), opts.uploads, opts.wipe, opts.upload_slot)
            ticker = Ticker(progress, post=lambda files: api.progress(docking_id, files))
            ticker.start()
            try:
                _pipeline(run, scan)
            finally:
                ticker.stop()
            _finish(summary, run, scan, api, docking_id, started)
            spool.journal.finish_run(run_id, summary.json_line())
    except VolumeBusy as exc:
        raise Fatal(str(exc), EXIT_INCOMPLETE) from exc
    except (SpoolFull, JournalError) as exc:
        raise Fatal(str(exc), EXIT_INCOMPLETE) from exc
    except Unreachable as exc:
        raise Fatal(f"the server cannot be reached: {exc}", EXIT_INCOMPLETE) from exc
    return summary


def _pipeline(run: _Run, scan: Scan) -> None:
    to_copy, ready = _entries(run.worker, scan, run)
    for thread in run.threads:
        thread.start()
    for entry in ready:
        run.submit(entry.id)
    try:
        _copy_all(run, to_copy)
    except KeyboardInterrupt:
        run.set_fatal("interrupted; the journal keeps every file's state for the next run")
    finally:
        for _ in run.threads:
            run.queue.put(None)
        for thread in run.threads:
            thread.join()


def _finish(
    summary: Summary, run: _Run, scan: Scan, api: StationApi, docking_id: int, started: float
) -> None:
    outcomes = list(run.outcomes.values())
    summary.verified = outcomes.count("uploaded")
    summary.already_present = outcomes.count("present")
    summary.flagged = len(run.flagged)
    summary.wiped = run.wiped
    summary.earlier_copies_verified = run.leftovers_verified
    media_flagged = {m.rel_path for m in scan.media} & run.flagged
    summary.failed = summary.files_found - len(outcomes) - len(media_flagged)
    summary.bytes_sent = run.worker.vol.sent
    summary.problems = [{"file": k, "reason": v} for k, v in sorted(run.problems.items())]
    if run.fatal is not None:
        summary.error = str(run.fatal)
        run.worker.say(summary.error)
    elapsed = max(time.monotonic() - started, 1e-6)
    summary.seconds = round(elapsed, 3)
    summary.rate_mb_s = round(summary.bytes / elapsed / 1e6, 1)
    complete = (
        summary.verified + summary.already_present == summary.files_found
        and summary.flagged == 0
        and not run.problems
        and run.fatal is None
    )
    if complete:
        summary.exit_code = EXIT_OK
    elif run.fatal is not None:
        summary.exit_code = run.fatal.code
    else:
        summary.exit_code = EXIT_INCOMPLETE
    counts = {
        "files_found": summary.files_found,
        "files_verified": summary.verified,
        "files_already_present": summary.already_present,
        "files_flagged": summary.flagged,
        "files_failed": summary.failed,
    }
    if summary.exit_code != EXIT_REFUSED:
        try:
            run.worker.vol.backoff(
                lambda: api.finish(docking_id, counts), "closing the docking session"
            )
        except (Unreachable, HttpError, AuthRefused, GaveUp) as exc:
            run.worker.say(f"could not close the docking session on the server: {exc}")
        except Stopped:
            run.worker.say("the docking session was left open on the server (stopping)")
    verdict = "every file is verified on the server" if complete else "NOT every file is verified"
    run.worker.say(
        f"done in {summary.seconds:.1f} s: {summary.verified} verified, {summary.already_present} "
        f"already on the server, {summary.flagged} flagged, {summary.failed} failed, "
        f"{summary.wiped} wiped; {verdict}"
    )
