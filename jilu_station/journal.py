"""The station's local journal: one SQLite database in the spool directory.

Each media file met on a volume has one row, keyed by (volume, path, size,
mtime), moving through the states below; every move is also written to an
event table. Each change is committed (synchronous=FULL) before the station
acts on it, so a restart after any crash continues from the last recorded
state and nothing is done twice that must not be (C6.5.4: no file lost by poor
keeping; nothing is wiped from a recorder before the server proved it holds
the same bytes).

    found ──► spooled ──► uploading ──► verified ──► wiped
      │          │ ▲          │            │
      │          │ └──────────┘ (upload gone / 422: re-send from the spool)
      ▼          ▼            ▼
    failed / flagged (with the reason)
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any


class State(StrEnum):
    FOUND = "found"
    SPOOLED = "spooled"
    UPLOADING = "uploading"
    VERIFIED = "verified"
    WIPED = "wiped"
    FAILED = "failed"
    FLAGGED = "flagged"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.FOUND: frozenset({State.FOUND, State.SPOOLED, State.FAILED, State.FLAGGED}),
    # spooled → verified: the server already held these bytes (asked before uploading).
    # spooled/uploading → found: the spool copy is gone or bad; copy again from the volume.
    State.SPOOLED: frozenset(
        {State.UPLOADING, State.VERIFIED, State.FAILED, State.FOUND, State.SPOOLED}
    ),
    # uploading → spooled: the upload expired or the server refused the whole file (422).
    State.UPLOADING: frozenset(
        {State.UPLOADING, State.VERIFIED, State.SPOOLED, State.FAILED, State.FOUND}
    ),
    # verified → found: the server no longer holds the bytes (answered 404): send again.
    State.VERIFIED: frozenset({State.VERIFIED, State.WIPED, State.FOUND}),
    State.WIPED: frozenset(),
    State.FAILED: frozenset({State.FOUND, State.FLAGGED, State.FAILED}),
    State.FLAGGED: frozenset({State.FOUND, State.FLAGGED}),
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    volume_key TEXT NOT NULL,
    volume_path TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    volume_key TEXT NOT NULL,
    rel_path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    state TEXT NOT NULL,
    sha256 TEXT,
    sm3 TEXT,
    upload_url TEXT,
    docking_id INTEGER,
    outcome TEXT,
    recording_id INTEGER,
    quarantine_id INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    run_id INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (volume_key, rel_path, size, mtime_ns)
);
CREATE INDEX IF NOT EXISTS files_sha256 ON files (sha256);
CREATE TABLE IF NOT EXISTS clock_readings (
    volume_key TEXT NOT NULL,
    device_clock TEXT NOT NULL,
    station_clock TEXT NOT NULL,
    PRIMARY KEY (volume_key, device_clock)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files (id),
    run_id INTEGER,
    at TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
"""

_FIELDS = (
    "sha256",
    "sm3",
    "upload_url",
    "docking_id",
    "outcome",
    "recording_id",
    "quarantine_id",
    "reason",
    "attempts",
)


class JournalError(Exception):
    pass


class JournalFull(JournalError):
    """The disk holding the journal is full."""


