"""What every API operation shares: bounded integers, codes as enums, the error bodies,
bounded pagination, and the words of a refused request.

Every integer the API reads (ids in paths, queries and bodies, page limits and
offsets, counts) has one of the types below, so a value that no database
column can hold (≥ 2^63 on SQLite and PostgreSQL alike) is refused as invalid
input (422, naming the field) before any query runs, and the OpenAPI document
shows the bounds. Fields that take a code take it from a fixed list
(``codes(SomeChoices)``), which the document shows as an enum.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import AfterValidator

# A database id: 1 .. the largest signed 64-bit integer (BigAutoField).
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID, description=f"编号（1 至 {MAX_ID}）")]

# Pages: at most MAX_LIMIT rows each; an offset beyond MAX_OFFSET reads nothing useful.
DEFAULT_LIMIT = 100
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"每页条数（1 至 {MAX_LIMIT}）")]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description=f"跳过的条数（0 至 {MAX_OFFSET}）")]

# A count of files or rows a client reports (an integer column).
MAX_COUNT = 2**31 - 1
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
# A size in bytes (a 64-bit column, with room to add two of them).
MAX_BYTES = 2**62
ByteCount = Annotated[int, Field(ge=0, le=MAX_BYTES)]

# A moment: ISO 8601; without an offset it is Beijing time (the server's zone).
# Years outside FIRST_YEAR..LAST_YEAR are no recorder's and no officer's; refusing
# them keeps every conversion to UTC and every database column in range.
FIRST_YEAR, LAST_YEAR = 1970, 2199


def _moment(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(_("年份应在 %(a)s 至 %(b)s 之间") % {"a": FIRST_YEAR, "b": LAST_YEAR})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.astimezone(UTC)


Moment = Annotated[datetime, AfterValidator(_moment)]


def _day(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(_("年份应在 %(a)s 至 %(b)s 之间") % {"a": FIRST_YEAR, "b": LAST_YEAR})
    return value


# A calendar day (YYYY-MM-DD, Beijing), in the same years.
Day = Annotated[date, AfterValidator(_day)]


def codes(choices: Any) -> Any:
    """The codes of a Django ``TextChoices`` (or an iterable of strings) as a
    ``Literal`` type: validated on input and shown as an enum in the document."""
    values = tuple(choices.values if hasattr(choices, "values") else choices)
    return Literal.__getitem__(values)


def describe_codes(choices: Any) -> str:
    """``code 标签、code 标签…`` for a field's description (the document is Chinese)."""
    with translation.override(None):
        return "、".join(f"{value} {label}" for value, label in choices.choices)


# --- error bodies -----------------------------------------------------------------


class Error(Schema):
    """Every refusal: a sentence saying what is wrong and what to do."""

    detail: str


class Problem(Schema):
    """One invalid field, as the validator reports it."""

    type: str
    loc: list[str | int] = Field(..., description="where: query/path/body, then the field")
    msg: str

    model_config = {"extra": "allow"}


class FieldErrors(Error):
    """400 from a form-like operation: ``fields`` gives each field's problems."""

    fields: dict[str, list[str]] = Field(default_factory=dict)


class InvalidRequest(Schema):
    """422: the request does not match the document (``errors`` lists each field)."""

    detail: str
    errors: list[Problem]


# --- pagination --------------------------------------------------------------------


class Paginated(LimitOffsetPagination):
    """Limit/offset pages whose bounds are in the document and checked on input."""

    class Input(Schema):
        limit: Limit = DEFAULT_LIMIT
        offset: Offset = 0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)


# --- the words of a refused request ------------------------------------------------


def _where(loc: Iterable[Any]) -> str:
    """``("query", "limit")`` → ``limit``; ``("body", "body", "kind")`` → ``kind``;
    ``("file", "file")`` → ``file``: the source, then the field."""
    parts = list(loc)[1:]
    if len(parts) > 1 and parts[0] == "body":
        parts.pop(0)
    return ".".join(str(p) for p in parts)


def _quoted(text: str) -> str:
    found = re.findall(r"'([^']*)'", text or "")
    return "、".join(found) if found else text


def problem_text(error: dict[str, Any]) -> str:
    """One validation problem in the interface's language."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("缺少此项")
    if kind in ("less_than_equal", "less_than"):
        return _("应不大于 %(n)s") % {"n": ctx.get("le", ctx.get("lt"))}
    if kind in ("greater_than_equal", "greater_than"):
        return _("应不小于 %(n)s") % {"n": ctx.get("ge", ctx.get("gt"))}
    if kind in ("int_parsing", "int_type", "int_from_float", "int_parsing_size"):
        return _("应为整数")
    if kind in ("literal_error", "enum"):
        return _("应为以下之一：%(codes)s") % {"codes": _quoted(str(ctx.get("expected", "")))}
    if kind in ("bool_parsing", "bool_type"):
        return _("应为 true 或 false")
    if kind.startswith(("datetime_", "date_", "time_")):
        return _("时间或日期格式不正确，请使用 ISO 8601，例如 2026-11-26T09:00:00+08:00")
    if kind in ("string_too_long", "too_long"):
        return _("过长：最多 %(n)s") % {"n": ctx.get("max_length")}
    if kind in ("string_too_short", "too_short"):
        return _("过短：至少 %(n)s") % {"n": ctx.get("min_length")}
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"]).removeprefix("Value error, ")
    if kind in ("json_invalid", "model_attributes_type", "dict_type", "model_type"):
        return _("不是有效的 JSON 对象")
    if kind in ("string_type", "list_type", "float_type", "float_parsing", "finite_number"):
        return _("类型不正确")
    return str(error.get("msg", ""))


def invalid_request_text(errors: Iterable[dict[str, Any]]) -> str:
    """``请求内容不正确：field: problem；…`` naming every invalid field."""
    problems = []
    for error in errors:
        where = _where(error.get("loc", []))
        text = problem_text(error)
        problems.append(f"{where}: {text}" if where else text)
    return _("请求内容不正确：") + "；".join(problems)
