"""The roster as an Excel workbook: export and all-or-nothing import.

Bureaus keep their rosters in Excel. A roster workbook has two sheets:

* ``单位``: 单位编号, 单位全称, 简称 (the name used in standard file names,
  C5.3), 层级, 上级单位编号, 独立驻点 (C1.2);
* ``人员``: 姓名, 登录名, 警号 (6 characters, as recorders store it), 执法证号,
  单位编号, 一线 (C1.1), 角色, 电话, 在岗.

Export writes the units and people of the user's scope. Import reads the same
format, checks *every* row first and collects one message per bad row; if any
row is bad nothing is imported. Otherwise units are created or updated by
单位编号 and people by 登录名, all in one transaction, through the actions
(so every change is audited) — the plan shown as a preview is exactly what is
applied.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from typing import Any

import openpyxl
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from jilu.audit.chain import record
from jilu.org import actions, queries
from jilu.org.models import Person, Unit
from jilu.org.roles import Role

SHEET_UNITS = "单位"
SHEET_PEOPLE = "人员"
SHEET_HELP = "填写说明"

UNIT_HEADERS = ("单位编号", "单位全称", "简称", "层级", "上级单位编号", "独立驻点")
PERSON_HEADERS = ("姓名", "登录名", "警号", "执法证号", "单位编号", "一线", "角色", "电话", "在岗")

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

LEVEL_WORDS: dict[str, str] = {
    **{label: value for value, label in Unit.Level.choices},
    **{value: value for value in Unit.Level.values},
    "区局": Unit.Level.DISTRICT,
    "支队": Unit.Level.DISTRICT,
}
ROLE_WORDS: dict[str, str] = {
    **{label: value for value, label in Role.choices},
    **{value: value for value in Role.values},
}
ROLE_SPLIT = re.compile(r"[,，、;；\s]+")
YES = {"是", "y", "yes", "true", "1", "√", "✓", "t"}
NO = {"否", "n", "no", "false", "0", "×", "✗", "f"}

UNIT_CODE_RE = re.compile(r"^[0-9A-Za-z]{12}$")
USER_NO_RE = re.compile(r"^[0-9A-Za-z]{6}$")
FIELD_LABELS = {"user_no": "警号", "cert_no": "执法证号"}


class RosterFileError(Exception):
    """The file cannot be read as a roster at all (not XLSX, sheet or column missing)."""


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    message: str

    def __str__(self) -> str:
        return f"{self.sheet}表第{self.row}行：{self.message}"


@dataclass
class Change:
    """One row's effect: create, update (with the changed fields) or nothing."""

    sheet: str
    row: int
    key: str  # 单位编号 or 登录名
    label: str  # the unit's or the person's name
    op: str  # "create" | "update" | "unchanged"
    values: dict[str, Any] = field(default_factory=dict)  # model values to set
    diffs: list[tuple[str, str, str]] = field(default_factory=list)  # (column, old, new)
    facts: list[tuple[str, str]] = field(default_factory=list)  # (column, value) of a new row

    @property
    def op_label(self) -> str:
        return {"create": "新建", "update": "更新", "unchanged": "不变"}[self.op]


@dataclass
class Plan:
    units: list[Change]
    people: list[Change]
    errors: list[RowError]
    sha256: str

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def has_changes(self) -> bool:
        return any(c.op != "unchanged" for c in self.units + self.people)

    def counts(self, which: str) -> dict[str, int]:
        changes = self.units if which == "units" else self.people
        out = {"create": 0, "update": 0, "unchanged": 0}
        for c in changes:
            out[c.op] += 1
        return out

    @property
    def changed_units(self) -> list[Change]:
        return [c for c in self.units if c.op != "unchanged"]

    @property
    def changed_people(self) -> list[Change]:
        return [c for c in self.people if c.op != "unchanged"]

    @property
    def digest(self) -> str:
        """Identifies exactly what would be applied (to confirm a preview)."""
        payload = [
            (c.sheet, c.row, c.key, c.op, c.diffs)
            for c in self.units + self.people
            if c.op != "unchanged"
        ]
        return hashlib.sha256(
            json.dumps([self.sha256, payload], ensure_ascii=False, default=str).encode()
        ).hexdigest()

    def summary(self) -> str:
        u, p = self.counts("units"), self.counts("people")
        return (
            f"单位：新建 {u['create']}，更新 {u['update']}，不变 {u['unchanged']}；"
            f"人员：新建 {p['create']}，更新 {p['update']}，不变 {p['unchanged']}"
        )


