"""Background work of oversight: the rules read the facts that are new since
their last run (C6.4, C6.5). Periodic, idempotent, safe to run any time."""

from __future__ import annotations

from django_tasks import task

from jilu.oversight import (
    clock,
    rules_activities,
    rules_devices,
    rules_evidence,
    rules_recordings,
    thresholds,
)

# Each source of facts with the rules that read it; the order is that of the notice.
SOURCES = [
    ("daily", rules_devices.run_daily),  # C1.1, C1.2, C1.4
    ("recordings", rules_recordings.run_new),  # C1.3, C5.1
    ("dockings", rules_devices.run_dockings),  # C1.4, C3.2
    ("activities", rules_activities.run),  # C2.1, C4.3, C6.5.1
    ("off_duty", rules_recordings.run_off_duty),  # C2.2, C6.5.8
    ("annotation", rules_recordings.run_annotation),  # C5.2
    ("fixity_alarms", rules_evidence.run_alarms),  # C6.5.3, C6.5.4
    ("device_events", rules_devices.run_incidents),  # C6.5.5, C6.5.6
    ("audit", rules_evidence.run_audit),  # C6.5.7
]


def run_all() -> dict[str, int]:
    """Run every rule over what is new; how many rows (or windows) each source read."""
    values = thresholds.current()
    now = clock.now()
    return {name: run(values, now) for name, run in SOURCES}


@task()
def run_rules() -> dict[str, int]:
    return run_all()
