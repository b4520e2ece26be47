"""The case disc package (C5.5) built as a library: BagIt bags, manifests,
record list, offline index page, labels, and the split across discs.

C5.4 / A2: every recording of the case's record list is on the disc under its
record-list name (序号 + standard name), byte-identical to the stored original.
C5.5: the package goes to the legal department with the list; reviewers check
it against the manifests, so every file carries SHA-256 and SM3.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import tracemalloc
from pathlib import Path
from urllib.parse import unquote

import bagit
import pytest
from openpyxl import load_workbook

from jilu.casework import recordlist
from jilu.casework.models import Annotation
from jilu.evidence.store import get_store
from jilu.transfer import builder
from jilu.transfer.bag import NoSpace, PackageError
from jilu.transfer.builder import NoRecordings, OutDirNotEmpty, build_package
from jilu.transfer.tests.package_data import CASE_NUMBER, build_case, mp4_clip, random_bytes


@pytest.fixture(autouse=True)
def _file_store(settings, tmp_path):
    settings.STORE_ROOT = tmp_path / "store"
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    get_store.cache_clear()


@pytest.fixture
def small_case(tree, people):
    return build_case(tree, people, [mp4_clip(1, 0), mp4_clip(1, 1), random_bytes(300_000)])


def sm3_manifest_ok(root: Path) -> None:
    """Jilu's own check of the SM3 manifests (bagit validates SHA-256 only)."""
    for name in ("manifest-sm3.txt", "tagmanifest-sm3.txt"):
        lines = (root / name).read_text(encoding="utf-8").splitlines()
        assert lines
        for line in lines:
            digest, rel = line.split("  ", 1)
            assert hashlib.new("sm3", (root / rel).read_bytes()).hexdigest() == digest, rel


def bag_info(root: Path) -> dict[str, str]:
    out = {}
    for line in (root / "bag-info.txt").read_text(encoding="utf-8").splitlines():
        key, value = line.split(": ", 1)
        out[key] = value
    return out


def test_package_is_a_valid_bag_with_every_recording_byte_identical(small_case, tmp_path):
    """C5.4/C5.5/A2: the bag validates, names follow the record list, bytes match."""
    case, recordings = small_case
    calls = []
    threads = set()

    def progress(*args):
        calls.append(args)
        threads.add(threading.get_ident())

    result = build_package(case, tmp_path / "out", progress=progress)
    assert threads == {threading.get_ident()}  # a job may write progress to the database

    assert len(result.discs) == 1
    disc = result.discs[0]
    root = disc.root
    bag = bagit.Bag(str(root))
    bag.validate()  # payload, Payload-Oxum and tag manifests (SHA-256)
    assert bag.is_valid()
    sm3_manifest_ok(root)

    annotations = Annotation.objects.filter(case=case).order_by("list_no")
    store = get_store()
    for a in annotations:
        path = root / "data" / a.file_name
        assert a.file_name.startswith(f"{a.list_no:02d}_")
        original = b"".join(store.open_range(a.recording.sha256, 0, None))
        assert path.read_bytes() == original
    entries = {e.path: e for e in disc.files}
    for rec in recordings:
        e = entries[f"data/{rec.annotation.file_name}"]
        assert (e.sha256, e.sm3, e.size) == (rec.sha256, rec.sm3, rec.size)

    info = bag_info(root)
    assert info["Case-Number"] == CASE_NUMBER
    assert info["案件编号"] == CASE_NUMBER
    assert info["Handling-Unit"] == case.unit.name
    assert info["Case-Handler"] == case.handler.name
    assert info["Bag-Count"] == "1 of 1"
    assert info["Disc"] == "第 1 张 共 1 张"
    assert info["Bagging-Date"] and info["Created"].startswith(info["Bagging-Date"])
    payload = list((root / "data").iterdir())
    assert info["Payload-Oxum"] == f"{sum(p.stat().st_size for p in payload)}.{len(payload)}"

    manifest = json.loads((root / "jilu-manifest.json").read_text(encoding="utf-8"))
    assert manifest["case"]["number"] == CASE_NUMBER
    assert manifest["disc"] == {"number": 1, "count": 1, "kind": "dvd", "text": "第 1 张 共 1 张"}
    assert {f["path"] for f in manifest["files"]} == {f"data/{p.name}" for p in payload}
    assert [f["list_no"] for f in manifest["files"] if f["list_no"]] == [1, 2, 3]
    manifest_hash = hashlib.sha256((root / "manifest-sha256.txt").read_bytes()).hexdigest()
    assert manifest["manifest_sha256"] == disc.manifest_sha256 == manifest_hash

    # the record list as PDF and XLSX, with the attachment's columns
    pdf = root / "data" / f"00_{recordlist.TITLE}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    ws = load_workbook(root / "data" / f"00_{recordlist.TITLE}.xlsx").active
    assert [c.value for c in ws[recordlist.XLSX_HEADER_ROW]] == list(recordlist.COLUMNS)
    assert ws.max_row == recordlist.XLSX_HEADER_ROW + 3

    # label text: case number, party, unit, number of files, size, manifest hash
    labels = (root / "labels.txt").read_text(encoding="utf-8")
    for needle in (
        CASE_NUMBER,
        case.party.name,
        case.unit.name,
        disc.manifest_sha256,
        "第 1 张 共 1 张",
    ):
        assert needle in labels
    assert f"文件数：{len(payload)}" in labels
    assert disc.label == labels and labels in result.labels

    # package identity and progress
    package_manifest = (tmp_path / "out" / "package-manifest.txt").read_bytes()
    assert result.manifest_sha256 == hashlib.sha256(package_manifest).hexdigest()
    assert disc.manifest_sha256.encode() in package_manifest
    dones = [c[0] for c in calls]
    assert dones == sorted(dones) and calls[-1][0] == calls[-1][1]
    assert any("复制并校验" in c[2] for c in calls) and any("ISO" in c[2] for c in calls)
    assert result.to_json()["discs"][0]["manifest_sha256"] == disc.manifest_sha256


