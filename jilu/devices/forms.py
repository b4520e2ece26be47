"""Forms for the device pages. They only read and check input; actions change state."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jilu.devices import queries
from jilu.devices.labels import KIND_LABELS, STATUS_LABELS
from jilu.devices.models import DeviceEvent, Recorder, serial_validator
from jilu.org import widgets
from jilu.org.models import Person, Unit
from jilu.org.widgets import PersonChoiceField, UnitChoiceField, when_field

GB = 10**9  # recorders report storage in decimal gigabytes, as their screens show it

# The kinds a holder reports on their own recorder (C6.5.5–6); leaders also log repairs and finds.
HOLDER_INCIDENTS = (DeviceEvent.Kind.FAULT, DeviceEvent.Kind.DAMAGE, DeviceEvent.Kind.LOSS)
MANAGER_INCIDENTS = (*HOLDER_INCIDENTS, DeviceEvent.Kind.REPAIR, DeviceEvent.Kind.FOUND)


class RegisterRecorderForm(forms.Form):
    serial = forms.CharField(
        label=_("产品序号"),
        max_length=7,
        min_length=7,
        validators=[serial_validator],
        help_text=_("7位数字或字母，见记录仪背面铭牌"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "style": "text-transform:uppercase"}),
    )
    vendor = forms.CharField(label=_("厂商"), max_length=50, required=False)
    model = forms.CharField(label=_("型号"), max_length=50, required=False)
    unit = UnitChoiceField(label=_("所属单位"), queryset=Unit.objects.none(), empty_label=None)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = queries.units_for_recorders(user)

    def clean_serial(self) -> str:
        return self.cleaned_data["serial"].strip().upper()


class IssueForm(forms.Form):
    person = PersonChoiceField(label=_("持有人"), queryset=Person.objects.none())
    at = when_field(_("配发时间"))
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, user: Any, recorder: Recorder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = queries.issuable_people(user, recorder)
        self.fields["person"].empty_label = _("— 选择本单位人员 —")


class ReturnForm(forms.Form):
    at = when_field(_("归还时间"))
    note = forms.CharField(
        label=_("备注"), max_length=200, required=False, help_text=_("如外观、配件是否齐全")
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("新状态"), choices=list(STATUS_LABELS.items()))
    note = forms.CharField(label=_("原因"), max_length=500, help_text=_("必填：为何改变状态"))

    def __init__(self, *args: Any, recorder: Recorder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (value, label) for value, label in STATUS_LABELS.items() if value != recorder.status
        ]


class CheckForm(forms.Form):
    """C1.4: the holder's (or a leader's) check of battery and free storage."""

    battery_pct = forms.IntegerField(
        label=_("电量（%）"), min_value=0, max_value=100, required=False
    )
    storage_free_gb = forms.DecimalField(
        label=_("剩余存储（GB）"), min_value=Decimal(0), decimal_places=2, required=False
    )
    storage_total_gb = forms.DecimalField(
        label=_("总存储（GB）"), min_value=Decimal("0.01"), decimal_places=2, required=False
    )
    clock_offset_seconds = forms.FloatField(
        label=_("时钟偏差（秒）"),
        required=False,
        help_text=_("记录仪时间减北京时间，快为正、慢为负"),
    )
    at = when_field(_("检查时间"))
    note = forms.CharField(label=_("备注"), max_length=500, required=False)

    def __init__(self, *args: Any, with_clock: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_clock:
            del self.fields["clock_offset_seconds"]

    def clean(self) -> dict:
        data = super().clean()
        readings = ("battery_pct", "storage_free_gb", "clock_offset_seconds")
        if not self.errors and all(data.get(k) is None for k in readings):
            raise ValidationError(_("请至少填写电量或剩余存储"))
        free, total = data.get("storage_free_gb"), data.get("storage_total_gb")
        if free is not None and total is not None and free > total:
            self.add_error("storage_free_gb", _("剩余存储不能大于总存储"))
        if total is not None and free is None:
            self.add_error("storage_free_gb", _("填写了总存储时也要填写剩余存储"))
        return data

    def readings(self) -> dict[str, Any]:
        d = self.cleaned_data
        free, total = d.get("storage_free_gb"), d.get("storage_total_gb")
        return {
            "battery_pct": d.get("battery_pct"),
            "storage_free_bytes": int(free * GB) if free is not None else None,
            "storage_total_bytes": int(total * GB) if total is not None else None,
            "clock_offset_seconds": d.get("clock_offset_seconds"),
        }


class IncidentForm(forms.Form):
    """C6.5.5–6: fault, damage, loss (and, for leaders, repair and found)."""

    kind = forms.ChoiceField(label=_("类型"))
    at = when_field(_("发生时间"))
    note = forms.CharField(
        label=_("经过"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
        help_text=_("故障、损坏、遗失必须写明时间、地点、原因"),
    )

    def __init__(
        self, *args: Any, kinds: tuple[str, ...] = HOLDER_INCIDENTS, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, KIND_LABELS[k]) for k in kinds]

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if kind in {k.value for k in HOLDER_INCIDENTS} and not (data.get("note") or "").strip():
            self.add_error(
                "note",
                gettext("登记“%(kind)s”必须说明经过（时间、地点、原因）")
                % {"kind": KIND_LABELS[kind]},
            )
        return data


class HolderAtForm(forms.Form):
    """C1.3: who held this recorder at a moment (北京时间)."""

    at = when_field(_("时间"), required=True)


class WorkstationForm(forms.Form):
    unit = UnitChoiceField(label=_("所属单位"), queryset=Unit.objects.none(), empty_label=None)
    name = forms.CharField(label=_("名称"), max_length=100)
    location = forms.CharField(label=_("安放位置"), max_length=200, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = queries.units_for_workstations(user)


# Action field names that a form shows under another name.
FIELD_ALIASES = {"storage_free_bytes": "storage_free_gb", "storage_total_bytes": "storage_total_gb"}


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """``org.widgets.apply_errors`` with the recorder forms' field aliases."""
    widgets.apply_errors(form, exc, aliases=FIELD_ALIASES)
