"""Every state change of activities, cases and annotation: atomic, audited.

Access (who may call which action on which object) is decided by the caller
through ``restrict()``; the rules here are those of the work itself: two
officers on site (C4.1), annotation ties a recording to an activity without
touching the recording (C5.2, C6.5.3), standard names and record-list numbers
agree within a case (C5.3, A2 rule 4).

The actions live in ``actions_activities`` (parties and activities),
``actions_cases``, ``actions_annotation`` and ``actions_numbering`` (case order,
record-list numbers and standard names), with small helpers in
``actions_common``; this module re-exports them.
"""

from __future__ import annotations

from jilu.casework.actions_activities import (
    ACTIVITY_FIELDS,
    _check_activity,
    _check_id_number,
    create_activity,
    create_party,
    find_or_create_party,
    update_activity,
)
from jilu.casework.actions_annotation import (
    _annotate_many,
    _annotated,
    _check_annotation,
    annotate,
    annotate_run,
    create_activity_for_recording,
)
from jilu.casework.actions_cases import (
    CASE_TRANSITIONS,
    DEFAULT_RETENTION_SCHEDULE,
    MANUAL_STATUSES,
    add_activity_to_case,
    create_case,
    remove_activity_from_case,
    reorder_case_activities,
    retention_for,
    set_case_status,
    update_case,
)
from jilu.casework.actions_common import _person, _plain
from jilu.casework.actions_numbering import (
    _name_fields,
    _next_case_order,
    _rename_scope,
    reorder_record_list,
)

__all__ = [
    "ACTIVITY_FIELDS",
    "CASE_TRANSITIONS",
    "DEFAULT_RETENTION_SCHEDULE",
    "MANUAL_STATUSES",
    "_annotate_many",
    "_annotated",
    "_check_activity",
    "_check_annotation",
    "_check_id_number",
    "_name_fields",
    "_next_case_order",
    "_person",
    "_plain",
    "_rename_scope",
    "add_activity_to_case",
    "annotate",
    "annotate_run",
    "create_activity",
    "create_activity_for_recording",
    "create_case",
    "create_party",
    "find_or_create_party",
    "remove_activity_from_case",
    "reorder_case_activities",
    "reorder_record_list",
    "retention_for",
    "set_case_status",
    "update_activity",
    "update_case",
]
