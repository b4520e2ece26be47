"""Reading a recorder volume without ever leaving it.

Every path inside a volume is opened one component at a time with
``O_NOFOLLOW`` relative to the directory above it, so neither a symlink nor a
``..`` can lead the station to read (or delete) anything outside the volume,
even if the volume changes between the scan and the copy (C6.5.3: the station
must not be tricked into ingesting or wiping the wrong bytes).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class OutsideVolume(Exception):
    """A path that would leave the volume (``..``, absolute, or through a symlink)."""


def split_relative(rel_path: str) -> list[str]:
    """The components of a volume-relative POSIX path; refuses anything that leaves it."""
    if rel_path.startswith("/"):
        raise OutsideVolume(f"{rel_path}: absolute path, not inside the volume")
    parts = rel_path.split("/")
    if "\0" in rel_path or any(p in ("..", ".", "") for p in parts):
        raise OutsideVolume(f"{rel_path}: path leaves the volume or is empty")
    return parts


def open_root(root: str | os.PathLike[str]) -> int:
    """A directory descriptor for the volume root (the root itself may be a mount point link)."""
    return os.open(os.fspath(root), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


@contextmanager
def parent_dir(root_fd: int, parts: list[str]) -> Iterator[int]:
    """Open the directory holding ``parts[-1]``, component by component, never following links."""
    fds: list[int] = []
    current = root_fd
    try:
        for name in parts[:-1]:
            try:
                current = os.open(name, _DIR_FLAGS, dir_fd=current)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise OutsideVolume(f"{name}: is a symlink or not a directory") from exc
                raise
            fds.append(current)
        yield current
    finally:
        for fd in reversed(fds):
            os.close(fd)


def open_file(root_fd: int, rel_path: str) -> int:
    """Open a regular file inside the volume for reading; refuses symlinks and special files."""
    parts = split_relative(rel_path)
    with parent_dir(root_fd, parts) as dir_fd:
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise OutsideVolume(f"{rel_path}: is a symlink; not read") from exc
            raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OutsideVolume(f"{rel_path}: not a regular file; not read")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def lstat(root_fd: int, rel_path: str) -> os.stat_result:
    parts = split_relative(rel_path)
    with parent_dir(root_fd, parts) as dir_fd:
        return os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)


def unlink(root_fd: int, rel_path: str) -> None:
    """Remove one regular file inside the volume (never through a symlinked directory)."""
    parts = split_relative(rel_path)
    with parent_dir(root_fd, parts) as dir_fd:
        st = os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode):
            raise OutsideVolume(f"{rel_path}: not a regular file; not deleted")
        os.unlink(parts[-1], dir_fd=dir_fd)
        try:
            os.fsync(dir_fd)
        except OSError:
            pass  # some filesystems (vfat over USB) refuse fsync on directories


@dataclass(frozen=True)
class Found:
    """One entry met while walking the volume."""

    rel_path: str
    size: int
    mtime_ns: int
    problem: str = ""  # non-empty: flagged, not read


def _symlink_problem(dir_fd: int, name: str, rel_dir: PurePosixPath) -> str:
    try:
        target = os.readlink(name, dir_fd=dir_fd)
    except OSError:
        target = "?"
    resolved = PurePosixPath(target)
    outside = resolved.is_absolute()
    if not outside:
        depth = len(rel_dir.parts)
        for part in resolved.parts:
            depth = depth - 1 if part == ".." else depth + (part not in ("", "."))
            if depth < 0:
                outside = True
                break
    where = "outside the volume" if outside else "inside the volume"
    return f"symlink to {target} ({where}); symlinks are never followed, not read"


def walk(root_fd: int, rel_dir: str, *, max_depth: int = 8) -> Iterator[Found]:
    """Every file under ``rel_dir`` (sorted), without following links or crossing mounts."""
    root_dev = os.fstat(root_fd).st_dev
    parts = split_relative(rel_dir)
    with parent_dir(root_fd, [*parts, "-"]) as dir_fd:
        start_fd = os.dup(dir_fd)
    try:
        yield from _walk(start_fd, PurePosixPath(*parts), root_dev, max_depth)
    finally:
        os.close(start_fd)


def _walk(dir_fd: int, rel_dir: PurePosixPath, root_dev: int, depth: int) -> Iterator[Found]:
    with os.scandir(dir_fd) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        rel = (rel_dir / entry.name).as_posix()
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            yield Found(rel, 0, 0, f"cannot stat: {exc.strerror}")
            continue
        if stat.S_ISLNK(st.st_mode):
            yield Found(rel, 0, st.st_mtime_ns, _symlink_problem(dir_fd, entry.name, rel_dir))
        elif stat.S_ISDIR(st.st_mode):
            if st.st_dev != root_dev:
                yield Found(rel, 0, st.st_mtime_ns, "another filesystem mounted inside the volume")
            elif depth <= 0:
                yield Found(rel, 0, st.st_mtime_ns, "directory nested too deep; not read")
            else:
                try:
                    sub = os.open(entry.name, _DIR_FLAGS, dir_fd=dir_fd)
                except OSError as exc:
                    yield Found(rel, 0, st.st_mtime_ns, f"cannot open directory: {exc.strerror}")
                    continue
                try:
                    yield from _walk(sub, rel_dir / entry.name, root_dev, depth - 1)
                finally:
                    os.close(sub)
        elif stat.S_ISREG(st.st_mode):
            yield Found(rel, st.st_size, st.st_mtime_ns)
        else:
            yield Found(rel, 0, st.st_mtime_ns, "not a regular file (device, pipe or socket)")
