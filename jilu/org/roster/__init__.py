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

The modules: ``base`` (names, limits, the plan and its errors), ``reading``
(the XLSX), ``validation`` (checking rows), ``planning`` (comparing with the
database), ``importing`` (applying through the actions) and ``export``.
"""

from jilu.org.roster.base import (
    FIELD_LABELS,
    LEVEL_WORDS,
    MAX_BYTES,
    MAX_ROWS,
    NO,
    PERSON_HEADERS,
    ROLE_SPLIT,
    ROLE_WORDS,
    SHEET_HELP,
    SHEET_PEOPLE,
    SHEET_UNITS,
    UNIT_CODE_RE,
    UNIT_HEADERS,
    USER_NO_RE,
    XLSX_MIME,
    YES,
    Change,
    Plan,
    RosterChanged,
    RosterFileError,
    RosterInvalid,
    RowError,
)
from jilu.org.roster.export import export_roster, export_units
from jilu.org.roster.importing import apply_import, decode_upload, encode_upload, plan_import
from jilu.org.roster.reading import LIMITS

__all__ = [
    "FIELD_LABELS",
    "LIMITS",
    "LEVEL_WORDS",
    "MAX_BYTES",
    "MAX_ROWS",
    "NO",
    "PERSON_HEADERS",
    "ROLE_SPLIT",
    "ROLE_WORDS",
    "SHEET_HELP",
    "SHEET_PEOPLE",
    "SHEET_UNITS",
    "UNIT_CODE_RE",
    "UNIT_HEADERS",
    "USER_NO_RE",
    "XLSX_MIME",
    "YES",
    "Change",
    "Plan",
    "RosterChanged",
    "RosterFileError",
    "RosterInvalid",
    "RowError",
    "apply_import",
    "decode_upload",
    "encode_upload",
    "export_roster",
    "export_units",
    "plan_import",
]
