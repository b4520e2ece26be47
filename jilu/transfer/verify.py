"""Check a disc package: every file re-hashed, each recording against the hashes
Jilu registered at ingest (C5.5, C6.5.3).

A package disc carries ``jilu-manifest.json`` (case metadata and, for every
file, its path, size, SHA-256, SM3 and record-list number) inside its BagIt
bag. The check reads a *tree* — a directory on the server (the package as
built, a mounted disc, an extracted ISO) or an ISO image read with pycdlib —
and re-hashes every listed file in one streaming pass (SHA-256 and SM3
together, never a whole file in memory). It names:

- *missing* files: listed in the manifest, not in the tree;
- *altered* files: present, but size, SHA-256 or SM3 differ from the manifest
  (and tag files whose SHA-256 differs from the bag's tag manifest);
- *extra* files: in the tree, in neither the manifest nor the bag's tag files.

The manifest itself is named by its SHA-256, which the hand-over recorded
(C5.5). A disc's own manifests can be rewritten to match altered files, so
when the check is of a package Jilu made (:func:`expected_for`), each
recording on the disc is compared with the size, SHA-256 and SM3 that Jilu
registered for it at ingest (the ``Recording``), never with the disc's
manifests: an altered recording is named even on a disc whose manifests were
all rewritten to match it, a recording missing from the disc it was burnt on
is named, and a file in ``data/`` that is neither a recording of the case nor
the record list is extra even if the disc's manifests list it.
``check_originals`` checks the package kept on the server the same way and
names recordings of the record list (C5.4, A2) that the package lacks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.utils.translation import gettext

from jilu.evidence.store.hashing import hash_chunks

log = logging.getLogger(__name__)

MANIFEST_NAME = "jilu-manifest.json"
CHUNK = 1024 * 1024
# BagIt tag files at the bag's root (RFC 8493 §2): part of the bag, not payload.
TAG_FILES = {"bagit.txt", "bag-info.txt", MANIFEST_NAME}
TAG_PREFIXES = ("manifest-", "tagmanifest-")


class PackageUnreadable(Exception):
    """The tree has no readable manifest, or the ISO cannot be opened."""


@dataclass(frozen=True)
class Recorded:
    """A recording of the case as Jilu registered it at ingest, and where the package put it."""

    path: str  # relative to the disc root: data/<name on the disc>
    list_no: int | None
    size: int
    sha256: str
    sm3: str
    disc: int | None = None  # the disc it was burnt on, when known


@dataclass
class Expected:
    """What a disc of a package is checked against, from Jilu's records (not the disc)."""

    recordings: list[Recorded] = field(default_factory=list)
    documents: tuple[str, ...] = ()  # the record list's own files, relative to the disc root


@dataclass
class FileResult:
    path: str
    status: str  # ok | altered | missing
    list_no: int | None = None
    reason: str = ""


@dataclass
class Report:
    source: str
    source_name: str
    manifest_sha256: str = ""
    expected_manifest_sha256: str = ""
    case_number: str = ""
    disc: str = ""
    checked_files: int = 0
    checked_bytes: int = 0
    files: list[FileResult] = field(default_factory=list)
    entries: dict[str, dict] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.altered or self.problems)

    def by_list_no(self) -> dict[int, FileResult]:
        return {f.list_no: f for f in self.files if f.list_no is not None}

    def merge(self, other: Report) -> None:
        """Add the findings of another disc of the same package."""
        self.checked_files += other.checked_files
        self.checked_bytes += other.checked_bytes
        self.files += other.files
        self.entries.update(other.entries)
        self.missing += other.missing
        self.extra += other.extra
        self.altered += other.altered
        self.problems += other.problems


# --- trees -----------------------------------------------------------------


