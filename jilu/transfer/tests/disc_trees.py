"""Disc package trees and ISO images for the review-check tests, made directly.

``make_disc`` writes a disc tree in the package format (BagIt bag at the disc
root: ``data/NN_<standard name>.<ext>`` payload, ``manifest-sha256.txt``,
``manifest-sm3.txt``, ``jilu-manifest.json``, ``bag-info.txt``, tag
manifests, ``index.html``); ``make_iso`` writes a tree to an ISO 9660 +
Joliet + Rock Ridge + UDF image with pycdlib, long Chinese names intact in
UDF and Rock Ridge. The tamper tests change one byte, drop a file or add one
before the image is written.
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
from pathlib import Path

import pycdlib

CASE_NUMBER = "思城执罚〔2026〕12号"
FILES = {
    "data/01_思明区城市管理行政执法大队_厦门某某餐饮有限公司_20261126_现场勘验.mp4": (
        b"\x00\x00\x00\x18ftypmp42" + b"A" * 5000
    ),
    "data/02_思明区城市管理行政执法大队_厦门某某餐饮有限公司_20261127_询问笔录.mp4": (
        b"\x00\x00\x00\x18ftypmp42" + b"B" * 7000
    ),
    "data/00_行政执法音像记录事项清单.xlsx": b"PK\x03\x04 record list",
}


def _digests(data: bytes) -> tuple[str, str]:
    return hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest()


def make_disc(root: Path, files: dict[str, bytes] | None = None) -> str:
    """Write a disc tree; returns the SHA-256 of its ``manifest-sha256.txt``."""
    files = FILES if files is None else files
    root.mkdir(parents=True, exist_ok=True)
    entries = []
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        sha, sm3 = _digests(data)
        name = rel.rsplit("/", 1)[-1]
        list_no = int(name[:2]) if name.endswith(".mp4") else None
        entries.append(
            {"path": rel, "size": len(data), "sha256": sha, "sm3": sm3, "list_no": list_no}
        )
    manifest = {
        "case": {"number": CASE_NUMBER, "unit": "思明区城市管理行政执法大队"},
        "disc": {"number": 1, "count": 1},
        "files": entries,
    }
    tags = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": f"External-Identifier: {CASE_NUMBER}\n".encode(),
        "manifest-sha256.txt": "".join(f"{e['sha256']}  {e['path']}\n" for e in entries).encode(),
        "manifest-sm3.txt": "".join(f"{e['sm3']}  {e['path']}\n" for e in entries).encode(),
        "jilu-manifest.json": json.dumps(manifest, ensure_ascii=False, indent=1).encode(),
        "index.html": "<!doctype html><title>光盘</title>".encode(),
    }
    for name, data in tags.items():
        (root / name).write_bytes(data)
    (root / "tagmanifest-sha256.txt").write_text(
        "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in tags.items()), "utf-8"
    )
    return hashlib.sha256(tags["manifest-sha256.txt"]).hexdigest()


def make_iso(root: Path, dest: Path) -> Path:
    """Write the tree under ``root`` to an ISO with all four namespaces."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", udf="2.60", vol_ident="JILU_TEST")
    counter = {"n": 0}

    def short(prefix: str, directory: bool = False) -> str:
        counter["n"] += 1
        return f"{prefix}{counter['n']:05d}" if directory else f"{prefix}{counter['n']:05d}.DAT;1"

    def walk(src: Path, iso_dir: str, joliet_dir: str, udf_dir: str) -> None:
        for child in sorted(src.iterdir()):
            # Joliet keeps a short unique name; the full one lives in UDF and Rock Ridge.
            joliet = f"{joliet_dir}/J{counter['n']:05d}{child.suffix}"
            udf = f"{udf_dir}/{child.name}"
            if child.is_dir():
                iso_path = f"{iso_dir}/{short('D', True)}"
                iso.add_directory(
                    iso_path,
                    rr_name=child.name,
                    joliet_path=joliet,
                    udf_path=udf,
                    file_mode=stat.S_IFDIR | 0o555,
                )
                walk(child, iso_path, joliet, udf)
            else:
                data = child.read_bytes()
                iso.add_fp(
                    io.BytesIO(data),
                    len(data),
                    f"{iso_dir}/{short('F')}",
                    rr_name=child.name,
                    joliet_path=joliet,
                    udf_path=udf,
                    file_mode=stat.S_IFREG | 0o444,
                )

    walk(root, "", "", "")
    iso.write(str(dest))
    iso.close()
    return dest
