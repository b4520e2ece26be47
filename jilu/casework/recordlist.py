"""The case's AV record list: 行政执法音像记录事项清单 (Attachment 2, A2; C5.4, C5.5).

Every recording linked to a case is one row, in case order (A2 rule 4: the
recordings are numbered and named in the order the case was handled, and the
list's 序号 and 记录事项 agree with the names). The list goes with the case
file and the disc to the legal department, whose reviewers check the footage
against it (C5.5); it is printed as the file's last page (A2 rule 5): PDF,
A4 landscape, with the attachment's title and columns, and XLSX with the same
columns for other systems.

记录保存情况 (state kept) per row is 完整, or 不完整 with the reasons:
- 中断 (gap): the recorder's previous video segment within the same activity
  ended before this one started (C4.3: record continuously; DESIGN contract 5:
  segments of one continuous recording follow each other with no gap);
- 截断 (truncated): media probing found the file incomplete
  (``MediaInfo.integrity == "incomplete"``), or it cannot be parsed;
- 缺少分段 (missing segment): the recorder's file numbers between two listed
  video segments name a file never collected, or a video segment collected
  but not in the list;
or 待检测 while the file has not been probed yet.

Continuity (中断, 缺少分段) is judged per recorder within each activity among
video segments only. Photos (JPG) and sound recordings (WAV) are rows of the
list like any recording (C5.4), but they are not segments of the filming:
they neither break a run of video segments nor bridge a gap between two of
them. ``continuity`` is the one place this is decided; ``build`` (and so the
page, the PDF, the XLSX, the JSON and the disc's ``index.html``) and the
activity page (``activity_states``) all show what it finds.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from django.template.loader import render_to_string
from django.utils import timezone, translation

from jilu.casework.models import Activity, Annotation, Case
from jilu.casework.queries import case_recordings, integrity_of, recording_end
from jilu.evidence.media_models import MediaInfo
from jilu.evidence.models import Recording

TITLE = "行政执法音像记录事项清单"
COLUMNS = (
    "序号",
    "执法类别",
    "执法事项",
    "记录事项",
    "执法部门",
    "记录人员",
    "记录地点",
    "开始记录时间",
    "结束记录时间",
    "记录保存情况",
)

COMPLETE = "完整"
INCOMPLETE = "不完整"
PENDING = "待检测"

# Two segments closer than this are continuous (file times have 1 s resolution).
GAP_TOLERANCE = timedelta(seconds=2)
# File names of the reference layout: <serial>_<user_no>_<YYYYMMDDhhmmss>_<NNNN>.ext
SEGMENT_NAME = re.compile(r"^(?P<serial>[0-9A-Za-z]+)_[0-9A-Za-z]+_\d{14}_(?P<seq>\d{4})\.\w+$")
SEQ_WRAP = 9999  # recorders count 0001 … 9999, then 0001 again
MAX_MISSING_LISTED = 5
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# The XLSX (A2): the column headers' row (under the title and the case), the
# column widths (in widths of "0"), the fonts, and how its date-times show.
XLSX_HEADER_ROW = 4
XLSX_WIDTHS = (6, 12, 22, 12, 22, 11, 28, 20, 20, 30)
XLSX_FONT_PT = 11
XLSX_TITLE_PT = 16
XLSX_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


@dataclass
class Row:
    no: int | None
    category: str
    matter: str
    step: str
    unit: str
    officer: str
    place: str
    started: str
    ended: str
    state: str
    complete: bool
    reasons: list[str] = field(default_factory=list)
    annotation_id: int = 0
    recording_id: int = 0
    standard_name: str = ""
    file_name: str = ""
    start_at: datetime | None = None  # the times ``started``/``ended`` print
    end_at: datetime | None = None

    def cells(self) -> list[str]:
        """The ten cells in the attachment's column order."""
        return [
            "" if self.no is None else str(self.no),
            self.category,
            self.matter,
            self.step,
            self.unit,
            self.officer,
            self.place,
            self.started,
            self.ended,
            self.state,
        ]


@dataclass
class RecordList:
    case: Case
    rows: list[Row]
    generated_at: datetime

    @property
    def complete(self) -> bool:
        return all(r.complete for r in self.rows)


def _fmt(at: datetime | None) -> str:
    return timezone.localtime(at).strftime(TIME_FORMAT) if at else ""


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}小时{minutes}分{secs}秒"
    if minutes:
        return f"{minutes}分{secs}秒"
    return f"{secs}秒"


