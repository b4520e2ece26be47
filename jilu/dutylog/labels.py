"""The duty log's words for its choices, for its own pages and for the pages
above that show a note (the activity page, the unit day, the timelines)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from jilu.dutylog.models import UnrecordedNote

# The interface's words for the model's choices (the model keeps the Chinese labels).
REASON_LABELS = {
    UnrecordedNote.Reason.WEATHER: gettext_lazy("恶劣天气"),
    UnrecordedNote.Reason.DEVICE_FAULT: gettext_lazy("设备故障"),
    UnrecordedNote.Reason.BATTERY: gettext_lazy("电量耗尽"),
    UnrecordedNote.Reason.STORAGE_FULL: gettext_lazy("存储已满"),
    UnrecordedNote.Reason.RECORDER_UNAVAILABLE: gettext_lazy("记录仪遗失或送修"),
    UnrecordedNote.Reason.OTHER: gettext_lazy("其他"),
}
STATE_LABELS = {
    UnrecordedNote.State.PENDING: gettext_lazy("待确认"),
    UnrecordedNote.State.RETURNED: gettext_lazy("已退回"),
    UnrecordedNote.State.CONFIRMED: gettext_lazy("已确认"),
}


def reason_label(value: str) -> str:
    return str(REASON_LABELS.get(value, value))


def state_label(value: str) -> str:
    return str(STATE_LABELS.get(value, value))


def label(note: UnrecordedNote) -> UnrecordedNote:
    note.reason_label = reason_label(note.reason)
    note.state_label = state_label(note.state)
    return note