class RosterInvalid(Exception):
    """Some rows are bad; nothing was imported."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(f"名册有 {len(plan.errors)} 行错误，未导入任何数据")
        self.plan = plan


class RosterChanged(Exception):
    """The data changed since the preview was shown; show the new preview."""

    def __init__(self, plan: Plan) -> None:
        super().__init__("预览之后系统中的数据有变化，请核对新的预览后再确认导入")
        self.plan = plan


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


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _roles_text(roles: frozenset[str] | set[str]) -> str:
    return "、".join(Role(r).label for r in Role.values if r in roles)


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


class _Planner:
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
            level = LEVEL_WORDS.get(c["层级"])
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

    def level_of(self, code: str) -> str | None:
        if code in self.sheet_units:
            return self.sheet_units[code].level
        unit = self.db_units.get(code)
        return unit.level if unit else None

    def plan_units(self, rows: list[_UnitRow]) -> list[Change]:
        order = Unit.LEVEL_ORDER
        changes = []
        for r in rows:
            if (SHEET_UNITS, r.row) in self.problems:
                continue
            bad = partial(self.bad, SHEET_UNITS, r.row)
            parent_db = self.db_units.get(r.parent_code) if r.parent_code else None
            if r.parent_code:
                if r.parent_code not in self.sheet_units and parent_db is None:
                    bad(f"上级单位编号 {r.parent_code} 不存在（单位表和系统中都没有）")
                    continue
                parent_level = self.level_of(r.parent_code)
                if parent_level and order.index(r.level) <= order.index(parent_level):
                    bad(
                        f"层级顺序不对：{Unit.Level(r.level).label}不能隶属于"
                        f"{Unit.Level(parent_level).label}（上级单位 {r.parent_code}）"
                    )
                    continue
            values = {
                "name": r.name,
                "short_name": r.short_name,
                "level": r.level,
                "parent": r.parent_code or None,
                "independently_housed": r.housed,
            }
            unit = self.db_units.get(r.code)
            if unit is None:
                if parent_db is not None and not self.may_add_under(parent_db):
                    bad(f"上级单位 {r.parent_code}（{parent_db.name}）不在你的管理范围内")
                    continue
                if not r.parent_code and not (self.user is None or self.user.is_superuser):
                    bad("只有超级管理员可以新建没有上级的单位（市局）")
                    continue
                facts = [
                    (_UNIT_COLUMN[k], _unit_shown(k, v))
                    for k, v in values.items()
                    if k != "name" and v is not None
                ]
                changes.append(
                    Change(
                        SHEET_UNITS,
                        r.row,
                        r.code,
                        r.name,
                        "create",
                        {"code": r.code, **values},
                        facts=facts,
                    )
                )
                continue
            current = {
                "name": unit.name,
                "short_name": unit.short_name,
                "level": unit.level,
                "parent": unit.parent.code if unit.parent_id else None,
                "independently_housed": unit.independently_housed,
            }
            changed = {k: v for k, v in values.items() if current[k] != v}
            if not changed:
                changes.append(Change(SHEET_UNITS, r.row, r.code, r.name, "unchanged"))
                continue
            if not self.may_change(unit):
                bad(f"单位 {r.code}（{unit.name}）不在你的管理范围内，不能修改")
                continue
            if "parent" in changed and parent_db is not None and not self.may_add_under(parent_db):
                bad(f"上级单位 {r.parent_code}（{parent_db.name}）不在你的管理范围内")
                continue
            if "parent" in changed and not r.parent_code:
                bad("不能把已有单位改为没有上级单位")
                continue
            if "level" in changed:
                problem = self._children_after_level_change(unit, r.level)
                if problem:
                    bad(problem)
                    continue
            diffs = [
                (_UNIT_COLUMN[k], _unit_shown(k, current[k]), _unit_shown(k, v))
                for k, v in changed.items()
            ]
            changes.append(Change(SHEET_UNITS, r.row, r.code, r.name, "update", changed, diffs))
        return changes

    def _children_after_level_change(self, unit: Unit, level: str) -> str:
        order = Unit.LEVEL_ORDER
        for child in self.db_units.values():
            if child.parent_id != unit.pk or child.code in self.sheet_units:
                continue  # a child listed in the sheet is checked on its own row
            if order.index(child.level) <= order.index(level):
                return (
                    f"层级改为{Unit.Level(level).label}后，下级单位 {child.code}"
                    f"（{child.get_level_display()}）的层级顺序不对"
                )
        return ""

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
                allowed = "、".join(Role.labels)
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

    def plan_people(self, rows: list[_PersonRow]) -> list[Change]:
        usernames = [r.username for r in rows if r.username]
        existing = {
            p.username: p
            for p in Person.objects.filter(username__in=usernames)
            .select_related("unit")
            .prefetch_related("role_grants")
        }
        for p in existing.values():
            p._roles_cache = frozenset(g.role for g in p.role_grants.all())
        if self.user is None:
            changeable = set(existing)
        else:
            changeable = set(
                Person.objects.restrict(self.user, "change")
                .filter(username__in=usernames)
                .values_list("username", flat=True)
            )
        holders = {
            key: {
                getattr(p, key): p
                for p in Person.objects.filter(
                    **{f"{key}__in": [getattr(r, key) for r in rows if getattr(r, key)]}
                )
            }
            for key in ("user_no", "cert_no")
        }
        by_username = {r.username: r for r in rows}
        changes: dict[int, Change] = {}
        after: dict[int, set[int]] = defaultdict(set)  # row -> rows that must be applied first
        reasons: dict[tuple[int, int], str] = {}
        for r in rows:
            # A row with bad cells is still checked against the database, so all
            # of its problems are reported at once.
            parsed = (SHEET_PEOPLE, r.row) not in self.problems
            bad = partial(self.bad, SHEET_PEOPLE, r.row)
            unit_db = self.db_units.get(r.unit_code)
            values = {
                "name": r.name,
                "user_no": r.user_no or None,
                "cert_no": r.cert_no or None,
                "unit": r.unit_code,
                "frontline": r.frontline,
                "roles": r.roles,
                "phone": r.phone,
                "is_active": r.is_active,
            }
            person = existing.get(r.username)
            if person is None:
                changed = values
                before_roles: frozenset[str] = frozenset()
            else:
                current = {
                    "name": person.name,
                    "user_no": person.user_no,
                    "cert_no": person.cert_no,
                    "unit": person.unit.code if person.unit_id else None,
                    "frontline": person.frontline,
                    "roles": person.roles,
                    "phone": person.phone,
                    "is_active": person.is_active,
                }
                changed = {k: v for k, v in values.items() if current[k] != v}
                before_roles = person.roles
                if not changed and parsed:
                    changes[r.row] = Change(SHEET_PEOPLE, r.row, r.username, r.name, "unchanged")
                    continue
                if r.username not in changeable:
                    bad(f"登录名 {r.username} 已被你管理范围以外的人员使用，不能修改")
                    continue
            problems = []
            if "unit" in changed and unit_db is not None and not self.may_add_under(unit_db):
                problems.append(f"单位 {r.unit_code}（{unit_db.name}）不在你的管理范围内")
            refused = sorted((r.roles or frozenset()) - before_roles - self.grantable)
            if refused:
                problems.append(
                    f"你不能授予“{_roles_text(set(refused))}”角色（只有市局系统管理员可以授予）"
                )
            if person is not None and self.user is not None and person.pk == self.user.pk:
                if r.is_active is False:
                    problems.append("不能停用你自己的账号")
                if r.roles is not None and Role.ADMIN in person.roles and Role.ADMIN not in r.roles:
                    problems.append("不能取消你自己的系统管理员角色")
            for key in ("user_no", "cert_no"):
                value = values[key]
                holder = holders[key].get(value) if value and key in changed else None
                if holder is None or holder.username == r.username:
                    continue
                other = by_username.get(holder.username)
                if other is not None and (getattr(other, key) or None) != value:
                    after[r.row].add(other.row)  # freed by the other row first
                    reasons[(r.row, other.row)] = f"{FIELD_LABELS[key]} {value}"
                    continue
                problems.append(f"{FIELD_LABELS[key]} {value} 已被{self._who(holder)}使用")
            if problems:
                bad("；".join(problems))
                continue
            if not parsed:
                continue
            if person is None:
                changes[r.row] = Change(
                    SHEET_PEOPLE,
                    r.row,
                    r.username,
                    r.name,
                    "create",
                    {"username": r.username, **values},
                    facts=[
                        (_PERSON_COLUMN[k], _person_shown(k, v))
                        for k, v in values.items()
                        if k not in ("name", "is_active") and v not in (None, "", frozenset())
                    ],
                )
            else:
                diffs = [
                    (_PERSON_COLUMN[k], _person_shown(k, current[k]), _person_shown(k, v))
                    for k, v in changed.items()
                ]
                changes[r.row] = Change(
                    SHEET_PEOPLE, r.row, r.username, r.name, "update", changed, diffs
                )
        return self._ordered(changes, after, reasons)

    def _ordered(
        self,
        changes: dict[int, Change],
        after: dict[int, set[int]],
        reasons: dict[tuple[int, int], str],
    ) -> list[Change]:
        """Order rows so a 警号/执法证号 is released before another row takes it."""
        done: list[Change] = []
        placed: set[int] = set()
        pending = sorted(changes)
        while pending:
            ready = [
                row
                for row in pending
                if all(dep in placed or dep not in changes for dep in after[row])
            ]
            if not ready:
                break
            for row in ready:
                done.append(changes[row])
                placed.add(row)
            pending = [row for row in pending if row not in placed]
        for row in pending:  # part of a swap: cannot be applied in any order
            other = min(dep for dep in after[row] if dep in changes and dep not in placed)
            self.bad(
                SHEET_PEOPLE,
                row,
                f"{reasons[(row, other)]} 与第{other}行的人员互换，无法一次导入："
                "请先清空其中一人的这一项导入一次，再导入这份名册",
            )
        return done

    def _who(self, holder: Person) -> str:
        if (
            self.user is None
            or Person.objects.restrict(self.user, "view").filter(pk=holder.pk).exists()
        ):
            return f" {holder.name}（{holder.username}）"
        return "其他单位的人员"

    def errors(self) -> list[RowError]:
        sheet_order = {SHEET_UNITS: 0, SHEET_PEOPLE: 1}
        return [
            RowError(sheet, row, "；".join(messages))
            for (sheet, row), messages in sorted(
                self.problems.items(), key=lambda kv: (sheet_order[kv[0][0]], kv[0][1])
            )
        ]


_UNIT_COLUMN = {
    "name": "单位全称",
    "short_name": "简称",
    "level": "层级",
    "parent": "上级单位编号",
    "independently_housed": "独立驻点",
}
_PERSON_COLUMN = {
    "name": "姓名",
    "user_no": "警号",
    "cert_no": "执法证号",
    "unit": "单位编号",
    "frontline": "一线",
    "roles": "角色",
    "phone": "电话",
    "is_active": "在岗",
}


def _unit_shown(key: str, value: Any) -> str:
    if key == "level":
        return Unit.Level(value).label
    if key == "independently_housed":
        return _yes_no(value)
    return value or "—"


def _person_shown(key: str, value: Any) -> str:
    if key in ("frontline", "is_active"):
        return _yes_no(value)
    if key == "roles":
        return _roles_text(value) or "—"
    return value or "—"


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "；".join(m for msgs in exc.message_dict.values() for m in msgs)
    return "；".join(exc.messages)


def plan_import(data: bytes, *, user: Any | None) -> Plan:
    """Check every row and work out what importing would do. Writes nothing.

    ``user`` is the importing person (their scope limits what may change);
    ``None`` only for the ``jilu import-roster`` command run on the server.
    Raises RosterFileError when the file cannot be read as a roster.
    """
    wb = _load_workbook(data)
    try:
        unit_rows = _rows(_sheet(wb, SHEET_UNITS), SHEET_UNITS, UNIT_HEADERS)
        people_rows = _rows(_sheet(wb, SHEET_PEOPLE), SHEET_PEOPLE, PERSON_HEADERS)
    finally:
        wb.close()
    planner = _Planner(user)
    units = planner.plan_units(planner.parse_units(unit_rows))
    people = planner.plan_people(planner.parse_people(people_rows))
    order = Unit.LEVEL_ORDER
    units.sort(key=lambda c: (order.index(planner.sheet_units[c.key].level), c.row))
    return Plan(units, people, planner.errors(), hashlib.sha256(data).hexdigest())


def apply_import(
    data: bytes, *, user: Any | None, actor: Any, expected_digest: str | None = None
) -> Plan:
    """Import the roster: everything or nothing.

    Raises RosterInvalid (nothing imported) when any row is bad, and
    RosterChanged when ``expected_digest`` (from the preview) no longer
    matches what would be applied.
    """
    plan = plan_import(data, user=user)
    if not plan.ok:
        raise RosterInvalid(plan)
    if expected_digest is not None and plan.digest != expected_digest:
        raise RosterChanged(plan)
    current: Change | None = None
    try:
        with transaction.atomic():
            for current in plan.units:
                _apply_unit(current, actor)
            units = {u.code: u for u in Unit.objects.all()}  # after any moves above
            for current in plan.people:
                _apply_person(current, actor, units)
            record(
                "org.roster.import",
                actor=actor,
                details={
                    "sha256": plan.sha256,
                    "units": plan.counts("units"),
                    "people": plan.counts("people"),
                },
            )
    except (ValidationError, IntegrityError, ObjectDoesNotExist) as exc:
        # Something changed between the check and the write (another administrator
        # at the same moment): the transaction is rolled back, nothing is imported.
        assert current is not None
        message = (
            _messages(exc)
            if isinstance(exc, ValidationError)
            else "导入时数据被其他人同时修改，未导入任何数据，请重新上传名册"
        )
        raise RosterInvalid(
            replace(plan, errors=[RowError(current.sheet, current.row, message)])
        ) from exc
    return plan


def _unit(code: str | None) -> Unit | None:
    # Fetched fresh each time: moving a unit rewrites its descendants' paths.
    return Unit.objects.get(code=code) if code else None


def _apply_unit(change: Change, actor: Any) -> None:
    values = dict(change.values)
    if change.op == "create":
        parent = _unit(values.pop("parent"))
        actions.create_unit(actor=actor, parent=parent, **values)
    elif change.op == "update":
        parent = _unit(values.pop("parent")) if "parent" in values else None
        actions.update_unit(actor=actor, unit=_unit(change.key), parent=parent, **values)


def _apply_person(change: Change, actor: Any, units: dict[str, Unit]) -> None:
    values = dict(change.values)
    if "unit" in values:
        values["unit"] = units[values["unit"]]
    roles = values.pop("roles", None)
    if change.op == "create":
        actions.create_person(actor=actor, roles=sorted(roles or ()), **values)
    elif change.op == "update":
        person = Person.objects.get(username=change.key)
        actions.update_person(
            actor=actor, person=person, roles=sorted(roles) if roles is not None else None, **values
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
                u.get_level_display(),
                u.parent.code if u.parent_id else "",
                _yes_no(u.independently_housed),
            ]
        )
    _choices(ws, "D", [label for _, label in Unit.Level.choices])
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
        "角色：可填多个，用逗号或顿号（、）分隔：" + "、".join(Role.labels) + "；也可填英文代码。",
        "在岗：填“否”表示停用账号（人员离岗、调离）；不会删除任何人员。",
        "新导入的人员没有密码，请系统管理员在人员详情页“重置密码”后告知本人。",
        "",
        "导入时先检查所有行：任何一行有错误都不会导入任何数据，并逐行列出错误。",
    ]
    for line in lines:
        ws.append([line])
    ws["A1"].font = Font(bold=True)


# --- keeping an upload between preview and confirmation ---------------------------


def encode_upload(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode_upload(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))
