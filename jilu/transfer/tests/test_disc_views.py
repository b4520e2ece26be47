"""The disc as outside tools read it, view by view (C5.3, C5.4, C5.5, A2).

A reader may open the disc through Joliet (older Windows tools), Rock Ridge
(Linux) or UDF (current Windows and macOS). ``index.html`` links and the
bag's manifests name files, so every view must show the same names: the
39-character name below once read ``…_202~.mp4`` in Joliet (cut at 64 bytes
of UTF-8 instead of 64 UCS-2 characters), which broke every link, the bag
and Jilu's own check in that view. A name that no view can hold whole is
shortened by the package's documented rule (``docs/case-disc.md``) before
anything is written, identically everywhere.

Tools: xorriso (Joliet with ``-read_fs norock``, and Rock Ridge), bsdtar
(``iso9660:!rockridge`` for Joliet), 7-Zip (``-tudf``), udfinfo, isoinfo,
pdffonts/pdfinfo, and bagit-python. The Makefile installs all of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import bagit
import pycdlib
import pytest
from django.urls import reverse

from conftest import _require
from jilu.casework import actions as casework
from jilu.evidence.store import get_store
from jilu.org.actions import create_unit
from jilu.transfer import actions, verify
from jilu.transfer.builder import build_package, disc_file_names
from jilu.transfer.discs import JOLIET_MAX, disc_names, fits_every_view, ucs2_len
from jilu.transfer.iso import NameDoesNotFit, volume_idents, write_iso
from jilu.transfer.labels import iso_download_name
from jilu.transfer.models import Package, Review, Verification
from jilu.transfer.tests.package_data import (
    SYSTEM,
    _recording,
    build_case,
    make_recorders,
    mp4_clip,
    random_bytes,
)

SHORT_NAME = "01_思明区中华中队_厦门某某餐饮有限公司_20261203_现场勘验.mp4"
LONG_PARTY = "厦门市思明区中山路某某餐饮管理有限公司第一分公司（原厦门市思明区某某大酒楼中山路店）"
# Its record-list name is 71 characters; on the disc it is the documented shortening:
# the start of the name, "~", the last 16 characters of the stem, the extension.
LONG_NAME = f"02_思明区中华中队_{LONG_PARTY}_20261203_询问笔录.mp4"
LONG_ON_DISC = (
    "02_思明区中华中队_厦门市思明区中山路某某餐饮管理有限公司第一分公司（原厦门市思明区"
    "~店）_20261203_询问笔录.mp4"
)
T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 09:00 in Xiamen
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def disc_tools():
    _require("xorriso", "bsdtar", "7z", "udfinfo", "isoinfo", "pdffonts", "pdfinfo")


@pytest.fixture(autouse=True)
def _file_store(settings, tmp_path):
    settings.STORE_ROOT = tmp_path / "store"
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    settings.TASKS = IMMEDIATE
    settings.TRANSFER_PACKAGE_DIR = tmp_path / "packages"
    get_store.cache_clear()


@pytest.fixture
def case(tree, people):
    """A case of the squad 思明区中华中队 with two recordings on 2026-12-03: one whose
    name is 39 characters, one whose party makes it longer than Joliet's 64."""
    squad = create_unit(
        actor=SYSTEM,
        parent=tree["brigade"],
        code="350203000109",
        name="思明区城市管理行政执法大队中华中队",
        short_name="思明区中华中队",
        level="squad",
    )
    recorders = make_recorders(tree, people)
    officers = [people["officer"], people["officer_b"]]
    parties = [
        casework.create_party(actor=SYSTEM, unit=squad, kind="organisation", name=name)
        for name in ("厦门某某餐饮有限公司", LONG_PARTY)
    ]
    case = casework.create_case(
        actor=SYSTEM,
        number="思城执罚〔2026〕12号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
        party=parties[0],
        matter_text="未经批准占道经营",
        title="厦门某某餐饮有限公司占道经营案",
    )
    for n, (party, step) in enumerate(zip(parties, ("site_survey", "inquiry"), strict=True), 1):
        activity = casework.create_activity(
            actor=SYSTEM,
            officers=officers,
            kind="S1" if n == 1 else "S3",
            party=party,
            unit=squad,
            category="penalty",
            matter_text="未经批准占道经营",
            place_name="某某餐厅",
            address="思明区中山路1号",
            planned_start=T0 + timedelta(hours=n),
            planned_end=T0 + timedelta(hours=n + 1),
            case=case,
        )
        rec = _recording(
            recorders["officer"],
            people["officer"],
            payload=mp4_clip(1, n),
            start=T0 + timedelta(hours=n, minutes=5),
            seq=n,
            ext="MP4",
        )
        casework.annotate(actor=people["officer"], recording=rec, activity=activity, step=step)
    case.refresh_from_db()
    return case


