"""The station killed with SIGKILL at many points, and a full spool disk.

After every crash and a re-run: every file is verified exactly once on the
server, and at no moment was a file missing from the recorder that the server
did not already hold (C6.5.3–4: nothing lost, nothing wiped before it was
verified).
"""

from __future__ import annotations

import signal
import subprocess

import pytest

from tests.station.helpers import independent_digests, make_volume, media_files


def _volume(jilu_server, tmp_path):
    """Three ~2.5 MB segments, a WAV and a photo: several 1 MiB PATCHes per segment."""
    volume = make_volume(
        tmp_path / "vol",
        user_no=jilu_server.officer.user_no,
        hours=0.05,
        segment_minutes=1,
        bitrate_kbps=330,
        audio=1,
        audio_seconds=3,
        photos=1,
    )
    return volume, {
        p.relative_to(volume).as_posix(): independent_digests(p) for p in media_files(volume)
    }


def _held() -> dict[str, int]:
    from jilu.evidence.models import Recording

    counts: dict[str, int] = {}
    for sha in Recording.objects.values_list("sha256", flat=True):
        counts[sha] = counts.get(sha, 0) + 1
    return counts


def _nothing_wiped_unverified(volume, digests) -> None:
    held = _held()
    for rel, (sha, _) in digests.items():
        if not (volume / rel).exists():
            assert sha in held, f"{rel} was wiped before the server held it"


def _all_verified_once(digests) -> None:
    from jilu.evidence.models import Recording

    held = _held()
    assert {sha for sha, _ in digests.values()} == set(held)
    assert all(n == 1 for n in held.values()), held
    for sha, sm3 in digests.values():
        assert Recording.objects.get(sha256=sha).sm3 == sm3


@pytest.mark.parametrize(
    "point",
    [
        "copy-chunk:1",  # in the middle of copying the first file
        "spooled:2",  # copied and fsynced, before the journal says so
        "upload-chunk:1",  # after the first PATCH was acknowledged
        "upload-chunk:4",  # in the middle of the second file's upload
        "server-verified:1",  # the server verified, the journal did not record it
        "verified:2",  # journaled verified, spool not yet released
        "before-wipe:3",  # about to ask the server before wiping the third file
    ],
)
def test_killed_then_rerun(jilu_server, tmp_path, point):
    volume, digests = _volume(jilu_server, tmp_path)
    crashed = jilu_server.ingest(
        volume, "--wipe-verified", "--chunk-mib", "1", "--uploads", "1", JILU_STATION_CRASH_AT=point
    )
    assert crashed.code == -signal.SIGKILL, (crashed.code, crashed.stderr)
    assert crashed.summary == {}  # killed: no summary line
    _nothing_wiped_unverified(volume, digests)

    rerun = jilu_server.ingest(volume, "--wipe-verified", "--chunk-mib", "1")
    assert rerun.code == 0, rerun.stderr
    _all_verified_once(digests)
    assert media_files(volume) == []  # every file wiped, each after its verification
    assert not list((jilu_server.spool / "objects").iterdir())  # spool copies released


