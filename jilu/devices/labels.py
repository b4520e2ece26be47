"""Translatable names of recorder statuses and event kinds for the interface.

The models keep their Chinese choice labels (they are in the migrations and the
audit log); pages show these, so the English interface reads in English.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jilu.devices.models import DeviceEvent, Recorder

STATUS_LABELS = {
    Recorder.Status.IN_SERVICE: _("在用"),
    Recorder.Status.UNDER_REPAIR: _("维修中"),
    Recorder.Status.LOST: _("遗失"),
    Recorder.Status.RETIRED: _("报废"),
}

KIND_LABELS = {
    DeviceEvent.Kind.BATTERY: _("电量检查"),
    DeviceEvent.Kind.STORAGE: _("存储检查"),
    DeviceEvent.Kind.CLOCK: _("时钟检查"),
    DeviceEvent.Kind.FAULT: _("故障"),
    DeviceEvent.Kind.REPAIR: _("维修"),
    DeviceEvent.Kind.LOSS: _("遗失"),
    DeviceEvent.Kind.DAMAGE: _("损坏"),
    DeviceEvent.Kind.FOUND: _("找回"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))
