"""The month's ledgers as they are shown and printed (C6.1): the page's rows,
the PDF (WeasyPrint, A4 landscape, the table header repeated on every page)
and the XLSX (one sheet per ledger, real date-time cells, row heights set,
the header row repeated when printed, A4 landscape), both in Chinese.

The recorder ledger prints like a paper register: one line per holding
(holder, issued, returned), the recorder's other cells spanning its lines.
A confirmed month prints its confirmed rows, with the amendments after them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jilu.casework.recordlist import _row_height
from jilu.evidence.timeline import SHANGHAI
from jilu.oversight import ledger as ledgers
from jilu.oversight.ledger import Ledger

RECORDER_COLUMNS = (
    gettext_lazy("序号"),
    gettext_lazy("产品序号"),
    gettext_lazy("厂商型号"),
    gettext_lazy("持有人"),
    gettext_lazy("配发时间"),
    gettext_lazy("归还时间"),
    gettext_lazy("检查次数"),
    gettext_lazy("最近检查"),
    gettext_lazy("故障/遗失/损坏/维修"),
    gettext_lazy("对接次数"),
    gettext_lazy("最近对接"),
    gettext_lazy("录像条数"),
)
RECORDINGS_COLUMNS = (
    gettext_lazy("序号"),
    gettext_lazy("日期"),
    gettext_lazy("执法人员"),
    gettext_lazy("警号"),
    gettext_lazy("条数"),
    gettext_lazy("总时长"),
    gettext_lazy("首次采集"),
    gettext_lazy("末次采集"),
    gettext_lazy("超24小时采集"),
    gettext_lazy("48小时内标注"),
    gettext_lazy("逾期标注"),
    gettext_lazy("未标注"),
    gettext_lazy("所属执法活动"),
)
AMENDMENT_COLUMNS = (
    gettext_lazy("序号"),
    gettext_lazy("台账"),
    gettext_lazy("行"),
    gettext_lazy("类别"),
    gettext_lazy("变更内容"),
)
RECORDER_WIDTHS = (5, 10, 14, 14, 17, 17, 7, 17, 30, 7, 17, 7)
RECORDINGS_WIDTHS = (5, 11, 10, 8, 6, 10, 17, 17, 8, 8, 8, 7, 34)
AMENDMENT_WIDTHS = (5, 22, 24, 10, 90)
XLSX_FONT_PT = 10
XLSX_TITLE_PT = 16
XLSX_HEADER_ROW = 3
XLSX_TIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_DATE_FORMAT = "yyyy-mm-dd"
XLSX_DURATION_FORMAT = "[h]:mm:ss"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _local(value: str | None) -> datetime | None:
    """A row's ISO time as a naive Beijing time (spreadsheets have no time zones)."""
    at = ledgers.parse_time(value)
    return at.astimezone(SHANGHAI).replace(tzinfo=None) if at else None


@dataclass
class HoldingLine:
    holder: str
    issued: datetime | None
    returned: datetime | None
    returned_text: str  # 未归还 when still held at the month's end


@dataclass
class RecorderLine:
    no: int
    row: dict
    holdings: list[HoldingLine]
    incidents: list[str]
    last_check: datetime | None
    last_docking: datetime | None
    rest: list[HoldingLine] = field(default_factory=list)  # holdings after the first

    @property
    def span(self) -> int:
        return max(1, len(self.holdings))

    @property
    def first(self) -> HoldingLine | None:
        return self.holdings[0] if self.holdings else None


@dataclass
class RecordingLine:
    no: int
    row: dict
    day: date
    first_docked: datetime | None
    last_docked: datetime | None
    duration: str


def recorder_lines(rows: list[dict]) -> list[RecorderLine]:
    out = []
    for n, row in enumerate(rows, 1):
        holdings = [
            HoldingLine(
                holder=f"{h['holder']}（{h['user_no']}）" if h["user_no"] else h["holder"],
                issued=_local(h["issued_at"]),
                returned=_local(h["returned_at"]),
                returned_text="" if h["returned_at"] else _("未归还"),
            )
            for h in row["holdings"]
        ]
        out.append(
            RecorderLine(
                no=n,
                row=row,
                holdings=holdings,
                incidents=[ledgers.incident_text(e) for e in row["incidents"]],
                last_check=_local(row["last_check"]),
                last_docking=_local(row["last_docking"]),
                rest=holdings[1:],
            )
        )
    return out


def recording_lines(rows: list[dict]) -> list[RecordingLine]:
    return [
        RecordingLine(
            no=n,
            row=row,
            day=date.fromisoformat(row["day"]),
            first_docked=_local(row["first_docked"]),
            last_docked=_local(row["last_docked"]),
            duration=ledgers.duration_text(row["seconds"]),
        )
        for n, row in enumerate(rows, 1)
    ]


