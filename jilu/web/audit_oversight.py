"""The inspection department's own entries in the audit log, in words (C6.4).

Findings, spot checks, ledger confirmations, reports and rule settings are
named as an inspector knows them (督察发现 #16 <rule> · <subject>, 通报 #2
思明区 2026年11月), and what their entries record is said with the rule's
words, the people's and units' names and the checklist's words: never a rule
code, an ``officer:27`` subject or a ``ledger_duration:fail`` mark.

Everything is looked up in bulk with the rest of a page (``jilu.web.audit_text``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from jilu.web.audit_details import (
    REF_WORDS,
    VALUE_WORDS,
    Names,
    Used,
    ints,
    join,
    kind,
    opt,
    plain,
    sentence,
    value,
)

SEARCH_LIMIT = 500
SHOWN = 5  # facts or findings listed before "等 N 项"

# Subjects and facts of findings (``officer:27``) → the object type naming them.
TYPED_REFS = {
    "officer": "org.person",
    "person": "org.person",
    "unit": "org.unit",
    "recorder": "devices.recorder",
    "recording": "evidence.recording",
    "activity": "casework.activity",
    "case": "casework.case",
    "docking": "ingest.dockingsession",
    "alarm": "evidence.fixityalarm",
}
_TYPED = re.compile(r"^([a-z_]+):(.+)$")
_MONTH = re.compile(r"^(\d{4})年(\d{1,2})月$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})年第(\d)季度$")


# --- words ----------------------------------------------------------------------------


def month_text(year: Any, month: Any) -> str:
    try:
        return _("%(year)d年%(month)d月") % {"year": int(year), "month": int(month)}
    except (TypeError, ValueError):
        return f"{plain(year)}-{plain(month)}"


def quarter_text(year: Any, quarter: Any) -> str:
    return _("%(year)d年第%(quarter)d季度") % {"year": int(year), "quarter": int(quarter)}


def period_text(label: Any) -> str:
    """A period as recorded ("2026-11", "2026-11-26", "2026年11月") in the reader's words."""
    text = plain(label)
    if m := _MONTH.match(text) or _ISO_MONTH.match(text):
        return month_text(m[1], m[2])
    if m := _QUARTER.match(text):
        return quarter_text(m[1], m[2])
    if "/" in text:  # a spot check's first/last day
        first, _sep, last = text.partition("/")
        return _("%(first)s 至 %(last)s") % {"first": first, "last": last}
    return text


def rule_text(code: str, rule: Any) -> str:
    """A rule by its words: oversight's rules for oversight entries, else the
    retention rule a disposal followed."""
    if not isinstance(rule, str):
        return plain(rule)
    if code.startswith("oversight."):
        from jilu.oversight.rules import RULES

        info = RULES.get(rule)
        return str(info.label) if info is not None else rule
    from jilu.retention.rules import RULES as KEEP

    found = KEEP.get(rule)
    return str(found.text) if found is not None else rule


def _kind_label(what: str) -> str:
    from jilu.oversight.finding_models import Finding, FindingFact

    labels = {**dict(FindingFact.Kind.choices), **dict(Finding.Subject.choices)}
    return str(labels.get(what, what))


def typed_text(v: Any, names: Names) -> str:
    """``officer:27`` → ``人员 张三（警号 100001）``; ``spot_item:36`` → ``抽检项 #36``."""
    m = _TYPED.match(v) if isinstance(v, str) else None
    if m is None:
        return plain(v)
    what, object_id = m[1], m[2]
    target = TYPED_REFS.get(what)
    name = names.get(target, object_id) if target else f"#{object_id}"
    return f"{_kind_label(what)} {name}"


def _typed_refs(v: Any) -> Iterator[tuple[str, str]]:
    for item in v if isinstance(v, list) else [v]:
        m = _TYPED.match(item) if isinstance(item, str) else None
        if m is not None and m[1] in TYPED_REFS:
            yield TYPED_REFS[m[1]], m[2]


def _some(items: list[str]) -> str:
    shown = _("、").join(items[:SHOWN])
    if len(items) > SHOWN:
        return _("%(items)s 等 %(n)s 项") % {"items": shown, "n": len(items)}
    return shown


