"""Every state change of docking sessions, uploads, recordings at ingest and quarantine.

One function per change, ``transaction.atomic``, keyword-only ``actor``, the
audit row in the same transaction. Stations act as ``"station:<id>:<name>"``.

Attribution of a verified file is a chain of small checks (``CHECKS``): the
first that objects sends the file to quarantine with its reason; a file that
passes them all becomes a :class:`~jilu.evidence.models.Recording` of the
recorder named in its file name, held at that time by the officer the holder
history names (C1.3), started at the name's time corrected by the docking's
clock offset (C3.2), and flagged when it reached a workstation more than 24
hours after it was made (C5.1).

This module is the public entry point; the changes live by responsibility in
:mod:`jilu.ingest.docking` (docking sessions), :mod:`jilu.ingest.uploads`
(tus uploads), :mod:`jilu.ingest.attribution` (the chain of checks, recordings,
quarantine) and :mod:`jilu.ingest.quarantine` (resolving quarantine).
"""

from __future__ import annotations

from jilu.ingest.attribution import (
    CHECKS,
    COLLECTION_DEADLINE,
    FileFacts,
    Outcome,
    Problem,
    attribute_file,
    check_info,
    check_name,
    check_recorder_known,
    check_serial_matches_docking,
    check_zero_byte,
    make_recording,
)
from jilu.ingest.docking import (
    PROGRESS_STATES,
    finish_docking,
    open_docking,
    report_progress,
    station_actor,
)
from jilu.ingest.quarantine import (
    attribute_quarantined,
    close_quarantined,
    register_and_attribute,
)
from jilu.ingest.staging_base import record_staged
from jilu.ingest.uploads import (
    advance_upload,
    complete_upload,
    create_upload,
    discard_staged,
    expire_upload,
    expire_uploads,
    reject_upload,
    remove_spool_leftovers,
    terminate_upload,
    upload_expiry,
)

__all__ = [
    "CHECKS",
    "COLLECTION_DEADLINE",
    "PROGRESS_STATES",
    "FileFacts",
    "Outcome",
    "Problem",
    "advance_upload",
    "attribute_file",
    "attribute_quarantined",
    "check_info",
    "check_name",
    "check_recorder_known",
    "check_serial_matches_docking",
    "check_zero_byte",
    "close_quarantined",
    "complete_upload",
    "create_upload",
    "discard_staged",
    "expire_upload",
    "expire_uploads",
    "finish_docking",
    "make_recording",
    "open_docking",
    "register_and_attribute",
    "record_staged",
    "reject_upload",
    "remove_spool_leftovers",
    "report_progress",
    "station_actor",
    "terminate_upload",
    "upload_expiry",
]
