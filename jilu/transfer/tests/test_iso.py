"""The ISO image of each disc, checked with independent tools (C5.5).

xorriso (Debian) lists the image with the Chinese record-list names intact in
Rock Ridge and extracts files byte-identical to the originals; pycdlib reads
the UDF tree with the same names; Joliet shows those same names (at most 64
UCS-2 characters each, as the package settles them); a case split across
discs gives ISOs that each hold a bag that validates on its own. Every view is
read back by outside tools in ``test_disc_views.py``.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess

import bagit
import pycdlib
import pytest

from jilu.casework.models import Annotation
from jilu.evidence.store import get_store
from jilu.transfer.builder import build_package
from jilu.transfer.discs import disc_names, iso9660_names, ucs2_len
from jilu.transfer.tests.package_data import build_case, mp4_clip, random_bytes

needs_xorriso = pytest.mark.usefixtures("xorriso")


@pytest.fixture(autouse=True)
def _file_store(settings, tmp_path):
    settings.STORE_ROOT = tmp_path / "store"
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    get_store.cache_clear()


@pytest.fixture
def package(tree, people, tmp_path):
    case, recordings = build_case(
        tree, people, [mp4_clip(1, 0), mp4_clip(1, 2), random_bytes(5_000_000)]
    )
    return case, recordings, build_package(case, tmp_path / "out")


def originals(case) -> dict[str, bytes]:
    store = get_store()
    return {
        a.file_name: b"".join(store.open_range(a.recording.sha256, 0, None))
        for a in Annotation.objects.filter(case=case).select_related("recording")
    }


def xorriso(*args: str) -> str:
    done = subprocess.run(["xorriso", *args], capture_output=True, text=True, check=True)
    return done.stdout + done.stderr


@needs_xorriso
def test_xorriso_lists_the_iso_with_the_chinese_names_intact(package):
    case, _, result = package
    listing = xorriso("-indev", str(result.discs[0].iso_path), "-find", "/", "-exec", "lsdl")
    names = originals(case)
    assert all(len(n.encode("utf-8")) > 64 for n in names)  # more than 64 bytes of UTF-8
    for name in names:
        assert f"/data/{name}'" in listing, name
    for tag in (
        "index.html",
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "manifest-sm3.txt",
    ):
        assert f"'/{tag}'" in listing


@needs_xorriso
def test_xorriso_extracts_files_byte_identical_and_the_bag_validates(package, tmp_path):
    case, _, result = package
    out = tmp_path / "extracted"
    xorriso("-osirrox", "on", "-indev", str(result.discs[0].iso_path), "-extract", "/", str(out))
    for name, data in originals(case).items():
        assert (out / "data" / name).read_bytes() == data, name
    for path in result.discs[0].root.rglob("*"):
        if path.is_file():
            rel = path.relative_to(result.discs[0].root)
            assert (out / rel).read_bytes() == path.read_bytes(), rel
    bagit.Bag(str(out)).validate()


def test_pycdlib_reads_the_udf_tree_with_the_chinese_names(package):
    case, _, result = package
    iso = pycdlib.PyCdlib()
    iso.open(str(result.discs[0].iso_path))
    try:
        found = {}
        for dirname, _dirs, files in iso.walk(udf_path="/"):
            for f in files:
                found[f"{dirname.rstrip('/')}/{f}"] = f
        names = originals(case)
        for name, data in names.items():
            assert f"/data/{name}" in found
            buf = io.BytesIO()
            iso.get_file_from_iso_fp(buf, udf_path=f"/data/{name}")
            assert hashlib.sha256(buf.getvalue()).digest() == hashlib.sha256(data).digest()
        assert "/index.html" in found and "/jilu-manifest.json" in found

        rr = {f"{d.rstrip('/')}/{f}" for d, _ds, fs in iso.walk(rr_path="/") for f in fs}
        assert {f"/data/{n}" for n in names} <= rr
    finally:
        iso.close()


def test_joliet_shows_the_rock_ridge_names_and_iso9660_names_are_8_3(package):
    """C5.5: the Joliet view carries the same names as Rock Ridge and UDF."""
    case, _, result = package
    iso = pycdlib.PyCdlib()
    iso.open(str(result.discs[0].iso_path))
    try:
        joliet = {f"{d.rstrip('/')}/{f}" for d, _ds, fs in iso.walk(joliet_path="/") for f in fs}
        rr = {f"{d.rstrip('/')}/{f}" for d, _ds, fs in iso.walk(rr_path="/") for f in fs}
        udf = {f"{d.rstrip('/')}/{f}" for d, _ds, fs in iso.walk(udf_path="/") for f in fs}
        plain = [f for _d, _ds, fs in iso.walk(iso_path="/") for f in fs]
    finally:
        iso.close()
    assert joliet == rr == udf
    assert len(joliet) == sum(1 for p in result.discs[0].root.rglob("*") if p.is_file())
    assert {f"/data/{n}" for n in originals(case)} <= joliet
    assert all(ucs2_len(p.rsplit("/", 1)[-1]) <= 64 for p in joliet)
    for f in plain:
        assert re.fullmatch(r"[A-Z0-9_]{1,8}\.[A-Z0-9_]{0,3};1", f), f


def test_name_shortening_keeps_many_similar_long_names_apart():
    """C5.3/C5.5: names too long for Joliet are shortened once, uniquely, for every view."""
    long = "思明区城市管理行政执法大队_厦门市思明区中山路某某餐饮管理有限公司第一分公司（原厦门市某某酒楼）_20261126_现场勘验"
    names = [f"{n:02d}_{long}.mp4" for n in range(1, 30)] + [f"01_{long}.MP4", "短名.mp4"]
    on_disc = disc_names(names)
    assert len({v.lower() for v in on_disc.values()}) == len(names)
    assert all(ucs2_len(v) <= 64 for v in on_disc.values())
    assert on_disc["短名.mp4"] == "短名.mp4"
    # the rule: start of the name, "~", the last 16 characters of the stem, the extension
    assert on_disc[names[0]] == (
        "01_思明区城市管理行政执法大队_厦门市思明区中山路某某餐饮管理有限公司第一分公司（原"
        "~楼）_20261126_现场勘验.mp4"
    )
    assert ucs2_len(on_disc[names[0]]) == 64
    # the same long name but for the case of its extension: ~2 keeps it apart
    assert on_disc[f"01_{long}.MP4"].lower() != on_disc[names[0]].lower()
    assert "~2" in on_disc[f"01_{long}.MP4"]
    plain = iso9660_names(names)
    assert len(set(plain.values())) == len(names)
    assert all(re.fullmatch(r"[A-Z0-9_]{1,8}\.[A-Z0-9_]{0,3}", v) for v in plain.values())
    huge = ["名" * 200 + ".mp4", "名" * 200 + ".mov"]
    shortened = disc_names(huge)
    assert len(set(shortened.values())) == 2
    assert all(ucs2_len(v) == 64 for v in shortened.values())


@needs_xorriso
def test_every_disc_of_a_split_case_validates_on_its_own(tree, people, tmp_path):
    payloads = [random_bytes(400_000) for _ in range(5)]
    case, _ = build_case(tree, people, payloads)
    result = build_package(case, tmp_path / "out", capacity=3_200_000)
    assert len(result.discs) >= 2
    names = originals(case)
    seen: set[str] = set()
    for disc in result.discs:
        out = tmp_path / f"x{disc.number}"
        xorriso("-osirrox", "on", "-indev", str(disc.iso_path), "-extract", "/", str(out))
        bagit.Bag(str(out)).validate()
        info = (out / "bag-info.txt").read_text(encoding="utf-8")
        assert f"Bag-Count: {disc.number} of {len(result.discs)}" in info
        for path in (out / "data").iterdir():
            if path.name in names:
                assert path.read_bytes() == names[path.name]
                seen.add(path.name)
    assert seen == set(names)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@needs_xorriso
@pytest.mark.usefixtures("chromium")
def test_index_html_from_the_extracted_iso_plays_a_recording_in_chromium(package, tmp_path):
    """C5.5: the disc page works from the disc, offline, and plays the footage."""
    sync_api = pytest.importorskip("playwright.sync_api")
    _, _, result = package
    out = tmp_path / "disc"
    xorriso("-osirrox", "on", "-indev", str(result.discs[0].iso_path), "-extract", "/", str(out))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("http*://**", lambda route: route.abort())  # no network at all
            page.goto((out / "index.html").as_uri())
            assert "第 1 张 共 1 张" in page.inner_text("#disc-of")
            assert page.locator("#record-list tbody tr").count() == 3
            state = page.evaluate(
                """async () => {
                    const v = document.querySelector('video');
                    v.muted = true;
                    await v.play();
                    await new Promise(r => setTimeout(r, 400));
                    return {ready: v.readyState, time: v.currentTime, error: v.error && v.error.code,
                            src: decodeURIComponent(v.currentSrc)};
                }"""
            )
        finally:
            browser.close()
    assert state["error"] is None and state["ready"] >= 2 and state["time"] > 0
    assert state["src"].startswith(f"file://{out}/data/01_")
