"""Pages for recorders (C1.1, C1.3, C1.4), workstations (C1.2) and equipment gaps.

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.devices.actions``. An object outside the user's view scope
is a 404; one the user sees but may not change is a 403 on POST.

The pages live in ``views_recorders``, ``views_mine``, ``views_workstations`` and
``views_gaps`` (shared helpers in ``views_common``); this module re-exports them.
"""

from __future__ import annotations

from jilu.devices.views_common import (
    EVENTS_PAGE_SIZE,
    GAP_READERS,
    NEW_TOKEN_KEY,
    PAGE_SIZE,
    RECORDER_READERS,
    STATION_READERS,
)
from jilu.devices.views_gaps import gaps
from jilu.devices.views_mine import my_check, my_incident, my_recorders
from jilu.devices.views_recorders import (
    recorder_check,
    recorder_create,
    recorder_detail,
    recorder_incident,
    recorder_issue,
    recorder_list,
    recorder_return,
    recorder_status,
)
from jilu.devices.views_workstations import (
    workstation_create,
    workstation_detail,
    workstation_list,
    workstation_reissue,
    workstation_revoke,
)

__all__ = [
    "EVENTS_PAGE_SIZE",
    "GAP_READERS",
    "NEW_TOKEN_KEY",
    "PAGE_SIZE",
    "RECORDER_READERS",
    "STATION_READERS",
    "gaps",
    "my_check",
    "my_incident",
    "my_recorders",
    "recorder_check",
    "recorder_create",
    "recorder_detail",
    "recorder_incident",
    "recorder_issue",
    "recorder_list",
    "recorder_return",
    "recorder_status",
    "workstation_create",
    "workstation_detail",
    "workstation_list",
    "workstation_reissue",
    "workstation_revoke",
]
