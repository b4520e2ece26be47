"""Reading a volume through the reference adapter: ZFY_INFO.json, names, and never leaving it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jilu_station import safefs
from jilu_station.volume import (
    CHINA,
    InfoError,
    ReferenceAdapter,
    parse_info,
    parse_name,
    scan_volume,
)

GOOD = {
    "serial": "A000123",
    "user_no": "350201",
    "user_name": "王五",
    "unit_no": "350203000001",
    "unit_name": "思明区城管执法大队",
    "clock": "2026-11-26T09:00:03+08:00",
    "battery_pct": 72,
    "storage_free_bytes": 1234,
    "storage_total_bytes": 5678,
}
NAME = "A000123_350201_20261126090000_0001.MP4"


def volume(
    tmp_path: Path, info: object | None = GOOD, files: dict[str, bytes] | None = None
) -> Path:
    root = tmp_path / "vol"
    (root / "DCIM" / "20261126").mkdir(parents=True)
    if isinstance(info, dict):
        (root / "ZFY_INFO.json").write_text(json.dumps(info, ensure_ascii=False), "utf-8")
    elif isinstance(info, bytes):
        (root / "ZFY_INFO.json").write_bytes(info)
    for rel, data in (files or {f"DCIM/20261126/{NAME}": b"x" * 10}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_clock_offset_is_device_minus_station_c3_2():
    station = datetime(2026, 11, 26, 1, 0, 0, 512000, tzinfo=UTC)
    info = parse_info(json.dumps(GOOD).encode(), station_clock=station)
    assert info.clock_offset_seconds == 2.488
    payload = info.docking_payload(12)
    assert payload["station_clock"] == "2026-11-26T01:00:00.512Z"
    assert payload["device_clock"] == "2026-11-26T09:00:03+08:00"
    # C1.4: battery and storage are reported with the docking.
    assert (payload["battery_pct"], payload["storage_free_bytes"]) == (72, 1234)
    assert payload["files_found"] == 12 and payload["info_problem"] == ""


def test_naive_device_clock_is_beijing_time():
    raw = json.dumps({**GOOD, "clock": "2026-11-26T09:00:00"}).encode()
    info = parse_info(raw, station_clock=datetime(2026, 11, 26, 1, 0, tzinfo=UTC))
    assert info.clock_offset_seconds == 0.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({**GOOD, "serial": ""}).encode(), "serial"),
        (json.dumps({**GOOD, "serial": "A0/../1"}).encode(), "serial"),
        (json.dumps({**GOOD, "clock": "yesterday"}).encode(), "clock"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "clock"}).encode(), "clock"),
        (json.dumps({**GOOD, "battery_pct": 140}).encode(), "battery_pct"),
        (json.dumps({**GOOD, "battery_pct": "72%"}).encode(), "battery_pct"),
        (json.dumps({**GOOD, "storage_free_bytes": -1}).encode(), "storage_free_bytes"),
        (json.dumps({**GOOD, "user_name": {"x": 1}}).encode(), "user_name"),
    ],
)
def test_malformed_info_says_what_is_wrong(raw, message):
    with pytest.raises(InfoError, match=message):
        parse_info(raw, station_clock=datetime.now(UTC))


def test_missing_info_still_scans_files_and_takes_serial_from_names(tmp_path):
    """Protocol §2: serial from the file names, readings null, info_problem set."""
    scan = scan_volume(volume(tmp_path, info=None))
    assert scan.info.problem == "ZFY_INFO.json is missing"
    assert scan.info.serial == "A000123"
    assert scan.info.clock_offset_seconds is None
    payload = scan.info.docking_payload(len(scan.media))
    assert payload["battery_pct"] is None and payload["device_clock"] is None
    assert [m.rel_path for m in scan.media] == [f"DCIM/20261126/{NAME}"]


def test_malformed_info_is_reported_and_files_still_found(tmp_path):
    scan = scan_volume(volume(tmp_path, info=b'{"serial": "A000123", "clock": 5'))
    assert "not valid JSON" in scan.info.problem
    assert scan.info.serial == "A000123" and scan.info.battery_pct is None
    assert len(scan.media) == 1


def test_info_that_is_a_symlink_is_not_read(tmp_path):
    root = volume(tmp_path, info=None)
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps(GOOD))
    (root / "ZFY_INFO.json").symlink_to(secret)
    scan = scan_volume(root)
    assert "cannot be read" in scan.info.problem and scan.info.battery_pct is None


def test_names_follow_the_layout():
    m = parse_name(f"DCIM/20261126/{NAME}", 10, 0)
    assert (m.serial, m.user_no, m.seq, m.kind) == ("A000123", "350201", 1, "video")
    assert m.started == datetime(2026, 11, 26, 9, 0, 0, tzinfo=CHINA)
    assert m.name_problem == ""
    assert parse_name("DCIM/a000123_350201_20261126090000_0002.wav", 1, 0).kind == "audio"
    for bad in (
        "DCIM/IMG_0001.MP4",
        "DCIM/A000123_350201_20261126090000_1.MP4",
        "DCIM/A000123_350201_20261126090000_0001.AVI",
        "DCIM/A00012_350201_20261126090000_0001.MP4",
    ):
        assert "does not follow" in parse_name(bad, 1, 0).name_problem, bad
    assert (
        "impossible time"
        in parse_name("DCIM/A000123_350201_20261331250000_0001.MP4", 1, 0).name_problem
    )


def test_non_conforming_and_empty_files_are_still_media(tmp_path):
    """Nothing is left behind: odd names and zero-byte files go to the server (quarantine)."""
    root = volume(
        tmp_path,
        files={
            f"DCIM/20261126/{NAME}": b"",
            "DCIM/IMG_0001.MP4": b"abc",
            "DCIM/deeper/still/inside.JPG": b"j",
            "notes.txt": b"outside DCIM: not media",
        },
    )
    scan = scan_volume(root)
    by_path = {m.rel_path: m for m in scan.media}
    assert set(by_path) == {
        f"DCIM/20261126/{NAME}",
        "DCIM/IMG_0001.MP4",
        "DCIM/deeper/still/inside.JPG",
    }
    assert by_path[f"DCIM/20261126/{NAME}"].size == 0
    assert by_path["DCIM/IMG_0001.MP4"].name_problem


def test_symlinks_are_flagged_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_bytes(b"root:x:0:0")
    root = volume(tmp_path)
    dcim = root / "DCIM" / "20261126"
    (dcim / "A000123_350201_20261126100000_0002.MP4").symlink_to(outside / "passwd")
    (dcim / "A000123_350201_20261126100000_0003.MP4").symlink_to("../../../outside/passwd")
    (dcim / "A000123_350201_20261126100000_0004.MP4").symlink_to(NAME)
    (root / "DCIM" / "linked").symlink_to(outside)
    os.mkfifo(dcim / "A000123_350201_20261126100000_0005.MP4")
    scan = scan_volume(root)
    assert [m.rel_path for m in scan.media] == [f"DCIM/20261126/{NAME}"]
    reasons = {f.rel_path.rsplit("/", 1)[-1]: f.reason for f in scan.flagged}
    assert "outside the volume" in reasons["A000123_350201_20261126100000_0002.MP4"]
    assert "outside the volume" in reasons["A000123_350201_20261126100000_0003.MP4"]
    assert "inside the volume" in reasons["A000123_350201_20261126100000_0004.MP4"]
    assert "outside the volume" in reasons["linked"]
    assert "not a regular file" in reasons["A000123_350201_20261126100000_0005.MP4"]


def test_safefs_never_leaves_the_volume(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.MP4").write_bytes(b"secret")
    root = volume(tmp_path)
    (root / "DCIM" / "out").symlink_to(outside)
    (root / "DCIM" / "link.MP4").symlink_to(outside / "f.MP4")
    fd = safefs.open_root(root)
    try:
        for bad in ("../outside/f.MP4", "/etc/passwd", "DCIM/../../outside/f.MP4", "", "DCIM/./x"):
            with pytest.raises(safefs.OutsideVolume):
                safefs.open_file(fd, bad)
        with pytest.raises(safefs.OutsideVolume):
            safefs.open_file(fd, "DCIM/out/f.MP4")  # through a symlinked directory
        with pytest.raises(safefs.OutsideVolume):
            safefs.open_file(fd, "DCIM/link.MP4")
        with pytest.raises(safefs.OutsideVolume):
            safefs.unlink(fd, "DCIM/out/f.MP4")
        with pytest.raises(safefs.OutsideVolume):
            safefs.unlink(fd, "DCIM/link.MP4")
        good = safefs.open_file(fd, f"DCIM/20261126/{NAME}")
        assert os.read(good, 100) == b"x" * 10
        os.close(good)
    finally:
        os.close(fd)
    assert (outside / "f.MP4").read_bytes() == b"secret"
    assert (root / "DCIM" / "link.MP4").is_symlink()


def test_not_a_volume(tmp_path):
    fd = safefs.open_root(tmp_path)
    try:
        assert ReferenceAdapter().detect(fd) is False
    finally:
        os.close(fd)


def test_mtime_iso_is_beijing_time():
    stamp = datetime(2026, 11, 26, 9, 10, 0, tzinfo=CHINA)
    m = parse_name(f"DCIM/{NAME}", 1, int(stamp.timestamp() * 1e9))
    assert m.mtime_iso == "2026-11-26T09:10:00+08:00"
    assert datetime.fromisoformat(m.mtime_iso) - stamp == timedelta(0)