@pytest.fixture
def package(case, people, django_capture_on_commit_callbacks) -> Package:
    with django_capture_on_commit_callbacks(execute=True):
        package = actions.request_package(actor=people["case_handler"], case=case)
    package.refresh_from_db()
    assert package.state == Package.State.READY, package.error
    return package


def run(*args: str, **env: str) -> str:
    done = subprocess.run(
        list(args), capture_output=True, text=True, check=True, env={**os.environ, **env}
    )
    return done.stdout


def xorriso_files(iso: Path, *, joliet: bool) -> set[str]:
    """Files as xorriso lists them: Joliet with ``-read_fs norock``, else Rock Ridge."""
    mode = ["-read_fs", "norock"] if joliet else []
    out = run("xorriso", *mode, "-indev", str(iso), "-find", "/", "-type", "f")
    return {line.strip("'")[1:] for line in out.splitlines() if line.startswith("'/")}


def bsdtar_files(iso: Path, *, joliet: bool) -> set[str]:
    opts = ["--options", "iso9660:!rockridge"] if joliet else []
    out = run("bsdtar", "-tf", str(iso), *opts)
    names = {line.rstrip("/") for line in out.splitlines() if line and line != "."}
    return names - {"data"}


def udf_files(iso: Path) -> dict[str, str]:
    """Path → modification time (UTC) of every file, as 7-Zip reads the UDF view."""
    out = run("7z", "l", "-tudf", "-slt", str(iso), TZ="UTC")
    files, path = {}, None
    for line in out.splitlines():
        if line.startswith("Path = "):
            path = line[len("Path = ") :]
        elif line == "Folder = +":
            path = None
        elif line.startswith("Modified = ") and path and path != str(iso):
            files[path] = line[len("Modified = ") :]
    return files


def tree_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(unquote(value))


def links_of(index: Path) -> list[str]:
    parser = Links()
    parser.feed(index.read_text(encoding="utf-8"))
    return parser.links


# --- the names, view by view ---------------------------------------------------


def test_the_record_list_names_are_what_the_views_must_show(package):
    """C5.3/C5.4: the record-list names this file is about, and their disc names."""
    listing = json.loads(
        (Path(package.discs.get().bag_dir) / "jilu-manifest.json").read_text("utf-8")
    )["record_list"]
    assert [(i["file_name"], i["disc_name"]) for i in listing] == [
        (SHORT_NAME, SHORT_NAME),
        (LONG_NAME, LONG_ON_DISC),
    ]
    assert len(SHORT_NAME) == 39 and len(SHORT_NAME.encode("utf-8")) > 64
    assert ucs2_len(LONG_NAME) > JOLIET_MAX and ucs2_len(LONG_ON_DISC) == JOLIET_MAX