def test_killed_again_and_again(jilu_server, tmp_path):
    """Several crashes in a row, each a little further on; no confirmed byte is sent twice."""
    volume, digests = _volume(jilu_server, tmp_path)
    total = sum((volume / rel).stat().st_size for rel in digests)
    sent = 0
    for point in ("copy-chunk:2", "upload-chunk:2", "upload-chunk:2", "server-verified:1"):
        crashed = subprocess.run(
            jilu_server.command("ingest", str(volume), "--chunk-mib", "1", "--uploads", "1"),
            env=jilu_server.env(JILU_STATION_CRASH_AT=point),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
        _nothing_wiped_unverified(volume, digests)
    final = jilu_server.ingest(volume, "--chunk-mib", "1")
    assert final.code == 0, final.stderr
    sent += final.summary["bytes_sent"]
    _all_verified_once(digests)
    assert sent < total  # what earlier runs sent and the server confirmed was not sent again


def test_killed_mid_upload_resumes_at_the_server_offset(jilu_server, tmp_path):
    from jilu.ingest.models import Upload

    volume, digests = _volume(jilu_server, tmp_path)
    crashed = jilu_server.ingest(
        volume, "--chunk-mib", "1", "--uploads", "1", JILU_STATION_CRASH_AT="upload-chunk:2"
    )
    assert crashed.code == -signal.SIGKILL
    (partial,) = Upload.objects.filter(state=Upload.State.RECEIVING)
    assert partial.offset == 2 * 1024 * 1024
    rerun = jilu_server.ingest(volume, "--chunk-mib", "1")
    assert rerun.code == 0, rerun.stderr
    partial.refresh_from_db()
    assert partial.state == Upload.State.COMPLETE  # the same upload, resumed, not a new one
    total = sum((volume / rel).stat().st_size for rel in digests)
    assert rerun.summary["bytes_sent"] == total - 2 * 1024 * 1024
    _all_verified_once(digests)


def test_spool_disk_full_then_space_returns(jilu_server, tmp_path):
    """A real full disk: a 1 MiB tmpfs as the spool (root only), then remounted larger."""
    import os

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    spool = tmp_path / "tiny-spool"
    spool.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(spool)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        volume, digests = _volume(jilu_server, tmp_path)
        full = jilu_server.ingest(volume, "--wipe-verified", spool=spool)
        assert full.code == 1, full.stderr
        assert "spool disk is full" in full.stderr and "Nothing was wiped" in full.stderr
        assert "spool disk is full" in full.summary["error"]
        big = [rel for rel in digests if rel.endswith(".MP4")]
        assert all((volume / rel).exists() for rel in big)  # none of them was wiped
        _nothing_wiped_unverified(volume, digests)
        subprocess.run(["mount", "-o", "remount,size=64m", str(spool)], check=True)
        done = jilu_server.ingest(volume, "--wipe-verified", spool=spool)
        assert done.code == 0, done.stderr
        _all_verified_once(digests)
        assert media_files(volume) == []
    finally:
        subprocess.run(["umount", "-l", str(spool)], check=False)


def test_spool_disk_full_reported_by_the_filesystem(jilu_server, tmp_path):
    """The same without root: ENOSPC injected at the third spool write."""
    volume, digests = _volume(jilu_server, tmp_path)
    full = jilu_server.ingest(
        volume, "--wipe-verified", "--uploads", "1", JILU_STATION_ENOSPC_AT="spool-write:1"
    )
    assert full.code == 1
    assert "the spool disk is full" in full.stderr
    _nothing_wiped_unverified(volume, digests)
    assert len(media_files(volume)) == len(digests)
    done = jilu_server.ingest(volume, "--wipe-verified")
    assert done.code == 0, done.stderr
    _all_verified_once(digests)


def test_a_spooled_copy_whose_file_then_changed_is_still_delivered(jilu_server, tmp_path):
    """Killed while the first file was being uploaded; the file on the recorder is then
    rewritten. The spool holds the only copy of the old bytes: the next run delivers both."""
    from jilu.evidence.models import Recording

    volume, digests = _volume(jilu_server, tmp_path)
    crashed = jilu_server.ingest(
        volume, "--uploads", "1", "--chunk-mib", "1", JILU_STATION_CRASH_AT="upload-chunk:1"
    )
    assert crashed.code == -signal.SIGKILL
    first = sorted(digests)[0]
    old_sha = digests[first][0]
    assert not Recording.objects.filter(sha256=old_sha).exists()
    with open(volume / first, "ab") as fh:
        fh.write(b"rewritten on the recorder")
    new_sha, _ = independent_digests(volume / first)
    rerun = jilu_server.ingest(volume, "--wipe-verified")
    assert rerun.code == 0, rerun.stderr
    assert rerun.summary["earlier_copies_verified"] == 1
    assert "from an earlier docking" in rerun.stderr
    held = set(Recording.objects.values_list("sha256", flat=True))
    assert old_sha in held and new_sha in held
    assert media_files(volume) == []


def _gunicorn(port: int, env: dict[str, str], log) -> subprocess.Popen:
    import sys
    import time
    import urllib.error
    import urllib.request
    from pathlib import Path

    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "jilu.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--timeout",
            "120",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2)
            return proc
        except (urllib.error.URLError, OSError):
            assert proc.poll() is None, "the server process did not start"
            time.sleep(0.2)
    raise AssertionError("the server process did not answer")


def _kill(server: subprocess.Popen) -> None:
    import os

    try:
        os.killpg(server.pid, signal.SIGKILL)  # its own session: the master and its worker
    except ProcessLookupError:
        pass
    server.wait()


def test_server_killed_mid_upload(jilu_server, tmp_path):
    """A separate server process (same test database) is killed with SIGKILL while the station
    uploads; the station backs off, a new server process starts, and the upload resumes."""
    import os
    import socket
    import time

    from django.db import connection

    volume, digests = _volume(jilu_server, tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "JILU_DATA_DIR": str(tmp_path / "server-data"),
        "JILU_DATABASE_URL": "sqlite:///" + str(connection.settings_dict["NAME"]),
        "JILU_STORE_ROOT": str(tmp_path / "server-store"),
        "JILU_SPOOL_DIR": str(tmp_path / "server-spool"),
        "JILU_STORAGE": "file",
        "JILU_LOG_LEVEL": "WARNING",
    }
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    server = _gunicorn(port, env, log)
    jilu_server.url = f"http://127.0.0.1:{port}"
    marker = tmp_path / "paused"
    station = jilu_server.popen(
        "ingest",
        str(volume),
        "--chunk-mib",
        "1",
        "--uploads",
        "1",
        JILU_STATION_PAUSE_AT="upload-chunk:2",
        JILU_STATION_PAUSE_FILE=str(marker),
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), station.communicate()[1]
        _kill(server)  # SIGKILL to the master and its worker: no clean-up on the server either
        marker.unlink()
        time.sleep(2)  # the station is now retrying with back-off
        server = _gunicorn(port, env, log)
        out, err = station.communicate(timeout=180)
    finally:
        if station.poll() is None:
            station.kill()
        _kill(server)
        log.close()
    assert station.returncode == 0, err
    assert "server not available" in err
    _all_verified_once(digests)
