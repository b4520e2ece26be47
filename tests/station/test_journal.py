"""The station journal: the state machine, and continuing after a restart (C6.5.4)."""

from __future__ import annotations

import sqlite3

import pytest

from jilu_station.journal import TRANSITIONS, Journal, JournalError, State

KEY = "A000123"
PATH = "DCIM/20261126/A000123_350201_20261126090000_0001.MP4"


def test_happy_path_and_history(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    run = j.begin_run(KEY, "/media/A000123")
    e = j.entry(KEY, PATH, 100, 7, run_id=run)
    assert e.state == State.FOUND and e.run_id == run
    e = j.move(e.id, State.SPOOLED, run_id=run, sha256="a" * 64, sm3="b" * 64)
    e = j.move(e.id, State.UPLOADING, run_id=run, upload_url="http://s/api/v1/uploads/1")
    e = j.move(e.id, State.VERIFIED, run_id=run, outcome="uploaded", recording_id=5)
    e = j.move(e.id, State.WIPED, run_id=run)
    assert (e.sha256, e.sm3, e.recording_id, e.outcome) == ("a" * 64, "b" * 64, 5, "uploaded")
    assert [to for _, to, _ in j.history(e.id)] == [
        "found",
        "spooled",
        "uploading",
        "verified",
        "wiped",
    ]


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ((), State.VERIFIED),  # found → verified: never without a copy and a server answer
        ((), State.UPLOADING),
        ((), State.WIPED),  # nothing is wiped that was not verified
        ((State.SPOOLED,), State.WIPED),
        ((State.SPOOLED, State.UPLOADING), State.WIPED),
        ((State.SPOOLED, State.VERIFIED, State.WIPED), State.FOUND),  # wiped is final
    ],
)
def test_forbidden_moves_are_refused(tmp_path, path, to):
    j = Journal(tmp_path / "j.sqlite3")
    e = j.entry(KEY, PATH, 1, 1, run_id=None)
    for state in path:
        e = j.move(e.id, state)
    with pytest.raises(JournalError, match="cannot go from"):
        j.move(e.id, to)
    assert j.get(e.id).state == (path[-1] if path else State.FOUND)


def test_wiped_only_after_verified():
    """C6.5.3–4: in the transition table, only ``verified`` leads to ``wiped``."""
    assert [s for s, targets in TRANSITIONS.items() if State.WIPED in targets] == [State.VERIFIED]


def test_restart_continues_from_the_journal(tmp_path):
    path = tmp_path / "j.sqlite3"
    j = Journal(path)
    e = j.entry(KEY, PATH, 100, 7, run_id=1)
    j.move(e.id, State.SPOOLED, sha256="a" * 64, sm3="b" * 64)
    j.move(e.id, State.UPLOADING, upload_url="http://s/u/1", docking_id=3)
    j.close()
    # A new process (after a crash) sees the same row and its upload URL.
    again = Journal(path).entry(KEY, PATH, 100, 7, run_id=2)
    assert again.id == e.id
    assert again.state == State.UPLOADING and again.upload_url == "http://s/u/1"
    # A file with the same name but other size or mtime is another file.
    other = Journal(path).entry(KEY, PATH, 101, 7, run_id=2)
    assert other.id != e.id and other.state == State.FOUND


def test_reason_is_kept_and_cleared(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    e = j.entry(KEY, PATH, 1, 1, run_id=None)
    e = j.move(e.id, State.FAILED, reason="changed on the volume while it was being copied")
    assert "changed" in e.reason
    assert j.move(e.id, State.FOUND).reason == ""


def test_spool_users_counts_unfinished_entries_with_the_same_bytes(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    a = j.entry(KEY, "DCIM/a.MP4", 1, 1, run_id=None)
    b = j.entry(KEY, "DCIM/b.MP4", 1, 1, run_id=None)
    j.move(a.id, State.SPOOLED, sha256="c" * 64, sm3="d" * 64)
    j.move(b.id, State.SPOOLED, sha256="c" * 64, sm3="d" * 64)
    assert j.spool_users("c" * 64, besides=a.id) == 1
    j.move(b.id, State.VERIFIED)
    assert j.spool_users("c" * 64, besides=a.id) == 0


def test_unknown_fields_are_refused(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    e = j.entry(KEY, PATH, 1, 1, run_id=None)
    with pytest.raises(JournalError, match="unknown"):
        j.move(e.id, State.SPOOLED, state="verified")


def test_runs_are_recorded(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    run = j.begin_run(KEY, "/media/x")
    j.finish_run(run, '{"verified": 1}')
    row = sqlite3.connect(tmp_path / "j.sqlite3").execute("SELECT summary FROM runs").fetchone()
    assert row == ('{"verified": 1}',)


def test_first_clock_reading_stands(tmp_path):
    """C3.2: the same device clock reading read again later keeps the station time of
    its first reading; a new reading (the recorder docked again) gets its own."""
    from datetime import UTC, datetime, timedelta

    j = Journal(tmp_path / "j.sqlite3")
    device = datetime(2026, 11, 26, 9, 0, 37, tzinfo=UTC)
    first = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)
    assert j.first_clock_reading(KEY, device, first) == first
    assert j.first_clock_reading(KEY, device, first + timedelta(hours=3)) == first
    later = device + timedelta(days=1)
    assert j.first_clock_reading(KEY, later, first + timedelta(days=1)) == first + timedelta(days=1)
    assert j.first_clock_reading("A000999", device, first + timedelta(hours=5)) == (
        first + timedelta(hours=5)
    )
