"""Bad inputs at docking: each gets a clear message and no bytes are lost (C6.5.4).

Files that cannot be attributed (no ZFY_INFO.json, unknown serial, odd names,
empty or broken files) still reach the server, which holds them in quarantine
for an administrator; what the station must not read (a symlink out of the
volume) is flagged and never read.
"""

from __future__ import annotations

import json
import os
import shutil
import time

from tests.station.helpers import independent_digests, make_volume, media_files


def _held_all(volume, files=None) -> dict[str, str]:
    """Every media file's bytes are held by the server (recording or quarantine); answers how."""
    from jilu.evidence.models import Recording, StoredObject
    from jilu.ingest.models import QuarantineItem

    how = {}
    for path in files or media_files(volume):
        sha, sm3 = independent_digests(path)
        stored = StoredObject.objects.get(sha256=sha)
        assert (stored.sm3, stored.size) == (sm3, path.stat().st_size)
        if Recording.objects.filter(sha256=sha).exists():
            how[path.name] = "recording"
        else:
            item = QuarantineItem.objects.get(sha256=sha)
            how[path.name] = f"quarantine:{item.reason}"
    return how


def test_missing_info_file(jilu_server, tmp_path):
    volume = make_volume(tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.1)
    (volume / "ZFY_INFO.json").unlink()
    result = jilu_server.ingest(volume)
    assert result.code == 0, result.stderr
    assert result.summary["info_problem"] == "ZFY_INFO.json is missing"
    assert result.summary["serial"] == "A000123"  # from the file names (protocol §2)
    assert "quarantine" in result.stderr
    assert set(_held_all(volume).values()) == {"quarantine:info_missing"}


def test_malformed_info_file(jilu_server, tmp_path):
    volume = make_volume(tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.1)
    (volume / "ZFY_INFO.json").write_text('{"serial": "A000123", "clock": ', "utf-8")
    result = jilu_server.ingest(volume)
    assert result.code == 0, result.stderr
    assert "not valid JSON" in result.summary["info_problem"]
    assert "ZFY_INFO.json: ZFY_INFO.json is not valid JSON" in result.stderr
    assert set(_held_all(volume).values()) == {"quarantine:info_missing"}


def test_unknown_serial(jilu_server, tmp_path):
    volume = make_volume(tmp_path / "vol", serial="Z999999", user_no="350299", hours=0.1)
    result = jilu_server.ingest(volume)
    assert result.code == 0, result.stderr
    assert "recorder Z999999 is not registered on the server" in result.stderr
    assert set(_held_all(volume).values()) == {"quarantine:unknown_serial"}


