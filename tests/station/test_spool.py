"""Copying into the spool: one read pass, SHA-256 and SM3, changes noticed, disk full handled."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from jilu_station import faults, safefs
from jilu_station.spool import DualHasher, SourceChanged, Spool, SpoolFull, hash_file

REL = "DCIM/A000123_350201_20261126090000_0001.MP4"


@pytest.fixture(autouse=True)
def _no_faults(monkeypatch):
    for var in ("CRASH", "ENOSPC", "PAUSE", "CORRUPT"):
        monkeypatch.delenv(f"JILU_STATION_{var}_AT", raising=False)
    faults.reset()
    yield
    faults.reset()


def _volume(tmp_path: Path, data: bytes) -> tuple[Path, int]:
    root = tmp_path / "vol"
    (root / "DCIM").mkdir(parents=True)
    (root / REL).write_bytes(data)
    return root, safefs.open_root(root)


def _copy(spool: Spool, root: Path, fd: int, entry_id: int = 1):
    st = (root / REL).stat()
    return spool.copy_in(fd, REL, size=st.st_size, mtime_ns=st.st_mtime_ns, entry_id=entry_id)


def test_copy_hashes_both_in_one_pass(tmp_path):
    data = os.urandom(9 * 1024 * 1024 + 17)
    root, fd = _volume(tmp_path, data)
    spool = Spool(tmp_path / "spool")
    copied = _copy(spool, root, fd)
    os.close(fd)
    assert copied.sha256 == hashlib.sha256(data).hexdigest()
    assert copied.sm3 == hashlib.new("sm3", data).hexdigest()
    assert copied.size == len(data) and copied.note == ""
    assert spool.object_path(copied.sha256).read_bytes() == data
    assert not list((spool.root / "tmp").iterdir())
    assert spool.rehash(copied.sha256) == (copied.sha256, copied.sm3, len(data))


def test_sm3_is_the_gb_t_32905_digest():
    """The standard's example: SM3("abc")."""
    h = DualHasher()
    h.update(b"abc")
    sha, sm3 = h.hexdigests()
    assert sm3 == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sha == hashlib.sha256(b"abc").hexdigest()


