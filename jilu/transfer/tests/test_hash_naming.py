"""Which hash is which: every place names the file its SHA-256 is of (C5.5).

C5.5: reviewers check the disc they hold against its label and the list.
A disc's labels print that disc's ``manifest-sha256.txt`` SHA-256 (the file is
on the disc); the hand-over is recorded by the SHA-256 of
``package-manifest.txt`` (one line per disc, each a label hash), which cannot
be on a disc and is printed on the package's label sheet instead.
"""

from __future__ import annotations

import hashlib

import pytest

from jilu.evidence.store import get_store
from jilu.transfer.builder import build_package
from jilu.transfer.labels import Label, package_manifest_text, package_sha256
from jilu.transfer.tests.package_data import build_case, random_bytes


@pytest.fixture(autouse=True)
def _file_store(settings, tmp_path):
    settings.STORE_ROOT = tmp_path / "store"
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    get_store.cache_clear()


def label(**kw) -> Label:
    base = dict(
        case_number="2026-001",
        case_title="占道经营案",
        party="某公司",
        unit="中华中队",
        handler="张三",
        disc_no=1,
        disc_count=2,
        disc_kind="DVD",
        files=3,
        recordings=1,
        total_bytes=1000,
        manifest_sha256="a" * 64,
        created="2026-11-26 09:00:00",
    )
    base.update(kw)
    return Label(**base)


def test_disc_and_bag_labels_name_the_file_their_hash_is_of():
    one = label()
    assert f"manifest-sha256.txt 的 SHA-256：{'a' * 64}" in one.disc_text()
    assert f"manifest-sha256.txt 的 SHA-256：{'a' * 64}" in one.bag_text()
    assert "清单哈希" not in one.text()


def test_package_manifest_is_rebuilt_from_the_disc_hashes():
    pairs = [(1, "a" * 64), (2, "b" * 64)]
    text = package_manifest_text(pairs)
    assert (
        text
        == f"{'a' * 64}  disc-01/manifest-sha256.txt\n{'b' * 64}  disc-02/manifest-sha256.txt\n"
    )
    assert package_sha256(pairs) == hashlib.sha256(text.encode()).hexdigest()


def test_built_package_hashes_are_checkable_from_discs_and_labels(tree, people, tmp_path):
    """The label hash is the disc's manifest-sha256.txt; the package hash rebuilds from labels."""
    case, _ = build_case(tree, people, [random_bytes(400_000) for _ in range(5)])
    result = build_package(case, tmp_path / "out", capacity=3_200_000)
    assert len(result.discs) >= 2
    for disc in result.discs:
        on_disc = hashlib.sha256((disc.root / "manifest-sha256.txt").read_bytes()).hexdigest()
        assert on_disc == disc.manifest_sha256
        assert f"manifest-sha256.txt 的 SHA-256：{on_disc}" in disc.label
        assert (disc.root / "labels.txt").read_text(encoding="utf-8") == disc.label
    pairs = [(d.number, d.manifest_sha256) for d in result.discs]
    written = (tmp_path / "out" / "package-manifest.txt").read_text()
    assert written == package_manifest_text(pairs)
    assert result.manifest_sha256 == package_sha256(pairs)
    sheet = (tmp_path / "out" / "labels.txt").read_text(encoding="utf-8")
    assert sheet == result.labels
    assert (
        f"光盘包哈希（package-manifest.txt 的 SHA-256，移送时登记）：{result.manifest_sha256}"
        in sheet
    )
    assert written in sheet
