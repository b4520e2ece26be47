"""Reading a roster workbook: open the XLSX, find the sheets and the header
row, and turn every non-empty row into a dict of cell texts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from jilu.org.roster.base import (
    MAX_BYTES,
    MAX_ROWS,
    NO,
    SHEET_PEOPLE,
    SHEET_UNITS,
    YES,
    RosterFileError,
)
from jilu.workbooks import Limits, SafeWorkbook, WorkbookRefused, open_workbook

# What a roster workbook may hold (jilu.workbooks reads every upload under limits);
# ``seconds`` is the request thread's budget: a background reading passes its own.
LIMITS = Limits(max_bytes=MAX_BYTES, max_rows=MAX_ROWS + 1, max_columns=64)

# --- reading -------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _header(value: Any) -> str:
    # Tolerate the marks people add to headers ("姓名*", "姓名 （必填）" is too far).
    return re.sub(r"\s+", "", _text(value)).rstrip("*＊")


def _load_workbook(
    data: bytes, *, limits: Limits = LIMITS, progress: Callable[[int, int], None] | None = None
) -> SafeWorkbook:
    try:
        return open_workbook(data, limits, progress=progress)
    except WorkbookRefused as exc:
        raise RosterFileError(str(exc)) from None


def _sheet(wb: SafeWorkbook, name: str) -> str:
    by_name = {n.strip(): n for n in wb.sheetnames}
    if name not in by_name:
        found = "、".join(f"“{n}”" for n in wb.sheetnames) or "无"
        raise RosterFileError(
            f"缺少工作表“{name}”。名册需要两个工作表：“{SHEET_UNITS}”和“{SHEET_PEOPLE}”"
            f"（文件中的工作表：{found}）。可先导出一份名册作为模板"
        )
    return by_name[name]


def _rows(
    wb: SafeWorkbook, name: str, sheet: str, headers: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    """The non-empty rows of sheet ``name`` (shown as ``sheet``) below its header."""
    it = wb.rows(name)
    first = next(it, (1, None))[1]
    expected = "、".join(headers)
    if first is None:
        raise RosterFileError(f"工作表“{sheet}”是空的。第一行应为表头：{expected}")
    index: dict[str, int] = {}
    for i, value in enumerate(first):
        name = _header(value)
        if not name:
            continue
        if name in index and name in headers:
            raise RosterFileError(f"工作表“{sheet}”中“{name}”列出现了两次，请删去多余的一列")
        index.setdefault(name, i)
    missing = [h for h in headers if h not in index]
    if missing:
        raise RosterFileError(
            f"工作表“{sheet}”缺少列：{'、'.join(missing)}。第一行应为表头：{expected}"
        )
    out = []
    for rowno, values in it:
        cells = {h: _text(values[index[h]]) if index[h] < len(values) else "" for h in headers}
        if not any(cells.values()):
            continue
        out.append((rowno, cells))
        if len(out) > MAX_ROWS:
            raise RosterFileError(f"工作表“{sheet}”超过 {MAX_ROWS} 行，请分批导入")
    return out


def _bool(value: str, default: bool) -> bool | None:
    if value == "":
        return default
    low = value.lower()
    if low in YES:
        return True
    if low in NO:
        return False
    return None
