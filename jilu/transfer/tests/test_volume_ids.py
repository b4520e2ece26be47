"""Volume identifiers of the disc images for realistic case numbers (C5.5).

C5.5: the handling unit burns the case's record to disc(s) that travel with
the case file; a case number of any length must give a disc image, and the
discs of one case must be told apart (D01, D02 …). Each namespace of the
image has its own limit: ISO 9660 32 d-characters, Joliet 16 UCS-2
characters, UDF dstring[32] (30 Latin-1 characters). The images are opened
with pycdlib and with xorriso, and a build that fails shows a Chinese message
and leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import subprocess
import unicodedata

import pycdlib
import pytest

from jilu.evidence.store import get_store
from jilu.transfer import iso as iso_module
from jilu.transfer.bag import PackageError
from jilu.transfer.builder import build_package
from jilu.transfer.iso import (
    ISO9660_VOLUME_MAX,
    JOLIET_VOLUME_MAX,
    UDF_VOLUME_MAX,
    volume_idents,
)
from jilu.transfer.tests.package_data import build_case, random_bytes

needs_xorriso = pytest.mark.usefixtures("xorriso")

LONG_CHINESE = "厦思城执罚〔2026〕001号"
DASHED = "2026-001"
ONLY_CHINESE = "思明区城管局占道经营处罚案"
SIXTY = (
    "厦门市思明区城市管理行政执法局关于某某餐饮有限公司未经批准占道经营案"
    "行政处罚决定书厦思城执罚〔２０２６〕第０００１２３号"
)
ASCII_LONG = "XMSM-CGZF-2026-000123-ZDJY-ABCDEFGHIJKLMNOPQRSTUVWXYZ-012345"
CASE_NUMBERS = [LONG_CHINESE, DASHED, ONLY_CHINESE, SIXTY, ASCII_LONG, "厦城执罚字[2026]第12号"]


def tag(number: str) -> str:
    normal = unicodedata.normalize("NFKC", number)
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:4].upper()


@pytest.fixture(autouse=True)
def _file_store(settings, tmp_path):
    settings.STORE_ROOT = tmp_path / "store"
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    get_store.cache_clear()


def test_the_sixty_character_number_is_sixty_characters():
    assert len(SIXTY) == 60 and len(ASCII_LONG) == 60


@pytest.mark.parametrize("number", CASE_NUMBERS)
def test_every_identifier_is_within_its_namespace_limit_and_keeps_the_disc(number):
    """C5.5: any case number gives valid identifiers; the disc number is never cut."""
    for disc in (1, 2, 12, 99):
        ids = volume_idents(number, disc)
        assert re.fullmatch(r"[A-Z0-9_]{1,32}", ids.iso9660) and len(ids.iso9660) <= 32
        assert re.fullmatch(r"[A-Z0-9_]{1,16}", ids.joliet) and len(ids.joliet) <= 16
        assert len(ids.udf) <= UDF_VOLUME_MAX and ids.udf.isascii()
        for value in (ids.iso9660, ids.joliet, ids.udf):
            assert value.endswith(f"_D{disc:02d}"), value
            assert tag(number) in value
    one, two = volume_idents(number, 1), volume_idents(number, 2)
    assert len({one.iso9660, two.iso9660}) == 2 and len({one.joliet, two.joliet}) == 2


def test_expected_identifiers_of_realistic_numbers():
    assert volume_idents(LONG_CHINESE, 1).iso9660 == f"JILU_2026_001_{tag(LONG_CHINESE)}_D01"
    assert volume_idents(LONG_CHINESE, 1).joliet == f"001_{tag(LONG_CHINESE)}_D01"
    assert volume_idents(DASHED, 2).iso9660 == f"JILU_2026_001_{tag(DASHED)}_D02"
    # full-width digits are folded to ASCII; the serial number (the end) is kept
    assert volume_idents(SIXTY, 1).iso9660 == f"JILU_2026_000123_{tag(SIXTY)}_D01"
    assert volume_idents(SIXTY, 1).joliet == f"000123_{tag(SIXTY)}_D01"
    # a number without any ASCII still names Jilu, the case (tag) and the disc
    assert volume_idents(ONLY_CHINESE, 3).iso9660 == f"JILU_{tag(ONLY_CHINESE)}_D03"
    assert volume_idents(ONLY_CHINESE, 3).joliet == f"JILU_{tag(ONLY_CHINESE)}_D03"
    # two numbers with the same digits still give different identifiers
    assert volume_idents(LONG_CHINESE, 1) != volume_idents(DASHED, 1)
    assert volume_idents("厦思城执检〔2026〕001号", 1) != volume_idents(LONG_CHINESE, 1)


def udf_text(field: bytes) -> str:
    """An OSTA dstring: compression ID, characters, length byte at the end."""
    length = field[-1]
    body = field[1:length]
    return body.decode("latin-1" if field[0] == 8 else "utf-16_be")


def read_volume_ids(path) -> dict[str, str]:
    iso = pycdlib.PyCdlib()
    iso.open(str(path))
    try:
        return {
            "iso9660": iso.pvd.volume_identifier.decode("ascii").rstrip(),
            "joliet": iso.joliet_vd.volume_identifier.decode("utf-16_be").rstrip(),
            "udf": udf_text(iso.udf_main_descs.pvds[0].vol_ident),
            "udf_reserve": udf_text(iso.udf_reserve_descs.pvds[0].vol_ident),
            "udf_logical": udf_text(iso.udf_main_descs.logical_volumes[0].logical_vol_ident),
            "files": sorted(f for _d, _ds, fs in iso.walk(udf_path="/") for f in fs),
            "joliet_files": sorted(f for _d, _ds, fs in iso.walk(joliet_path="/") for f in fs),
        }
    finally:
        iso.close()


def xorriso_volume_id(path) -> str:
    done = subprocess.run(
        ["xorriso", "-indev", str(path), "-pvd_info"], capture_output=True, text=True, check=True
    )
    found = re.search(r"^Volume Id\s*:\s*(\S+)\s*$", done.stdout + done.stderr, re.M)
    assert found, done.stdout + done.stderr
    return found.group(1)


@needs_xorriso
@pytest.mark.parametrize("number", [LONG_CHINESE, DASHED, SIXTY, ONLY_CHINESE])
def test_real_iso_for_a_realistic_case_number_opens_with_its_volume_ids(
    number, tree, people, tmp_path
):
    """C5.5: the package is built for any case number; both tools read the identifiers."""
    payloads = [random_bytes(400_000) for _ in range(5)]
    case, _ = build_case(tree, people, payloads, number=number)
    result = build_package(case, tmp_path / "out", capacity=3_200_000)
    assert len(result.discs) >= 2  # several discs of one case must differ
    seen = set()
    for disc in result.discs:
        expected = volume_idents(number, disc.number)
        assert disc.volume_id == expected.iso9660 and disc.joliet_volume_id == expected.joliet
        got = read_volume_ids(disc.iso_path)
        assert got["iso9660"] == expected.iso9660
        assert got["joliet"] == expected.joliet
        assert got["udf"] == got["udf_reserve"] == got["udf_logical"] == expected.udf
        assert "manifest-sha256.txt" in got["files"] and "bagit.txt" in got["joliet_files"]
        assert xorriso_volume_id(disc.iso_path) == expected.iso9660
        seen.add((got["iso9660"], got["joliet"]))
    assert len(seen) == len(result.discs)
    assert not list((tmp_path / "out").glob("*.part"))


def test_a_failing_image_write_gives_a_chinese_message_logs_and_leaves_nothing(
    tree, people, tmp_path, monkeypatch, caplog
):
    """C5.5: a failed build shows people what to do; the detail goes to the log."""
    case, _ = build_case(tree, people, [random_bytes(50_000)], number=LONG_CHINESE)
    real_new = pycdlib.PyCdlib.new

    def refusing(self, *args, **kwargs):
        real_new(self, *args, **kwargs)
        raise pycdlib.pycdlibexception.PyCdlibInvalidInput("Input string too long!")

    monkeypatch.setattr(iso_module.pycdlib.PyCdlib, "new", refusing)
    out = tmp_path / "out"
    with caplog.at_level(logging.ERROR), pytest.raises(PackageError) as raised:
        build_package(case, out)
    message = str(raised.value)
    assert "ISO 光盘映像生成失败" in message and "联系系统管理员" in message
    assert "PyCdlib" not in message and "too long" not in message
    assert "Input string too long!" in caplog.text  # the technical detail is in the log
    assert list(out.iterdir()) == []  # nothing half-written


def test_an_interrupted_image_write_leaves_no_image(tree, people, tmp_path, monkeypatch):
    case, _ = build_case(tree, people, [random_bytes(50_000)], number=DASHED)

    def broken_write(self, filename, **kwargs):
        with open(filename, "wb") as fh:
            fh.write(b"\0" * 4096)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(iso_module.pycdlib.PyCdlib, "write", broken_write)
    out = tmp_path / "out"
    with pytest.raises(OSError):
        build_package(case, out)
    assert list(out.iterdir()) == []


def test_identifier_limits_match_the_formats():
    assert (ISO9660_VOLUME_MAX, JOLIET_VOLUME_MAX, UDF_VOLUME_MAX) == (32, 16, 30)
    # pycdlib itself refuses a Joliet identifier over 16 characters (32 bytes UCS-2)
    iso = pycdlib.PyCdlib()
    with pytest.raises(pycdlib.pycdlibexception.PyCdlibInvalidInput):
        iso.new(joliet=3, vol_ident="J" * 17)
    iso = pycdlib.PyCdlib()
    iso.new(joliet=3, udf="2.60", vol_ident="J" * 16)
    buf = io.BytesIO()
    iso.write_fp(buf)
    iso.close()


@needs_xorriso
def test_export_case_builds_a_case_with_a_long_number(tree, people, tmp_path):
    """C5.5: ``jilu export-case`` on a long Chinese case number (was a traceback)."""
    import json

    from django.core.management import call_command

    case, _ = build_case(tree, people, [random_bytes(60_000)], number=SIXTY)
    out = io.StringIO()
    call_command("export_case", SIXTY, "--out", str(tmp_path / "pkg"), "--json", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    disc = summary["discs"][0]
    expected = volume_idents(SIXTY, 1)
    assert disc["volume_id"] == expected.iso9660 and disc["joliet_volume_id"] == expected.joliet
    assert read_volume_ids(disc["iso"])["joliet"] == expected.joliet
    assert xorriso_volume_id(disc["iso"]) == expected.iso9660


def test_export_case_reports_an_unexpected_failure_in_chinese(
    tree, people, tmp_path, monkeypatch, caplog
):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from jilu.transfer.management.commands import export_case

    build_case(tree, people, [random_bytes(10_000)], number=DASHED)

    def broken(*args, **kwargs):
        raise RuntimeError("boom inside")

    monkeypatch.setattr(export_case, "build_package", broken)
    with caplog.at_level(logging.ERROR), pytest.raises(CommandError) as raised:
        call_command("export_case", DASHED, "--out", str(tmp_path / "x"), stdout=io.StringIO())
    assert "制作光盘包失败" in str(raised.value) and "RuntimeError" not in str(raised.value)
    assert "boom inside" in caplog.text