@pytest.mark.usefixtures("disc_tools")
def test_every_view_shows_the_same_names(package):
    """C5.5: Joliet, Rock Ridge and UDF list exactly the files of the disc tree."""
    disc = package.discs.get()
    iso, expected = Path(disc.iso_path), tree_files(Path(disc.bag_dir))
    assert f"data/{SHORT_NAME}" in expected and f"data/{LONG_ON_DISC}" in expected
    views = {
        "xorriso Joliet": xorriso_files(iso, joliet=True),
        "xorriso Rock Ridge": xorriso_files(iso, joliet=False),
        "bsdtar Joliet": bsdtar_files(iso, joliet=True),
        "bsdtar Rock Ridge": bsdtar_files(iso, joliet=False),
        "7-Zip UDF": set(udf_files(iso)),
    }
    for view, names in views.items():
        assert names == expected, (view, names ^ expected)


@pytest.mark.usefixtures("disc_tools")
@pytest.mark.parametrize("reader", ["xorriso", "bsdtar"])
def test_the_joliet_view_extracted_is_a_valid_bag_whose_links_resolve(package, tmp_path, reader):
    """C5.5: a disc read through Joliet alone is the package: the bag validates
    (bagit-python), every link of index.html reaches a file, Jilu's check passes."""
    disc = package.discs.get()
    out = tmp_path / "joliet"
    out.mkdir()
    if reader == "xorriso":
        run(
            "xorriso", "-read_fs", "norock", "-osirrox", "on",
            "-indev", disc.iso_path, "-extract", "/", str(out),
        )  # fmt: skip
    else:
        run("bsdtar", "-xf", disc.iso_path, "--options", "iso9660:!rockridge", "-C", str(out))
    for p in out.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    assert tree_files(out) == tree_files(Path(disc.bag_dir))
    bag = bagit.Bag(str(out))
    bag.validate()
    assert f"data/{SHORT_NAME}" in bag.payload_entries()

    links = [link for link in links_of(out / "index.html") if not link.startswith("#")]
    assert f"data/{SHORT_NAME}" in links and f"data/{LONG_ON_DISC}" in links
    for link in links:
        assert (out / link).is_file(), link

    report = verify.check_directory(
        out,
        expected_manifest_sha256=disc.manifest_sha256,
        expected=verify.expected_for(package),
    )
    assert report.ok, (report.missing, report.extra, report.altered, report.problems)
    assert sorted(report.by_list_no()) == [1, 2]


def test_the_index_page_names_the_standard_name_of_a_shortened_file(package):
    """A2/C5.3: the shortened file still shows its full record-list name beside it."""
    html = (Path(package.discs.get().bag_dir) / "index.html").read_text("utf-8")
    assert f"标准名：{LONG_NAME}" in html
    assert f"标准名：{SHORT_NAME}" not in html


# --- times and the UDF revision ------------------------------------------------


def _iso_time(date) -> datetime:
    return datetime(
        1900 + date.years_since_1900,
        date.month,
        date.day_of_month,
        date.hour,
        date.minute,
        date.second,
        tzinfo=ZoneInfo("UTC"),
    ) - timedelta(minutes=15 * date.gmtoffset)


def _udf_time(ts) -> datetime:
    return datetime(
        ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second, tzinfo=ZoneInfo("UTC")
    ) - timedelta(minutes=ts.tz)


@pytest.mark.usefixtures("disc_tools")
def test_udf_times_equal_the_iso9660_and_rock_ridge_times(package):
    """UDF counts its time zone in minutes: Beijing is +480, not +32 (which read
    7 h 28 min off). Every file's time is the package's, in every view."""
    disc = package.discs.get()
    created = datetime.fromisoformat(
        json.loads((Path(disc.bag_dir) / "jilu-manifest.json").read_text("utf-8"))["created_at"]
    ).replace(microsecond=0)
    iso = pycdlib.PyCdlib()
    iso.open(disc.iso_path)
    try:
        for rel in tree_files(Path(disc.bag_dir)):
            rec = iso.get_record(rr_path=f"/{rel}")
            assert _iso_time(rec.date) == created, rel
            rr = rec.rock_ridge
            tf = rr.dr_entries.tf_record or rr.ce_entries.tf_record
            assert _iso_time(tf.modification_time) == created, rel
            entry = iso.get_record(udf_path=f"/{rel}")
            assert entry.mod_time.tz == 480, rel
            assert _udf_time(entry.mod_time) == created, rel
            assert type(entry).__name__ == "UDFFileEntry", rel  # not an Extended one (UDF 2.x)
    finally:
        iso.close()
    # outside readers: 7-Zip's UDF times and xorriso's ISO 9660 times agree
    utc = created.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S.000000")
    assert set(udf_files(Path(disc.iso_path)).values()) == {utc}
    listing = run("xorriso", "-indev", disc.iso_path, "-find", "/data", "-exec", "lsdl", TZ="UTC")
    stamp = created.astimezone(ZoneInfo("UTC")).strftime("%b %e %H:%M").replace("  ", " ")
    for line in listing.splitlines():
        if line.startswith("-r"):
            assert " ".join(line.split()[5:8]) == stamp, line


