"""The copy package of a fulfilled 调用单 (C6.3): one zip holding one BagIt bag.

``build(plan, out_dir, progress=…)`` writes ``out_dir/<调用单号>.zip``::

    DY2026-000123/
      bagit.txt  bag-info.txt (调用单号, 领取人, unit, time, Payload-Oxum)
      manifest-sha256.txt  manifest-sm3.txt  tagmanifest-sha256.txt  tagmanifest-sm3.txt
      jilu-copies.json          every file: 副本编号, kind, recording, size, SHA-256, SM3
      data/原始文件/<standard name>.mp4 …   byte-identical to the stored originals
      data/查看副本/<standard name>_查看副本.mp4 …   viewing requests: watermarked

It reuses the case package's machinery (``jilu.transfer``): originals are
copied from the evidence store and checked against their ingest hashes in the
same read (``copying.copy_all``), the manifests and tag manifests are
``bag.write_tag_files``. The zip stores the files as they are (video does not
compress) and uses ZIP64 past 4 GB. The bag directory is removed once zipped;
a failed build leaves nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import timezone

from jilu.access import watermark
from jilu.evidence.store import get_store
from jilu.evidence.tasks import local_copy
from jilu.transfer.bag import (
    FileEntry,
    PackageError,
    bag_info_text,
    hash_file,
    manifest_text,
    no_space,
    oxum,
    write_tag_files,
)
from jilu.transfer.copying import CopyJob, Meter, copy_all

ORIGINALS = "data/原始文件"
VIEWING = "data/查看副本"
VIEWING_SUFFIX = "_查看副本"
ZIP_CHUNK = 4 * 1024 * 1024
_UNSAFE = str.maketrans({c: "_" for c in '<>:"/\\|?*;\0\r\n\t'})

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Item:
    """One recording of the request, with the name it gets in the package."""

    recording: object  # evidence.Recording
    file_name: str
    original_copy_id: str
    viewing_copy_id: str = ""  # set for the videos of a viewing request


@dataclass(frozen=True)
class Plan:
    number: str
    recipient: str
    unit: str
    purpose: str
    use: str
    date_text: str  # the hand-over date drawn into viewing copies (Beijing time)
    items: list[Item]


@dataclass
class Built:
    """A file of the package, with the register's fields."""

    copy_id: str
    kind: str  # "original" | "viewing"
    recording_id: int
    entry: FileEntry


@dataclass
class Result:
    zip_path: Path
    zip_size: int
    zip_sha256: str
    manifest_sha256: str
    files: list[Built] = field(default_factory=list)


def safe_name(name: str) -> str:
    name = name.rsplit("/", 1)[-1].translate(_UNSAFE).strip(" .") or "file"
    return name


def unique_names(names: list[str]) -> list[str]:
    """The names, a numbered suffix before the extension on a repeat (case-blind)."""
    seen: set[str] = set()
    out = []
    for name in names:
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{stem}_{n}.{ext}" if ext else f"{stem}_{n}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def viewing_name(file_name: str) -> str:
    stem = file_name.rsplit(".", 1)[0]
    return f"{stem}{VIEWING_SUFFIX}.mp4"


def stamp_lines(plan: Plan, copy_id: str) -> list[str]:
    """What is drawn into each viewing copy (Chinese: it is a Chinese document)."""
    return [
        f"调用单 {plan.number} · 仅供查看",
        f"领取人 {plan.recipient} · {plan.date_text}",
        f"副本 {copy_id}",
    ]


