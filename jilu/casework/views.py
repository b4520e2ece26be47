"""Pages for activities, cases and annotation within 48 hours (C5.2).

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.casework.actions``. An object outside the user's view scope
is a 404; one the user sees but may not change is a 403.

The pages live in ``views_annotation``, ``views_activities``, ``views_cases`` and
``views_powers`` (shared helpers in ``views_common``); this module re-exports them.
"""

from __future__ import annotations

from jilu.casework.views_activities import (
    activity_create,
    activity_detail,
    activity_edit,
    activity_list,
)
from jilu.casework.views_annotation import (
    SQUAD_QUEUE_READERS,
    annotate,
    annotate_new_activity,
    annotation,
    queue,
    squad_queue,
)
from jilu.casework.views_cases import (
    case_add_activity,
    case_create,
    case_detail,
    case_edit,
    case_list,
    case_move_activity,
    case_remove_activity,
    case_status,
)
from jilu.casework.views_common import PAGE_SIZE
from jilu.casework.views_powers import power_import, power_list, power_upload

__all__ = [
    "PAGE_SIZE",
    "SQUAD_QUEUE_READERS",
    "activity_create",
    "activity_detail",
    "activity_edit",
    "activity_list",
    "annotate",
    "annotate_new_activity",
    "annotation",
    "case_add_activity",
    "case_create",
    "case_detail",
    "case_edit",
    "case_list",
    "case_move_activity",
    "case_remove_activity",
    "case_status",
    "power_import",
    "power_list",
    "power_upload",
    "queue",
    "squad_queue",
]