class Tree(ABC):
    """Files by POSIX path relative to the tree's root, each readable in chunks."""

    name = ""

    @abstractmethod
    def files(self) -> dict[str, int]:
        """Every file's path and size."""

    @abstractmethod
    def chunks(self, path: str) -> Iterator[bytes]:
        """The file's bytes, streamed."""

    def read_small(self, path: str, limit: int = 64 * 1024 * 1024) -> bytes:
        out = bytearray()
        for chunk in self.chunks(path):
            out += chunk
            if len(out) > limit:
                raise PackageUnreadable(f"{path} 超过 {limit} 字节，不是清单文件")
        return bytes(out)

    def close(self) -> None:  # noqa: B027 - most trees hold nothing open
        """Release what the tree holds open."""


class DirectoryTree(Tree):
    """A directory: the package as built, a mounted disc or an extracted ISO."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.name = str(self.root)
        if not self.root.is_dir():
            raise PackageUnreadable(f"目录不存在：{self.root}")

    def files(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for dirpath, _dirs, names in os.walk(self.root):
            for n in names:
                p = Path(dirpath) / n
                out[p.relative_to(self.root).as_posix()] = p.stat().st_size
        return out

    def chunks(self, path: str) -> Iterator[bytes]:
        with open(self.root / path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk


class IsoTree(Tree):
    """An ISO image read with pycdlib, by its UDF names (long Chinese names intact),
    else Rock Ridge, else Joliet, else plain ISO 9660."""

    def __init__(self, path: Path | str) -> None:
        import pycdlib
        from pycdlib.pycdlibexception import PyCdlibException

        self.name = str(path)
        self.iso = pycdlib.PyCdlib()
        try:
            self.iso.open(str(path))
        except (PyCdlibException, OSError, ValueError) as exc:
            # The reader's own words (English, technical) stay in the log; the
            # person is told what it means and what to do.
            log.info("unreadable ISO image %s: %s", path, exc)
            raise PackageUnreadable(
                gettext(
                    "无法读取光盘镜像：这不是完整的 ISO 光盘镜像。请确认选的是本案光盘的镜像文件，"
                    "且文件已完整上传；光盘本身可在工作站或命令行上检查。"
                )
            ) from exc
        if self.iso.has_udf():
            self.key = "udf_path"
        elif self.iso.has_rock_ridge():
            self.key = "rr_path"
        elif self.iso.has_joliet():
            self.key = "joliet_path"
        else:
            self.key = "iso_path"

    def files(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for dirpath, _dirs, names in self.iso.walk(**{self.key: "/"}):
            for n in names:
                full = str(PurePosixPath(dirpath) / n)
                if self.key == "iso_path":
                    n_clean = full.split(";")[0]
                else:
                    n_clean = full
                record = self.iso.get_record(**{self.key: full})
                out[n_clean.lstrip("/")] = record.get_data_length()
        return out

    def chunks(self, path: str) -> Iterator[bytes]:
        name = "/" + path
        if self.key == "iso_path":
            name += ";1"
        with self.iso.open_file_from_iso(**{self.key: name}) as fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    def close(self) -> None:
        self.iso.close()


# --- the check ---------------------------------------------------------------


def _is_tag_file(rel_to_bag: str) -> bool:
    if "/" in rel_to_bag:
        return False
    return rel_to_bag in TAG_FILES or rel_to_bag.startswith(TAG_PREFIXES)


def find_manifest(names: dict[str, int]) -> str:
    found = sorted(
        (p for p in names if PurePosixPath(p).name == MANIFEST_NAME),
        key=lambda p: (p.count("/"), p),
    )
    if not found:
        raise PackageUnreadable(f"没有找到清单文件 {MANIFEST_NAME}：这不是 Jilu 制作的光盘包")
    return found[0]


def _tag_manifest(tree: Tree, bag: PurePosixPath, names: dict[str, int]) -> dict[str, str]:
    """path (relative to the tree) → SHA-256 from the bag's tagmanifest-sha256.txt."""
    rel = _norm(bag / "tagmanifest-sha256.txt")
    if rel not in names:
        return {}
    out = {}
    for line in tree.read_small(rel).decode("utf-8").splitlines():
        digest, _, path = line.strip().partition(" ")
        if digest and path.strip():
            out[_norm(bag / _unescape(path.strip()))] = digest.lower()
    return out


