"""The recorder simulator writes valid, playable volumes in the reference layout (contract 5)."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from datetime import datetime, timedelta
from pathlib import Path

import av
import pytest
from PIL import Image

from jilu_station.simulate import Plan, parse_gap, segments, simulate
from jilu_station.volume import CHINA, NAME_RE, scan_volume

START = datetime(2026, 11, 26, 9, 0, 0, tzinfo=CHINA)


def _duration(path: Path) -> float:
    with av.open(str(path)) as c:
        return c.duration / 1e6


def test_an_hour_of_segments_with_a_gap_and_a_clock_offset(tmp_path):
    """C3.2: names carry the device clock; C2.1: a gap is time not covered."""
    plan = Plan(
        serial="A000123",
        user_no="350201",
        user_name="王五",
        start=START,
        hours=1,
        segment_minutes=10,
        clock_offset=125,
        gaps=[parse_gap("09:20+5", START)],
        photos=2,
        audio=1,
        audio_seconds=12,
    )
    made = simulate(tmp_path, plan)
    videos = [m for m in made if m.kind == "video"]
    # 09:00–09:20 (2 segments), 09:25–10:00 (10 + 10 + 10 + 5 min).
    assert [(m.true_start.strftime("%H:%M"), m.seconds) for m in videos] == [
        ("09:00", 600),
        ("09:10", 600),
        ("09:25", 600),
        ("09:35", 600),
        ("09:45", 600),
        ("09:55", 300),
    ]
    for m in videos:
        path = tmp_path / m.rel_path
        assert abs(_duration(path) - m.seconds) < 0.5
        with av.open(str(path)) as c:
            kinds = {s.type: s.codec_context.name for s in c.streams}
            assert kinds == {"video": "h264", "audio": "aac"}
            assert next(iter(c.decode(video=0))).width == 160
        assert m.device_start == m.true_start + timedelta(seconds=125)
    names = [m.rel_path for m in made]
    for rel in names:
        folder, name = rel.split("/")[1:]
        match = NAME_RE.match(name)
        assert match, name
        assert folder == match["ts"][:8]
        assert match["serial"] == "A000123" and match["user_no"] == "350201"
    assert videos[0].rel_path.endswith("A000123_350201_20261126090205_0001.MP4")
    # Segments of one continuous recording follow each other with no gap.
    assert videos[1].device_start == videos[0].device_start + timedelta(seconds=600)
    assert videos[2].device_start - videos[1].device_start == timedelta(minutes=15)
    assert sorted(int(NAME_RE.match(n.split("/")[-1])["seq"]) for n in names) == list(
        range(1, len(names) + 1)
    )
    wav_path = tmp_path / next(m.rel_path for m in made if m.kind == "audio")
    with wave.open(str(wav_path)) as w:
        assert w.getnframes() / w.getframerate() == 12
    jpg = tmp_path / next(m.rel_path for m in made if m.kind == "photo")
    assert Image.open(jpg).format == "JPEG"
    info = json.loads((tmp_path / "ZFY_INFO.json").read_text("utf-8"))
    assert info["serial"] == "A000123" and info["user_name"] == "王五"
    clock = datetime.fromisoformat(info["clock"])
    assert abs((clock - datetime.now(CHINA)).total_seconds() - 125) < 30
    # The mtime is the device's wall clock when the file was closed.
    first = tmp_path / videos[0].rel_path
    assert first.stat().st_mtime == (videos[0].device_start + timedelta(seconds=600)).timestamp()
    scan = scan_volume(tmp_path)
    assert scan.info.problem == "" and len(scan.media) == len(made) and not scan.flagged


def test_no_two_files_share_bytes(tmp_path):
    made = simulate(
        tmp_path,
        Plan(
            serial="A000124",
            user_no="350202",
            start=START,
            hours=0.1,
            audio=3,
            photos=3,
            audio_seconds=2,
            segment_minutes=2,
        ),
    )
    import hashlib

    digests = {hashlib.sha256((tmp_path / m.rel_path).read_bytes()).hexdigest() for m in made}
    assert len(digests) == len(made)


def test_bitrate_makes_large_but_valid_segments(tmp_path):
    made = simulate(
        tmp_path,
        Plan(
            serial="A000125",
            user_no="350203",
            start=START,
            hours=2 / 60,
            segment_minutes=1,
            bitrate_kbps=8000,
        ),
    )
    assert len(made) == 2
    for m in made:
        # 8000 kbit/s for 60 s ≈ 60 MB (noise frames: within a factor of two).
        assert 30e6 < m.size < 120e6
        path = tmp_path / m.rel_path
        assert abs(_duration(path) - 60) < 0.5
        with av.open(str(path)) as c:
            frames = sum(1 for _ in c.decode(video=0))
        assert frames == 60


def test_segments_cover_the_window_minus_gaps():
    plan = Plan(
        serial="A000126",
        user_no="350204",
        start=START,
        hours=1,
        segment_minutes=25,
        gaps=[parse_gap("2026-11-26T09:50:00+30", START)],
    )
    assert [(t.strftime("%H:%M"), s) for t, s in segments(plan)] == [
        ("09:00", 1500),
        ("09:25", 1500),
    ]


@pytest.mark.parametrize("bad", ["09:20", "09:xx+5", "+5", "09:20+five"])
def test_bad_gap_is_refused_with_a_message(bad):
    with pytest.raises(ValueError, match="gap"):
        parse_gap(bad, START)


def test_cli_simulate(tmp_path):
    volume = tmp_path / "vol"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "jilu_station.cli",
            "simulate",
            str(volume),
            "--serial",
            "A000127",
            "--user-no",
            "350205",
            "--start",
            "2026-11-26T09:00:00",
            "--hours",
            "0.05",
            "--segment-minutes",
            "1",
            "--photos",
            "1",
            "--audio",
            "1",
            "--audio-seconds",
            "3",
            "--flat",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(out.stdout)
    assert summary["files"] == 5
    assert all(m["path"].count("/") == 1 for m in summary["made"])  # --flat: DCIM/<name>
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "jilu_station.cli",
            "simulate",
            str(volume),
            "--serial",
            "A000127",
            "--user-no",
            "350205",
            "--start",
            "not a time",
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "simulate" in bad.stderr
