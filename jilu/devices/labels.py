"""Names of recorder statuses and event kinds for the interface.

The models' choice labels are translatable (lazy, so the Chinese text in the
migrations does not change); pages show them in the active language. Stored
texts and printed forms that must stay Chinese pin the language themselves.
"""

from __future__ import annotations

from jilu.devices.models import DeviceEvent, Recorder

STATUS_LABELS = dict(Recorder.Status.choices)

KIND_LABELS = dict(DeviceEvent.Kind.choices)


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))
