"""What each role sees first after signing in.

Every home page shows the person's own recorder (C1.3) and their recent
actions. Leaders, administrators and inspectors also see their scope in
numbers and the equipment gaps of C1.1 (a frontline officer without a
recorder) and C1.2 (a squad or independently housed brigade without a
workstation), each linking to the page where it is dealt with.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from jilu.audit.labels import action_label
from jilu.audit.models import AuditEntry
from jilu.casework import queries as case_queries
from jilu.casework.models import ANNOTATION_DEADLINE
from jilu.devices import queries as device_queries
from jilu.devices.models import Recorder, Workstation
from jilu.org.models import Person, Unit
from jilu.org.roles import Role

# The home page shown is that of the person's most encompassing role.
PRIORITY = [
    Role.ADMIN,
    Role.INSPECTOR,
    Role.LEGAL_REVIEWER,
    Role.CASE_HANDLER,
    Role.ARCHIVIST,
    Role.BRIGADE_LEADER,
    Role.SQUAD_LEADER,
    Role.OFFICER,
]

# Role names for the interface (translatable; the model keeps the Chinese labels).
ROLE_LABELS = {
    Role.OFFICER: _("执法队员"),
    Role.SQUAD_LEADER: _("中队长"),
    Role.BRIGADE_LEADER: _("大队长"),
    Role.ARCHIVIST: _("档案管理员"),
    Role.CASE_HANDLER: _("案件承办人"),
    Role.LEGAL_REVIEWER: _("法制审核员"),
    Role.INSPECTOR: _("督察"),
    Role.ADMIN: _("系统管理员"),
}

# Roles that answer for equipment gaps and may open the gaps page (C1.1, C1.2).
GAP_ROLES = (Role.ADMIN, Role.INSPECTOR, Role.BRIGADE_LEADER, Role.SQUAD_LEADER)

# Audit actions as a person reads them in "my recent actions".

RECORDER_STATUS_LABELS = {
    Recorder.Status.IN_SERVICE: _("在用"),
    Recorder.Status.UNDER_REPAIR: _("维修中"),
    Recorder.Status.LOST: _("遗失"),
    Recorder.Status.RETIRED: _("报废"),
}

GAP_LIST_LIMIT = 10
# Cases named on a home card; the count says how many there are in all.
CARD_LIST_LIMIT = 5


def primary_role(person: Person) -> str:
    if person.is_superuser:
        return Role.ADMIN.value
    for role in PRIORITY:
        if role in person.roles:
            return role.value
    return Role.OFFICER.value


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, Role(role).label))


def scope_units(person: Person):
    """The units a person answers for: their own subtree (all for inspectors)."""
    if person.is_superuser or person.has_role(Role.INSPECTOR):
        return Unit.objects.filter(active=True)
    if not person.unit_id:
        return Unit.objects.none()
    return Unit.objects.filter(active=True, path__startswith=person.unit.path)


def home_context(person: Person, role: str) -> dict[str, Any]:
    my_recorders = list(
        device_queries.recorders_held_by(person).annotate(held_since=Max("holdings__started_at"))
    )
    recent = AuditEntry.objects.filter(actor=person).order_by("-seq")[:10]
    ctx: dict[str, Any] = {
        "role": role,
        "role_label": role_label(role),
        "role_labels": [role_label(r) for r in PRIORITY if r in person.roles],
        "role_text": pgettext("list separator", "、").join(
            str(role_label(r)) for r in PRIORITY if r in person.roles
        ),
        "my_recorders": my_recorders,
        # C1.1: a frontline officer without a recorder is told so, and whom to ask.
        "needs_recorder": person.frontline
        and not any(r.status == Recorder.Status.IN_SERVICE for r in my_recorders),
        "my_recent": [
            {"at": e.at, "action": e.action, "label": action_label(e.action, e.details)}
            for e in recent
        ],
    }
    # C5.2: the 48-hour annotation deadline, shown before it is missed.
    now = timezone.now()
    queue = case_queries.annotation_queue(person)
    ctx["to_annotate"] = queue.count()
    ctx["to_annotate_overdue"] = queue.filter(docked_at__lt=now - ANNOTATION_DEADLINE).count()
    first = queue.first()
    ctx["next_deadline"] = first.docked_at + ANNOTATION_DEADLINE if first else None
    ctx["yesterday"] = timezone.localtime(now).date() - timedelta(days=1)
    ctx.update(findings_cards(person))
    ctx.update(report_cards(person, now))
    if role == Role.OFFICER:
        return ctx
    ctx.update(casework_cards(person, now))
    # C6.3: access requests waiting for this leader's decision or this archivist's copy.
    from jilu.access import scope as access_scope
    from jilu.org.roles import LEADERS

    if access_scope.holds(person, *LEADERS):
        ctx["access_to_approve"] = access_scope.awaiting_approval(person).count()
    if access_scope.holds(person, Role.ARCHIVIST):
        ctx["access_to_provide"] = access_scope.awaiting_copy(person).count()
    if access_scope.holds(person, *LEADERS):
        # C6.2: duty-log notes of could-not-record periods waiting for this leader.
        from jilu.dutylog.actions import awaiting_confirmation

        ctx["dutylog_to_confirm"] = awaiting_confirmation(person).count()
    if person.has_role(Role.SQUAD_LEADER, Role.BRIGADE_LEADER, Role.INSPECTOR, Role.ADMIN):
        ctx["squad_overdue"] = case_queries.overdue_for_leader(person, now=now).count()
        # Inspectors read every unit's recordings; the city bureau's people its whole tree.
        ctx["overdue_citywide"] = (
            person.is_superuser
            or person.has_role(Role.INSPECTOR)
            or (person.unit_id is not None and person.unit.parent_id is None)
        )

    from jilu.evidence import fixity

    if fixity.may_read_alarms(person):
        # C6.5.3, C6.5.4: altered or missing originals, and recordings whose
        # processing failed or never happened, in front of those who must act.
        from jilu.evidence.task_views import PROBLEM_CAP, problem_count

        ctx["fixity_alarms_open"] = fixity.open_alarms().count()
        problems = problem_count(person)
        ctx["processing_problems"] = min(problems, PROBLEM_CAP)
        ctx["processing_problems_more"] = problems > PROBLEM_CAP

    people = Person.objects.restrict(person, "view").filter(is_active=True)
    recorders = Recorder.objects.restrict(person, "view")
    by_status = {
        row["status"]: row["n"]
        for row in recorders.order_by().values("status").annotate(n=Count("pk"))
    }
    units = scope_units(person)
    ctx.update(
        {
            "people_count": people.count(),
            "frontline_count": people.filter(frontline=True).count(),
            "unit_count": units.count(),
            # Retired recorders are listed by status but not counted as equipment.
            "recorder_count": sum(
                n for status, n in by_status.items() if status != Recorder.Status.RETIRED
            ),
            "recorder_status": [
                {
                    "status": value,
                    "label": RECORDER_STATUS_LABELS.get(value, label),
                    "count": by_status.get(value, 0),
                }
                for value, label in Recorder.Status.choices
            ],
        }
    )
    if person.has_role(*GAP_ROLES):
        without_recorder = device_queries.officers_without_recorder(person)
        without_workstation = device_queries.units_without_workstation(person)
        ctx.update(
            {
                "show_gaps": True,
                "workstation_count": Workstation.objects.restrict(person, "view")
                .filter(revoked_at__isnull=True)
                .count(),
                "without_recorder": list(without_recorder[:GAP_LIST_LIMIT]),
                "without_recorder_count": without_recorder.count(),
                "without_workstation": list(without_workstation[:GAP_LIST_LIMIT]),
                "without_workstation_count": without_workstation.count(),
            }
        )
    return ctx


def findings_cards(person: Person) -> dict[str, Any]:
    """Findings (C6.4, C6.5): those waiting for this person's explanation; for an
    inspector the open ones by clause and by unit; for a leader their unit's.
    Inspectors and leaders also see those explained and waiting for the
    inspector's decision: nothing undecided drops out of sight."""
    from jilu.oversight import queries as findings

    out: dict[str, Any] = {"findings_waiting": findings.waiting_for(person).count()}
    inspector = person.is_superuser or person.has_role(Role.INSPECTOR)
    if inspector or person.has_role(Role.SQUAD_LEADER, Role.BRIGADE_LEADER):
        undecided = findings.undecided_counts(findings.visible_findings(person))
        out["findings_open"] = undecided["open"]
        out["findings_explained"] = undecided["explained"]
    if inspector:
        open_ = findings.open_findings(person)
        out["findings_by_clause"] = findings.counts_by_clause(open_)
        out["findings_by_unit"] = findings.open_by_unit(open_)
    return out


