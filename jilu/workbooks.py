"""Reading uploaded XLSX workbooks with limits: the one way Jilu opens a spreadsheet.

An uploaded workbook is hostile until read (the roster, the list of powers and
whatever import comes later). ``open_workbook`` reads one under these limits and
refuses, with a message saying what is wrong (``WorkbookRefused``), anything
beyond them:

1. the upload's size (``Limits.max_bytes``);
2. the zip, checked before openpyxl sees it (``inspect``): the number of
   members, each member's and the total uncompressed size as the directory
   declares them (zipfile never inflates a member past its declared size), the
   compression ratio of the larger members, no encrypted members, only stored
   or deflated members, no absolute, ``..``, backslash, drive or duplicate
   names. A password-protected workbook or an old ``.xls`` is an OLE file, not a
   zip, and is named as such;
3. XML with a DTD is refused: every member openpyxl opens is read through a
   guard that runs the first bytes, up to the root element, through expat and
   stops at a ``<!DOCTYPE`` (the only place entities can be declared: billion
   laughs, external entities). openpyxl itself parses with ``defusedxml`` when
   it is installed (it is a dependency) — a second line, not the first;
4. only the sheets asked for are iterated (openpyxl opens the other sheets only
   far enough to read their dimensions, through the same guard), with caps on
   the rows and columns that hold data;
5. a time budget (``Limits.seconds``): the guard checks it on every read of a
   member and for every row, so a member that takes long to inflate or parse
   (a huge comment, millions of empty cells) stops the reading with a message.

``inspect`` is cheap (the zip directory only): callers use its
``uncompressed`` total to decide whether a workbook may be read on the request
thread (``INLINE_BYTES``, ``REQUEST_SECONDS``) or must go to a background task
(``BACKGROUND_SECONDS``).
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from django.utils.translation import gettext as _

MB = 1024 * 1024
# A workbook whose members inflate to at most this much is read on the request
# thread (a few thousand roster rows: well under a second); above it, in a task.
INLINE_BYTES = 2 * MB
REQUEST_SECONDS = 5.0
BACKGROUND_SECONDS = 120.0
# Members smaller than this are not judged by their compression ratio (a small
# XML part of repeated tags compresses very well and is harmless).
RATIO_FLOOR_BYTES = 1 * MB
CHUNK = 256 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 5 * MB  # the upload itself
    max_members: int = 300
    max_member_bytes: int = 64 * MB  # one member, inflated
    max_total_bytes: int = 128 * MB  # all members, inflated
    max_ratio: int = 200  # inflated / compressed, for members above RATIO_FLOOR_BYTES
    max_rows: int = 20_001  # row numbers holding data, header included
    max_columns: int = 64  # columns holding data
    seconds: float = REQUEST_SECONDS


class WorkbookRefused(Exception):
    """The workbook is refused; ``str()`` says why, in the active language."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def _mb(n: int) -> str:
    return f"{n / MB:.2f}".rstrip("0").rstrip(".")


def not_xlsx() -> WorkbookRefused:
    return WorkbookRefused(
        _(
            "文件不是 Excel 工作簿（.xlsx），无法读取。请在 Excel 或 WPS 中“另存为”Excel 工作簿"
            "（*.xlsx）后再上传；旧版 .xls、CSV 和 WPS 的 .et 文件不能直接导入"
        ),
        code="not_xlsx",
    )


def _damaged(member: str) -> WorkbookRefused:
    return WorkbookRefused(
        _(
            "工作簿已损坏或格式不正确，无法读取（%(member)s）。请在 Excel 或 WPS 中打开并"
            "另存为 .xlsx 后再上传"
        )
        % {"member": member},
        code="damaged",
    )


def _dtd(member: str) -> WorkbookRefused:
    return WorkbookRefused(
        _(
            "工作簿包含 DTD 声明，已拒绝（%(member)s）。Excel 和 WPS 保存的工作簿不含 DTD，"
            "请在 Excel 或 WPS 中重新另存为 .xlsx 后再上传"
        )
        % {"member": member},
        code="dtd",
    )


