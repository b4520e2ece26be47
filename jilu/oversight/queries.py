"""Questions about findings that the pages, the API and the home pages ask."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from jilu.org.models import Unit
from jilu.org.roles import Role
from jilu.oversight import rules
from jilu.oversight.finding_models import Finding

PERIOD = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
FIRST_YEAR, LAST_YEAR = 2000, 2099
FILTERS = ("rule", "clause", "state", "unit", "period", "person")
MAX_ECHO = 40  # how much of a bad value a message repeats


@dataclass
class Filtered:
    """The findings a list shows, the filters as given (for the form) and what
    is wrong with them. With any error the findings are none: a filter that
    cannot be read is never dropped, which would widen the list."""

    findings: QuerySet
    chosen: dict[str, str]
    errors: list[str] = field(default_factory=list)


def period_error(value: str) -> str | None:
    """Why ``value`` is not a period (a month YYYY-MM or a day YYYY-MM-DD); None if it is."""
    shown = value[:MAX_ECHO]
    match = PERIOD.match(value)
    if match is None:
        return _(
            "期间“%(value)s”的格式不对：应写作 YYYY-MM（一个月）或 YYYY-MM-DD（一天），"
            "例如 2026-11 或 2026-11-26"
        ) % {"value": shown}
    year, month, day = int(match[1]), int(match[2]), match[3]
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return _("期间 %(value)s 的年份应在 %(first)s–%(last)s 之间") % {
            "value": shown,
            "first": FIRST_YEAR,
            "last": LAST_YEAR,
        }
    if not 1 <= month <= 12:
        return _("期间 %(value)s 不是有效的月份：月份应在 01–12 之间") % {"value": shown}
    if day is not None:
        try:
            date(year, month, int(day))
        except ValueError:
            return _("期间 %(value)s 不是有效的日期：该月没有这一天") % {"value": shown}
    return None


def filter_findings(qs: QuerySet, params: Any, user: Any) -> Filtered:
    """The list's filters (also the API's): rule, clause, state, unit (with the
    units below it), period (a month YYYY-MM or a day YYYY-MM-DD), person (the
    one who must explain: a dashboard's drill-down to an officer).

    A value that is not one of the choices is an error saying so, never
    ignored. The unit must be one of ``visible_units(user)`` (the form's list):
    a unit that does not exist and one outside the user's scope get the same
    answer, so the filter neither widens the list nor tells what exists."""
    chosen = {k: (params.get(k) or "").strip() for k in FILTERS}
    errors: list[str] = []
    if chosen["rule"]:
        if chosen["rule"] in rules.RULES:
            qs = qs.filter(rule=chosen["rule"])
        else:
            errors.append(_("没有这条规则：%(value)s") % {"value": chosen["rule"][:MAX_ECHO]})
    if chosen["clause"]:
        if chosen["clause"] in rules.CLAUSES:
            qs = qs.filter(rule__in=rules.rules_citing(chosen["clause"]))
        else:
            errors.append(_("没有这个条款：%(value)s") % {"value": chosen["clause"][:MAX_ECHO]})
    if chosen["state"]:
        if chosen["state"] in Finding.State.values:
            qs = qs.filter(state=chosen["state"])
        else:
            errors.append(_("没有这个状态：%(value)s") % {"value": chosen["state"][:MAX_ECHO]})
    if chosen["unit"]:
        value = chosen["unit"]
        unit = (
            visible_units(user).filter(pk=int(value)).first()
            if value.isdigit() and len(value) <= 18
            else None
        )
        if unit is not None:
            qs = qs.filter(unit__path__startswith=unit.path)
        else:
            errors.append(
                _("没有这个单位（%(value)s），或它不在你的权限范围内；请从单位列表中选择")
                % {"value": value[:MAX_ECHO]}
            )
    if chosen["person"]:
        if chosen["person"].isdigit() and len(chosen["person"]) <= 18:
            qs = qs.filter(person_id=int(chosen["person"]))
        else:
            errors.append(
                _("责任人应写人员编号（数字），“%(value)s”不是")
                % {"value": chosen["person"][:MAX_ECHO]}
            )
    if chosen["period"]:
        problem = period_error(chosen["period"])
        if problem is None:
            qs = qs.filter(period_label__startswith=chosen["period"])
        else:
            errors.append(problem)
    return Filtered(qs.none() if errors else qs, chosen, errors)


def counts_by_clause(qs: QuerySet) -> list[dict[str, Any]]:
    """How many findings cite each clause (a rule citing two counts under both)."""
    by_rule = dict(qs.order_by().values_list("rule").annotate(n=Count("pk")))
    out: Counter[str] = Counter()
    for code, n in by_rule.items():
        for clause in rules.RULES[code].clauses if code in rules.RULES else ():
            out[clause] += n
    return [{"clause": c, "count": out[c]} for c in rules.CLAUSES if out[c]]


def person_name(scoped: QuerySet, person: str) -> str:
    """The name of the person a list is narrowed to, if that person must explain
    one of the findings ``scoped`` (those the reader sees); else the number as
    given, which tells nothing about who that is."""
    if not person:
        return ""
    found = (
        scoped.filter(person_id=int(person)).values_list("person__name", flat=True).first()
        if person.isdigit() and len(person) <= 18
        else None
    )
    return found or f"#{person[:MAX_ECHO]}"


def visible_units(user: Any) -> QuerySet:
    if user.is_superuser or user.has_role(Role.INSPECTOR):
        return Unit.objects.all().order_by("path")
    if user.unit_id and user.has_role(Role.ADMIN, Role.SQUAD_LEADER, Role.BRIGADE_LEADER):
        return Unit.objects.filter(path__startswith=user.unit.path).order_by("path")
    return Unit.objects.none()


def visible_findings(user: Any) -> QuerySet:
    """The findings ``user`` reads (all for inspectors, the unit subtree for leaders)."""
    return Finding.objects.restrict(user, "view")


def open_findings(user: Any) -> QuerySet:
    """The open findings ``user`` reads (all for inspectors, the unit subtree for leaders)."""
    return Finding.objects.restrict(user, "view").filter(state=Finding.State.OPEN)


UNDECIDED = (Finding.State.OPEN, Finding.State.EXPLAINED)


def undecided_counts(qs: QuerySet) -> dict[str, int]:
    """Of ``qs``, those not yet decided: waiting for an explanation ("open") and
    explained, waiting for the inspector ("explained")."""
    counts = dict(
        qs.filter(state__in=UNDECIDED).order_by().values_list("state").annotate(n=Count("pk"))
    )
    return {state: counts.get(state, 0) for state in UNDECIDED}


def undecided_by_person(person_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per person who must explain: their findings waiting for an explanation
    ("open") and those explained, waiting for the inspector ("explained")."""
    out = {pk: dict.fromkeys(UNDECIDED, 0) for pk in person_ids}
    rows = (
        Finding.objects.filter(person_id__in=person_ids, state__in=UNDECIDED)
        .order_by()
        .values_list("person_id", "state")
        .annotate(n=Count("pk"))
    )
    for person_id, state, n in rows:
        out[person_id][state] = n
    return out


def open_by_unit(qs: QuerySet, limit: int = 10) -> list[dict[str, Any]]:
    rows = (
        qs.order_by()
        .values("unit_id", "unit__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "unit__name")[:limit]
    )
    return [{"unit_id": r["unit_id"], "name": r["unit__name"], "count": r["n"]} for r in rows]


def waiting_for(person: Any) -> QuerySet:
    """Open findings this person must explain themself."""
    return Finding.objects.filter(person_id=person.pk, state=Finding.State.OPEN)