def _unescape(path: str) -> str:
    return path.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def _payload_manifest(
    tree: Tree, bag: PurePosixPath, names: dict[str, int], algorithm: str
) -> dict[str, str]:
    """path (relative to the tree) → digest from the bag's manifest-<algorithm>.txt."""
    rel = _norm(bag / f"manifest-{algorithm}.txt")
    if rel not in names:
        return {}
    out = {}
    for line in tree.read_small(rel).decode("utf-8").splitlines():
        digest, _, path = line.strip().partition(" ")
        if digest and path.strip():
            out[_norm(bag / _unescape(path.strip()))] = digest.lower()
    return out


def _norm(p: PurePosixPath) -> str:
    text = p.as_posix()
    return text[2:] if text.startswith("./") else text


def check_tree(
    tree: Tree,
    *,
    source: str,
    expected_manifest_sha256: str | set[str] | None = None,
    expected: Expected | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Re-hash every file of ``tree``: recordings against ``expected`` (Jilu's
    ingest records) when given, everything else against the disc's manifests."""
    names = tree.files()
    manifest_path = find_manifest(names)
    raw = tree.read_small(manifest_path)
    report = Report(source=source, source_name=tree.name)
    bag_manifest = _norm(PurePosixPath(manifest_path).parent / "manifest-sha256.txt")
    json_hash = hashlib.sha256(raw).hexdigest()
    report.manifest_sha256 = (
        hashlib.sha256(tree.read_small(bag_manifest)).hexdigest()
        if bag_manifest in names
        else json_hash
    )
    try:
        manifest = json.loads(raw.decode("utf-8"))
        entries = manifest["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PackageUnreadable(f"清单文件 {manifest_path} 无法解析：{exc}") from exc
    case_meta = manifest.get("case") or {}
    report.case_number = str(case_meta.get("number", "")) if isinstance(case_meta, dict) else ""
    disc_meta = manifest.get("disc") or {}
    disc_no = None
    if isinstance(disc_meta, dict) and disc_meta.get("number"):
        report.disc = f"{disc_meta.get('number')}/{disc_meta.get('count', '?')}"
        try:
            disc_no = int(disc_meta["number"])
        except (TypeError, ValueError):
            disc_no = None

    hashes = expected_manifest_sha256
    if isinstance(hashes, str):
        hashes = {hashes} if hashes else set()
    if hashes:
        report.expected_manifest_sha256 = ", ".join(sorted(hashes))
        if not hashes & {report.manifest_sha256, json_hash}:
            report.problems.append(
                f"光盘包清单的 SHA-256（{report.manifest_sha256}）"
                "与移送时登记的不一致：光盘包不是移送的那一版，或清单被改动"
            )

    bag = PurePosixPath(manifest_path).parent
    bagit = {alg: _payload_manifest(tree, bag, names, alg) for alg in ("sha256", "sm3")}
    recorded = {_norm(bag / r.path): r for r in (expected.recordings if expected else ())}
    legitimate = set(recorded) | {_norm(bag / d) for d in (expected.documents if expected else ())}
    listed: set[str] = set()
    work: dict[str, dict] = {}
    for entry in entries:
        work[_norm(bag / entry["path"])] = entry
    for rel in sorted(set(bagit["sha256"]) | set(bagit["sm3"])):
        work.setdefault(rel, {"path": rel, "bagit_only": True})
    for rel, r in recorded.items():
        # A recording is expected on the disc it was burnt on (the disc says which it is).
        if rel in names or (r.disc is not None and r.disc == disc_no):
            work.setdefault(rel, {"path": rel, "list_no": r.list_no})
    total = sum(recorded[rel].size if rel in recorded else _size(e) for rel, e in work.items())
    done = 0
    for rel, entry in work.items():
        listed.add(rel)
        report.entries[rel] = entry
        r = recorded.get(rel)
        list_no = r.list_no if r is not None else entry.get("list_no")
        if expected is not None and r is None and rel not in legitimate and _in_payload(rel, bag):
            if rel in names:  # listed by the disc's manifests, but not a recording of the case
                report.extra.append(rel)
                report.files.append(
                    FileResult(rel, "extra", None, "不是本案登记的声像记录，也不是清单文件")
                )
            else:
                listed.discard(rel)  # in a manifest only: nothing on the disc to name
            continue
        if rel not in names:
            report.missing.append(rel)
            report.files.append(FileResult(rel, "missing", list_no, "光盘包中没有这个文件"))
            continue
        got = hash_chunks(tree.chunks(rel))
        report.checked_files += 1
        report.checked_bytes += got.size
        done += got.size
        if progress is not None:
            progress(done, total)
        manifest_reasons = _against_manifests(entry, rel, got, bagit)
        if r is not None:
            reasons = _against_ingest(r, got)
            if not reasons and manifest_reasons:
                report.problems.append(
                    f"光盘上的清单对 {rel} 所记的哈希（{'；'.join(manifest_reasons)}）"
                    "与入库登记不一致：该文件本身与入库时一致，清单被改动"
                )
        else:
            reasons = manifest_reasons
        if reasons:
            report.altered.append(rel)
            report.files.append(FileResult(rel, "altered", list_no, "；".join(reasons)))
        else:
            report.files.append(FileResult(rel, "ok", list_no))

    tags = _tag_manifest(tree, bag, names)
    for rel, digest in sorted(tags.items()):
        if rel in listed:
            continue
        if rel not in names:
            report.missing.append(rel)
            continue
        got = hash_chunks(tree.chunks(rel))
        if got.sha256 != digest:
            report.altered.append(rel)
            report.files.append(FileResult(rel, "altered", None, "SHA-256 与标签清单不符"))

    for rel in sorted(names):
        if rel in listed or rel in tags or rel == manifest_path:
            continue
        try:
            inside = PurePosixPath(rel).relative_to(bag).as_posix() if str(bag) != "." else rel
        except ValueError:
            inside = None
        if inside is not None and _is_tag_file(inside):
            continue
        if inside is None and rel in set(manifest.get("disc_files") or []):
            continue
        report.extra.append(rel)
    return report


def _size(entry: dict) -> int:
    try:
        return int(entry.get("size", 0))
    except (TypeError, ValueError):
        return 0


def _in_payload(rel: str, bag: PurePosixPath) -> bool:
    """Whether ``rel`` is under the bag's ``data/`` directory."""
    data = bag / "data"
    return PurePosixPath(rel).is_relative_to(data) if str(bag) != "." else rel.startswith("data/")


def _against_manifests(entry: dict, rel: str, got, bagit: dict[str, dict[str, str]]) -> list[str]:
    reasons = []
    if "size" in entry and got.size != _size(entry):
        reasons.append(f"大小应为 {entry['size']} 字节，实为 {got.size} 字节")
    if "sha256" in entry and got.sha256 != str(entry["sha256"]).lower():
        reasons.append("SHA-256 与清单不符")
    if "sm3" in entry and got.sm3 != str(entry["sm3"]).lower():
        reasons.append("SM3 与清单不符")
    if entry.get("bagit_only"):
        reasons.append(f"不在 {MANIFEST_NAME} 中")
    if rel in bagit["sha256"] and got.sha256 != bagit["sha256"][rel]:
        reasons.append("SHA-256 与 BagIt 清单不符")
    if rel in bagit["sm3"] and got.sm3 != bagit["sm3"][rel]:
        reasons.append("SM3 与 BagIt 清单不符")
    return reasons


def _against_ingest(r: Recorded, got) -> list[str]:
    """Differences from what Jilu registered for the recording at ingest (C6.5.3)."""
    reasons = []
    if got.size != r.size:
        reasons.append(f"大小应为 {r.size} 字节（入库登记），实为 {got.size} 字节")
    if got.sha256 != r.sha256.lower():
        reasons.append("SHA-256 与入库时登记的不符")
    if got.sm3 != r.sm3.lower():
        reasons.append("SM3 与入库时登记的不符")
    return reasons


def expected_for(package: Any) -> Expected:
    """The recordings of the package's case as registered at ingest, each with the
    path the package gave it on the disc and, when known, the disc it is on.

    The names on the disc are settled again by the builder's own rule
    (:func:`jilu.transfer.builder.disc_file_names`) from the record list, which
    is locked while the case is with legal review. Which disc holds which
    recording comes from the package kept on the server (its
    ``jilu-manifest.json``); a one-disc package holds them all.
    """
    from jilu.casework.queries import case_recordings
    from jilu.transfer.builder import DOCUMENTS, disc_file_names

    rows = case_recordings(package.case)
    names = disc_file_names([r.file_name for r in rows])
    disc_of = _disc_of_recordings(package)
    return Expected(
        recordings=[
            Recorded(
                path=f"data/{names[row.file_name]}",
                list_no=row.list_no,
                size=row.recording.size,
                sha256=row.recording.sha256,
                sm3=row.recording.sm3,
                disc=disc_of.get(row.recording.pk),
            )
            for row in rows
        ],
        documents=tuple(f"data/{d}" for d in DOCUMENTS),
    )


def _disc_of_recordings(package: Any) -> dict[int, int]:
    """recording id → the disc of the package it was burnt on (what is known of it)."""
    discs = list(package.discs.order_by("number"))
    if len(discs) == 1:
        from jilu.casework.queries import case_recordings

        return {row.recording.pk: discs[0].number for row in case_recordings(package.case)}
    for disc in discs:
        path = Path(disc.bag_dir) / MANIFEST_NAME if disc.bag_dir else None
        if path is None or not path.is_file():
            continue
        try:
            listing = json.loads(path.read_text(encoding="utf-8"))["record_list"]
            return {int(item["recording_id"]): int(item["disc"]) for item in listing}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return {}


def check_directory(
    root: Path | str,
    *,
    expected_manifest_sha256: str | set[str] | None = None,
    expected: Expected | None = None,
) -> Report:
    """Check a mounted disc or an extracted ISO (or a built package disc)."""
    return check_tree(
        DirectoryTree(root),
        source="directory",
        expected_manifest_sha256=expected_manifest_sha256,
        expected=expected,
    )


def check_iso(
    path: Path | str,
    *,
    expected_manifest_sha256: str | set[str] | None = None,
    expected: Expected | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Check an ISO image, streaming each file out of it with pycdlib."""
    tree = IsoTree(path)
    try:
        return check_tree(
            tree,
            source="iso",
            expected_manifest_sha256=expected_manifest_sha256,
            expected=expected,
            progress=progress,
        )
    finally:
        tree.close()


def check_originals(package: Any) -> Report:
    """Check a built package on the server against the stored originals.

    Every disc's bag is re-hashed, each recording against the size, SHA-256
    and SM3 it was registered with at ingest (its manifest's hash must be the
    one recorded for the disc), and each recording's stored object must be
    present; every row of the record list must be in the package.
    """
    from jilu.casework.queries import case_recordings
    from jilu.evidence.store import get_store

    report = Report(source="originals", source_name=f"{package.case.number} v{package.version}")
    discs = list(package.discs.order_by("number"))
    if not discs:
        report.problems.append("光盘包没有光盘：请重新制作")
        return report
    expected = expected_for(package)
    for disc in discs:
        root = Path(disc.bag_dir)
        if not disc.bag_dir or not root.is_dir():
            report.problems.append(f"第 {disc.number} 盘的文件已不在服务器上：{disc.bag_dir}")
            continue
        part = check_directory(
            root, expected_manifest_sha256=disc.manifest_sha256 or None, expected=expected
        )
        report.merge(part)
        report.manifest_sha256 = report.manifest_sha256 or part.manifest_sha256

    by_no = report.by_list_no()
    store = get_store()
    paths = {r.list_no: r.path for r in expected.recordings}
    for row in case_recordings(package.case):
        found = by_no.get(row.list_no)
        if found is None and paths.get(row.list_no) not in report.missing:
            report.missing.append(paths.get(row.list_no) or f"{row.list_no:02d} {row.file_name}")
        if not store.exists(row.recording.sha256):
            report.problems.append(f"序号 {row.list_no} 的存储原件不在证据存储中")
    return report
