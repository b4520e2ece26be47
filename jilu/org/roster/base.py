"""Shared parts of the roster: sheet and column names, limits, the words
accepted in cells, the plan of an import and its errors, and how values are
shown in a preview.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import translation

from jilu.org.models import Unit
from jilu.org.roles import Role

SHEET_UNITS = "单位"
SHEET_PEOPLE = "人员"
SHEET_HELP = "填写说明"

UNIT_HEADERS = ("单位编号", "单位全称", "简称", "层级", "上级单位编号", "独立驻点")
PERSON_HEADERS = ("姓名", "登录名", "警号", "执法证号", "单位编号", "一线", "角色", "电话", "在岗")

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _labels(choices: Any, language: str) -> dict[str, str]:
    """value → label of a choices enum in one language, whatever the active one."""
    with translation.override(language):
        return {value: str(label) for value, label in choices.choices}


# The roster is a Chinese document: its cells hold the Chinese labels (the
# English codes and, as aliases, the English labels are accepted too). The maps
# are built from the labels in those languages explicitly, so that reading a
# file does not depend on the language of the request that imports it.
LEVEL_LABELS: dict[str, str] = _labels(Unit.Level, "zh-hans")
ROLE_LABELS: dict[str, str] = _labels(Role, "zh-hans")
LEVEL_WORDS: dict[str, str] = {
    **{label.lower(): value for value, label in _labels(Unit.Level, "en").items()},
    **{label: value for value, label in LEVEL_LABELS.items()},
    **{value: value for value in Unit.Level.values},
    "区局": Unit.Level.DISTRICT,
    "支队": Unit.Level.DISTRICT,
}
ROLE_WORDS: dict[str, str] = {
    **{label.lower(): value for value, label in _labels(Role, "en").items()},
    **{label: value for value, label in ROLE_LABELS.items()},
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


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _roles_text(roles: frozenset[str] | set[str]) -> str:
    return "、".join(ROLE_LABELS[r] for r in Role.values if r in roles)


# --- showing values in a preview --------------------------------------------------


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
        return LEVEL_LABELS[value]
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