def report_cards(person: Person, now) -> dict[str, Any]:
    """The periodic reports and dashboards (C6.4): for an inspector the findings
    trend (a chart) and the newest reports; for a squad or brigade leader their
    unit's rates against the bureau's goals and the newest published reports
    over their unit. Officers see neither."""
    from jilu.oversight import report_charts, report_metrics
    from jilu.oversight.report_models import Report

    out: dict[str, Any] = {}
    inspector = person.is_superuser or person.has_role(Role.INSPECTOR)
    leader = person.has_role(Role.SQUAD_LEADER, Role.BRIGADE_LEADER) and person.unit_id
    if not (inspector or leader):
        return out
    reports = Report.objects.restrict(person, "view").select_related("unit")
    out["reports_recent"] = list(reports.order_by("-year", "-number", "kind")[:CARD_LIST_LIMIT])
    if inspector:
        out["findings_trend"] = True
    if leader and not inspector:
        figures = report_metrics.unit_dashboard(person.unit, now)
        labels = report_charts.rate_labels()
        out["unit_dashboard"] = figures
        out["unit_rates"] = [
            {
                "key": k,
                "label": labels[k],
                "value": figures["total"][k],
                "goal": figures["goals"][k],
                "meets": figures["total"]["meets"][k],
            }
            for k in report_metrics.RATES
        ]
    return out


def casework_cards(person: Person, now) -> dict[str, Any]:
    """Work waiting in the legal review loop (C5.5) and on the handler's cases (C5.2).

    A legal reviewer sees the hand-overs waiting for review, oldest first; a case
    handler (or anyone handling an open case) sees the cases returned for
    correction and their cases with recordings past the 48-hour deadline.
    """
    from jilu.casework.models import Case
    from jilu.transfer import queries as transfer_queries

    out: dict[str, Any] = {}
    if person.has_role(Role.LEGAL_REVIEWER):
        waiting = transfer_queries.review_queue(person)
        oldest = waiting.first()
        out["reviews_waiting"] = waiting.count()
        out["reviews_oldest"] = oldest
    handles = person.has_role(Role.CASE_HANDLER) or (
        Case.objects.filter(handler_id=person.pk, status=Case.Status.OPEN).exists()
    )
    if handles:
        returned = transfer_queries.returned_cases(person).order_by("number")
        out["returned_count"] = returned.count()
        out["returned_cases"] = list(returned[:CARD_LIST_LIMIT])
        overdue = case_queries.cases_with_overdue_annotation(person, now)
        out["overdue_cases_count"] = len(overdue)
        out["overdue_cases"] = overdue[:CARD_LIST_LIMIT]
        out["overdue_case_recordings"] = sum(o.recordings for o in overdue)
    return out