class Budget:
    """A deadline for one reading; ``clock`` is injectable for tests."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._deadline = clock() + seconds

    def check(self) -> None:
        if self._clock() > self._deadline:
            raise WorkbookRefused(
                _(
                    "读取工作簿超过 %(seconds)d 秒仍未完成，已停止，未导入任何数据。"
                    "请检查文件中是否有多余的内容（如大量空行、批注），或拆分后分批导入"
                )
                % {"seconds": self.seconds},
                code="timeout",
            )


# --- the zip, before openpyxl sees it ----------------------------------------------


@dataclass(frozen=True)
class ArchiveInfo:
    members: int
    uncompressed: int  # bytes, as declared by the zip directory

    @property
    def inline(self) -> bool:
        """Small enough to read on the request thread."""
        return self.uncompressed <= INLINE_BYTES


def _unsafe_name(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return True
    if ":" in name.split("/", 1)[0]:  # C:..., or a scheme
        return True
    return any(part in ("..", ".") for part in name.split("/"))


def inspect(data: bytes, limits: Limits) -> ArchiveInfo:
    """Check the upload and its zip directory; raise WorkbookRefused or say how big it is."""
    if not data:
        raise WorkbookRefused(_("文件是空的，请选择 XLSX 工作簿"), code="empty")
    if len(data) > limits.max_bytes:
        raise WorkbookRefused(
            _("文件超过 %(limit)s MB，已拒绝。请检查是否选错了文件，或拆分后分批导入")
            % {"limit": _mb(limits.max_bytes)},
            code="too_large",
        )
    if data.startswith(OLE_MAGIC):
        raise WorkbookRefused(
            _(
                "文件是设置了打开密码的工作簿或旧版 .xls 工作簿，无法读取。请在 Excel 或 WPS 中"
                "取消密码，并“另存为”Excel 工作簿（*.xlsx）后再上传"
            ),
            code="ole",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise not_xlsx() from None
    if len(infos) > limits.max_members:
        raise WorkbookRefused(
            _("工作簿的压缩包内有 %(count)d 个文件，超过上限 %(limit)d 个，已拒绝")
            % {"count": len(infos), "limit": limits.max_members},
            code="members",
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if _unsafe_name(name) or name.lower() in seen:
            raise WorkbookRefused(
                _("工作簿的压缩包内有不安全或重复的文件路径（%(member)s），已拒绝")
                % {"member": name[:100]},
                code="path",
            )
        seen.add(name.lower())
        if info.flag_bits & 0x1:
            raise WorkbookRefused(
                _(
                    "工作簿的压缩包内有加密的文件（%(member)s），已拒绝。请取消密码后另存为"
                    " .xlsx 再上传"
                )
                % {"member": name},
                code="encrypted",
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise WorkbookRefused(
                _(
                    "工作簿的压缩包使用了不支持的压缩方式（%(member)s），已拒绝。请在 Excel 或 WPS"
                    " 中另存为 .xlsx 后再上传"
                )
                % {"member": name},
                code="compression",
            )
        if info.file_size > limits.max_member_bytes:
            raise WorkbookRefused(
                _("工作簿中的 %(member)s 解压后大小超过 %(limit)s MB，已拒绝")
                % {"member": name, "limit": _mb(limits.max_member_bytes)},
                code="member_size",
            )
        total += info.file_size
        if total > limits.max_total_bytes:
            raise WorkbookRefused(
                _("工作簿解压后大小超过 %(limit)s MB，已拒绝")
                % {"limit": _mb(limits.max_total_bytes)},
                code="total_size",
            )
        if info.file_size > RATIO_FLOOR_BYTES:
            ratio = info.file_size // max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise WorkbookRefused(
                    _(
                        "工作簿中的 %(member)s 压缩比异常（%(ratio)d 倍，上限 %(limit)d 倍），"
                        "疑似压缩炸弹，已拒绝"
                    )
                    % {"member": name, "ratio": ratio, "limit": limits.max_ratio},
                    code="ratio",
                )
    return ArchiveInfo(members=len(infos), uncompressed=total)


# --- reading members through the guard ---------------------------------------------


class _Stop(Exception):
    pass


class _Prolog:
    """Runs a member's first bytes through expat up to its root element: a
    DOCTYPE there is refused. Anything expat cannot read (an image, a broken
    part) ends the check; the real parser reports broken XML."""

    def __init__(self) -> None:
        self.open = True
        self.doctype = False
        self._parser = expat.ParserCreate()
        self._parser.StartDoctypeDeclHandler = self._on_doctype
        self._parser.StartElementHandler = self._on_root

    def _on_doctype(self, *args: Any) -> None:
        self.doctype = True
        raise _Stop

    def _on_root(self, *args: Any) -> None:
        raise _Stop

    def feed(self, data: bytes, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except (_Stop, expat.ExpatError):
            self.open = False
        if final:
            self.open = False


class _Guard:
    def __init__(self, budget: Budget, total: int, progress: Callable[[int, int], None] | None):
        self.budget = budget
        self.total = total
        self.read = 0
        self._progress = progress

    def count(self, n: int) -> None:
        self.read += n
        if self._progress is not None:
            self._progress(min(self.read, self.total), self.total)


class _Member(io.RawIOBase):
    """One member as openpyxl reads it: prolog checked, budget checked on every read."""

    def __init__(self, raw: Any, name: str, guard: _Guard) -> None:
        self._raw = raw
        self._name = name
        self._guard = guard
        self._prolog = _Prolog()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        self._guard.budget.check()
        data = self._raw.read(min(size, CHUNK))
        self._guard.count(len(data))
        if self._prolog.open:
            self._prolog.feed(data, final=not data)
            if self._prolog.doctype:
                raise _dtd(self._name)
        return data

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(CHUNK):
            parts.append(chunk)
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _GuardedZip(zipfile.ZipFile):
    def __init__(self, file: Any, guard: _Guard) -> None:
        super().__init__(file)
        self._guard = guard

    def open(self, name: Any, mode: str = "r", pwd: Any = None, **kwargs: Any) -> Any:
        raw = super().open(name, mode, pwd, **kwargs)
        if mode != "r":
            return raw
        return _Member(raw, getattr(name, "filename", name), self._guard)


# --- the workbook ---------------------------------------------------------------------


def _filled(values: tuple) -> bool:
    return any(v is not None and v != "" for v in values)


class SafeWorkbook:
    """A workbook opened by ``open_workbook``; close it (or use ``with``)."""

    def __init__(self, wb: Any, guard: _Guard, limits: Limits) -> None:
        self._wb = wb
        self._guard = guard
        self.limits = limits

    def __enter__(self) -> SafeWorkbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._wb.close()

    @property
    def sheetnames(self) -> list[str]:
        return list(self._wb.sheetnames)

    @property
    def active_name(self) -> str | None:
        ws = self._wb.active
        return ws.title if ws is not None else None

    def rows(self, name: str) -> Iterator[tuple[int, tuple]]:
        """(row number, values) of the sheet, at most ``max_columns`` values each.

        Rows and columns past the caps are allowed only while they are empty
        (sheets often carry formatting far below their data)."""
        ws = self._wb[name]
        if not hasattr(ws, "iter_rows"):  # a chart sheet
            raise WorkbookRefused(
                _("工作表“%(sheet)s”是图表，没有数据行") % {"sheet": name}, code="chartsheet"
            )
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # some programs write wrong dimensions; read every row
        it = ws.iter_rows(values_only=True)
        limits = self.limits
        rowno = 0
        while True:
            self._guard.budget.check()
            try:
                values = next(it)
            except StopIteration:
                return
            except WorkbookRefused:
                raise
            except Exception as exc:  # broken XML, a bad CRC, entities refused by defusedxml
                if type(exc).__module__.startswith("defusedxml"):
                    raise _dtd(name) from None
                raise _damaged(name) from None
            rowno += 1
            if len(values) > limits.max_columns:
                if _filled(values[limits.max_columns :]):
                    raise WorkbookRefused(
                        _("工作表“%(sheet)s”第 %(row)d 行超过 %(limit)d 列，已拒绝。请删去多余的列")
                        % {"sheet": name, "row": rowno, "limit": limits.max_columns},
                        code="columns",
                    )
                values = values[: limits.max_columns]
            if rowno > limits.max_rows:
                if _filled(values):
                    raise WorkbookRefused(
                        _("工作表“%(sheet)s”超过 %(limit)d 行，已拒绝。请拆分后分批导入")
                        % {"sheet": name, "limit": limits.max_rows},
                        code="rows",
                    )
                continue
            yield rowno, values


def open_workbook(
    data: bytes,
    limits: Limits | None = None,
    *,
    budget: Budget | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SafeWorkbook:
    """Check and open an uploaded workbook (see the module docstring).

    ``progress(done, total)`` is called with the inflated bytes read so far.
    """
    from openpyxl.reader.excel import ExcelReader

    limits = limits or Limits()
    info = inspect(data, limits)
    guard = _Guard(budget or Budget(limits.seconds), info.uncompressed, progress)
    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        # openpyxl opens the zip itself; it then reads only through the guarded one.
        reader.archive.close()
        reader.archive = _GuardedZip(io.BytesIO(data), guard)
        reader.valid_files = reader.archive.namelist()
        reader.read()
    except WorkbookRefused:
        raise
    except Exception as exc:  # zip, XML or openpyxl's own errors: no workbook in there
        cause = exc.__cause__ or exc
        if type(cause).__module__.startswith("defusedxml"):
            raise _dtd("workbook") from None
        if isinstance(cause, WorkbookRefused):
            raise cause from None
        raise not_xlsx() from None
    return SafeWorkbook(reader.wb, guard, limits)
