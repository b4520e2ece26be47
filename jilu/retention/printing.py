"""The disposal list (销毁清单) printed for the archive: PDF from the same HTML as
the page (WeasyPrint, CJK fonts), and XLSX with real dates that prints as a
table (C5.6)."""

from __future__ import annotations

import io
from datetime import datetime

from django.template.loader import render_to_string
from django.utils import timezone, translation

from jilu.evidence.timeline import SHANGHAI
from jilu.retention import rules
from jilu.retention.models import Disposal

PRINT_LANGUAGE = "zh-hans"  # a record for the archive, in Chinese

HEADERS = [
    "序号",
    "文件名",
    "执法人员",
    "记录仪",
    "开始时间",
    "SHA-256",
    "保存至",
    "依据",
    "处置结果",
    "说明",
]


def rows(disposal: Disposal) -> list[list]:
    out = []
    items = disposal.items.select_related("recording", "recording__officer", "recording__recorder")
    for n, item in enumerate(items, start=1):
        rec = item.recording
        rule = rules.RULES.get(item.rule)
        out.append(
            [
                n,
                rec.original_name,
                rec.officer.name if rec.officer_id else "—",
                rec.recorder.serial,
                timezone.localtime(rec.started_at, SHANGHAI).replace(tzinfo=None),
                rec.sha256,
                item.keep_until,
                f"{rule.clause} {rule.text}" if rule else item.rule,
                item.get_outcome_display(),
                item.note,
            ]
        )
    return out


def _context(disposal: Disposal) -> dict:
    return {
        "disposal": disposal,
        "headers": HEADERS,
        "rows": rows(disposal),
        "printed_at": timezone.localtime(timezone.now(), SHANGHAI),
    }


def pdf(disposal: Disposal) -> bytes:
    from weasyprint import HTML

    with translation.override(PRINT_LANGUAGE):
        html = render_to_string("retention/disposal_print.html", _context(disposal))
    return HTML(string=html).write_pdf()


def xlsx(disposal: Disposal) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "销毁清单"
    with translation.override(PRINT_LANGUAGE):
        title = f"声像资料销毁清单 {disposal.number}"
        unit = disposal.unit.name
        state = disposal.get_state_display()
    ws.append([title])
    ws.append(
        [f"单位：{unit}", "", f"保存期满日：{disposal.cutoff.isoformat()}", "", f"状态：{state}"]
    )
    reviewer = disposal.reviewed_by.name if disposal.reviewed_by_id else "—"
    approver = disposal.approved_by.name if disposal.approved_by_id else "—"
    ws.append([f"审核（档案管理员）：{reviewer}", "", f"批准（领导）：{approver}"])
    ws.append(HEADERS)
    ws["A1"].font = Font(bold=True, size=14)
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for row in rows(disposal):
        ws.append(row)
        r = ws.max_row
        ws.cell(r, 5).number_format = "yyyy-mm-dd hh:mm:ss"
        ws.cell(r, 7).number_format = "yyyy-mm-dd"
        for cell in ws[r]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = 30
    widths = [6, 36, 10, 10, 19, 24, 12, 28, 12, 24]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[chr(64 + i)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "4:4"
    ws.oddHeader.center.text = title
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def stamp(at: datetime | None) -> str:
    return timezone.localtime(at, SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else "—"
