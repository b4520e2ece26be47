"""Questions about findings that the pages, the API and the home pages ask."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from django.db.models import Count, QuerySet

from jilu.org.models import Unit
from jilu.org.roles import Role
from jilu.oversight import rules
from jilu.oversight.finding_models import Finding

PERIOD = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


def filter_findings(qs: QuerySet, params: Any, user: Any) -> tuple[QuerySet, dict[str, str]]:
    """The list's filters (also the API's): rule, clause, state, unit (with the
    units below it), period (a month YYYY-MM or a day YYYY-MM-DD), person (the
    one who must explain: a dashboard's drill-down to an officer)."""
    chosen = {
        k: (params.get(k) or "").strip()
        for k in ("rule", "clause", "state", "unit", "period", "person")
    }
    if chosen["rule"] in rules.RULES:
        qs = qs.filter(rule=chosen["rule"])
    else:
        chosen["rule"] = ""
    if chosen["clause"] in rules.CLAUSES:
        qs = qs.filter(rule__in=rules.rules_citing(chosen["clause"]))
    else:
        chosen["clause"] = ""
    if chosen["state"] in Finding.State.values:
        qs = qs.filter(state=chosen["state"])
    else:
        chosen["state"] = ""
    unit = Unit.objects.filter(pk=chosen["unit"]).first() if chosen["unit"].isdigit() else None
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    else:
        chosen["unit"] = ""
    if chosen["person"].isdigit() and len(chosen["person"]) <= 18:
        qs = qs.filter(person_id=int(chosen["person"]))
    else:
        chosen["person"] = ""
    if PERIOD.match(chosen["period"]):
        qs = qs.filter(period_label__startswith=chosen["period"])
    else:
        chosen["period"] = ""
    return qs, chosen


def counts_by_clause(qs: QuerySet) -> list[dict[str, Any]]:
    """How many findings cite each clause (a rule citing two counts under both)."""
    by_rule = dict(qs.order_by().values_list("rule").annotate(n=Count("pk")))
    out: Counter[str] = Counter()
    for code, n in by_rule.items():
        for clause in rules.RULES[code].clauses if code in rules.RULES else ():
            out[clause] += n
    return [{"clause": c, "count": out[c]} for c in rules.CLAUSES if out[c]]


def visible_units(user: Any) -> QuerySet:
    if user.is_superuser or user.has_role(Role.INSPECTOR):
        return Unit.objects.all().order_by("path")
    if user.unit_id and user.has_role(Role.ADMIN, Role.SQUAD_LEADER, Role.BRIGADE_LEADER):
        return Unit.objects.filter(path__startswith=user.unit.path).order_by("path")
    return Unit.objects.none()


def open_findings(user: Any) -> QuerySet:
    """The open findings ``user`` reads (all for inspectors, the unit subtree for leaders)."""
    return Finding.objects.restrict(user, "view").filter(state=Finding.State.OPEN)


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
