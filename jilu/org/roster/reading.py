"""Reading a roster workbook: open the XLSX, find the sheets and the header
row, and turn every non-empty row into a dict of cell texts.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import Any

import openpyxl

from jilu.org.roster.base import (
    MAX_BYTES,
    MAX_ROWS,
    NO,
    SHEET_PEOPLE,
    SHEET_UNITS,
    YES,
    RosterFileError,
)

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


def _load_workbook(data: bytes) -> Any:
    if not data:
        raise RosterFileError("文件是空的，请选择名册 XLSX 文件")
    if len(data) > MAX_BYTES:
        raise RosterFileError(
            f"文件超过 {MAX_BYTES // 1024 // 1024} MB，名册不应这么大，请检查是否选错了文件"
        )
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # any malformed upload: zip, XML or openpyxl's own errors
        raise RosterFileError(
            "文件不是有效的 XLSX 工作簿。请在 Excel 或 WPS 中“另存为”Excel 工作簿（*.xlsx）后再导入；"
            "旧版 .xls、CSV 和 WPS 的 .et 文件不能直接导入"
        ) from None


def _sheet(wb: Any, name: str) -> Any:
    by_name = {n.strip(): n for n in wb.sheetnames}
    if name not in by_name:
        found = "、".join(f"“{n}”" for n in wb.sheetnames) or "无"
        raise RosterFileError(
            f"缺少工作表“{name}”。名册需要两个工作表：“{SHEET_UNITS}”和“{SHEET_PEOPLE}”"
            f"（文件中的工作表：{found}）。可先导出一份名册作为模板"
        )
    return wb[by_name[name]]


def _rows(ws: Any, sheet: str, headers: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # some programs write wrong dimensions; read every row
    it = ws.iter_rows(values_only=True)
    first = next(it, None)
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
    for rowno, values in enumerate(it, start=2):
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