def _seq(recording: Recording) -> int | None:
    match = SEGMENT_NAME.match(recording.original_name.rsplit("/", 1)[-1])
    return int(match["seq"]) if match else None


def _between(a: int, b: int) -> list[int]:
    """File numbers strictly between a and b, counting on past 9999 to 0001."""
    out: list[int] = []
    n = a
    while len(out) <= SEQ_WRAP:
        n = n % SEQ_WRAP + 1
        if n == b:
            return out
        out.append(n)
    return out


def _media_reasons(integrity: str, reason: str) -> tuple[list[str], bool]:
    """(reasons it is incomplete, still pending) from the media probe (truncated)."""
    if integrity == MediaInfo.Integrity.INCOMPLETE:
        return [f"截断：{reason or '文件不完整'}"], False
    if integrity == MediaInfo.Integrity.UNPARSEABLE:
        return [f"截断：文件无法解析（{reason or '无法读取'}）"], False
    if integrity == MediaInfo.Integrity.COMPLETE:
        return [], False
    return [], True


def _is_segment(recording: Recording) -> bool:
    """Whether the recording is a segment of the filming whose continuity C4.3
    asks for: video only. A photo or a sound recording is listed (C5.4) but
    neither breaks a run of video segments nor bridges a gap between two."""
    return recording.kind == Recording.Kind.VIDEO


def _uncovered(
    prev_start: datetime, prev_end: datetime | None, cur_start: datetime, around: list[Recording]
) -> timedelta:
    """Time between two listed video segments that no video segment of the
    recorder covers (a segment collected but left out of the list is a missing
    segment, not a gap). ``around`` holds the recorder's video segments only."""
    if prev_end is None:
        return timedelta(0)
    covered_until = prev_end
    uncovered = timedelta(0)
    for r in around:
        if not (prev_start < r.started_at < cur_start):
            continue
        end = recording_end(r)
        if end is None:
            continue
        if r.started_at - covered_until > GAP_TOLERANCE:
            uncovered += r.started_at - covered_until
        covered_until = max(covered_until, end)
    if cur_start - covered_until > GAP_TOLERANCE:
        uncovered += cur_start - covered_until
    return uncovered


def continuity(annotations: list[Annotation], listed: set[int]) -> dict[int, list[str]]:
    """Gap and missing-segment reasons (C4.3), per annotation id.

    Judged between consecutive video segments of the same recorder within the
    same activity; photos and sound recordings take no part (``_is_segment``).
    ``listed`` is the recording ids of the case's list (or, for an activity of
    no case, of the activity): a recorder's video segment between two listed
    ones that is not among them is named as missing from the list. Each
    annotation needs its ``recording`` (and the recording's ``media``) loaded.
    """
    reasons: dict[int, list[str]] = {}
    groups: dict[tuple[int, int], list[tuple[Annotation, datetime, datetime | None]]] = {}
    for a in annotations:
        rec = a.recording
        if _is_segment(rec):
            key = (a.activity_id, rec.recorder_id)
            groups.setdefault(key, []).append((a, rec.started_at, recording_end(rec)))
    for (_activity_id, recorder_id), members in groups.items():
        if len(members) < 2:
            continue
        members.sort(key=lambda m: (m[1], m[0].recording_id))
        # What this recorder collected between the first and last listed segment:
        # every kind for its file numbers, video segments for what covers a gap.
        collected = list(
            Recording.objects.filter(
                recorder_id=recorder_id,
                started_at__gte=members[0][1],
                started_at__lte=members[-1][1],
            )
            .select_related("media")
            .order_by("started_at", "pk")
        )
        segments = [r for r in collected if _is_segment(r)]
        by_seq = {s: r for r in collected if (s := _seq(r)) is not None}
        for (prev, prev_start, prev_end), (cur, cur_start, _cur_end) in pairwise(members):
            out: list[str] = []
            uncovered = _uncovered(prev_start, prev_end, cur_start, segments)
            if uncovered > GAP_TOLERANCE:
                out.append(f"中断：与上一分段间隔{_duration(uncovered)}")
            ps, cs = _seq(prev.recording), _seq(cur.recording)
            if ps is not None and cs is not None:
                between = _between(ps, cs)
                never = [n for n in between if n not in by_seq]
                unlisted = [
                    by_seq[n]
                    for n in between
                    if n in by_seq and by_seq[n].pk not in listed and _is_segment(by_seq[n])
                ]
                if never:
                    shown = "、".join(f"{n:04d}" for n in never[:MAX_MISSING_LISTED])
                    more = f"等{len(never)}个" if len(never) > MAX_MISSING_LISTED else ""
                    out.append(f"缺少分段：{shown}{more}未采集")
                out.extend(f"缺少分段：{r}未登记入清单" for r in unlisted[:MAX_MISSING_LISTED])
            if out:
                reasons.setdefault(cur.pk, []).extend(out)
    return reasons


