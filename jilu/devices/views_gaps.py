"""Equipment gaps: officers without a recorder, units without a workstation."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from jilu.devices import queries
from jilu.devices.labels import status_label
from jilu.devices.models import Holding, Recorder
from jilu.devices.views_common import GAP_READERS, _require
from jilu.org.models import Person, Unit

# --- gaps (C1.1, C1.2) ----------------------------------------------------


@login_required
def gaps(request: HttpRequest) -> HttpResponse:
    _require(request, GAP_READERS, _("你的角色不能查看配备缺口"))
    user = request.user

    # C1.1: frontline officers without a recorder in service, by unit.
    held = Holding.objects.filter(person=OuterRef("pk"), ended_at__isnull=True).order_by(
        "-started_at"
    )
    without = list(
        queries.officers_without_recorder(user)
        .annotate(
            # A recorder they hold that is not in service (under repair, lost).
            held_serial=Subquery(held.values("recorder__serial")[:1]),
            held_status=Subquery(held.values("recorder__status")[:1]),
        )
        .order_by("unit__path", "name")
    )
    for person in without:
        person.held_status_label = status_label(person.held_status) if person.held_status else ""
    frontline_total = (
        Person.objects.restrict(user, "view").filter(is_active=True, frontline=True).count()
    )
    current = Holding.objects.filter(recorder=OuterRef("pk"), ended_at__isnull=True)
    idle_paths = Counter(
        Recorder.objects.restrict(user, "view")
        .filter(status=Recorder.Status.IN_SERVICE)
        .exclude(Exists(current))
        .values_list("unit__path", flat=True)
    )
    groups: dict[int, dict[str, Any]] = {}
    for person in without:
        group = groups.setdefault(
            person.unit_id,
            {"unit": person.unit, "people": [], "idle": 0},
        )
        group["people"].append(person)
    for group in groups.values():
        # A recorder can go to anyone in its unit or below, so idle ones
        # registered at this unit or any unit above it are available here.
        group["idle"] = sum(
            n for path, n in idle_paths.items() if group["unit"].path.startswith(path)
        )

    # C1.2: squads and independently housed brigades without an active workstation.
    needing = queries.units_needing_workstation(user)
    missing = list(
        queries.units_without_workstation(user)
        .annotate(revoked=Count("workstations", filter=Q(workstations__revoked_at__isnull=False)))
        .order_by("path")
    )
    addable = set(queries.units_for_workstations(user).values_list("pk", flat=True))
    for unit in missing:
        unit.can_add = unit.pk in addable
        unit.reason = _("中队") if unit.level == Unit.Level.SQUAD else _("独立驻点大队")
    return render(
        request,
        "devices/gaps.html",
        {
            "groups": list(groups.values()),
            "without_count": len(without),
            "frontline_total": frontline_total,
            "missing": missing,
            "needing_count": needing.count(),
            "can_issue": queries.units_for_recorders(user).exists(),
        },
    )
