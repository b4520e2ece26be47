"""Building and reading roster workbooks in tests."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from jilu.org.roster import PERSON_HEADERS, SHEET_PEOPLE, SHEET_UNITS, UNIT_HEADERS


def workbook_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def roster_bytes(
    units: list[list[Any]] | None = None,
    people: list[list[Any]] | None = None,
    *,
    unit_headers: tuple[str, ...] | list[str] = UNIT_HEADERS,
    person_headers: tuple[str, ...] | list[str] = PERSON_HEADERS,
) -> bytes:
    return workbook_bytes(
        {
            SHEET_UNITS: [list(unit_headers), *(units or [])],
            SHEET_PEOPLE: [list(person_headers), *(people or [])],
        }
    )


def read_sheets(data: bytes) -> dict[str, list[list[Any]]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def person_row(
    username: str,
    name: str,
    unit_code: str,
    *,
    user_no: str = "",
    cert_no: str = "",
    frontline: str = "是",
    roles: str = "执法队员",
    phone: str = "",
    active: str = "是",
) -> list[str]:
    return [name, username, user_no, cert_no, unit_code, frontline, roles, phone, active]
