"""Build the disc package of a case (C5.4, C5.5; Attachment 2).

``build_package(case, out_dir, disc="dvd", progress=…)`` writes, under an
empty ``out_dir``::

    disc-01/                  one BagIt bag (RFC 8493) per disc = the disc root
      bagit.txt  bag-info.txt (案件编号, unit, handler, time, Bag-Count "n of m")
      manifest-sha256.txt  manifest-sm3.txt  tagmanifest-sha256.txt  tagmanifest-sm3.txt
      jilu-manifest.json      case metadata, every file's path/size/SHA-256/SM3/序号
      index.html              the record list with players, works offline
      labels.txt              disc and bag label text
      data/00_行政执法音像记录事项清单.pdf|.xlsx   (the PDF is PDF/A-3b, fonts embedded)
      data/01_<standard name>.mp4 …   byte-identical to the stored originals
    disc-01.iso               ISO 9660 + Joliet + Rock Ridge + UDF 1.02 of disc-01/
    disc-02/ disc-02.iso …    when the case needs more than one disc
    package-manifest.txt      SHA-256 of each disc's manifest-sha256.txt
    labels.txt                every disc's labels and the package hash, for printing

Two kinds of hash, always named by their file:

* each disc's ``manifest-sha256.txt`` SHA-256 (the BagIt payload manifest,
  on the disc): printed on that disc's label and bag label, shown beside the
  disc on the package and review pages, checked by the verifier;
* the package hash, the SHA-256 of ``package-manifest.txt``, by which the
  hand-over is recorded (``Transfer.manifest_sha256``). That file is not on
  any disc and cannot be: it is made of every disc's manifest hash, so disc 1
  is finished before disc 2's hash exists. It is one line per disc,
  ``<manifest-sha256.txt SHA-256>  disc-NN/manifest-sha256.txt``, so a
  reviewer holding the discs and their labels can rebuild it from the
  labels; the printed labels.txt and the review page show its lines and its
  hash (see :func:`jilu.transfer.labels.package_manifest_text`).

Every file's name on the disc is settled first, by
:func:`disc_file_names` (the record-list name, shortened by the rule of
:func:`jilu.transfer.discs.disc_names` when Joliet's 64 characters cannot
hold it), so ``index.html``, the manifests and every view of the ISO name
each file the same way.

Each recording is read once from the evidence store, hashed with SHA-256 and
SM3 in the same pass, and checked against the hashes taken at ingest; the
ISO is written from the files on disk in pieces. Memory stays flat whatever
the size of the case.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pycdlib
from django.utils import timezone, translation

from jilu.casework import recordlist
from jilu.casework.models import Case
from jilu.casework.queries import RecordListRow, case_recordings
from jilu.evidence.store import get_store
from jilu.transfer import disc_index, metadata
from jilu.transfer.bag import (
    FileEntry,
    NoSpace,
    PackageError,
    manifest_text,
    write_bytes_entry,
    write_tag_files,
)
from jilu.transfer.copying import COPY_WORKERS, CopyJob, Meter, copy_all
from jilu.transfer.discs import (
    DISC_LABELS,
    SECTOR,
    DoesNotFit,
    capacity_of,
    disc_names,
    plan_discs,
)
from jilu.transfer.iso import volume_idents, write_iso
from jilu.transfer.labels import Label, human_size, package_labels, package_manifest_text

__all__ = [
    "DiscResult",
    "NoRecordings",
    "NoSpace",
    "OutDirNotEmpty",
    "PackageError",
    "PackageResult",
    "build_package",
    "disc_file_names",
    "package_manifest_text",
    "record_list_pdf",
]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
LIST_STEM = f"00_{recordlist.TITLE}"
DOCUMENTS = (f"{LIST_STEM}.pdf", f"{LIST_STEM}.xlsx")
# The record list as printed on the disc: PDF/A (ISO 19005-3, level B) for
# keeping with the case file, every font embedded.
PDF_VARIANT = "pdf/a-3b"
# Every disc also carries the record list, index page and manifests; this is
# reserved on top of their measured size.
TAG_RESERVE = 256 * 1024
PER_ROW_RESERVE = 2 * SECTOR


def disc_file_names(file_names: Sequence[str]) -> dict[str, str]:
    """Record-list file name → its name on the disc (under ``data/``), for a whole case.

    The record list's own files come first, then the recordings in
    record-list order; the same call at review time gives the same names.
    """
    names = disc_names([*DOCUMENTS, *file_names])
    return {name: names[name] for name in file_names}


def record_list_pdf(record_list: recordlist.RecordList) -> bytes:
    """The record list as the case page prints it, archived as PDF/A-3b."""
    return recordlist.render_pdf(record_list, pdf_variant=PDF_VARIANT)


class NoRecordings(PackageError):
    """The case has no annotated recordings, so there is nothing to burn."""


class OutDirNotEmpty(PackageError):
    """The output directory already holds files; nothing is overwritten."""


@dataclass
class DiscResult:
    number: int
    count: int
    root: Path
    iso_path: Path
    iso_size: int
    files: list[FileEntry]
    payload_bytes: int
    manifest_sha256: str
    label: str
    volume_id: str  # ISO 9660 primary volume identifier
    joliet_volume_id: str = ""  # Joliet and UDF (what Windows shows)

    @property
    def recordings(self) -> int:
        return sum(1 for f in self.files if f.list_no is not None)


@dataclass
class PackageResult:
    case_number: str
    out_dir: Path
    disc_kind: str
    created_at: str
    discs: list[DiscResult]
    manifest_sha256: str  # SHA-256 of package-manifest.txt (identifies the package, not on disc)
    recordings: int
    recording_bytes: int
    labels: str
    seconds: float = 0.0
    record_list: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        """A JSON-safe summary (for the Package row and the command's output)."""
        return {
            "case": self.case_number,
            "out_dir": str(self.out_dir),
            "disc_kind": self.disc_kind,
            "created_at": self.created_at,
            "manifest_sha256": self.manifest_sha256,
            "recordings": self.recordings,
            "recording_bytes": self.recording_bytes,
            "seconds": round(self.seconds, 3),
            "discs": [
                {
                    "number": d.number,
                    "count": d.count,
                    "root": str(d.root),
                    "iso": str(d.iso_path),
                    "iso_size": d.iso_size,
                    "volume_id": d.volume_id,
                    "joliet_volume_id": d.joliet_volume_id,
                    "files": len(d.files),
                    "recordings": d.recordings,
                    "payload_bytes": d.payload_bytes,
                    "manifest_sha256": d.manifest_sha256,
                }
                for d in self.discs
            ],
        }


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise OutDirNotEmpty(f"输出路径 {out_dir} 不是目录：请指定一个空目录。")
        if any(out_dir.iterdir()):
            raise OutDirNotEmpty(
                f"输出目录 {out_dir} 不是空的：为避免覆盖已有光盘包，请指定一个空目录或新目录。"
            )
    out_dir.mkdir(parents=True, exist_ok=True)


def _check_space(out_dir: Path, need: int) -> None:
    free = shutil.disk_usage(out_dir).free
    if free < need:
        raise NoSpace(
            f"输出目录 {out_dir} 所在磁盘剩余 {human_size(free)}，生成光盘包约需 "
            f"{human_size(need)}（文件目录与 ISO 映像各一份）：请清理空间或换一个输出目录。"
        )


@translation.override("zh-hans")  # printed documents stay Chinese (A1, A2, C5.3, C5.5)
def build_package(
    case: Case,
    out_dir: str | Path,
    *,
    disc: str = "dvd",
    capacity: int | None = None,
    progress: Progress | None = None,
    keep_tree: bool = True,
    workers: int = COPY_WORKERS,
) -> PackageResult:
    """Build the case's disc package under ``out_dir`` (which must be empty or absent).

    ``disc`` is ``dvd`` (4.7 GB), ``dvd-dl`` (8.5 GB) or ``bd`` (25 GB);
    ``capacity`` overrides it in bytes (tests use a tiny one to force a split).
    ``progress(done_bytes, total_bytes, message)`` is called from this thread.
    ``keep_tree=False`` removes each disc's directory once its ISO is written;
    ``workers`` recordings are copied at once (two on a multi-core machine).
    Raises :class:`PackageError` (or a subclass) with a message for people.
    """
    started = time.monotonic()
    out_dir = Path(out_dir)
    cap = capacity if capacity is not None else capacity_of(disc)
    capacity_of(disc)  # an unknown kind is refused even with an explicit capacity
    rows = case_recordings(case)
    if not rows:
        raise NoRecordings(
            f"案件 {case.number} 还没有登记任何音像记录（清单为空）：请先把记录标注到本案的执法活动。"
        )
    _check_out_dir(out_dir)
    try:
        return _build(case, out_dir, rows, disc, cap, progress, keep_tree, workers, started)
    except BaseException:
        _remove_partial(out_dir)
        raise


def _build(case, out_dir, rows, disc, cap, progress, keep_tree, workers, started) -> PackageResult:
    record_list = recordlist.build(case)
    pdf = record_list_pdf(record_list)
    xlsx = recordlist.render_xlsx(record_list)
    meta = metadata.case_metadata(case)
    created = timezone.localtime()
    created_text = created.strftime("%Y-%m-%d %H:%M:%S")
    cells = {r.annotation_id: r for r in record_list.rows}
    on_disc = disc_file_names([r.file_name for r in rows])

    sizes = [r.recording.size for r in rows]
    shared = len(pdf) + len(xlsx) + TAG_RESERVE + PER_ROW_RESERVE * len(rows)
    try:
        plan = plan_discs(
            sizes, capacity=cap, shared_bytes=shared, names=[r.file_name for r in rows]
        )
    except DoesNotFit as exc:
        raise PackageError(str(exc)) from None
    count = len(plan.discs)
    payload_total = sum(sizes)
    _check_space(
        out_dir,
        2 * payload_total + count * 2 * shared
        if keep_tree
        else payload_total + max(sum(sizes[i] for i in d) for d in plan.discs) + count * 2 * shared,
    )

    disc_of_row = {i: n for n, members in enumerate(plan.discs, 1) for i in members}
    listing = [
        {
            "list_no": r.list_no,
            "file_name": r.file_name,
            "disc_name": on_disc[r.file_name],
            "path": f"data/{on_disc[r.file_name]}",
            "disc": disc_of_row[i],
            "size": r.recording.size,
            "sha256": r.recording.sha256,
            "sm3": r.recording.sm3,
            "recording_id": r.recording.pk,
        }
        for i, r in enumerate(rows)
    ]
    meter = Meter(2 * payload_total + count * shared, progress)
    store = get_store()
    meter.say(f"开始生成：{len(rows)} 个音像记录，{count} 张光盘")
    ctx = {
        "case": case,
        "meta": meta,
        "pdf": pdf,
        "xlsx": xlsx,
        "created": created,
        "created_text": created_text,
        "disc": disc,
        "cells": cells,
        "record_list": record_list,
        "listing": listing,
        "on_disc": on_disc,
        "keep_tree": keep_tree,
        "capacity": cap,
        "workers": workers,
    }
    discs = [
        _build_disc(
            number=number,
            count=count,
            rows=[rows[i] for i in members],
            out_dir=out_dir,
            store=store,
            meter=meter,
            ctx=ctx,
        )
        for number, members in enumerate(plan.discs, 1)
    ]
    package_manifest = package_manifest_text((d.number, d.manifest_sha256) for d in discs).encode()
    package_sha256 = hashlib.sha256(package_manifest).hexdigest()
    (out_dir / "package-manifest.txt").write_bytes(package_manifest)
    labels = package_labels([d.label for d in discs], package_manifest.decode(), package_sha256)
    (out_dir / "labels.txt").write_text(labels, encoding="utf-8")
    meter.finish(f"完成：{count} 张光盘")
    return PackageResult(
        case_number=case.number,
        out_dir=out_dir,
        disc_kind=disc,
        created_at=created.isoformat(),
        discs=discs,
        manifest_sha256=package_sha256,
        recordings=len(rows),
        recording_bytes=payload_total,
        labels=labels,
        seconds=time.monotonic() - started,
        record_list=listing,
    )


def _remove_partial(out_dir: Path) -> None:
    """A failed build leaves nothing half-written that could pass for a package.

    ``out_dir`` was empty (or absent) when the build began, so everything in
    it is this build's and is removed; the empty directory stays.
    """
    for child in out_dir.iterdir() if out_dir.is_dir() else ():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _index_rows(ctx: dict, on_this_disc: dict[int, FileEntry]) -> list:
    out = []
    for item, row in zip(ctx["listing"], ctx["record_list"].rows, strict=True):
        entry = on_this_disc.get(item["recording_id"])
        out.append(
            disc_index.IndexRow(
                no=row.no,
                cells=row.cells(),
                complete=row.complete,
                file_name=item["disc_name"],
                standard_name=item["file_name"],
                sha256=item["sha256"],
                sm3=item["sm3"],
                disc=item["disc"],
                href=disc_index.href(entry.path) if entry else "",
            )
        )
    return out


def _build_disc(
    *,
    number: int,
    count: int,
    rows: list[RecordListRow],
    out_dir: Path,
    store,
    meter: Meter,
    ctx: dict,
) -> DiscResult:
    case, meta = ctx["case"], ctx["meta"]
    root = out_dir / f"disc-{number:02d}"
    data = root / "data"
    data.mkdir(parents=True)
    disc_of = f"第 {number} 张 共 {count} 张"
    on_disc = ctx["on_disc"]
    jobs = [
        CopyJob(
            sha256=row.recording.sha256,
            sm3=row.recording.sm3,
            size=row.recording.size,
            dest=root / "data" / on_disc[row.file_name],
            rel=f"data/{on_disc[row.file_name]}",
            what=f"第 {row.list_no} 号记录 {row.file_name}",
            list_no=row.list_no,
            recording_id=row.recording.pk,
            file_name=row.file_name,
        )
        for row in rows
    ]
    payload = copy_all(
        jobs,
        open_range=lambda sha256: store.open_range(sha256, 0, None),
        meter=meter,
        prefix=disc_of,
        workers=ctx["workers"],
    )
    payload.append(write_bytes_entry(root, f"data/{LIST_STEM}.pdf", ctx["pdf"]))
    payload.append(write_bytes_entry(root, f"data/{LIST_STEM}.xlsx", ctx["xlsx"]))

    manifest_sha256 = hashlib.sha256(manifest_text(payload, "sha256").encode()).hexdigest()
    payload_bytes = sum(e.size for e in payload)
    label = Label(
        case_number=case.number,
        case_title=case.title,
        party=meta["party"] or "—",
        unit=meta["unit"],
        handler=meta["handler"] or "—",
        disc_no=number,
        disc_count=count,
        disc_kind=DISC_LABELS.get(ctx["disc"], ctx["disc"]),
        files=len(payload),
        recordings=len(rows),
        total_bytes=payload_bytes,
        manifest_sha256=manifest_sha256,
        created=ctx["created_text"],
    )
    by_recording = {e.recording_id: e for e in payload if e.recording_id is not None}
    index = disc_index.render(
        title=recordlist.TITLE,
        columns=list(recordlist.COLUMNS),
        case=meta,
        disc_of=disc_of,
        created=ctx["created_text"],
        rows=_index_rows(ctx, by_recording),
        documents=[
            (f"{recordlist.TITLE}（PDF）", f"data/{LIST_STEM}.pdf"),
            (f"{recordlist.TITLE}（XLSX）", f"data/{LIST_STEM}.xlsx"),
        ],
        file_count=len(payload),
        payload_size=human_size(payload_bytes),
    )
    manifest_json = metadata.manifest_document(
        meta=meta,
        created=ctx["created"],
        disc={"number": number, "count": count, "kind": ctx["disc"], "text": disc_of},
        manifest_sha256=manifest_sha256,
        payload=payload,
        listing=ctx["listing"],
    )
    info = metadata.bag_info(
        meta=meta,
        created=ctx["created"],
        number=number,
        count=count,
        disc_of=disc_of,
        recordings=len(rows),
        payload=payload,
        manifest_sha256=manifest_sha256,
    )
    label_text = label.text()
    write_tag_files(
        root,
        payload,
        {
            "bag-info.txt": info.encode("utf-8"),
            "jilu-manifest.json": json.dumps(manifest_json, ensure_ascii=False, indent=1).encode(),
            "index.html": index,
            "labels.txt": label_text.encode("utf-8"),
        },
    )
    meter.say(f"{disc_of}：写入 ISO 映像")
    iso_path = out_dir / f"disc-{number:02d}.iso"
    volume = volume_idents(case.number, number)
    try:
        iso = write_iso(
            root,
            iso_path,
            volume=volume,
            created=ctx["created"],
            disc_no=number,
            disc_count=count,
            progress=meter.add,
        )
    except pycdlib.pycdlibexception.PyCdlibException as exc:
        # The detail is for whoever reads the log; the person gets what to do.
        logger.exception("case %s disc %s: ISO image not written", case.number, number)
        raise PackageError(
            f"{disc_of} 的 ISO 光盘映像生成失败，本次制作已取消，未留下不完整的文件："
            "请稍后重新制作；如仍失败，请联系系统管理员查看日志。"
        ) from exc
    if iso.size > ctx["capacity"]:
        raise PackageError(
            f"{disc_of} 的 ISO 映像为 {iso.size} 字节，超过光盘容量 {ctx['capacity']} 字节："
            "请选择更大容量的光盘类型。"
        )
    if not ctx["keep_tree"]:
        shutil.rmtree(root)
    return DiscResult(
        number=number,
        count=count,
        root=root,
        iso_path=iso_path,
        iso_size=iso.size,
        files=payload,
        payload_bytes=payload_bytes,
        manifest_sha256=manifest_sha256,
        label=label_text,
        volume_id=volume.iso9660,
        joliet_volume_id=volume.joliet,
    )
