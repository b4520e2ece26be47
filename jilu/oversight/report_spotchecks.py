"""The 通报's spot-check section (C6.4): each unit's completed spot checks of
the period, the items reviewed and the share that passed. Registered with
:mod:`jilu.oversight.report_sections` when the app is ready."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jilu.evidence.timeline import SHANGHAI
from jilu.oversight.report_sections import Section, register
from jilu.oversight.spotcheck_stats import scores_by_unit


def compute(period: Any, unit: Any, unit_ids: list[int], as_of: datetime) -> list[dict]:
    """Scores per unit of the period's Beijing days, within the report's scope."""
    first = period.start.astimezone(SHANGHAI).date()
    last = (period.end.astimezone(SHANGHAI) - timedelta(microseconds=1)).date()
    return scores_by_unit(first, last, under=unit)


def xlsx(wb: Any, rows: list[dict]) -> None:
    from jilu.oversight.report_print import _header, _title

    ws = wb.create_sheet(_("抽检"))
    _title(ws, _("抽检得分（C6.4）：通过项 ÷（通过项 + 未通过项）"))
    _header(
        ws,
        3,
        [
            _("单位"),
            _("单位编号"),
            _("抽检次数"),
            _("抽检项"),
            _("通过"),
            _("未通过"),
            _("不适用"),
            _("得分"),
        ],
        [30, 16, 10, 10, 8, 8, 8, 8],
    )
    for n, r in enumerate(rows, 4):
        values = [r["name"], r["code"], r["checks"], r["items"], r["passed"], r["failed"], r["na"]]
        for col, value in enumerate([*values, r["score"]], 1):
            ws.cell(row=n, column=col, value=value)


def register_section() -> None:
    register(
        Section(
            key="spot_checks",
            title=gettext_lazy("抽检得分（C6.4）"),
            compute=compute,
            template="oversight/_report_spotchecks.html",
            xlsx=xlsx,
        )
    )
