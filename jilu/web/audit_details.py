"""The pieces an audit entry's details are said with (C6.4).

``jilu.web.audit_sentences.render(code, details, names)`` says the main facts of an entry in words
("下载原始文件，依据调用单 DY2026-0003", "登录失败：密码错误", "校正时钟偏差
+28.0 秒") and then lists whatever the sentence did not use, each key in words
(``jilu.audit.labels.DETAIL_LABELS``), so nothing recorded is hidden and no
Python value or English key reaches the page.

Ids in details (people, activities, recordings…) are named through ``names``,
which ``jilu.web.audit_text`` fills for a whole page at once; ``refs`` says which
ones an entry needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.audit.labels import DETAIL_LABELS, VALUE_LABELS

_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")

# Keys whose integer values (or lists of them) are ids of these object types.
REF_KEYS = {
    "officer": "org.person",
    "officers": "org.person",
    "person": "org.person",
    "holder": "org.person",
    "handler": "org.person",
    "holder_from_history": "org.person",
    "activity": "casework.activity",
    "case": "casework.case",
    "station": "devices.workstation",
    "workstation": "devices.workstation",
    "docking": "ingest.dockingsession",
    "recording": "evidence.recording",
    "recordings": "evidence.recording",
    "quarantine": "ingest.quarantineitem",
    "package": "transfer.package",
}
# Keys holding a unit's code (units are recorded by code, which stays stable);
# an integer under these keys is the unit's id (oversight findings).
UNIT_CODE_KEYS = {"unit", "parent", "units"}
UNIT_BY_CODE = "org.unit@code"


@dataclass(frozen=True)
class ObjectKind:
    """An object type of the audit log: its words and how its names are found."""

    label: Any  # lazy: the type in words (声像记录)
    names: Callable[[list[str]], dict[str, str]]
    search: Callable[[str], list[str]] | None = None


# The registry of object types, keyed by ``object_type`` (filled by
# ``jilu.web.audit_text`` and ``jilu.web.audit_oversight``).
OBJECT_KINDS: dict[str, ObjectKind] = {}


def kind(object_type: str, label: Any, search: Callable[[str], list[str]] | None = None):
    def register(fn: Callable[[list[str]], dict[str, str]]):
        OBJECT_KINDS[object_type] = ObjectKind(label, fn, search)
        return fn

    return register


def ints(ids: Iterable[str]) -> list[int]:
    return [int(i) for i in ids if str(i).isdigit() and len(str(i)) < 19]


# Keys whose values a domain says in its own words (``jilu.web.audit_oversight``):
# ``VALUE_WORDS[key](code, value, names)`` returns the words or None to fall
# through; ``REF_WORDS[key](value)`` names the ids the value needs.
VALUE_WORDS: dict[str, Callable[[str, Any, Names], str | None]] = {}
REF_WORDS: dict[str, Callable[[Any], Iterable[tuple[str, str]]]] = {}


class Names:
    """Names looked up for a page: ``get(type, id)`` or ``#id`` when unknown."""

    def __init__(self, found: dict[tuple[str, str], str] | None = None) -> None:
        self.found = found or {}

    def get(self, object_type: str, object_id: Any) -> str:
        name = self.found.get((object_type, str(object_id)))
        return name if name else f"#{object_id}"


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def refs(details: Any) -> Iterator[tuple[str, str]]:
    """The (object type, id) pairs an entry's details name."""
    if not isinstance(details, dict):
        return
    for key, value in details.items():
        kind = REF_KEYS.get(key)
        if key in REF_WORDS:
            yield from REF_WORDS[key](value)
        elif kind and _is_id(value):
            yield kind, str(value)
        elif kind and isinstance(value, list):
            yield from ((kind, str(v)) for v in value if _is_id(v))
        elif key in UNIT_CODE_KEYS and isinstance(value, str) and value:
            yield UNIT_BY_CODE, value
        elif key in UNIT_CODE_KEYS and _is_id(value):
            yield "org.unit", str(value)
        elif key in UNIT_CODE_KEYS and isinstance(value, list):
            for v in value:
                if isinstance(v, str) and v:
                    yield UNIT_BY_CODE, v
        elif isinstance(value, dict | list):
            for inner in value if isinstance(value, list) else [value]:
                yield from refs(inner)