@pytest.mark.usefixtures("disc_tools")
def test_the_udf_revision_is_the_one_the_docs_state(package):
    """What pycdlib writes is UDF 1.02; the code and docs say so (not 2.60)."""
    iso = package.discs.get().iso_path
    assert "udfrev=1.02" in run("udfinfo", iso).splitlines()
    assert "Version = 1.02" in run("7z", "l", "-tudf", "-slt", iso).splitlines()
    docs = (Path(__file__).resolve().parents[3] / "docs" / "case-disc.md").read_text("utf-8")
    assert "UDF 1.02" in docs and "2.60" not in docs.replace('udf="2.60"', "")


# --- a set of discs --------------------------------------------------------------


@pytest.mark.usefixtures("disc_tools")
def test_a_two_disc_set_declares_disc_n_of_m(tree, people, tmp_path):
    """C5.5: each disc of a split case is volume n of a set of m, with one set identifier."""
    case, _ = build_case(tree, people, [random_bytes(400_000) for _ in range(4)])
    result = build_package(case, tmp_path / "out", capacity=3_200_000)
    assert len(result.discs) >= 2
    sets = set()
    for disc in result.discs:
        info = run("isoinfo", "-d", "-i", str(disc.iso_path))
        assert f"Volume set size is: {len(result.discs)}" in info
        assert f"Volume set sequence number is: {disc.number}" in info
        sets.add(re.search(r"^Volume set id: (.*)$", info, re.M).group(1).strip())
    assert len(sets) == 1 and sets != {""}
    assert sets == {volume_idents(case.number, 1).volume_set}


# --- the rule itself ---------------------------------------------------------------


def test_the_shortening_rule_counts_ucs2_units_and_never_splits_a_character():
    fits = "01_" + "区" * 57 + ".mp4"  # 64 units: kept
    assert ucs2_len(fits) == 64 and disc_names([fits])[fits] == fits
    wide = "01_" + "区" * 50 + "𠀀" * 4 + "_现场勘验.mp4"  # 4 characters outside the BMP: 70 units
    short = disc_names([wide])[wide]
    assert ucs2_len(short) <= 64 and fits_every_view(short)
    assert short.startswith("01_区") and short.endswith("_现场勘验.mp4") and "~" in short
    assert short.encode("utf-16-le").decode("utf-16-le") == short  # no half surrogate pair
    assert disc_names(["a:b?.mp4"])["a:b?.mp4"] == "a-b-.mp4"


def test_the_builder_and_the_review_agree_on_the_names(case):
    """The review page and the disc check settle the names again with the same rule."""
    from jilu.casework.queries import case_recordings

    names = disc_file_names([r.file_name for r in case_recordings(case)])
    assert names == {SHORT_NAME: SHORT_NAME, LONG_NAME: LONG_ON_DISC}