@dataclass(frozen=True)
class Entry:
    id: int
    volume_key: str
    rel_path: str
    size: int
    mtime_ns: int
    state: State
    sha256: str | None
    sm3: str | None
    upload_url: str | None
    docking_id: int | None
    outcome: str | None
    recording_id: int | None
    quarantine_id: int | None
    reason: str
    attempts: int
    run_id: int | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Journal:
    """Thread-safe: each thread gets its own connection (WAL allows one writer at a time)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        try:
            self._db().executescript(SCHEMA)
        except sqlite3.OperationalError as exc:
            if "full" in str(exc).lower():
                raise JournalFull(f"the spool disk is full: cannot create {self.path}") from exc
            raise

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if "full" in str(exc).lower():
                raise JournalFull(
                    f"the spool disk is full: the journal {self.path} cannot be written"
                ) from exc
            raise

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # runs -------------------------------------------------------------------------------

    def begin_run(self, volume_key: str, volume_path: str) -> int:
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO runs (volume_key, volume_path, started_at) VALUES (?, ?, ?)",
                (volume_key, volume_path, _now()),
            )
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, summary: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, summary = ? WHERE id = ?",
                (_now(), summary, run_id),
            )

    # clock readings (C3.2) ---------------------------------------------------------------

    def first_clock_reading(
        self, volume_key: str, device_clock: datetime, station_clock: datetime
    ) -> datetime:
        """The station's clock when this device clock reading was first read.

        The recorder writes its clock into ZFY_INFO.json once, when it is docked. A
        run that starts later on the same, still mounted volume (the station was
        restarted, the server was down) reads the same stale value: measured against
        the station's clock now, the offset would be wrong by the time that passed,
        and every start time corrected by it with it. The first reading stands."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO clock_readings (volume_key, device_clock, station_clock) "
                "VALUES (?, ?, ?)",
                (volume_key, device_clock.isoformat(), station_clock.astimezone(UTC).isoformat()),
            )
            row = db.execute(
                "SELECT station_clock FROM clock_readings WHERE volume_key = ? AND device_clock = ?",
                (volume_key, device_clock.isoformat()),
            ).fetchone()
        return datetime.fromisoformat(row["station_clock"])

    # files ------------------------------------------------------------------------------

    def entry(
        self, volume_key: str, rel_path: str, size: int, mtime_ns: int, *, run_id: int | None
    ) -> Entry:
        """The row for this file (created in state ``found`` when new)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT * FROM files WHERE volume_key = ? AND rel_path = ? AND size = ?"
                " AND mtime_ns = ?",
                (volume_key, rel_path, size, mtime_ns),
            ).fetchone()
            if row is None:
                now = _now()
                cur = db.execute(
                    "INSERT INTO files (volume_key, rel_path, size, mtime_ns, state, run_id,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (volume_key, rel_path, size, mtime_ns, State.FOUND, run_id, now, now),
                )
                db.execute(
                    "INSERT INTO events (file_id, run_id, at, from_state, to_state)"
                    " VALUES (?, ?, ?, NULL, ?)",
                    (cur.lastrowid, run_id, now, State.FOUND),
                )
                row = db.execute("SELECT * FROM files WHERE id = ?", (cur.lastrowid,)).fetchone()
        return _entry(row)

    def get(self, entry_id: int) -> Entry:
        row = self._db().execute("SELECT * FROM files WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise JournalError(f"no journal entry {entry_id}")
        return _entry(row)

    def move(self, entry_id: int, to: State, *, run_id: int | None = None, **fields: Any) -> Entry:
        """Move an entry to ``to`` (checked against :data:`TRANSITIONS`), setting ``fields``."""
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise JournalError(f"unknown journal fields: {sorted(unknown)}")
        with self._tx() as db:
            row = db.execute("SELECT * FROM files WHERE id = ?", (entry_id,)).fetchone()
            if row is None:
                raise JournalError(f"no journal entry {entry_id}")
            current = State(row["state"])
            if to not in TRANSITIONS[current]:
                raise JournalError(
                    f"{row['rel_path']}: cannot go from {current} to {to} in the journal"
                )
            fields.setdefault("reason", "")  # a move clears the last reason unless it gives one
            now = _now()
            sets = ", ".join(f"{k} = ?" for k in fields)
            db.execute(
                f"UPDATE files SET state = ?, run_id = COALESCE(?, run_id), updated_at = ?,"
                f" {sets} WHERE id = ?",
                (to, run_id, now, *fields.values(), entry_id),
            )
            db.execute(
                "INSERT INTO events (file_id, run_id, at, from_state, to_state, reason)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (entry_id, run_id, now, current, to, fields.get("reason") or ""),
            )
            row = db.execute("SELECT * FROM files WHERE id = ?", (entry_id,)).fetchone()
        return _entry(row)

    def spool_users(self, sha256: str, *, besides: int) -> int:
        """How many other entries still need the spool copy of these bytes."""
        row = (
            self._db()
            .execute(
                "SELECT COUNT(*) FROM files WHERE sha256 = ? AND id != ? AND state IN (?, ?)",
                (sha256, besides, State.SPOOLED, State.UPLOADING),
            )
            .fetchone()
        )
        return int(row[0])

    def entries(self, volume_key: str | None = None) -> list[Entry]:
        if volume_key is None:
            rows = self._db().execute("SELECT * FROM files ORDER BY id").fetchall()
        else:
            rows = (
                self._db()
                .execute("SELECT * FROM files WHERE volume_key = ? ORDER BY id", (volume_key,))
                .fetchall()
            )
        return [_entry(r) for r in rows]

    def history(self, entry_id: int) -> list[tuple[str | None, str, str]]:
        rows = (
            self._db()
            .execute(
                "SELECT from_state, to_state, reason FROM events WHERE file_id = ? ORDER BY id",
                (entry_id,),
            )
            .fetchall()
        )
        return [(r[0], r[1], r[2]) for r in rows]


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        id=row["id"],
        volume_key=row["volume_key"],
        rel_path=row["rel_path"],
        size=row["size"],
        mtime_ns=row["mtime_ns"],
        state=State(row["state"]),
        sha256=row["sha256"],
        sm3=row["sm3"],
        upload_url=row["upload_url"],
        docking_id=row["docking_id"],
        outcome=row["outcome"],
        recording_id=row["recording_id"],
        quarantine_id=row["quarantine_id"],
        reason=row["reason"],
        attempts=row["attempts"],
        run_id=row["run_id"],
    )