def test_odd_names_empty_and_truncated_files_and_duplicates(jilu_server, tmp_path):
    volume = make_volume(
        tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.1, segment_minutes=3
    )
    first, second = media_files(volume)
    day = first.parent
    (day / "IMG_0001.MP4").write_bytes(first.read_bytes()[:1000] + b"odd name")
    (day / "A000123_900001_20261126100000_0007.MP4").write_bytes(b"")
    truncated = day / "A000123_900001_20261126101000_0008.MP4"
    truncated.write_bytes(second.read_bytes()[: second.stat().st_size // 2])
    duplicate = volume / "DCIM" / "copy" / first.name
    duplicate.parent.mkdir()
    shutil.copy2(first, duplicate)
    result = jilu_server.ingest(volume)
    assert result.code == 0, result.stderr
    s = result.summary
    assert s["files_found"] == 6
    assert s["verified"] + s["already_present"] == 6 and s["already_present"] >= 1
    how = _held_all(volume)
    assert how["IMG_0001.MP4"] == "quarantine:bad_name"
    assert how["A000123_900001_20261126100000_0007.MP4"] == "quarantine:zero_byte"
    assert how[first.name] == "recording"
    assert how[truncated.name] in ("recording", "quarantine:unreadable")


def test_symlink_out_of_the_volume_is_flagged_not_read(jilu_server, tmp_path):
    from jilu.evidence.models import StoredObject

    volume = make_volume(tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.1)
    secret = tmp_path / "secret.MP4"
    secret.write_bytes(b"bytes that are not on the recorder")
    link = volume / "DCIM" / "A000123_900001_20261126120000_0009.MP4"
    link.symlink_to(secret)
    result = jilu_server.ingest(volume, "--wipe-verified")
    assert result.code == 1  # not every entry on the volume could be verified
    assert result.summary["flagged"] == 1 and result.summary["verified"] == 2
    assert "outside the volume" in result.stderr
    assert result.summary["problems"][0]["file"] == "DCIM/A000123_900001_20261126120000_0009.MP4"
    sha, _ = independent_digests(secret)
    assert not StoredObject.objects.filter(sha256=sha).exists()
    assert link.is_symlink() and secret.exists()  # neither followed nor deleted


def _paused_run(jilu_server, tmp_path, volume, change):
    marker = tmp_path / "paused"
    proc = jilu_server.popen(
        "ingest",
        str(volume),
        "--uploads",
        "1",
        JILU_STATION_PAUSE_AT="copy-chunk:1",
        JILU_STATION_PAUSE_FILE=str(marker),
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert marker.exists(), proc.communicate()[1]
    change()
    marker.unlink()
    out, err = proc.communicate(timeout=120)
    return proc.returncode, json.loads(out.splitlines()[-1]), err


def test_file_removed_mid_copy(jilu_server, tmp_path):
    """Its whole copy had been read: it is kept, uploaded and the removal reported."""
    volume = make_volume(
        tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.1, bitrate_kbps=2000
    )
    first = media_files(volume)[0]
    digests = independent_digests(first)
    code, summary, err = _paused_run(jilu_server, tmp_path, volume, first.unlink)
    assert code == 0, err
    assert "removed from the volume while it was being copied" in err
    from jilu.evidence.models import Recording

    assert Recording.objects.get(sha256=digests[0]).sm3 == digests[1]
    assert summary["verified"] == 2


def test_file_changed_mid_copy(jilu_server, tmp_path):
    volume = make_volume(
        tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.1, bitrate_kbps=2000
    )
    first = media_files(volume)[0]

    def truncate() -> None:
        with open(first, "r+b") as fh:
            fh.truncate(first.stat().st_size - 100)

    code, summary, err = _paused_run(jilu_server, tmp_path, volume, truncate)
    assert code == 1
    assert summary["failed"] == 1 and summary["verified"] == 1
    assert "changed on the volume while it was being copied" in err
    again = jilu_server.ingest(volume)  # the file as it is now is taken on the next run
    assert again.code == 0, again.stderr
    _held_all(volume)


def test_revoked_token(jilu_server, tmp_path):
    from jilu.devices import actions

    volume = make_volume(tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.1)
    before = media_files(volume)
    actions.revoke_workstation(actor="system:test", station=jilu_server.station)
    result = jilu_server.ingest(volume, "--wipe-verified")
    assert result.code == 3
    assert "refused this station's token" in result.stderr
    assert "Nothing was wiped" in result.summary["error"]
    assert media_files(volume) == before


def test_unknown_token_and_a_persons_token(jilu_server, tmp_path):
    import urllib.request

    from conftest import PASSWORD

    volume = make_volume(tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.1)
    jilu_server.token = "jst_not-a-real-token"
    result = jilu_server.ingest(volume)
    assert result.code == 3 and "refused this station's token (HTTP 401" in result.stderr
    request = urllib.request.Request(
        jilu_server.url + "/api/v1/auth/token",
        data=json.dumps({"username": "officer", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        jilu_server.token = json.loads(response.read())["token"]
    result = jilu_server.ingest(volume)
    assert result.code == 3 and "refused this station's token (HTTP 403" in result.stderr
    assert len(media_files(volume)) == 2


def test_bytes_that_do_not_match_are_refused_and_sent_again(jilu_server, tmp_path):
    """The first upload is damaged on the way (its chunk checksum matches the damaged bytes):
    the server's whole-file check refuses it (422) and the station re-sends from the spool."""
    from jilu.evidence.models import Recording
    from jilu.ingest.models import Upload

    volume = make_volume(tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.1)
    result = jilu_server.ingest(volume, "--uploads", "1", JILU_STATION_CORRUPT_AT="upload:1")
    assert result.code == 0, result.stderr
    assert "the server refused the upload" in result.stderr
    assert Upload.objects.filter(state=Upload.State.FAILED).count() == 1
    for path in media_files(volume):
        sha, sm3 = independent_digests(path)
        assert Recording.objects.get(sha256=sha).sm3 == sm3


def test_server_unreachable(tmp_path):
    volume = make_volume(tmp_path / "vol", user_no="350201", hours=0.05, segment_minutes=3)
    import socket
    import subprocess

    from tests.station.helpers import STATION

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run(
        [
            STATION,
            "ingest",
            str(volume),
            "--server",
            f"http://127.0.0.1:{port}",
            "--token",
            "jst_x",
            "--spool",
            str(tmp_path / "spool"),
            "--retry-for",
            "2",
            "--wipe-verified",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("JILU_STATION_")},
    )
    assert done.returncode == 1
    assert "unreachable for" in done.stderr and "run again" in done.stderr
    assert len(media_files(volume)) == 1


def test_usage_errors(tmp_path):
    import subprocess

    from tests.station.helpers import STATION

    env = {k: v for k, v in os.environ.items() if k not in ("JILU_SERVER", "JILU_STATION_TOKEN")}
    no_server = subprocess.run(
        [STATION, "ingest", str(tmp_path)], capture_output=True, text=True, env=env
    )
    assert no_server.returncode == 2 and "--server" in no_server.stderr
    not_volume = subprocess.run(
        [
            STATION,
            "ingest",
            str(tmp_path),
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "jst_x",
            "--spool",
            str(tmp_path / "spool"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert (
        not_volume.returncode == 2 and "does not look like a recorder volume" in not_volume.stderr
    )
