"""``jilu-station ingest`` as a subprocess against the real Jilu server (live_server).

C5.1: footage is transferred to a workstation; C3.2: times are corrected by the
measured clock offset; C1.3: the recording belongs to the officer who held the
recorder; C1.4: battery and storage are reported at docking; C6.5.3–4: the
server holds exactly the bytes that were on the recorder, proven by SHA-256 and
SM3 computed independently from the source files.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

from tests.station.helpers import (
    SERIAL,
    independent_digests,
    make_volume,
    media_files,
    recent_start,
)


def _recordings():
    from jilu.evidence.models import Recording

    return list(Recording.objects.order_by("started_at", "original_name"))


def test_ingest_then_ingest_again(jilu_server, tmp_path):
    from jilu.ingest.models import DockingSession

    volume = make_volume(
        tmp_path / "vol",
        user_no=jilu_server.officer.user_no,
        user_name="王五",
        hours=0.5,
        segment_minutes=10,
        clock_offset=37,
        photos=1,
        audio=1,
        audio_seconds=5,
        battery=64,
    )
    files = media_files(volume)
    expected = {p.relative_to(volume).as_posix(): independent_digests(p) for p in files}

    first = jilu_server.ingest(volume)
    assert first.code == 0, first.stderr
    s = first.summary
    assert (s["files_found"], s["verified"], s["already_present"]) == (5, 5, 0)
    assert (s["flagged"], s["failed"], s["wiped"], s["error"]) == (0, 0, 0, "")
    assert s["serial"] == SERIAL and s["bytes"] == sum(p.stat().st_size for p in files)
    assert abs(s["clock_offset_seconds"] - 37) < 5
    assert "verified" in first.stderr and "of" in first.stderr

    recordings = _recordings()
    assert {r.original_name: (r.sha256, r.sm3) for r in recordings} == expected
    for r in recordings:
        assert r.officer_id == jilu_server.officer.pk  # C1.3
        assert r.recorder_id == jilu_server.recorder.pk
        assert r.station_id == jilu_server.station.pk
        assert r.size == (volume / r.original_name).stat().st_size
        # C3.2: true start = device time in the name − measured offset (≈ 37 s).
        assert abs((r.name_start_local - r.started_at).total_seconds() - 37) < 5
    videos = [r for r in recordings if r.kind == "video"]
    start = min(r.started_at for r in videos)
    assert [round((r.started_at - start).total_seconds()) for r in videos] == [0, 600, 1200]

    docking = DockingSession.objects.get(pk=s["docking_id"])
    assert docking.battery_pct == 64  # C1.4
    assert abs(docking.clock_offset_seconds - 37) < 5  # C3.2
    assert docking.finished_at is not None and docking.files_found == 5

    # A second docking of the same volume creates nothing new.
    second = jilu_server.ingest(volume)
    assert second.code == 0, second.stderr
    assert (second.summary["verified"], second.summary["already_present"]) == (0, 5)
    assert second.summary["bytes_sent"] == 0
    assert len(_recordings()) == 5
    # Nothing was wiped without --wipe-verified, and the spool holds no copies any more.
    assert media_files(volume) == files
    assert not list((jilu_server.spool / "objects").iterdir())


def test_a_second_station_spool_sees_the_files_as_present(jilu_server, tmp_path):
    """Another station (its own journal) docking the same recorder: already present, nothing new."""
    volume = make_volume(tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.1)
    assert jilu_server.ingest(volume).code == 0
    again = jilu_server.ingest(volume, spool=tmp_path / "other-spool")
    assert again.code == 0, again.stderr
    assert again.summary["already_present"] == again.summary["files_found"] == 2
    assert len(_recordings()) == 2


def test_wipe_verified_removes_only_what_the_server_confirmed(jilu_server, tmp_path):
    from jilu.evidence.models import Recording

    volume = make_volume(tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.2, photos=2)
    digests = {p.name: independent_digests(p) for p in media_files(volume)}
    result = jilu_server.ingest(volume, "--wipe-verified")
    assert result.code == 0, result.stderr
    assert result.summary["wiped"] == result.summary["files_found"] == 5
    assert media_files(volume) == []
    assert (volume / "ZFY_INFO.json").exists()  # only media files are wiped
    for sha, sm3 in digests.values():
        assert Recording.objects.filter(sha256=sha, sm3=sm3).count() == 1
    assert result.stderr.count("wiped DCIM/") == 5


def test_watch_docks_several_volumes_at_once(jilu_server, tmp_path):
    from jilu.devices import actions
    from jilu.evidence.models import Recording

    dock = tmp_path / "dock"
    dock.mkdir()
    staging = tmp_path / "staging"
    for i, serial in enumerate(("A000201", "A000202", "A000203")):
        rec = actions.register_recorder(
            actor="system:test", serial=serial, unit=jilu_server.recorder.unit
        )
        assert rec.serial == serial
        make_volume(
            staging / serial, serial=serial, user_no=f"35020{i}", hours=0.1, segment_minutes=3
        )
        shutil.move(staging / serial, dock / serial)  # docked whole, like a mount appearing
    (dock / "not-a-recorder").mkdir()
    result = jilu_server.run("watch", str(dock), "--once", "--settle", "0.2", "--poll", "0.2")
    assert result.code == 0, result.stderr
    per_volume = [line for line in result.lines if "serial" in line]
    assert sorted(line["serial"] for line in per_volume) == ["A000201", "A000202", "A000203"]
    total = result.summary
    assert (total["volumes"], total["complete"], total["verified"]) == (3, 3, 6)
    assert Recording.objects.filter(recorder__serial__in=["A000201", "A000202"]).count() == 4


def test_progress_reaches_the_server(jilu_server, tmp_path):
    """§6: the workstation page shows per-file progress (posted at most every ~2 s)."""
    from jilu.ingest.models import DockingSession

    volume = make_volume(tmp_path / "vol", user_no=jilu_server.officer.user_no, hours=0.1)
    result = jilu_server.ingest(volume)
    assert result.code == 0, result.stderr
    docking = DockingSession.objects.get(pk=result.summary["docking_id"])
    files = docking.progress_files()
    assert files and {f["state"] for f in files} == {"verified"}
    assert {f["name"] for f in files} == {
        p.relative_to(volume).as_posix() for p in media_files(volume)
    }


def test_times_of_a_late_clock(jilu_server, tmp_path):
    """C3.2: a device clock 10 minutes slow: names say 08:50, the recording started 09:00."""
    start = recent_start(5)
    volume = make_volume(
        tmp_path / "vol",
        user_no=jilu_server.officer.user_no,
        hours=0.1,
        segment_minutes=6,
        clock_offset=-600,
        start=start,
    )
    result = jilu_server.ingest(volume)
    assert result.code == 0, result.stderr
    (r,) = _recordings()
    assert abs((r.started_at - start).total_seconds()) < 5
    assert abs((r.name_start_local - start).total_seconds() + 600) < 1
    assert r.started_at - r.name_start_local > timedelta(seconds=590)


def test_watch_takes_each_volume_as_it_appears(jilu_server, tmp_path):
    """A volume docked while ``watch`` runs is ingested once; undocked and docked again, again."""
    import json
    import signal
    import time

    from jilu.devices import actions

    dock = tmp_path / "dock"
    dock.mkdir()
    staging = tmp_path / "staging"
    for serial in ("A000301", "A000302"):
        actions.register_recorder(
            actor="system:test", serial=serial, unit=jilu_server.recorder.unit
        )
        make_volume(
            staging / serial, serial=serial, user_no="350301", hours=0.05, segment_minutes=3
        )
    proc = jilu_server.popen("watch", str(dock), "--settle", "0.3", "--poll", "0.2")
    lines: list[dict] = []

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + 90
        while len(lines) < n and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("{"):
                lines.append(json.loads(line))
        assert len(lines) >= n, "watch did not report the volume"

    try:
        shutil.move(staging / "A000301", dock / "A000301")
        wait_for(1)
        shutil.move(staging / "A000302", dock / "A000302")
        wait_for(2)
        shutil.move(dock / "A000301", staging / "A000301")  # undocked …
        time.sleep(1)
        shutil.move(staging / "A000301", dock / "A000301")  # … and docked again
        wait_for(3)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert [(x["serial"], x["verified"], x["already_present"]) for x in lines] == [
        ("A000301", 1, 0),
        ("A000302", 1, 0),
        ("A000301", 0, 1),
    ]
    assert proc.returncode == 0


def test_the_same_bytes_on_another_recorder_still_make_its_recording(
    jilu_server, tmp_path, people, tree
):
    """C2.1: recorder B's file whose bytes equal one already held for recorder A is
    not skipped as 'already present': B gets its own recording of those bytes."""
    from jilu.devices import actions
    from jilu.evidence.models import Recording

    other = actions.register_recorder(actor="system:test", serial="B000456", unit=tree["squad1"])
    actions.issue_recorder(
        actor="system:test",
        recorder=other,
        person=people["officer_b"],
        at=jilu_server.recorder.holdings.first().started_at,
    )
    vol_a = make_volume(tmp_path / "a", user_no=jilu_server.officer.user_no, hours=0.1)
    vol_b = make_volume(
        tmp_path / "b", serial="B000456", user_no=people["officer_b"].user_no, hours=0.1
    )
    first_a, first_b = media_files(vol_a)[0], media_files(vol_b)[0]
    shutil.copyfile(first_a, first_b)
    sha256 = independent_digests(first_a)[0]
    assert jilu_server.ingest(vol_a).code == 0
    result = jilu_server.ingest(vol_b)
    assert result.code == 0, result.stderr
    assert result.summary["already_present"] == 0
    assert result.summary["verified"] == result.summary["files_found"]
    held_by = sorted(
        Recording.objects.filter(sha256=sha256).values_list("recorder__serial", flat=True)
    )
    assert held_by == sorted(["B000456", SERIAL])


def test_a_stale_clock_reading_keeps_its_first_measurement(jilu_server, tmp_path):
    """C3.2: the recorder wrote its clock into ZFY_INFO.json when it was docked two
    hours ago and the station read it then, but the run was cut short. The run that
    resumes on the still mounted volume measures the offset from that first reading
    (37 s), not from the stale clock against the station's clock now (−2 h), and
    corrects the start times by it."""
    import json
    from datetime import UTC, datetime

    from jilu_station.journal import Journal
    from jilu_station.volume import CHINA

    volume = make_volume(tmp_path / "vol", user_no=jilu_server.officer.user_no, clock_offset=37)
    docked = datetime.now(UTC) - timedelta(hours=2)
    device_clock = (docked + timedelta(seconds=37)).astimezone(CHINA).replace(microsecond=0)
    info_path = volume / "ZFY_INFO.json"
    info = json.loads(info_path.read_text())
    info["clock"] = device_clock.isoformat()
    info_path.write_text(json.dumps(info, ensure_ascii=False))
    jilu_server.spool.mkdir(parents=True, exist_ok=True)
    journal = Journal(jilu_server.spool / "journal.sqlite3")
    journal.first_clock_reading(SERIAL, device_clock, docked)
    journal.close()

    result = jilu_server.ingest(volume)
    assert result.code == 0, result.stderr
    assert abs(result.summary["clock_offset_seconds"] - 37) < 2
    for r in _recordings():
        assert abs((r.name_start_local - r.started_at).total_seconds() - 37) < 2
