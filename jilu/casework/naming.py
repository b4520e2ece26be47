"""Standard file names (C5.3): 单位名称+行政执法相对人+检查日期+检查内容.

``思明区城管执法大队_厦门某某餐饮有限公司_20261126_现场勘验``, from the
template in ``settings.CASEWORK_NAME_TEMPLATE`` (default below). Names travel
to Windows machines, to discs (ISO 9660 with Joliet and UDF) and into zip
files, so they are made safe for all of them:

- no character Windows forbids (``< > : " / \\ | ? *``, control characters),
  nor those Joliet forbids (``;``), nor invisible format characters (bidi
  overrides could disguise a name) nor characters outside the Basic
  Multilingual Plane (Joliet stores UCS-2, so emoji cannot be burnt);
- no leading or trailing spaces or dots, no reserved device name (``CON``…);
- at most 255 bytes in UTF-8 for the whole file name with its extension,
  shortening the longest field on a character boundary so the date and the
  recorded step survive;
- unique within a case (or an activity outside any case) by a numbered suffix,
  and within a case prefixed by the record-list number (``01_…``) so that the
  numbering and the names agree (Attachment 2, rule 4).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.utils import timezone

DEFAULT_TEMPLATE = "{unit}_{party}_{date}_{step}"
TEMPLATE_FIELDS = frozenset({"unit", "party", "date", "step", "kind", "matter", "case", "place"})
MAX_BYTES = 255
# Room kept for the extension (".mp4", ".jpeg"…) so the file name stays within MAX_BYTES.
EXTENSION_RESERVE = 8
MAX_STEM_BYTES = MAX_BYTES - EXTENSION_RESERVE

FORBIDDEN = frozenset('<>:"/\\|?*;')
RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
FALLBACK_PARTY = "无相对人"
_SPACES = re.compile(r"\s+")


def template() -> str:
    value = getattr(settings, "CASEWORK_NAME_TEMPLATE", "") or DEFAULT_TEMPLATE
    check_template(value)
    return value


def check_template(value: str) -> None:
    """A template may use only the known fields and must name the date (C5.3)."""
    fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    unknown = fields - TEMPLATE_FIELDS
    if unknown:
        raise ValueError(
            f"命名模板含未知字段：{', '.join(sorted(unknown))}；"
            f"可用字段：{', '.join(sorted(TEMPLATE_FIELDS))}"
        )


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def truncate_bytes(text: str, limit: int) -> str:
    """The longest prefix of ``text`` within ``limit`` UTF-8 bytes (never splits a character)."""
    if limit <= 0:
        return ""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def clean(text: str) -> str:
    """One field made safe: forbidden and invisible characters replaced or dropped."""
    text = unicodedata.normalize("NFC", str(text))
    out = []
    for ch in text:
        if ch in FORBIDDEN:
            out.append("-")
        elif ord(ch) > 0xFFFF:
            continue  # outside the BMP: Joliet (UCS-2) cannot hold it
        elif unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}:
            out.append(" " if ch in "\t\n\r\x0b\x0c" else "")
        else:
            out.append(ch)
    text = _SPACES.sub(" ", "".join(out))
    return text.strip(" .")


def _finish(stem: str) -> str:
    stem = clean(stem)
    if stem.split(".", 1)[0].upper() in RESERVED:
        stem = f"_{stem}"
    return stem or "_"


def fit(fields: dict[str, str], tmpl: str, limit: int) -> str:
    """Format ``tmpl`` with ``fields``, shortening the longest field until it fits."""
    fields = dict(fields)
    for _ in range(64):
        stem = _finish(tmpl.format(**fields))
        over = utf8_len(stem) - limit
        if over <= 0:
            return stem
        used = {n for _, n, _, _ in string.Formatter().parse(tmpl) if n}
        longest = max(used, key=lambda n: utf8_len(fields[n]), default=None)
        if longest is None or not fields[longest]:
            break
        fields[longest] = truncate_bytes(fields[longest], utf8_len(fields[longest]) - over)
    return _finish(truncate_bytes(_finish(tmpl.format(**fields)), limit))


def local_date(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y%m%d")


def base_name(
    *,
    unit: str,
    party: str,
    date: datetime,
    step: str,
    kind: str = "",
    matter: str = "",
    case: str = "",
    place: str = "",
    tmpl: str | None = None,
    limit: int = MAX_STEM_BYTES,
) -> str:
    """The standard name without list number, suffix or extension (C5.3)."""
    tmpl = tmpl or template()
    fields = {
        "unit": clean(unit),
        "party": clean(party) or FALLBACK_PARTY,
        "date": local_date(date),
        "step": clean(step),
        "kind": clean(kind),
        "matter": clean(matter),
        "case": clean(case),
        "place": clean(place),
    }
    return fit(fields, tmpl, limit)


def list_prefix(list_no: int, total: int) -> str:
    """``01_``: at least two digits, more when the list is longer (A2 rule 4)."""
    width = max(2, len(str(max(total, list_no))))
    return f"{list_no:0{width}d}_"


def unique_name(stem: str, taken: Iterable[str], limit: int = MAX_STEM_BYTES) -> str:
    """``stem``, or ``stem-2``, ``stem-3``… (shortened to fit) when already taken."""
    taken = set(taken)
    stem = truncate_bytes(stem, limit)
    if stem not in taken:
        return stem
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = _finish(truncate_bytes(stem, limit - len(suffix))) + suffix
        if candidate not in taken:
            return candidate
        n += 1


def standard_name(base: str, *, list_no: int | None, total: int, taken: Iterable[str] = ()) -> str:
    """The full stem: record-list prefix (in a case), the base, a suffix if needed."""
    if list_no is not None:
        prefix = list_prefix(list_no, total)
        base = prefix + truncate_bytes(base, MAX_STEM_BYTES - len(prefix))
    return unique_name(_finish(base), taken)
