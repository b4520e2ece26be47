"""A BagIt (RFC 8493) bag per disc, written while the files are copied.

Each recording is streamed from the evidence store once: the same chunks go
to the package file, to SHA-256 and to SM3 in parallel threads
(``jilu.evidence.store.hashing.pump``), and the digests are checked against
the recording's stored hashes before the manifest line is written. Nothing is
read twice; the manifests are written from these digests, never by re-hashing.

``manifest-sha256.txt`` and ``tagmanifest-sha256.txt`` are what the ``bagit``
tools validate; ``manifest-sm3.txt`` and ``tagmanifest-sm3.txt`` carry SM3
(GB/T 32905), which Jilu's own check verifies.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from jilu.evidence.store.hashing import CHUNK, pump, read_chunks

BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
ALGORITHMS = ("sha256", "sm3")
TAG_FILES_FIRST = ("bagit.txt", "bag-info.txt")


class PackageError(Exception):
    """Building the package failed; the message says what and what to do."""


class NoSpace(PackageError):
    """The output file system is (or would become) full."""


@dataclass(frozen=True)
class FileEntry:
    """One payload file of a bag: its path relative to the bag root and digests."""

    path: str
    size: int
    sha256: str
    sm3: str
    list_no: int | None = None
    recording_id: int | None = None


class _Writer:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __call__(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]


def _counted(chunks: Iterable[bytes], on_bytes: Callable[[int], None] | None) -> Iterator[bytes]:
    """Report each chunk's size from the reading (calling) thread, not a hashing thread."""
    try:
        for chunk in chunks:
            yield chunk
            if on_bytes is not None:
                on_bytes(len(chunk))
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def no_space(path: Path) -> NoSpace:
    return NoSpace(
        f"输出目录所在磁盘已满（{path}）：请清理空间或换一个输出目录后重新生成；"
        "未完成的文件不可使用。(No space left on device.)"
    )


def copy_verified(
    chunks: Iterable[bytes],
    dest: Path,
    *,
    expected_sha256: str,
    expected_sm3: str,
    expected_size: int,
    what: str,
    on_bytes: Callable[[int], None] | None = None,
) -> tuple[str, str, int]:
    """Write ``chunks`` to ``dest`` hashing them in the same pass; check the digests.

    A mismatch removes ``dest`` and raises :class:`PackageError` naming the file.
    """
    sha256 = hashlib.sha256()
    sm3 = hashlib.new("sm3")
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    sinks: list[Callable[[bytes], object]] = [sha256.update, sm3.update, _Writer(fd)]
    try:
        try:
            size = pump(_counted(chunks, on_bytes), sinks)
        finally:
            os.close(fd)
    except OSError as exc:
        dest.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise no_space(dest.parent) from exc
        raise
    got = (sha256.hexdigest(), sm3.hexdigest(), size)
    problems = []
    if size != expected_size:
        problems.append(f"大小 {size} ≠ {expected_size}")
    if got[0] != expected_sha256:
        problems.append(f"SHA-256 {got[0]} ≠ {expected_sha256}")
    if got[1] != expected_sm3:
        problems.append(f"SM3 {got[1]} ≠ {expected_sm3}")
    if problems:
        dest.unlink(missing_ok=True)
        raise PackageError(
            f"{what} 的存储副本与入库时的哈希不一致（{'；'.join(problems)}）："
            "已停止打包，请通知档案管理员做完整性检查。"
        )
    return got


def write_bytes_entry(root: Path, rel: str, data: bytes, **extra) -> FileEntry:
    """Write a small payload file and return its entry (digests from memory)."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return FileEntry(
        path=rel,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sm3=hashlib.new("sm3", data).hexdigest(),
        **extra,
    )


def _escape(path: str) -> str:
    """RFC 8493 §2.1.3: percent-encode CR, LF and % in manifest paths."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def manifest_text(entries: Iterable[FileEntry], algorithm: str) -> str:
    return "".join(f"{getattr(e, algorithm)}  {_escape(e.path)}\n" for e in entries)


def oxum(entries: Iterable[FileEntry]) -> str:
    items = list(entries)
    return f"{sum(e.size for e in items)}.{len(items)}"


def bag_info_text(fields: list[tuple[str, str]]) -> str:
    lines = []
    for label, value in fields:
        value = " ".join(str(value).split())  # one line per element (RFC 8493 §2.2.2)
        lines.append(f"{label}: {value}\n")
    return "".join(lines)


def write_tag_files(root: Path, payload: list[FileEntry], tag_files: dict[str, bytes]) -> str:
    """Write bagit.txt, the manifests, the given tag files and the tag manifests.

    Returns the SHA-256 of ``manifest-sha256.txt`` (the "hash of the manifest"
    on the label and in the hand-over record).
    """
    written: dict[str, bytes] = {"bagit.txt": BAGIT_TXT.encode()}
    for algorithm in ALGORITHMS:
        written[f"manifest-{algorithm}.txt"] = manifest_text(payload, algorithm).encode()
    written.update(tag_files)
    try:
        for name, data in written.items():
            (root / name).write_bytes(data)
        for algorithm in ALGORITHMS:
            lines = "".join(
                f"{hashlib.new(algorithm, data).hexdigest()}  {_escape(name)}\n"
                for name, data in written.items()
            )
            (root / f"tagmanifest-{algorithm}.txt").write_text(lines, encoding="utf-8")
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise no_space(root) from exc
        raise
    return hashlib.sha256(written["manifest-sha256.txt"]).hexdigest()


def hash_file(path: Path) -> tuple[str, str, int]:
    """SHA-256, SM3 and size of a file on disk in one threaded pass."""
    sha256 = hashlib.sha256()
    sm3 = hashlib.new("sm3")
    with path.open("rb") as fh:
        size = pump(read_chunks(fh, CHUNK), [sha256.update, sm3.update])
    return sha256.hexdigest(), sm3.hexdigest(), size