def _typed_list(code: str, v: Any, names: Names) -> str | None:
    if isinstance(v, str):
        return typed_text(v, names)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return _some([typed_text(x, names) for x in v]) or _("无")
    return None


def _rule(code: str, v: Any, names: Names) -> str | None:
    return rule_text(code, v) if isinstance(v, str) else None


def _marks(code: str, v: Any, names: Names) -> str | None:
    """``["ledger_duration:fail"]`` → ``台账总时长与声像记录一致：不符合``."""
    from jilu.oversight.spotcheck_checklist import ITEMS, OUTCOME_LABELS

    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        return None
    out = []
    for mark in v:
        item, _sep, outcome = mark.partition(":")
        found = ITEMS.get(item)
        out.append(
            _("%(item)s：%(outcome)s")
            % {
                "item": found.label if found is not None else item,
                "outcome": OUTCOME_LABELS.get(outcome, outcome),
            }
        )
    return _("；").join(out)


def _findings(code: str, v: Any, names: Names) -> str | None:
    if isinstance(v, list):
        return _some([f"#{plain(x)}" for x in v]) or _("无")
    if isinstance(v, int) and not isinstance(v, bool):
        return f"#{v}"
    return None


def _ledger_row(code: str, v: Any, names: Names) -> str | None:
    """A sampled ledger row ``2026-11-03/27``: the day and the officer."""
    if not isinstance(v, str) or "/" not in v:
        return None
    day, _sep, officer = v.partition("/")
    if not officer.isdigit():
        return day
    return f"{day} {names.get('org.person', officer)}"


def _ledger_refs(v: Any) -> Iterator[tuple[str, str]]:
    if isinstance(v, str) and "/" in v:
        officer = v.partition("/")[2]
        if officer.isdigit():
            yield "org.person", officer


def _setting(code: str, v: Any, names: Names) -> str | None:
    from jilu.oversight.thresholds import THRESHOLDS

    found = THRESHOLDS.get(v) if isinstance(v, str) else None
    return str(found.label) if found is not None else None


def _period(code: str, v: Any, names: Names) -> str | None:
    return period_text(v) if isinstance(v, str) else None


VALUE_WORDS.update(
    {
        "rule": _rule,
        "subject": _typed_list,
        "facts": _typed_list,
        "marks": _marks,
        "findings": _findings,
        "ledger_row": _ledger_row,
        "key": _setting,
        "period": _period,
    }
)
REF_WORDS.update({"subject": _typed_refs, "facts": _typed_refs, "ledger_row": _ledger_refs})


# --- objects --------------------------------------------------------------------------


def _pks(qs: Any) -> list[str]:
    return [str(pk) for pk in qs.values_list("pk", flat=True)[:SEARCH_LIMIT]]


def _finding_search(text: str) -> list[str]:
    from jilu.oversight.finding_models import Finding
    from jilu.oversight.rules import RULES

    text = text.removeprefix("#")
    rules = [code for code, info in RULES.items() if text in str(info.label)]
    q = Q(subject_label__icontains=text) | Q(rule__in=rules)
    if text.isdigit():
        q |= Q(pk=int(text))
    return _pks(Finding.objects.filter(q).order_by("pk"))


@kind("oversight.finding", pgettext_lazy("audit object", "督察发现"), _finding_search)
def _finding_names(ids: list[str]) -> dict[str, str]:
    """``#16 一线执法队员未配发记录仪 · 张三``: the rule's words and the subject."""
    from jilu.oversight.finding_models import Finding

    rows = Finding.objects.filter(pk__in=ints(ids)).values_list("pk", "rule", "subject_label")
    return {
        str(pk): f"#{pk} {rule_text('oversight.', rule)} · {subject}" for pk, rule, subject in rows
    }


def _report_search(text: str) -> list[str]:
    from jilu.oversight.report_models import Report

    q = Q(unit__name__icontains=text) | Q(unit__short_name__icontains=text)
    return _pks(Report.objects.filter(q).order_by("pk"))


