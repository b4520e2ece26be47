"""Exporting a roster: the units and people of a user's scope as a workbook
in the import format, with a sheet of instructions.
"""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from django.db import transaction
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from jilu.audit.chain import record
from jilu.org import queries
from jilu.org.models import Person, Unit
from jilu.org.roster.base import (
    LEVEL_LABELS,
    MAX_ROWS,
    PERSON_HEADERS,
    ROLE_LABELS,
    SHEET_HELP,
    SHEET_PEOPLE,
    SHEET_UNITS,
    UNIT_HEADERS,
    _roles_text,
    _yes_no,
)

# --- export -----------------------------------------------------------------------


def export_units(user: Any, unit: Unit | None = None) -> Any:
    units = queries.home_units(user)
    if unit is not None:
        units = units.filter(path__startswith=unit.path)
    return units.select_related("parent").order_by("path")


def export_roster(user: Any, *, unit: Unit | None = None) -> bytes:
    """The units and people of ``user``'s scope (optionally one subtree) as XLSX.

    The file is the import format: importing it unchanged changes nothing.
    Exports carry personal data (phones), so each one is audited.
    """
    units = list(export_units(user, unit))
    people = list(
        Person.objects.restrict(user, "view")
        .filter(unit__in=export_units(user, unit).values("pk"))
        .select_related("unit")
        .prefetch_related("role_grants")
        .order_by("unit__path", "name", "username")
    )
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET_UNITS
    _header_row(ws, UNIT_HEADERS, widths=(16, 34, 24, 12, 16, 10), text_cols="AE")
    for u in units:
        ws.append(
            [
                u.code,
                u.name,
                u.short_name,
                LEVEL_LABELS[u.level],
                u.parent.code if u.parent_id else "",
                _yes_no(u.independently_housed),
            ]
        )
    _choices(ws, "D", list(LEVEL_LABELS.values()))
    _choices(ws, "F", ["是", "否"])

    ws = wb.create_sheet(SHEET_PEOPLE)
    _header_row(ws, PERSON_HEADERS, widths=(12, 16, 10, 16, 16, 8, 30, 16, 8), text_cols="BCDEH")
    for p in people:
        p._roles_cache = frozenset(g.role for g in p.role_grants.all())
        ws.append(
            [
                p.name,
                p.username,
                p.user_no or "",
                p.cert_no or "",
                p.unit.code,
                _yes_no(p.frontline),
                _roles_text(p.roles),
                p.phone,
                _yes_no(p.is_active),
            ]
        )
    _choices(ws, "F", ["是", "否"])
    _choices(ws, "I", ["是", "否"])
    _help_sheet(wb)

    out = io.BytesIO()
    wb.save(out)
    with transaction.atomic():
        record(
            "org.roster.export",
            actor=user,
            details={
                "unit": unit.code if unit else None,
                "units": len(units),
                "people": len(people),
            },
        )
    return out.getvalue()


def _header_row(
    ws: Any, headers: tuple[str, ...], *, widths: tuple[int, ...], text_cols: str
) -> None:
    ws.append(list(headers))
    fill = PatternFill("solid", fgColor="EEF1F6")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    # Codes and numbers typed later stay text (a 警号 "012345" keeps its zero).
    for col in text_cols:
        ws.column_dimensions[col].number_format = "@"
    ws.freeze_panes = "A2"


def _choices(ws: Any, col: str, options: list[str]) -> None:
    dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
    dv.error = "请从下拉列表中选择"
    ws.add_data_validation(dv)
    dv.add(f"{col}2:{col}{MAX_ROWS}")


def _help_sheet(wb: Any) -> None:
    ws = wb.create_sheet(SHEET_HELP)
    ws.column_dimensions["A"].width = 110
    lines = [
        "名册填写说明（导入时只读取“单位”和“人员”两个工作表，本页不导入）",
        "",
        "单位：按“单位编号”新建或更新；单位编号为12位数字或字母，导入后不能通过名册修改。",
        "层级：市局、区局/支队、大队、中队；下级单位的层级必须低于上级单位。",
        "上级单位编号：只有市局可以为空；上级单位可以写在同一表中的后面几行。",
        '简称：用于声像资料的标准文件名（C5.3），不能含有 \\ / : * ? " < > | 等字符。',
        "独立驻点：独立驻点的大队需要配备自己的数据采集工作站（C1.2），填“是”或“否”。",
        "",
        "人员：按“登录名”新建或更新。",
        "警号：6位数字或字母，与执法记录仪中存储的一致；以0开头时请保持单元格为文本格式。",
        "执法证号、警号在全系统中不能重复；一线执法人员每人配发一台记录仪（C1.1）。",
        "角色：可填多个，用逗号或顿号（、）分隔："
        + "、".join(ROLE_LABELS.values())
        + "；也可填英文代码。",
        "在岗：填“否”表示停用账号（人员离岗、调离）；不会删除任何人员。",
        "新导入的人员没有密码，请系统管理员在人员详情页“重置密码”后告知本人。",
        "",
        "导入时先检查所有行：任何一行有错误都不会导入任何数据，并逐行列出错误。",
    ]
    for line in lines:
        ws.append([line])
    ws["A1"].font = Font(bold=True)
