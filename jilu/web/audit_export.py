"""The audit log's filtered view as an XLSX workbook for inspectors (C6.4).

Times are real date-time cells in Beijing time, long texts wrap in rows tall
enough to read, and the header row repeats on every printed page. An export is
bounded (``MAX_ROWS``) and is itself written to the audit log, with its filters
in words and how many rows it held.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from jilu.audit.chain import record
from jilu.web.audit_text import Row, describe

MAX_ROWS = 50_000
BATCH = 1_000  # entries named per round of look-ups


def headers() -> list[tuple[str, int, bool]]:
    """(header, column width, wraps) of each column."""
    return [
        (_("序号"), 9, False),
        (_("时间（北京时间）"), 20, False),
        (_("操作人"), 22, True),
        (_("操作"), 28, True),
        (_("操作类别"), 16, False),
        (_("对象"), 36, True),
        (_("详情"), 60, True),
        (_("操作代码"), 28, False),
        (_("哈希"), 20, False),
        (_("对象代码"), 28, False),
    ]


def _rows(entries: QuerySet) -> Iterator[Row]:
    """The entries newest first, named a batch at a time (bounded memory)."""
    last = None
    while True:
        batch_qs = entries.order_by("-seq")
        if last is not None:
            batch_qs = batch_qs.filter(seq__lt=last)
        batch = list(batch_qs[:BATCH])
        if not batch:
            return
        yield from describe(batch)
        last = batch[-1].seq


def _height(texts: list[tuple[str, int]]) -> float:
    """A row tall enough for its longest wrapped text (CJK characters are wide)."""
    lines = 1
    for text, width in texts:
        chars = sum(2 if ord(c) > 0x2E80 else 1 for c in text)
        lines = max(lines, -(-chars // max(width - 1, 1)))
    return 15.0 * min(lines, 20)


def workbook(entries: QuerySet, *, description: str) -> tuple[bytes, int]:
    """The workbook and how many entries it holds (at most ``MAX_ROWS``)."""
    wb = Workbook()
    ws = wb.active
    ws.title = _("审计日志")
    cols = headers()
    ws.append([h for h, _w, _wrap in cols])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDDDDD")
    for i, (_h, width, _wrap) in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.row_dimensions[1].height = 20
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = _("第 &P 页，共 &N 页")
    wrap = Alignment(vertical="top", wrap_text=True)
    top = Alignment(vertical="top")
    count = 0
    for row in _rows(entries):
        if count >= MAX_ROWS:
            break
        count += 1
        values = [
            row.seq,
            timezone.localtime(row.at).replace(tzinfo=None),
            row.actor_text,
            row.action_text,
            row.family_text,
            row.object_text,
            row.detail_text,
            row.action,
            row.hash,
            f"{row.object_type}:{row.object_id}" if row.object_id else row.object_type,
        ]
        ws.append(values)
        r = ws.max_row
        for i, (_h, _w, wraps) in enumerate(cols, start=1):
            ws.cell(row=r, column=i).alignment = wrap if wraps else top
        ws.cell(row=r, column=2).number_format = "yyyy-mm-dd hh:mm:ss"
        ws.row_dimensions[r].height = _height(
            [(str(v), cols[i][1]) for i, v in enumerate(values) if cols[i][2]]
        )
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(ws.max_row, 1)}"
    info = wb.create_sheet(_("说明"))
    info.column_dimensions["A"].width = 100
    info.append([_("审计日志导出（北京时间）")])
    info.append([_("导出时间：%(t)s") % {"t": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")}])
    info.append([_("筛选条件：%(f)s") % {"f": description or _("未筛选")}])
    info.append([_("条数：%(n)s") % {"n": count}])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), count


def export(*, actor: Any, entries: QuerySet, description: str) -> tuple[bytes, int]:
    """Build the workbook and write the export to the audit log in one transaction."""
    with transaction.atomic():
        data, count = workbook(entries, description=description)
        record("audit.log.export", actor=actor, details={"rows": count, "filters": description})
    return data, count
