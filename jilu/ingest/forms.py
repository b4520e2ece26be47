"""Forms an administrator uses to resolve quarantined files."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jilu.devices.models import Recorder
from jilu.evidence.models import Recording
from jilu.org.models import Person, Unit

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"})


def _officer(user: Any, user_no: str) -> Person | None:
    user_no = (user_no or "").strip().upper()
    if not user_no:
        return None
    person = Person.objects.restrict(user, "view").filter(user_no=user_no, is_active=True).first()
    if person is None:
        raise forms.ValidationError(f"在你的管辖范围内找不到警号为 {user_no} 的在岗人员")
    return person


class AttributeForm(forms.Form):
    serial = forms.CharField(
        label=_("记录仪产品序号"), max_length=7, help_text=_("已登记、在你管辖范围内的记录仪")
    )
    officer_user_no = forms.CharField(
        label=_("执法队员警号"),
        max_length=6,
        required=False,
        help_text=_("留空则按持有记录（录制开始时谁持有该记录仪）确定"),
    )
    started_at = forms.DateTimeField(
        label=_("录制开始时间（北京时间，已校正）"),
        required=False,
        widget=DATETIME_WIDGET,
        help_text=_("留空则取文件名中的时间并按对接时测得的时钟偏差校正"),
    )
    kind = forms.ChoiceField(label=_("类型"), choices=Recording.Kind.choices)
    note = forms.CharField(
        label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_serial(self) -> Recorder:
        serial = self.cleaned_data["serial"].strip().upper()
        recorder = Recorder.objects.restrict(self.user, "change").filter(serial=serial).first()
        if recorder is None:
            raise forms.ValidationError(
                f"在你的管辖范围内没有产品序号为 {serial} 的记录仪；未登记的请先登记"
            )
        return recorder

    def clean_officer_user_no(self) -> Person | None:
        return _officer(self.user, self.cleaned_data.get("officer_user_no", ""))


class RegisterForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("所属单位"), queryset=Unit.objects.none())
    vendor = forms.CharField(label=_("厂商"), max_length=50, required=False)
    model = forms.CharField(label=_("型号"), max_length=50, required=False)
    holder_user_no = forms.CharField(
        label=_("持有人警号"),
        max_length=6,
        required=False,
        help_text=_("录制这些文件时持有该记录仪的执法队员；留空则暂不配发"),
    )
    holder_since = forms.DateTimeField(
        label=_("持有起始时间（北京时间）"),
        required=False,
        widget=DATETIME_WIDGET,
        help_text=_("留空则取这些文件中最早的录制时间"),
    )
    note = forms.CharField(
        label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, "change").filter(active=True)

    def clean_holder_user_no(self) -> Person | None:
        return _officer(self.user, self.cleaned_data.get("holder_user_no", ""))


class CloseForm(forms.Form):
    note = forms.CharField(
        label=_("核实情况"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例如：零字节文件系设备故障所致，已登记故障。原始字节仍然保存。"),
    )