def build(plan: Plan, out_dir: Path, *, progress: Progress | None = None) -> Result:
    """Write the package (see the module docstring) under an empty ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        return _build(plan, out_dir, progress)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise


def _check_space(out_dir: Path, need: int) -> None:
    if shutil.disk_usage(out_dir).free < need:
        raise no_space(out_dir)


def _build(plan: Plan, out_dir: Path, progress: Progress | None) -> Result:
    root = out_dir / plan.number
    (root / ORIGINALS).mkdir(parents=True)
    originals = sum(i.recording.size for i in plan.items)
    videos = [i for i in plan.items if i.viewing_copy_id]
    # Originals twice (bag, zip), viewing copies at most their original's size twice.
    _check_space(out_dir, 2 * originals + 2 * sum(i.recording.size for i in videos))
    # The meter counts original bytes copied, video bytes watermarked (by time),
    # and every byte zipped.
    total = originals + sum(i.recording.size for i in videos) + 2 * originals
    meter = Meter(total, progress)
    jobs = [
        CopyJob(
            sha256=i.recording.sha256,
            sm3=i.recording.sm3,
            size=i.recording.size,
            dest=root / ORIGINALS / i.file_name,
            rel=f"{ORIGINALS}/{i.file_name}",
            what=i.file_name,
            list_no=None,
            recording_id=i.recording.pk,
            file_name=i.file_name,
        )
        for i in plan.items
    ]
    store = get_store()
    entries = copy_all(
        jobs,
        open_range=lambda sha256: store.open_range(sha256, 0, None),
        meter=meter,
        prefix=plan.number,
    )
    built = [
        Built(i.original_copy_id, "original", i.recording.pk, e)
        for i, e in zip(plan.items, entries, strict=True)
    ]
    if videos:
        (root / VIEWING).mkdir(parents=True)
    for item in videos:
        built.append(_viewing(plan, item, root, meter))
    payload = [b.entry for b in built]
    manifest_sha256 = _tags(plan, root, payload, built)
    meter.say(f"{plan.number}：打包为 zip")
    zip_path = out_dir / f"{plan.number}.zip"
    _zip(root, zip_path, meter)
    shutil.rmtree(root)
    zip_sha256, _sm3, zip_size = hash_file(zip_path)
    meter.finish(f"{plan.number}：完成")
    return Result(zip_path, zip_size, zip_sha256, manifest_sha256, built)


def _viewing(plan: Plan, item: Item, root: Path, meter: Meter) -> Built:
    rec = item.recording
    name = viewing_name(item.file_name)
    dest = root / VIEWING / name
    meter.say(f"{plan.number}：制作带水印的查看副本 {name}")
    duration = None
    media = getattr(rec, "media", None)
    if media is not None:
        duration = media.duration_seconds
    credited = [0]

    def advanced(seconds: float) -> None:
        if duration:
            share = int(rec.size * min(seconds / duration, 1.0))
            meter.add(share - credited[0])
            credited[0] = share

    try:
        with local_copy(rec.stored_object) as src:
            watermark.make_viewing_copy(
                src,
                dest,
                lines=stamp_lines(plan, item.viewing_copy_id),
                copy_id=item.viewing_copy_id,
                request_number=plan.number,
                progress=advanced,
            )
    except watermark.WatermarkError as exc:
        raise PackageError(
            f"{item.file_name} 无法制作查看副本（{exc}）：已停止制作，请通知档案管理员检查该记录。"
        ) from exc
    meter.add(rec.size - credited[0])
    sha256, sm3, size = hash_file(dest)
    entry = FileEntry(f"{VIEWING}/{name}", size, sha256, sm3, None, rec.pk)
    return Built(item.viewing_copy_id, "viewing", rec.pk, entry)


def _tags(plan: Plan, root: Path, payload: list[FileEntry], built: list[Built]) -> str:
    created = timezone.localtime()
    info = bag_info_text(
        [
            ("Source-Organization", plan.unit or "—"),
            ("External-Identifier", plan.number),
            ("External-Description", f"调用单 {plan.number} 复制件；事由：{plan.purpose}"),
            ("Bagging-Date", created.date().isoformat()),
            ("Jilu-Request", plan.number),
            ("Jilu-Recipient", plan.recipient),
            ("Jilu-Use", plan.use),
            ("Jilu-Created", created.isoformat()),
            ("Payload-Oxum", oxum(payload)),
        ]
    )
    copies = {
        "request": plan.number,
        "recipient": plan.recipient,
        "use": plan.use,
        "created": created.isoformat(),
        "without_viewing_copy": [
            {"recording_id": i.recording.pk, "file_name": i.file_name, "reason": "no picture"}
            for i in plan.items
            if plan.use == "viewing" and not i.viewing_copy_id
        ],
        "files": [
            {
                "copy_id": b.copy_id,
                "kind": b.kind,
                "recording_id": b.recording_id,
                "path": b.entry.path,
                "size": b.entry.size,
                "sha256": b.entry.sha256,
                "sm3": b.entry.sm3,
            }
            for b in built
        ],
    }
    write_tag_files(
        root,
        payload,
        {
            "bag-info.txt": info.encode("utf-8"),
            "jilu-copies.json": json.dumps(copies, ensure_ascii=False, indent=1).encode(),
        },
    )

    return hashlib.sha256(manifest_text(payload, "sha256").encode()).hexdigest()


def _zip(root: Path, zip_path: Path, meter: Meter) -> None:
    """Store every file of the bag under ``<调用单号>/`` (UTF-8 names, ZIP64)."""
    base = root.parent
    files = sorted(p for p in root.rglob("*") if p.is_file())
    with zipfile.ZipFile(zip_path, "x", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for path in files:
            arcname = path.relative_to(base).as_posix()
            info = zipfile.ZipInfo.from_file(path, arcname)
            info.compress_type = zipfile.ZIP_STORED
            with path.open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                while chunk := src.read(ZIP_CHUNK):
                    dst.write(chunk)
                    meter.add(len(chunk))