def test_the_writer_refuses_a_name_some_view_cannot_hold(tmp_path):
    """Nothing is written when a name would have to be cut in one view only."""
    root = tmp_path / "disc"
    (root / "data").mkdir(parents=True)
    (root / "data" / ("区" * 65 + ".mp4")).write_bytes(b"x")
    dest = tmp_path / "disc.iso"
    with pytest.raises(NameDoesNotFit, match="64"):
        write_iso(
            root,
            dest,
            volume=volume_idents("2026-1", 1),
            created=datetime(2026, 12, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        )
    assert list(tmp_path.glob("disc.iso*")) == []


# --- the forged disc ------------------------------------------------------------------


def rewrite_manifests(root: Path) -> None:
    """What a forger does after changing a file: every manifest made to match again."""
    data = sorted(p for p in (root / "data").rglob("*") if p.is_file())
    digest: dict[str, dict[str, str]] = {alg: {} for alg in ("sha256", "sm3")}
    for p in data:
        for alg in digest:
            digest[alg][p.relative_to(root).as_posix()] = hashlib.new(
                alg, p.read_bytes()
            ).hexdigest()
    for alg, lines in digest.items():
        (root / f"manifest-{alg}.txt").write_text(
            "".join(f"{h}  {rel}\n" for rel, h in lines.items()), "utf-8"
        )
    doc = json.loads((root / "jilu-manifest.json").read_text("utf-8"))
    files = {f["path"]: f for f in doc["files"]}
    for rel in digest["sha256"]:
        entry = files.setdefault(rel, {"path": rel, "list_no": None, "recording_id": None})
        entry.update(
            size=(root / rel).stat().st_size,
            sha256=digest["sha256"][rel],
            sm3=digest["sm3"][rel],
        )
    doc["files"] = [files[rel] for rel in digest["sha256"]]
    doc["payload_oxum"] = oxum = f"{sum(f['size'] for f in doc['files'])}.{len(doc['files'])}"
    info = (root / "bag-info.txt").read_text("utf-8")
    info = re.sub(r"^Payload-Oxum: .*$", f"Payload-Oxum: {oxum}", info, flags=re.M)
    (root / "bag-info.txt").write_text(info, "utf-8")
    (root / "jilu-manifest.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    tags = [p.name for p in root.iterdir() if p.is_file() and not p.name.startswith("tagmanifest")]
    for alg in ("sha256", "sm3"):
        (root / f"tagmanifest-{alg}.txt").write_text(
            "".join(
                f"{hashlib.new(alg, (root / n).read_bytes()).hexdigest()}  {n}\n"
                for n in sorted(tags)
            ),
            "utf-8",
        )


def forged_iso(package, tmp_path: Path, change) -> Path:
    disc = package.discs.get()
    root = tmp_path / "forged"
    shutil.copytree(disc.bag_dir, root)
    for p in root.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    change(root)
    rewrite_manifests(root)
    bagit.Bag(str(root)).validate()  # self-consistent: the bag tools find nothing wrong
    iso = tmp_path / "forged.iso"
    write_iso(
        root,
        iso,
        volume=volume_idents(package.case.number, 1),
        created=datetime.now(ZoneInfo("Asia/Shanghai")),
    )
    return iso


def alter_first_recording(root: Path) -> None:
    target = root / "data" / SHORT_NAME
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))


def test_a_forged_disc_with_rewritten_manifests_names_the_altered_file(package, tmp_path):
    """C6.5.3/C5.5: one recording altered and every manifest rewritten to match:
    the recording is compared with the hashes registered at ingest and named."""
    iso = forged_iso(package, tmp_path, alter_first_recording)
    report = verify.check_iso(
        iso,
        expected_manifest_sha256=package.discs.get().manifest_sha256,
        expected=verify.expected_for(package),
    )
    assert not report.ok
    assert report.altered == [f"data/{SHORT_NAME}"]
    reason = report.by_list_no()[1].reason
    assert "SHA-256 与入库时登记的不符" in reason and "SM3 与入库时登记的不符" in reason
    assert report.by_list_no()[2].status == "ok"
    assert not report.missing and not report.extra
    assert any("移送时登记的不一致" in p for p in report.problems)