# --- values -----------------------------------------------------------------------

# (code prefix, key) → the model field whose choices name the stored codes.
_CHOICES: dict[tuple[str, str], tuple[str, str]] = {
    ("casework.party", "kind"): ("casework.party", "kind"),
    ("casework.activity", "kind"): ("casework.activity", "kind"),
    ("casework.activity", "category"): ("casework.activity", "category"),
    ("casework.case", "category"): ("casework.case", "category"),
    ("casework.case", "retention"): ("casework.case", "retention"),
    ("casework.case.status", "from"): ("casework.case", "status"),
    ("casework.case.status", "to"): ("casework.case", "status"),
    ("casework.case.status", "reason"): ("casework.case", "close_reason"),
    ("casework.", "step"): ("casework.annotation", "step"),
    ("devices.recorder.status", "from"): ("devices.recorder", "status"),
    ("devices.recorder.status", "to"): ("devices.recorder", "status"),
    ("dutylog.", "reason"): ("dutylog.unrecordednote", "reason"),
    ("ingest.quarantine", "reason"): ("ingest.quarantineitem", "reason"),
    ("ingest.quarantine", "resolution"): ("ingest.quarantineitem", "resolution"),
    ("retention.", "kind"): ("retention.hold", "kind"),
    ("org.workbook", "kind"): ("org.workbookupload", "kind"),
    ("org.", "level"): ("org.unit", "level"),
    ("org.", "roles"): ("org.rolegrant", "role"),
    ("transfer.review", "decision"): ("transfer.review", "decision"),
    ("transfer.review", "verdict"): ("transfer.rowmark", "verdict"),
    ("transfer.package.verify", "source"): ("transfer.verification", "source"),
    ("transfer.", "disc"): ("transfer.package", "disc"),
    ("evidence.media", "integrity"): ("evidence.mediainfo", "integrity"),
    ("access.", "medium"): ("access.accessrequest", "medium"),
}
# Whose fields a "changes"/"changed" dict names, by code prefix.
_CHANGED_MODEL = {
    "org.person": "org.person",
    "org.unit": "org.unit",
    "casework.case": "casework.case",
    "casework.activity": "casework.activity",
    "evidence.media": "evidence.mediainfo",
}


def _field(label: str, name: str) -> Any:
    from django.apps import apps

    try:
        return apps.get_model(label)._meta.get_field(name)
    except LookupError:
        return None
    except Exception:  # noqa: BLE001 - FieldDoesNotExist: an old entry's field
        return None


def _choice(code: str, key: str, value: Any) -> str | None:
    for (prefix, k), (model, field_name) in _CHOICES.items():
        if k == key and code.startswith(prefix):
            field = _field(model, field_name)
            if field is not None and field.choices:
                label = dict(field.flatchoices).get(value)
                if label is not None:
                    return str(label)
    return None


def label(key: str) -> str:
    found = DETAIL_LABELS.get(key)
    return str(found) if found is not None else key