def status_text(book: Ledger) -> str:
    if book.confirmation is not None:
        c = book.confirmation
        at = timezone.localtime(c.confirmed_at, SHANGHAI).strftime("%Y-%m-%d %H:%M")
        return _("已由 %(name)s 于 %(at)s 确认（SHA-256 %(sha)s）") % {
            "name": c.confirmed_by.name,
            "at": at,
            "sha": c.sha256,
        }
    at = timezone.localtime(book.generated_at, SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return _("未确认，数据截至 %(at)s") % {"at": at}


def unit_text(book: Ledger) -> str:
    unit = book.unit
    parent = unit.parent.name if unit.parent_id else ""
    return f"{parent} {unit.name}".strip()


def file_name(book: Ledger, ext: str) -> str:
    return f"台账_{book.unit.code}_{book.year}{book.month:02d}.{ext}"


def context(book: Ledger) -> dict:
    return {
        "book": book,
        "unit_text": unit_text(book),
        "status_text": status_text(book),
        "recorder_title": str(ledgers.RECORDER_TITLE),
        "recordings_title": str(ledgers.RECORDINGS_TITLE),
        "recorder_columns": RECORDER_COLUMNS,
        "recordings_columns": RECORDINGS_COLUMNS,
        "amendment_columns": AMENDMENT_COLUMNS,
        "recorders": recorder_lines(book.rows["recorders"]),
        "recordings": recording_lines(book.rows["recordings"]),
        "totals": book.totals,
        "total_duration": ledgers.duration_text(book.totals["seconds"]),
        "printed_at": timezone.localtime(timezone.now(), SHANGHAI),
    }


@translation.override(ledgers.PRINT_LANGUAGE)
def render_pdf(book: Ledger) -> bytes:
    """A4 landscape, each ledger from a new page, its header repeated on every page."""
    from weasyprint import HTML

    html = render_to_string("oversight/ledger_print.html", context(book))
    return HTML(string=html).write_pdf()


# --- XLSX ------------------------------------------------------------------------


class _Sheet:
    """One ledger sheet: title, unit and month, header, rows; printed A4 landscape."""

    def __init__(self, wb, title: str, book: Ledger, columns, widths) -> None:
        from openpyxl.styles import Alignment, Border, Font, Side
        from openpyxl.utils import get_column_letter

        self.ws = wb.create_sheet(title)
        self.widths = widths
        self.border = Border(*(Side(style="thin"),) * 4)
        self.font = Font(size=XLSX_FONT_PT)
        self.Alignment = Alignment
        ws = self.ws
        last = get_column_letter(len(columns))
        heading = f"{book.unit.name}{title}"
        meta = "　".join(
            [
                _("单位：%(unit)s") % {"unit": unit_text(book)},
                _("月份：%(month)s") % {"month": book.month_text},
                _("状态：%(status)s") % {"status": status_text(book)},
            ]
        )
        total = sum(widths)
        for n, (text, font, size) in enumerate(
            [
                (heading, Font(bold=True, size=XLSX_TITLE_PT), XLSX_TITLE_PT),
                (meta, Font(size=XLSX_FONT_PT), XLSX_FONT_PT),
            ],
            1,
        ):
            cell = ws.cell(row=n, column=1, value=text)
            cell.font = font
            cell.alignment = Alignment(
                horizontal="center" if n == 1 else "left", vertical="center", wrap_text=True
            )
            ws.merge_cells(f"A{n}:{last}{n}")
            ws.row_dimensions[n].height = _row_height([(text, total)], size)
        header = [str(c) for c in columns]
        for i, text in enumerate(header, 1):
            cell = ws.cell(row=XLSX_HEADER_ROW, column=i, value=text)
            cell.font = Font(bold=True, size=XLSX_FONT_PT)
            cell.border = self.border
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.row_dimensions[XLSX_HEADER_ROW].height = _row_height(
            list(zip(header, widths, strict=True)), XLSX_FONT_PT, bold=True
        )
        for i, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = f"A{XLSX_HEADER_ROW + 1}"
        ws.print_title_rows = f"{XLSX_HEADER_ROW}:{XLSX_HEADER_ROW}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.oddHeader.center.text = f"{heading}（{book.month_text}）"
        ws.oddFooter.center.text = "第 &P 页 共 &N 页"
        self.next_row = XLSX_HEADER_ROW + 1
        self.heights: dict[int, float] = {}

    def row(self, values: list, *, span: int = 1, spanned: set[int] = frozenset()) -> None:
        """Write one line; ``spanned`` columns (1-based) are merged over ``span`` lines."""
        n = self.next_row
        texts = []
        for i, value in enumerate(values, 1):
            cell = self.ws.cell(row=n, column=i, value=value)
            cell.font = self.font
            cell.border = self.border
            cell.alignment = self.Alignment(wrap_text=True, vertical="center")
            if isinstance(value, datetime):
                cell.number_format = XLSX_TIME_FORMAT
            elif isinstance(value, date):
                cell.number_format = XLSX_DATE_FORMAT
            if isinstance(value, (date, int)):
                cell.alignment = self.Alignment(horizontal="center", vertical="center")
            texts.append("" if isinstance(value, (date, datetime)) else str(value or ""))
        height = _row_height(list(zip(texts, self.widths, strict=True)), XLSX_FONT_PT)
        for col in spanned:
            if span > 1:
                self.ws.merge_cells(
                    start_row=n, start_column=col, end_row=n + span - 1, end_column=col
                )
        self.heights[n] = height
        self.next_row += 1

    def duration(self, column: int, seconds: int) -> None:
        """The line just written gets ``seconds`` as a real duration in ``column``."""
        cell = self.ws.cell(row=self.next_row - 1, column=column, value=seconds / 86400)
        cell.number_format = XLSX_DURATION_FORMAT

    def finish(self) -> None:
        for n, height in self.heights.items():
            self.ws.row_dimensions[n].height = height


def _recorder_sheet(wb, book: Ledger) -> None:
    sheet = _Sheet(wb, str(ledgers.RECORDER_TITLE), book, RECORDER_COLUMNS, RECORDER_WIDTHS)
    spanned = {1, 2, 3, 7, 8, 9, 10, 11, 12}
    for line in recorder_lines(book.rows["recorders"]):
        row = line.row
        first = line.first
        incidents = "\n".join(line.incidents)
        top = sheet.next_row
        sheet.row(
            [
                line.no,
                row["serial"],
                row["model"],
                first.holder if first else "",
                first.issued if first else None,
                (first.returned or first.returned_text) if first else None,
                row["checks"],
                line.last_check,
                incidents,
                row["dockings"],
                line.last_docking,
                row["recordings"],
            ],
            span=line.span,
            spanned=spanned,
        )
        for h in line.rest:
            values: list = [None] * len(RECORDER_COLUMNS)
            values[3:6] = [h.holder, h.issued, h.returned or h.returned_text]
            sheet.row(values)
        if line.span > 1:
            # The merged cells' text (incidents) needs the lines' heights together.
            need = _row_height([(incidents, RECORDER_WIDTHS[8])], XLSX_FONT_PT)
            have = sum(sheet.heights[top + i] for i in range(line.span))
            if need > have:
                for i in range(line.span):
                    sheet.heights[top + i] = round(need / line.span + 0.05, 1)
    sheet.finish()


def _recordings_sheet(wb, book: Ledger) -> None:
    sheet = _Sheet(wb, str(ledgers.RECORDINGS_TITLE), book, RECORDINGS_COLUMNS, RECORDINGS_WIDTHS)
    for line in recording_lines(book.rows["recordings"]):
        row = line.row
        sheet.row(
            [
                line.no,
                line.day,
                row["officer"] or _("（持有人不明）"),
                row["user_no"],
                row["count"],
                line.duration,
                line.first_docked,
                line.last_docked,
                row["late_collected"],
                row["annotated_in_time"],
                row["annotated_late"],
                row["unannotated"],
                "\n".join(row["activities"]),
            ]
        )
        sheet.duration(6, row["seconds"])
    totals = book.totals
    sheet.row(
        [
            _("合计"),
            None,
            None,
            None,
            totals["count"],
            ledgers.duration_text(totals["seconds"]),
            None,
            None,
            totals["late_collected"],
            totals["annotated_in_time"],
            totals["annotated_late"],
            totals["unannotated"],
            None,
        ]
    )
    sheet.duration(6, totals["seconds"])
    sheet.finish()


def _amendment_sheet(wb, book: Ledger) -> None:
    sheet = _Sheet(wb, _("更正"), book, AMENDMENT_COLUMNS, AMENDMENT_WIDTHS)
    for n, a in enumerate(book.amendments, 1):
        sheet.row([n, a.ledger_title, a.label, a.kind_label, a.text])
    if not book.amendments:
        sheet.row([None, None, None, None, _("确认后台账所依据的记录没有变化")])
    sheet.finish()


@translation.override(ledgers.PRINT_LANGUAGE)
def render_xlsx(book: Ledger) -> bytes:
    """Sheets 执法记录仪使用管理台账 and 声像记录台账; 更正 too once confirmed."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    _recorder_sheet(wb, book)
    _recordings_sheet(wb, book)
    if book.confirmed:
        _amendment_sheet(wb, book)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