def test_hash_file_matches_openssl(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(os.urandom(100_000))
    out = subprocess.run(["openssl", "dgst", "-sm3", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("openssl without SM3")
    assert hash_file(path)[1] == out.stdout.strip().rsplit(" ", 1)[-1]


def _paused(monkeypatch, tmp_path, point: str) -> Path:
    marker = tmp_path / "paused"
    monkeypatch.setenv("JILU_STATION_PAUSE_AT", f"{point}:1")
    monkeypatch.setenv("JILU_STATION_PAUSE_FILE", str(marker))
    return marker


def _run_copy_while(tmp_path, monkeypatch, change) -> BaseException | object:
    data = os.urandom(12 * 1024 * 1024)
    root, fd = _volume(tmp_path, data)
    spool = Spool(tmp_path / "spool")
    marker = _paused(monkeypatch, tmp_path, "copy-chunk")
    result: list[object] = []

    def work() -> None:
        try:
            result.append(_copy(spool, root, fd))
        except BaseException as exc:
            result.append(exc)

    t = threading.Thread(target=work)
    t.start()
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marker.exists(), "the copy never reached its first chunk"
    change(root / REL)
    marker.unlink()
    t.join(30)
    os.close(fd)
    assert not list((spool.root / "tmp").iterdir()), "no partial copy is left behind"
    return result[0]


def test_file_truncated_mid_copy_is_detected(tmp_path, monkeypatch):
    def truncate(path: Path) -> None:
        with open(path, "r+b") as fh:
            fh.truncate(5 * 1024 * 1024)

    outcome = _run_copy_while(tmp_path, monkeypatch, truncate)
    assert isinstance(outcome, SourceChanged)
    assert "while it was being copied" in str(outcome)


def test_file_rewritten_mid_copy_is_detected(tmp_path, monkeypatch):
    def rewrite(path: Path) -> None:
        path.unlink()
        path.write_bytes(b"new bytes")

    outcome = _run_copy_while(tmp_path, monkeypatch, rewrite)
    assert isinstance(outcome, SourceChanged)


def test_file_removed_mid_copy_is_reported_and_its_whole_copy_kept(tmp_path, monkeypatch):
    """Nothing lost: the open file is read whole, the removal is reported."""
    outcome = _run_copy_while(tmp_path, monkeypatch, lambda p: p.unlink())
    assert not isinstance(outcome, BaseException)
    assert "removed from the volume while it was being copied" in outcome.note
    assert outcome.size == 12 * 1024 * 1024


def test_file_removed_before_copy(tmp_path):
    root, fd = _volume(tmp_path, b"abc")
    st = (root / REL).stat()
    (root / REL).unlink()
    with pytest.raises(SourceChanged, match="removed"):
        Spool(tmp_path / "spool").copy_in(
            fd, REL, size=st.st_size, mtime_ns=st.st_mtime_ns, entry_id=1
        )
    os.close(fd)


def test_disk_full_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("JILU_STATION_ENOSPC_AT", "spool-write:2")
    root, fd = _volume(tmp_path, os.urandom(9 * 1024 * 1024))
    spool = Spool(tmp_path / "spool")
    with pytest.raises(SpoolFull, match="spool disk is full.*Nothing was wiped"):
        _copy(spool, root, fd)
    os.close(fd)
    assert not list((spool.root / "tmp").iterdir())
    assert not list((spool.root / "objects").iterdir())


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A real 2 MiB filesystem (root only); skipped where mounting is not allowed."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_real_full_disk(tmp_path, tiny_tmpfs, monkeypatch):
    monkeypatch.setattr("jilu_station.spool.RESERVE", 0)  # let the copy hit the real ENOSPC
    root, fd = _volume(tmp_path, os.urandom(3 * 1024 * 1024))
    spool = Spool(tiny_tmpfs / "spool")
    st = (root / REL).stat()
    monkeypatch.setattr(Spool, "free_bytes", lambda self: 1 << 40)  # skip the pre-check
    with pytest.raises(SpoolFull, match="full"):
        spool.copy_in(fd, REL, size=st.st_size, mtime_ns=st.st_mtime_ns, entry_id=1)
    os.close(fd)
    assert not list((spool.root / "tmp").iterdir())


def test_precheck_refuses_a_file_larger_than_the_free_space(tmp_path, monkeypatch):
    root, fd = _volume(tmp_path, b"x" * 1000)
    spool = Spool(tmp_path / "spool")
    monkeypatch.setattr(Spool, "free_bytes", lambda self: 1000)
    with pytest.raises(SpoolFull, match="needed"):
        _copy(spool, root, fd)
    os.close(fd)


def test_duplicate_bytes_share_one_spool_copy(tmp_path):
    root, fd = _volume(tmp_path, b"same bytes")
    spool = Spool(tmp_path / "spool")
    a = _copy(spool, root, fd, entry_id=1)
    b = _copy(spool, root, fd, entry_id=2)
    os.close(fd)
    assert a.sha256 == b.sha256
    assert [p.name for p in (spool.root / "objects").iterdir()] == [a.sha256]


def test_sweep_removes_leftovers_of_crashed_runs(tmp_path):
    spool = Spool(tmp_path / "spool")
    part = spool.root / "tmp" / "99.part"
    part.write_bytes(b"half")
    orphan = spool.root / "objects" / ("e" * 64)
    orphan.write_bytes(b"x")
    old = time.time() - 7200
    os.utime(part, (old, old))
    os.utime(orphan, (old, old))
    spool.sweep()
    assert not part.exists() and not orphan.exists()


def test_volume_lock_refuses_a_second_ingest(tmp_path):
    from jilu_station.spool import VolumeBusy

    spool = Spool(tmp_path / "spool")
    with spool.volume_lock("A000123"):
        with pytest.raises(VolumeBusy, match="already ingesting"):
            with Spool(tmp_path / "spool").volume_lock("A000123"):
                pass
        with spool.volume_lock("A000124"):
            pass