def test_a_forged_disc_missing_a_recording_or_with_one_added_names_it(package, tmp_path):
    """C6.5.3: a recording removed, or a file slipped in and listed in the manifests."""

    def drop_and_add(root: Path) -> None:
        (root / "data" / LONG_ON_DISC).unlink()
        (root / "data" / "03_补拍.mp4").write_bytes(b"recorded later, elsewhere")

    iso = forged_iso(package, tmp_path, drop_and_add)
    report = verify.check_iso(
        iso,
        expected_manifest_sha256=package.discs.get().manifest_sha256,
        expected=verify.expected_for(package),
    )
    assert report.missing == [f"data/{LONG_ON_DISC}"]
    assert report.extra == ["data/03_补拍.mp4"]
    assert report.by_list_no()[2].status == "missing"
    assert not report.altered


def test_the_review_page_names_the_altered_file_of_a_forged_disc(package, tmp_path, client, people):
    """C5.5: the reviewer uploads the forged ISO; its row is not shown as consistent."""
    actions.transfer_case(actor=people["case_handler"], package=package, note="")
    review = Review.objects.get(transfer__package=package)
    iso = forged_iso(package, tmp_path, alter_first_recording)
    client.force_login(people["legal_reviewer"])
    with open(iso, "rb") as fh:
        body = client.post(
            reverse("transfer:review_upload", args=[review.pk]), {"iso": fh}, follow=True
        ).content.decode()
    v = Verification.objects.get(review=review)
    assert not v.ok
    assert [a["path"] for a in v.altered] == [f"data/{SHORT_NAME}"]
    assert f"data/{SHORT_NAME}" not in v.passed and f"data/{LONG_ON_DISC}" in v.passed
    rows = dict(re.findall(r'<tr data-no="(\d+)">.*?<td class="row-check">(.*?)</td>', body, re.S))
    assert "入库时登记的不符" in rows["1"] and "一致" not in rows["1"]
    assert '<span class="good">一致</span>' in rows["2"]


# --- bag-info, download name, the printed list ------------------------------------------


def test_bag_info_names_the_unit_and_its_place_not_its_code(package, tree):
    """RFC 8493: Organization-Address is where the unit is; its code has its own field."""
    text = (Path(package.discs.get().bag_dir) / "bag-info.txt").read_text("utf-8")
    info = dict(line.split(": ", 1) for line in text.splitlines())
    assert info["Organization-Address"] == (
        "厦门市城市管理行政执法局 思明区城市管理行政执法局 思明区城市管理行政执法大队"
    )
    assert info["Handling-Unit-Code"] == tree["brigade"].code
    assert tree["brigade"].code not in info["Organization-Address"]


def test_the_iso_downloads_under_the_case_number(package, client, people):
    """C5.5: discs of different cases downloaded to one folder keep apart."""
    client.force_login(people["case_handler"])
    r = client.get(reverse("transfer:disc_download", args=[package.pk, 1]))
    assert r.status_code == 200
    disposition = r["Content-Disposition"]
    assert "filename*=utf-8''" in disposition
    assert (
        unquote(disposition.split("filename*=utf-8''", 1)[1]) == "思城执罚〔2026〕12号-disc-01.iso"
    )
    b"".join(r.streaming_content)
    assert iso_download_name('厦城执/罚:2026 "1"号?', 2) == "厦城执-罚-2026_-1-号-disc-02.iso"


@pytest.mark.usefixtures("disc_tools")
def test_the_record_list_pdf_is_pdf_a_with_every_font_embedded(package):
    """A2: the printed list kept with the case file is PDF/A-3b, CJK fonts embedded."""
    pdf = next((Path(package.discs.get().bag_dir) / "data").glob("00_*.pdf"))
    meta = run("pdfinfo", "-meta", str(pdf))
    assert 'pdfaid:part="3"' in meta and 'pdfaid:conformance="B"' in meta
    fonts = run("pdffonts", str(pdf)).splitlines()[2:]
    assert fonts and any("CJK" in f for f in fonts)
    for line in fonts:
        emb = line.split()[-5]
        assert emb == "yes", line