@dataclass(frozen=True)
class State:
    """记录保存情况 of one row: the text printed, whether it is 完整, and why not."""

    text: str
    complete: bool
    reasons: list[str]


def _state(
    integrity: str, integrity_reason: str, end: datetime | None, sequence: list[str]
) -> State:
    """记录保存情况 from the media probe (截断, 待检测) and ``continuity`` (中断, 缺少分段)."""
    reasons, pending = _media_reasons(integrity, integrity_reason)
    reasons = reasons + sequence
    if reasons:
        return State(f"{INCOMPLETE}（{'；'.join(reasons)}）", False, reasons)
    if pending or end is None:
        return State(PENDING, False, [])
    return State(COMPLETE, True, [])


@translation.override("zh-hans")  # the text of the printed list (A2), on every page
def activity_states(activity: Activity) -> dict[int, State]:
    """记录保存情况 of each recording annotated to ``activity``, per annotation id,
    exactly as the case's record list states it (the same ``continuity``)."""
    annotations = list(
        Annotation.objects.filter(activity=activity).select_related("recording", "recording__media")
    )
    if activity.case_id:
        listed = set(
            Annotation.objects.filter(case_id=activity.case_id).values_list(
                "recording_id", flat=True
            )
        )
    else:
        listed = {a.recording_id for a in annotations}
    sequence = continuity(annotations, listed)
    out = {}
    for a in annotations:
        integrity, reason = integrity_of(a.recording)
        out[a.pk] = _state(integrity, reason, recording_end(a.recording), sequence.get(a.pk, []))
    return out


@translation.override("zh-hans")  # printed documents stay Chinese (A1, A2, C5.3, C5.5)
def build(case: Case) -> RecordList:
    """The list from ``queries.case_recordings`` (list order), with each row's state."""
    source = case_recordings(case)
    sequence = continuity([r.annotation for r in source], {r.recording.pk for r in source})
    rows: list[Row] = []
    for r in source:
        state = _state(r.integrity, r.integrity_reason, r.end, sequence.get(r.annotation.pk, []))
        rows.append(
            Row(
                no=r.list_no,
                category=r.category,
                matter=r.matter,
                step=r.step,
                unit=r.unit,
                officer=r.officer or "—",
                place=r.place,
                started=_fmt(r.start),
                ended=_fmt(r.end) if r.end else PENDING,
                state=state.text,
                complete=state.complete,
                reasons=state.reasons,
                annotation_id=r.annotation.pk,
                recording_id=r.recording.pk,
                standard_name=r.standard_name,
                file_name=r.file_name,
                start_at=r.start,
                end_at=r.end,
            )
        )
    return RecordList(case=case, rows=rows, generated_at=timezone.now())


@translation.override("zh-hans")  # printed documents stay Chinese (A1, A2, C5.3, C5.5)
def render_pdf(record_list: RecordList, *, pdf_variant: str | None = None) -> bytes:
    """A4 landscape, the attachment's title and columns, CJK fonts embedded
    (subset with libharfbuzz-subset0), page numbers from @page counters;
    ``pdf_variant`` (e.g. ``"pdf/a-3b"``) for the copy archived on the disc."""
    from weasyprint import HTML

    html = render_to_string(
        "casework/recordlist_print.html",
        {
            "title": TITLE,
            "columns": COLUMNS,
            "case": record_list.case,
            "rows": record_list.rows,
            "generated_at": timezone.localtime(record_list.generated_at),
        },
    )
    return HTML(string=html).write_pdf(pdf_variant=pdf_variant)