@kind("oversight.report", pgettext_lazy("audit object", "通报"), _report_search)
def _report_names(ids: list[str]) -> dict[str, str]:
    """``#2 思明区 2026年11月`` (the whole city when no unit)."""
    from jilu.oversight.report_models import Report

    rows = Report.objects.filter(pk__in=ints(ids)).values_list(
        "pk", "kind", "year", "number", "unit__name"
    )
    out = {}
    for pk, what, year, number, unit in rows:
        period = (
            quarter_text(year, number) if what == Report.Kind.QUARTER else month_text(year, number)
        )
        out[str(pk)] = f"#{pk} {unit or _('全市')} {period}"
    return out


@kind("oversight.spotcheck", pgettext_lazy("audit object", "抽检"))
def _spotcheck_names(ids: list[str]) -> dict[str, str]:
    """``#2 声像记录 2026-11-01 至 2026-11-30 思明区``: what was sampled, when, where."""
    from jilu.oversight.spotcheck_models import SpotCheck

    kinds = dict(SpotCheck.Kind.choices)
    spots = SpotCheck.objects.filter(pk__in=ints(ids)).prefetch_related("units")
    out = {}
    for spot in spots:
        units = sorted(u.name for u in spot.units.all())
        where = (
            _("%(first)s 等 %(n)s 个单位") % {"first": units[0], "n": len(units)}
            if len(units) > 2
            else _("、").join(units)
        )
        when = period_text(f"{spot.first_day.isoformat()}/{spot.last_day.isoformat()}")
        out[str(spot.pk)] = " ".join(
            p for p in (f"#{spot.pk}", str(kinds[spot.kind]), when, where) if p
        )
    return out


def _ledger_search(text: str) -> list[str]:
    from jilu.oversight.ledger_models import LedgerConfirmation

    q = Q(unit__name__icontains=text) | Q(unit__short_name__icontains=text)
    return _pks(LedgerConfirmation.objects.filter(q).order_by("pk"))


@kind("oversight.ledgerconfirmation", pgettext_lazy("audit object", "台账确认"), _ledger_search)
def _ledger_names(ids: list[str]) -> dict[str, str]:
    """``思明区第一中队 2026年11月``."""
    from jilu.oversight.ledger_models import LedgerConfirmation

    rows = LedgerConfirmation.objects.filter(pk__in=ints(ids)).values_list(
        "pk", "unit__name", "year", "month"
    )
    return {str(pk): f"{unit} {month_text(year, month)}" for pk, unit, year, month in rows}


@kind("oversight.setting", gettext_lazy("督察规则设置"))
def _setting_names(keys: list[str]) -> dict[str, str]:
    """A threshold by its words (its id is its key)."""
    return {k: label for k in keys if (label := _setting("", k, Names())) is not None}


@kind("audit.checkpoint", gettext_lazy("审计检查点"))
def _checkpoint_names(ids: list[str]) -> dict[str, str]:
    return {}  # a checkpoint has only its number: #12


# --- sentences ------------------------------------------------------------------------


def _said(template: str, code: str, d: Used, key: str, n: Names) -> str:
    """``template`` with ``d[key]`` in words (names, labels), or "" when unset."""
    v = d.get(key)
    if v in ("", None, [], {}):
        return ""
    return template % {"v": value(code, key, v, n)}


def _rule_and_clause(code: str, d: Used) -> str:
    rule = d.get("rule")
    clause = d.get("clause")
    if not rule:
        return opt(_("条款 %(v)s"), d, "clause")
    text = rule_text(code, rule)
    return _("%(rule)s（%(clause)s）") % {"rule": text, "clause": plain(clause)} if clause else text


@sentence("oversight.finding.open", "oversight.finding.facts")
def _finding(code: str, d: Used, n: Names) -> str:
    return join(
        _rule_and_clause(code, d),
        _said(_("对象 %(v)s"), code, d, "subject", n),
        _said(_("期间 %(v)s"), code, d, "period", n),
        _said(_("责任单位 %(v)s"), code, d, "unit", n),
        _said(_("责任人 %(v)s"), code, d, "person", n),
        _said(_("事实 %(v)s"), code, d, "facts", n),
    )


@sentence("oversight.finding.explain")
def _explain(code: str, d: Used, n: Names) -> str:
    return join(
        _rule_and_clause(code, d),
        opt(_("说明：%(v)s"), d, "text"),
        opt(_("附件 SHA-256 %(v)s"), d, "attachment"),
    )