def test_index_page_lists_the_record_list_and_plays_from_relative_links(small_case, tmp_path):
    """C5.5: index.html opens from the disc, lists every row and plays each recording."""
    case, _ = small_case
    result = build_package(case, tmp_path / "out")
    root = result.discs[0].root
    html = (root / "index.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert "第 1 张 共 1 张" in html and CASE_NUMBER in html
    for column in recordlist.COLUMNS:
        assert f"<th>{column}</th>" in html

    sources = re.findall(r'<video controls preload="metadata" src="([^"]+)"', html)
    assert len(sources) == 3
    for src in sources:
        assert src.startswith("data/") and "%" in src  # percent-encoded UTF-8
        assert (root / unquote(src)).is_file()


def test_a_case_larger_than_one_disc_is_split_and_every_disc_validates(tree, people, tmp_path):
    """C5.5: each disc is its own bag with its own manifest and "disc n of m"."""
    payloads = [random_bytes(400_000) for _ in range(5)]
    case, recordings = build_case(tree, people, payloads)
    capacity = 3_200_000  # tiny test capacity: room for about two recordings per disc
    result = build_package(case, tmp_path / "out", capacity=capacity)
    count = len(result.discs)
    assert count >= 2
    seen = []
    for disc in result.discs:
        bag = bagit.Bag(str(disc.root))
        bag.validate()
        sm3_manifest_ok(disc.root)
        info = bag_info(disc.root)
        assert info["Bag-Count"] == f"{disc.number} of {count}"
        assert info["Disc"] == f"第 {disc.number} 张 共 {count} 张"
        html = (disc.root / "index.html").read_text(encoding="utf-8")
        assert f"第 {disc.number} 张 共 {count} 张" in html
        assert "在第" in html  # rows on other discs are named with their disc
        assert disc.iso_size <= capacity
        assert (disc.root / "data" / f"00_{recordlist.TITLE}.pdf").is_file()
        seen += [f.recording_id for f in disc.files if f.recording_id]
    assert seen == [r.pk for r in recordings]  # every recording once, list order kept
    package = (tmp_path / "out" / "package-manifest.txt").read_text().splitlines()
    assert len(package) == count


def test_a_stored_copy_that_no_longer_matches_its_hashes_stops_the_package(small_case, tmp_path):
    """A recording's bytes never change: a mismatch is refused and named."""
    case, recordings = small_case
    victim = recordings[1]
    path = (
        Path(get_store().root) / "objects" / victim.sha256[:2] / victim.sha256[2:4] / victim.sha256
    )
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    out = tmp_path / "out"
    with pytest.raises(PackageError, match=victim.annotation.file_name):
        build_package(case, out)
    assert list(out.iterdir()) == []  # nothing half-written is left to be mistaken for a package


def test_clear_errors(tree, people, small_case, tmp_path, monkeypatch):
    case, _ = small_case
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x.txt").write_text("x")
    with pytest.raises(OutDirNotEmpty, match="不是空的"):
        build_package(case, busy)
    with pytest.raises(PackageError, match="大于一张光盘"):
        build_package(case, tmp_path / "tiny", capacity=1_200_000)
    with pytest.raises(ValueError, match="未知的光盘类型"):
        build_package(case, tmp_path / "kind", disc="floppy")

    class Usage:
        free = 1000

    monkeypatch.setattr(builder.shutil, "disk_usage", lambda _p: Usage)
    with pytest.raises(NoSpace, match="磁盘"):
        build_package(case, tmp_path / "full")


def test_a_case_without_recordings_is_refused(tree, people, tmp_path):
    case, _ = build_case(tree, people, [], number="思城执罚〔2026〕13号")
    with pytest.raises(NoRecordings, match="还没有登记任何音像记录"):
        build_package(case, tmp_path / "out")


def test_memory_stays_flat_while_packaging_a_large_recording(tree, people, tmp_path, monkeypatch):
    """Streaming: a 96 MiB recording never sits in memory whole (copy, hashes and ISO)."""
    size = 96 * 1024 * 1024
    case, _ = build_case(tree, people, [random_bytes(size)])
    # WeasyPrint loads the CJK font (tens of MB) to print the list; that is not
    # the recordings' bytes, so the PDF is rendered before measuring.
    pdf = builder.record_list_pdf(recordlist.build(case))
    monkeypatch.setattr(builder, "record_list_pdf", lambda _list: pdf)
    tracemalloc.start()
    try:
        result = build_package(case, tmp_path / "out")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.recording_bytes == size
    assert peak < 48 * 1024 * 1024, f"peak {peak} bytes"


def test_a_disk_that_fills_up_while_copying_is_reported_and_cleaned_up(
    small_case, tmp_path, monkeypatch
):
    """Nothing half-written is left that could pass for a package."""
    import errno

    from jilu.transfer import bag

    case, _ = small_case

    def full(self, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bag._Writer, "__call__", full)
    out = tmp_path / "out"
    with pytest.raises(NoSpace, match="磁盘已满"):
        build_package(case, out)
    assert list(out.iterdir()) == []