def time_text(value: Any) -> str:
    """An ISO time from the details in Beijing time."""
    if not isinstance(value, str) or not _ISO_TIME.match(value):
        return plain(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def size_text(value: Any) -> str:
    if not _is_id(value):
        return plain(value)
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


def seconds_text(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _("%(s)s 秒") % {"s": f"{value:+.1f}"}
    return plain(value)


def plain(v: Any) -> str:
    """A value of no particular kind in words (lists joined, dicts as pairs)."""
    if isinstance(v, bool | list | dict) or v is None:
        return value("", "", v, Names())
    return str(v)


def value(code: str, key: str, v: Any, names: Names) -> str:
    """One value in words: names for ids, labels for codes, Beijing time for times."""
    if isinstance(v, bool):
        return _("是") if v else _("否")
    if key in VALUE_WORDS:
        said = VALUE_WORDS[key](code, v, names)
        if said is not None:
            return said
    kind = REF_KEYS.get(key)
    if kind and _is_id(v):
        return names.get(kind, v)
    if key in UNIT_CODE_KEYS and isinstance(v, str) and v:
        return names.get(UNIT_BY_CODE, v).removeprefix("#") if v else ""
    if key in UNIT_CODE_KEYS and _is_id(v):
        return names.get("org.unit", v)
    if isinstance(v, list):
        return _("、").join(value(code, key, item, names) for item in v) or _("无")
    if isinstance(v, dict):
        return pairs(code, v, names, sep=_("，"))
    if v is None:
        return "—"
    choice = _choice(code, key, v)
    if choice is not None:
        return choice
    coded = VALUE_LABELS.get((key, v)) if isinstance(v, str) else None
    if coded is not None:
        return str(coded)
    if key.endswith("_bytes") or key in ("size", "length", "offset"):
        return size_text(v)
    if key.endswith("_seconds"):
        return seconds_text(v)
    return time_text(v)


def pairs(code: str, details: dict, names: Names, *, sep: str = "") -> str:
    """``label value`` for each non-empty key, in the order recorded."""
    parts = []
    for key, v in details.items():
        if v in ("", None, [], {}):
            continue
        parts.append(f"{label(key)} {value(code, key, v, names)}")
    return (sep or _("；")).join(parts)


def field_names(model: str, keys: Any) -> str:
    """Field names (``["duration_seconds"]``) as the model names them (时长)."""
    if not isinstance(keys, list):
        return plain(keys)
    out = []
    for key in keys:
        field = _field(model, str(key))
        out.append(str(field.verbose_name) if field is not None else label(str(key)))
    return "、".join(out)


def changes_text(code: str, changes: Any, names: Names, *, model: str = "") -> str:
    """``{field: [before, after]}`` as ``电话：A → B``, fields by their names."""
    if not isinstance(changes, dict):
        return value(code, "changes", changes, names)
    model = model or next((m for p, m in _CHANGED_MODEL.items() if code.startswith(p)), "")
    parts = []
    for key, change in changes.items():
        field = _field(model, key) if model else None
        name = str(field.verbose_name) if field is not None else label(key)

        def one(v: Any, _key: str = key, _field: Any = field) -> str:
            if _field is not None and _field.choices and isinstance(v, str):
                found = dict(_field.flatchoices).get(v)
                if found is not None:
                    return str(found)
            return value(code, _key, v, names) if v not in ("", None) else _("空")

        if isinstance(change, list) and len(change) == 2:
            parts.append(
                _("%(field)s：%(old)s → %(new)s")
                % {
                    "field": name,
                    "old": one(change[0]),
                    "new": one(change[1]),
                }
            )
        else:
            parts.append(f"{name}：{one(change)}")
    return _("；").join(parts)


def renamed_text(renamed: Any) -> str:
    if not isinstance(renamed, list) or not renamed:
        return ""
    shown = [plain(r.get("name", "")) for r in renamed[:3] if isinstance(r, dict)]
    more = _("等") if len(renamed) > 3 else ""
    return _("%(n)s 条声像记录按标准重新命名（%(names)s%(more)s）") % {
        "n": len(renamed),
        "names": "、".join(shown),
        "more": more,
    }


# --- sentences --------------------------------------------------------------------


class Used(dict):
    """The details, remembering which keys the sentence used."""

    def __init__(self, data: dict) -> None:
        super().__init__(data)
        self.used: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.used.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return super().get(key, default)

    def take(self, *keys: str) -> None:
        """Mark keys as said (or deliberately left out)."""
        self.used.update(keys)


def join(*parts: str) -> str:
    return _("，").join(p for p in parts if p)


def opt(template: str, d: Used, key: str, fn: Callable[[Any], str] = str) -> str:
    """``template % value`` when ``d[key]`` is set, else ""."""
    v = d.get(key)
    if v in ("", None, [], {}):
        return ""
    if isinstance(v, bool | list | dict):  # not the shape the sentence expects
        return template % {"v": value("", key, v, Names())}
    return template % {"v": fn(v)}


Sentence = Callable[[str, Used, Names], str]
SENTENCES: dict[str, Sentence] = {}


def sentence(*codes: str) -> Callable[[Sentence], Sentence]:
    """Register ``fn`` as the sentence of ``codes`` (``jilu.web.audit_sentences``)."""

    def register(fn: Sentence) -> Sentence:
        for code in codes:
            SENTENCES[code] = fn
        return fn

    return register
