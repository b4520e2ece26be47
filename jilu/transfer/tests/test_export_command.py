"""``jilu export-case CASE_NUMBER --out DIR [--disc dvd|dvd-dl|bd]`` end to end (C5.5)."""

from __future__ import annotations

import io
import json

import bagit
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jilu.evidence.store import get_store
from jilu.transfer import builder
from jilu.transfer.management.commands.export_case import Command
from jilu.transfer.tests.package_data import CASE_NUMBER, build_case, mp4_clip, random_bytes


@pytest.fixture(autouse=True)
def _file_store(settings, tmp_path):
    settings.STORE_ROOT = tmp_path / "store"
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    get_store.cache_clear()


def run(*args: str, by_name: bool = False) -> str:
    """The command as ``jilu export-case`` runs it (by name once the app is installed)."""
    out = io.StringIO()
    call_command("export_case" if by_name else Command(), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def case(tree, people):
    case, _ = build_case(tree, people, [mp4_clip(1, 0), random_bytes(200_000)])
    return case


def test_export_case_builds_the_package_and_prints_progress_and_summary(case, tmp_path):
    out = tmp_path / "pkg"
    text = run(CASE_NUMBER, "--out", str(out), "--disc", "bd", "--json", by_name=True)
    assert "[  0%]" in text and "[100%]" in text and "复制并校验" in text
    assert f"案件 {CASE_NUMBER}：2 个音像记录" in text
    assert "第 1 张 共 1 张" in text and "disc-01.iso" in text
    summary = json.loads(text.strip().splitlines()[-1])
    assert summary["case"] == CASE_NUMBER and summary["disc_kind"] == "bd"
    assert summary["manifest_sha256"] in text
    assert (out / "disc-01.iso").stat().st_size == summary["discs"][0]["iso_size"]
    bagit.Bag(str(out / "disc-01")).validate()
    assert (out / "labels.txt").read_text(encoding="utf-8").count(CASE_NUMBER) >= 2


def test_export_case_errors_are_clear(case, tree, people, tmp_path, monkeypatch):
    with pytest.raises(CommandError, match="找不到案件编号"):
        run("思城执罚〔2026〕999号", "--out", str(tmp_path / "a"))

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "old.iso").write_bytes(b"x")
    with pytest.raises(CommandError, match="不是空的"):
        run(CASE_NUMBER, "--out", str(busy))
    assert (busy / "old.iso").read_bytes() == b"x"

    with pytest.raises(CommandError, match="invalid choice"):
        run(CASE_NUMBER, "--out", str(tmp_path / "b"), "--disc", "floppy")

    class Usage:
        free = 10_000

    monkeypatch.setattr(builder.shutil, "disk_usage", lambda _p: Usage)
    with pytest.raises(CommandError, match="磁盘剩余"):
        run(CASE_NUMBER, "--out", str(tmp_path / "c"))


def test_export_case_refuses_a_case_without_recordings(tree, people, tmp_path):
    build_case(tree, people, [], number="思城执罚〔2026〕14号")
    with pytest.raises(CommandError, match="还没有登记任何音像记录"):
        run("思城执罚〔2026〕14号", "--out", str(tmp_path / "x"))