@sentence("oversight.finding.confirm", "oversight.finding.dismiss")
def _decide(code: str, d: Used, n: Names) -> str:
    return join(_rule_and_clause(code, d), opt(_("理由：%(v)s"), d, "reason"))


@sentence("oversight.setting.change")
def _setting_change(code: str, d: Used, n: Names) -> str:
    what = _said("%(v)s", code, d, "key", n)
    change = _("%(old)s → %(new)s") % {
        "old": plain(d.get("old", "")),
        "new": plain(d.get("new", "")),
    }
    return join(f"{what}：{change}" if what else change, opt(_("说明：%(v)s"), d, "note"))


@sentence("oversight.spotcheck.draw")
def _draw(code: str, d: Used, n: Names) -> str:
    from jilu.oversight.spotcheck_models import SpotCheck

    what = opt(_("抽检%(v)s"), d, "kind", lambda v: str(dict(SpotCheck.Kind.choices).get(v, v)))
    per = d.get("per")
    per_text = dict(SpotCheck.Per.choices).get(per) if isinstance(per, str) else None
    per_text = str(per_text) if per_text is not None else plain(per)
    taken = d.get("per_stratum")
    return join(
        what,
        _said(_("期间 %(v)s"), code, d, "period", n),
        _said(_("单位 %(v)s"), code, d, "units", n),
        _("分层 %(per)s，每层抽取 %(n)s 条") % {"per": per_text, "n": plain(taken)}
        if per and taken is not None
        else "",
        opt(_("总体 %(v)s 条"), d, "population"),
        opt(_("抽取 %(v)s 条"), d, "count"),
    )


@sentence("oversight.spotcheck.review")
def _review(code: str, d: Used, n: Names) -> str:
    return join(
        opt(_("第 %(v)s 项"), d, "position"),
        _said(_("声像记录 %(v)s"), code, d, "recording", n),
        _said(_("台账行 %(v)s"), code, d, "ledger_row", n),
        _said("%(v)s", code, d, "marks", n),
        opt(_("得分 %(v)s"), d, "score"),
        opt(_("检查意见：%(v)s"), d, "note"),
    )


@sentence("oversight.spotcheck.complete")
def _complete(code: str, d: Used, n: Names) -> str:
    findings = d.get("findings")
    return join(
        opt(_("符合 %(v)s 项"), d, "passed"),
        opt(_("不符合 %(v)s 项"), d, "failed"),
        opt(_("得分 %(v)s"), d, "score"),
        _("生成督察发现 %(f)s") % {"f": value(code, "findings", findings, n)} if findings else "",
    )


@sentence("oversight.spotcheck.verify")
def _verify(code: str, d: Used, n: Names) -> str:
    same = d.get("same")
    if same is None:
        return ""
    return _("重新抽取的样本与原样本一致") if same else _("重新抽取的样本与原样本不一致")


@sentence("oversight.ledger.confirm")
def _ledger(code: str, d: Used, n: Names) -> str:
    unit = d.get("unit")
    name = value(code, "unit", unit, n) if unit else plain(d.get("unit_name", ""))
    if name.startswith("#") and d.get("unit_name"):  # a unit since renamed away
        name = plain(d.get("unit_name"))
    d.take("unit_name")
    month = month_text(d.get("year"), d.get("month")) if d.get("year") else ""
    recordings = d.get("recordings")
    return join(
        " ".join(p for p in (name, month) if p),
        opt(_("记录仪 %(v)s 台"), d, "recorders"),
        _("声像记录 %(n)s 条") % {"n": plain(recordings)} if recordings is not None else "",
        opt(_("台账 %(v)s 行"), d, "recording_rows"),
    )


@sentence("oversight.report.draft", "oversight.report.publish")
def _report(code: str, d: Used, n: Names) -> str:
    # The scope's name as it was; the whole city in the reader's words.
    scope = plain(d.get("unit_name")) if d.get("unit_code") else _("全市")
    d.take("unit_name")
    return join(
        " ".join(p for p in (scope, _said("%(v)s", code, d, "period", n)) if p),
        _("重新起草") if d.get("redrafted") else "",
    )