@translation.override("zh-hans")  # printed documents stay Chinese (A1, A2, C5.3, C5.5)
def render_xlsx(record_list: RecordList) -> bytes:
    """One sheet named after the attachment, printed like the PDF (A2 rule 5).

    Rows 1–3 are the title and the case (number, 案由, party, unit, handler),
    row ``XLSX_HEADER_ROW`` the columns (repeated on every printed page), then
    one row per recording. Start and end are date-time cells in Beijing time
    (naive, as spreadsheets have no time zones), not text. Every row has an
    explicit height for its wrapped text: LibreOffice and Gnumeric do not grow
    a row to fit wrapped text written by another program, and would print one
    line of each cell.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    case = record_list.case
    wb = Workbook()
    ws = wb.active
    ws.title = TITLE
    last = get_column_letter(len(COLUMNS))
    total_width = sum(XLSX_WIDTHS)
    line_one = [f"案件编号：{case.number}"]
    if case.title:
        line_one.append(f"案由：{case.title}")
    line_two = []
    if case.party_id:
        line_two.append(f"当事人：{case.party.name}")
    line_two.append(f"承办单位：{case.unit.name}")
    if case.handler_id:
        line_two.append(f"承办人：{case.handler.name}")
    heading = [
        (TITLE, Font(bold=True, size=XLSX_TITLE_PT), "center", XLSX_TITLE_PT),
        ("　".join(line_one), Font(size=XLSX_FONT_PT), "left", XLSX_FONT_PT),
        ("　".join(line_two), Font(size=XLSX_FONT_PT), "left", XLSX_FONT_PT),
    ]
    for n, (text, font, horizontal, size) in enumerate(heading, 1):
        cell = ws.cell(row=n, column=1, value=text)
        cell.font = font
        cell.alignment = Alignment(horizontal=horizontal, vertical="center", wrap_text=True)
        ws.merge_cells(f"A{n}:{last}{n}")
        ws.row_dimensions[n].height = _row_height([(text, total_width)], size)

    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header = XLSX_HEADER_ROW
    for i, title in enumerate(COLUMNS, 1):
        cell = ws.cell(row=header, column=i, value=title)
        cell.font = Font(bold=True, size=XLSX_FONT_PT)
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[header].height = _row_height(
        list(zip(COLUMNS, XLSX_WIDTHS, strict=True)), XLSX_FONT_PT, bold=True
    )
    for n, row in enumerate(record_list.rows, header + 1):
        cells = row.cells()
        values: list[object] = [row.no, *cells[1:]]
        texts = list(cells)
        # 开始记录时间 / 结束记录时间 as date-times; 待检测 stays text.
        for i, at in ((7, row.start_at), (8, row.end_at)):
            if at is not None:
                values[i] = timezone.localtime(at).replace(tzinfo=None)
                texts[i] = ""  # a date-time fits its column and never wraps
        for i, value in enumerate(values, 1):
            cell = ws.cell(row=n, column=i, value=value)
            cell.font = Font(size=XLSX_FONT_PT)
            cell.border = border
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            if isinstance(value, datetime):
                cell.number_format = XLSX_TIME_FORMAT
                cell.alignment = Alignment(horizontal="center", vertical="center")
        ws.row_dimensions[n].height = _row_height(
            list(zip(texts, XLSX_WIDTHS, strict=True)), XLSX_FONT_PT
        )
    for i, width in enumerate(XLSX_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"A{header + 1}"
    ws.print_title_rows = f"{header}:{header}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = f"{TITLE}（{case.number}）"
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _text_width(text: str, *, bold: bool = False) -> float:
    """Width of ``text`` in column-width units (the width of a "0" of the body font):
    a CJK (full-width) character takes about two, any other about one. Rounded up
    on purpose: a row a little too tall prints; one too short loses a line."""
    units = sum(2.2 if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in text)
    return units * (1.1 if bold else 1.0)


def _row_height(cells: list[tuple[str, float]], font_pt: float, *, bold: bool = False) -> float:
    """Points for a row whose cells (text, column width) wrap: the tallest cell's
    line count times the line height of a CJK font (about 1.45 em), plus padding."""
    lines = 1
    for text, width in cells:
        usable = max(width - 1.0, 1.0)  # the cell's inner margins
        count = sum(
            max(1, math.ceil(_text_width(part, bold=bold) / usable))
            for part in str(text).split("\n")
        )
        lines = max(lines, count)
    return round(lines * font_pt * 1.5 + 4, 1)


def to_json(record_list: RecordList) -> dict:
    """The list as JSON for other systems (API item 8)."""
    return {
        "case": record_list.case.number,
        "title": TITLE,
        "columns": list(COLUMNS),
        "complete": record_list.complete,
        "rows": [
            {
                "no": r.no,
                "cells": r.cells(),
                "complete": r.complete,
                "reasons": r.reasons,
                "recording_id": r.recording_id,
                "standard_name": r.standard_name,
                "file_name": r.file_name,
            }
            for r in record_list.rows
        ],
    }
