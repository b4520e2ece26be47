"""Import of a unit's list of powers (权责清单) from XLSX: the enforcement matters (执法事项)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

from jilu.audit.chain import record
from jilu.casework.models import Category, Power
from jilu.org.models import Unit
from jilu.workbooks import Limits, WorkbookRefused, open_workbook

HEADERS = {
    "code": ("事项编码", "编码", "权力编码", "code"),
    "name": ("事项名称", "名称", "权力名称", "name"),
    "category": ("执法类别", "权力类别", "类别", "category"),
    "basis": ("设定依据", "依据", "basis"),
}
REQUIRED = ("code", "name", "category")
# The categories of a list of powers as they are commonly written.
# A list of powers is a Chinese document: its categories are matched against the
# Chinese labels whatever the language of the person importing it.
with translation.override("zh-hans"):
    _CHINESE_LABELS = {str(c.label): c.value for c in Category}
CATEGORY_WORDS = {
    **_CHINESE_LABELS,
    **{c.value: c.value for c in Category},
    "行政征收": Category.EXPROPRIATION,
    "行政征用": Category.EXPROPRIATION,
    "行政确认": Category.OTHER,
    "行政奖励": Category.OTHER,
    "行政裁决": Category.OTHER,
    "其他行政权力": Category.OTHER,
}
MAX_ROWS = 20000
# What a list of powers may hold (jilu.workbooks reads every upload under limits);
# ``seconds`` is the request thread's budget: a background reading passes its own.
LIMITS = Limits(max_bytes=5 * 1024 * 1024, max_rows=MAX_ROWS, max_columns=64)


def _columns(header: tuple) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, cell in enumerate(header):
        text = str(cell or "").strip()
        for key, names in HEADERS.items():
            if text in names and key not in found:
                found[key] = i
    missing = [HEADERS[k][0] for k in REQUIRED if k not in found]
    if missing:
        raise ValidationError(f"表头缺少：{'、'.join(missing)}。第一行须为表头，请检查文件")
    return found


def import_powers(
    *,
    actor: Any,
    unit: Unit,
    stream: BinaryIO,
    limits: Limits = LIMITS,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Create or update the unit's powers from the sheet; all rows or none.

    Rows are matched by 事项编码; items of the unit missing from the sheet are
    marked not in use (never deleted: activities and cases refer to them).
    The workbook is read under ``limits`` (``jilu.workbooks``); a refused one
    raises ValidationError with the reason (code ``refused``).
    """
    data = stream.read(limits.max_bytes + 1)
    items = read_powers(data, limits=limits, progress=progress)
    return apply_powers(actor=actor, unit=unit, items=items)


def read_powers(
    data: bytes,
    *,
    limits: Limits = LIMITS,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, dict]:
    """The checked rows of the workbook (事项编码 → values); ValidationError when
    any row is bad or the workbook is refused (code ``refused``). Writes nothing."""
    try:
        with open_workbook(data, limits, progress=progress) as wb:
            return _read_items(wb)
    except WorkbookRefused as exc:
        raise ValidationError(str(exc), code="refused") from None


def _read_items(wb: Any) -> dict[str, dict]:
    """The rows of the active sheet, checked: 事项编码 → values, or ValidationError."""
    if wb.active_name is None:
        raise ValidationError("文件中没有工作表")
    rows = wb.rows(wb.active_name)
    header = next(rows, (1, None))[1]
    if header is None:
        raise ValidationError("文件是空的")
    cols = _columns(header)
    errors: list[str] = []
    items: dict[str, dict] = {}
    for n, row in rows:

        def cell(key: str, row: tuple = row) -> str:
            i = cols.get(key)
            return str(row[i]).strip() if i is not None and i < len(row) and row[i] else ""

        code, name, category = cell("code"), cell("name"), cell("category")
        if not (code or name or category):
            continue
        if not code or not name:
            errors.append(f"第{n}行：缺少事项编码或事项名称")
            continue
        value = CATEGORY_WORDS.get(category)
        if value is None:
            errors.append(f"第{n}行：执法类别“{category}”无法识别")
            continue
        if code in items:
            errors.append(f"第{n}行：事项编码 {code} 重复")
            continue
        items[code] = {"name": name[:300], "category": value, "basis": cell("basis")}
    if errors:
        raise ValidationError(
            errors[:20] + ([f"……共 {len(errors)} 处错误"] if len(errors) > 20 else [])
        )
    if not items:
        raise ValidationError("文件中没有事项")
    return items


@transaction.atomic
def apply_powers(*, actor: Any, unit: Unit, items: dict[str, dict]) -> dict[str, int]:
    """Write the checked rows (from ``read_powers``): all of them or none."""
    created = updated = 0
    existing = {p.code: p for p in Power.objects.filter(unit=unit)}
    for code, data in items.items():
        power = existing.get(code)
        if power is None:
            Power.objects.create(unit=unit, code=code, active=True, **data)
            created += 1
        else:
            for k, v in data.items():
                setattr(power, k, v)
            power.active = True
            power.save()
            updated += 1
    retired = (
        Power.objects.filter(unit=unit, active=True).exclude(code__in=items).update(active=False)
    )
    result = {"created": created, "updated": updated, "retired": retired}
    record("casework.powers.import", actor=actor, obj=unit, details=result)
    return result
