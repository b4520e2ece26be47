"""Checking the rows of a roster: every cell of every row, with one list of
messages per bad row (the database is read, nothing is written).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError

from jilu.org import actions
from jilu.org.models import Unit
from jilu.org.roster.base import (
    LEVEL_WORDS,
    ROLE_LABELS,
    ROLE_SPLIT,
    ROLE_WORDS,
    SHEET_PEOPLE,
    SHEET_UNITS,
    UNIT_CODE_RE,
    USER_NO_RE,
    RowError,
    _messages,
)
from jilu.org.roster.reading import _bool

# --- checking and planning -------------------------------------------------------


@dataclass
class _UnitRow:
    row: int
    code: str
    name: str
    short_name: str
    level: str | None
    parent_code: str
    housed: bool | None


@dataclass
class _PersonRow:
    row: int
    username: str
    name: str
    user_no: str
    cert_no: str
    unit_code: str
    frontline: bool | None
    roles: frozenset[str] | None
    phone: str
    is_active: bool | None


class _RowChecker:
    """Parses and checks the cells of each row; the planner builds on it."""

    def __init__(self, user: Any | None) -> None:
        self.user = user
        self.problems: dict[tuple[str, int], list[str]] = defaultdict(list)
        self.db_units = {u.code: u for u in Unit.objects.select_related("parent")}
        if user is None:
            self.add_ids = None
            self.change_ids = None
        else:
            self.add_ids = set(Unit.objects.restrict(user, "add").values_list("pk", flat=True))
            self.change_ids = set(
                Unit.objects.restrict(user, "change").values_list("pk", flat=True)
            )
        self.grantable = actions.grantable_roles(user if user is not None else "system")

    def bad(self, sheet: str, row: int, message: str) -> None:
        self.problems[(sheet, row)].append(message)

    def may_add_under(self, unit: Unit) -> bool:
        return self.add_ids is None or unit.pk in self.add_ids

    def may_change(self, unit: Unit) -> bool:
        return self.change_ids is None or unit.pk in self.change_ids

    # -- units --

    def parse_units(self, rows: list[tuple[int, dict[str, str]]]) -> list[_UnitRow]:
        out, seen = [], {}
        for rowno, c in rows:
            bad = partial(self.bad, SHEET_UNITS, rowno)
            code = c["单位编号"]
            if not code:
                bad("单位编号为空")
            elif not UNIT_CODE_RE.match(code):
                bad(f"单位编号 {code} 应为12位数字或字母")
            elif code in seen:
                bad(f"单位编号 {code} 与第{seen[code]}行重复")
            else:
                seen[code] = rowno
            name = c["单位全称"]
            if not name:
                bad("单位全称为空")
            elif len(name) > 100:
                bad("单位全称超过100个字")
            short = c["简称"]
            if not short:
                bad("简称为空（简称用于文件命名，C5.3）")
            elif len(short) > 40:
                bad("简称超过40个字")
            else:
                try:
                    actions.check_short_name(short)
                except ValidationError as exc:
                    bad(_messages(exc))
            level = LEVEL_WORDS.get(c["层级"]) or LEVEL_WORDS.get(c["层级"].lower())
            if not c["层级"]:
                bad("层级为空（市局、区局/支队、大队、中队）")
            elif level is None:
                bad(f"层级“{c['层级']}”无法识别，应为 市局、区局/支队、大队、中队 之一")
            parent_code = c["上级单位编号"]
            if parent_code and parent_code == code:
                bad("上级单位编号不能是本单位自己的编号")
            elif not parent_code and level not in (None, Unit.Level.CITY):
                bad("上级单位编号为空（只有市局没有上级单位）")
            housed = _bool(c["独立驻点"], False)
            if housed is None:
                bad(f"独立驻点“{c['独立驻点']}”无法识别，请填“是”或“否”")
            out.append(_UnitRow(rowno, code, name, short, level, parent_code, housed))
        self.sheet_units = {u.code: u for u in out if seen.get(u.code) == u.row}
        return out

    # -- people --

    def parse_people(self, rows: list[tuple[int, dict[str, str]]]) -> list[_PersonRow]:
        out = []
        seen: dict[str, dict[str, int]] = {"username": {}, "user_no": {}, "cert_no": {}}
        for rowno, c in rows:
            bad = partial(self.bad, SHEET_PEOPLE, rowno)
            name = c["姓名"]
            if not name:
                bad("姓名为空")
            elif len(name) > 50:
                bad("姓名超过50个字")
            username = c["登录名"]
            if not username:
                bad("登录名为空")
            elif len(username) > 50 or re.search(r"\s", username):
                bad(f"登录名 {username} 不能超过50个字符，也不能含空格")
            elif username in seen["username"]:
                bad(f"登录名 {username} 与第{seen['username'][username]}行重复")
            else:
                seen["username"][username] = rowno
            user_no = c["警号"]
            if user_no and not USER_NO_RE.match(user_no):
                hint = (
                    "（以0开头的警号请把单元格设为文本格式后重新填写）"
                    if user_no.isdigit() and len(user_no) < 6
                    else ""
                )
                bad(f"警号 {user_no} 应为6位数字或字母{hint}")
            elif user_no in seen["user_no"]:
                bad(f"警号 {user_no} 与第{seen['user_no'][user_no]}行重复")
            elif user_no:
                seen["user_no"][user_no] = rowno
            cert_no = c["执法证号"]
            if len(cert_no) > 30:
                bad(f"执法证号 {cert_no} 超过30个字符")
            elif cert_no in seen["cert_no"]:
                bad(f"执法证号 {cert_no} 与第{seen['cert_no'][cert_no]}行重复")
            elif cert_no:
                seen["cert_no"][cert_no] = rowno
            unit_code = c["单位编号"]
            if not unit_code:
                bad("单位编号为空")
            elif unit_code not in self.sheet_units and unit_code not in self.db_units:
                bad(f"单位编号 {unit_code} 不存在（单位表和系统中都没有）")
            frontline = _bool(c["一线"], False)
            if frontline is None:
                bad(f"一线“{c['一线']}”无法识别，请填“是”或“否”")
            roles: set[str] | None = set()
            unknown = []
            for word in ROLE_SPLIT.split(c["角色"]):
                if not word:
                    continue
                role = ROLE_WORDS.get(word) or ROLE_WORDS.get(word.lower())
                if role is None:
                    unknown.append(word)
                else:
                    roles.add(role)
            if unknown:
                allowed = "、".join(ROLE_LABELS.values())
                bad(f"角色“{'、'.join(unknown)}”无法识别（可填：{allowed}）")
                roles = None
            phone = c["电话"]
            if len(phone) > 30:
                bad("电话超过30个字符")
            is_active = _bool(c["在岗"], True)
            if is_active is None:
                bad(f"在岗“{c['在岗']}”无法识别，请填“是”或“否”")
            out.append(
                _PersonRow(
                    rowno,
                    username,
                    name,
                    user_no,
                    cert_no,
                    unit_code,
                    frontline,
                    frozenset(roles) if roles is not None else None,
                    phone,
                    is_active,
                )
            )
        return out

    def errors(self) -> list[RowError]:
        sheet_order = {SHEET_UNITS: 0, SHEET_PEOPLE: 1}
        return [
            RowError(sheet, row, "；".join(messages))
            for (sheet, row), messages in sorted(
                self.problems.items(), key=lambda kv: (sheet_order[kv[0][0]], kv[0][1])
            )
        ]
