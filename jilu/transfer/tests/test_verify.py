"""The review check: every file of a disc re-hashed against the manifest (C5.5, C6.5.3).

C6.5.3 (altering, deleting or faking recordings) must be evident: an ISO with
one altered byte, one missing file or one extra file is reported with the
file named. C5.5 / C5.4 / A2: the reviewer checks the disc against the
record list; the manifest is named by the hash recorded at hand-over.
ISO images here are written with pycdlib directly (all four namespaces).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from jilu.casework.tests.conftest import _file_store, party, recorders  # noqa: F401
from jilu.transfer import verify
from jilu.transfer.tests.disc_trees import FILES, make_disc, make_iso

VIDEO_2 = "data/02_思明区城市管理行政执法大队_厦门某某餐饮有限公司_20261127_询问笔录.mp4"


@pytest.fixture
def disc(tmp_path):
    root = tmp_path / "disc-01"
    manifest_hash = make_disc(root)
    return root, manifest_hash


def test_intact_iso_passes_with_every_file_rehashed(disc, tmp_path):
    """C5.5: an untouched disc checks clean; long Chinese names read from UDF."""
    root, manifest_hash = disc
    iso = make_iso(root, tmp_path / "disc.iso")
    report = verify.check_iso(iso, expected_manifest_sha256=manifest_hash)
    assert report.ok, (report.missing, report.extra, report.altered, report.problems)
    assert report.checked_files == len(FILES)
    assert report.checked_bytes == sum(len(v) for v in FILES.values())
    assert report.manifest_sha256 == manifest_hash
    assert {f.path for f in report.files if f.status == "ok"} >= set(FILES)
    assert report.by_list_no()[2].path == VIDEO_2


def test_iso_with_one_altered_byte_names_the_file(disc, tmp_path):
    """C6.5.3 tamper test: one byte changed in one recording."""
    root, manifest_hash = disc
    target = root / VIDEO_2
    data = bytearray(target.read_bytes())
    data[100] ^= 0x01
    target.write_bytes(bytes(data))
    iso = make_iso(root, tmp_path / "altered.iso")
    report = verify.check_iso(iso, expected_manifest_sha256=manifest_hash)
    assert not report.ok
    assert report.altered == [VIDEO_2]
    assert not report.missing and not report.extra and not report.problems
    reason = next(f.reason for f in report.files if f.path == VIDEO_2)
    assert "SHA-256" in reason and "SM3" in reason
    assert report.by_list_no()[2].status == "altered"


def test_iso_with_one_missing_file_names_it(disc, tmp_path):
    """C6.5.3 tamper test: one recording left off the disc."""
    root, manifest_hash = disc
    (root / VIDEO_2).unlink()
    iso = make_iso(root, tmp_path / "missing.iso")
    report = verify.check_iso(iso, expected_manifest_sha256=manifest_hash)
    assert not report.ok
    assert report.missing == [VIDEO_2]
    assert not report.altered and not report.extra
    assert report.by_list_no()[2].status == "missing"


def test_iso_with_one_extra_file_names_it(disc, tmp_path):
    """C6.5.3 tamper test: a file slipped onto the disc (faked evidence)."""
    root, manifest_hash = disc
    extra = "data/03_补拍.mp4"
    (root / extra).write_bytes(b"not recorded by the recorder")
    iso = make_iso(root, tmp_path / "extra.iso")
    report = verify.check_iso(iso, expected_manifest_sha256=manifest_hash)
    assert not report.ok
    assert report.extra == [extra]
    assert not report.altered and not report.missing


def test_rewritten_manifest_is_caught_by_the_recorded_hash(disc, tmp_path):
    """C5.5: the hand-over named the manifest by its hash; a disc rebuilt with
    altered files and a matching new manifest does not pass as the original."""
    root, manifest_hash = disc
    changed = dict(FILES)
    changed[VIDEO_2] = FILES[VIDEO_2][:-1] + b"Z"
    forged = tmp_path / "forged"
    make_disc(forged, changed)
    iso = make_iso(forged, tmp_path / "forged.iso")
    report = verify.check_iso(iso, expected_manifest_sha256=manifest_hash)
    assert not report.ok
    assert not report.altered  # self-consistent…
    assert any("移送时登记的不一致" in p for p in report.problems)  # …but not what was handed over


def test_altered_tag_file_is_named(disc, tmp_path):
    root, manifest_hash = disc
    (root / "bag-info.txt").write_text("External-Identifier: 另一个案件\n", "utf-8")
    report = verify.check_directory(root, expected_manifest_sha256=manifest_hash)
    assert report.altered == ["bag-info.txt"]


def test_directory_check_of_an_extracted_iso(disc, tmp_path):
    """A mounted or extracted disc is checked the same way (xorriso extracts here)."""
    root, manifest_hash = disc
    if shutil.which("xorriso") is None:
        pytest.skip("xorriso not installed: apt-get install -y xorriso")
    iso = make_iso(root, tmp_path / "disc.iso")
    out = tmp_path / "extracted"
    subprocess.run(
        ["xorriso", "-osirrox", "on", "-indev", str(iso), "-extract", "/", str(out)],
        check=True,
        capture_output=True,
    )
    report = verify.check_directory(out, expected_manifest_sha256=manifest_hash)
    assert report.ok, (report.missing, report.extra, report.altered, report.problems)
    (out / VIDEO_2).chmod(0o644)
    (out / VIDEO_2).write_bytes(b"")
    report = verify.check_directory(out, expected_manifest_sha256=manifest_hash)
    assert report.altered == [VIDEO_2]


def test_not_a_package(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.txt").write_text("hi")
    with pytest.raises(verify.PackageUnreadable, match="jilu-manifest.json"):
        verify.check_directory(tmp_path / "x")
    bad = tmp_path / "bad.iso"
    bad.write_bytes(b"not an iso" * 1000)
    with pytest.raises(verify.PackageUnreadable):
        verify.check_iso(bad)


@pytest.fixture
def built_disc(
    people,
    tree,
    recorders,  # noqa: F811
    party,  # noqa: F811
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    """A disc of a package made by the builder for a real case (five recordings)."""
    from jilu.casework.tests.documents_data import build_case
    from jilu.transfer import actions

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.TRANSFER_PACKAGE_DIR = tmp_path / "packages"
    case = build_case(people, tree, recorders, party)["case"]
    with django_capture_on_commit_callbacks(execute=True):
        package = actions.request_package(actor=people["case_handler"], case=case)
    return package.discs.get()


@pytest.mark.parametrize("tamper", ["altered", "missing", "extra"])
def test_tampered_copy_of_a_built_disc_is_named(built_disc, tmp_path, tamper):
    """C6.5.3 on the builder's own layout: one byte, one file gone, one file added."""
    copy = tmp_path / "copy"
    shutil.copytree(built_disc.bag_dir, copy)
    for p in copy.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    target = sorted((copy / "data").glob("03_*"))[0]
    name = f"data/{target.name}"
    if tamper == "altered":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x80
        target.write_bytes(bytes(data))
    elif tamper == "missing":
        target.unlink()
    else:
        name = "data/06_补充.mp4"
        (copy / name).write_bytes(b"added later")
    iso = make_iso(copy, tmp_path / "t.iso")
    report = verify.check_iso(iso, expected_manifest_sha256=built_disc.manifest_sha256)
    assert getattr(report, tamper) == [name]
    assert not report.problems
    assert [k for k in ("altered", "missing", "extra") if getattr(report, k)] == [tamper]


def test_the_built_iso_itself_checks_clean(built_disc):
    report = verify.check_iso(
        built_disc.iso_path, expected_manifest_sha256=built_disc.manifest_sha256
    )
    assert report.ok, (report.missing, report.extra, report.altered, report.problems)
    assert report.checked_files == built_disc.file_count
    assert sorted(report.by_list_no()) == [1, 2, 3, 4, 5]
