"""Forms for finding recordings and acknowledging fixity alarms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jilu.evidence.models import MediaInfo, Recording
from jilu.evidence.queries import RecordingFilters, has_annotations
from jilu.org.models import Person, Unit

YES_NO = [("", _("全部")), ("yes", _("是")), ("no", _("否"))]


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class RecordingFilterForm(forms.Form):
    q = forms.CharField(label=_("关键词"), required=False, max_length=100)
    unit = forms.ModelChoiceField(
        label=_("单位（含下级）"), queryset=Unit.objects.none(), required=False
    )
    officer = forms.ModelChoiceField(
        label=_("执法队员"), queryset=Person.objects.none(), required=False
    )
    serial = forms.CharField(label=_("记录仪序号"), required=False, max_length=32)
    date_from = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部"))] + list(Recording.Kind.choices)
    )
    integrity = forms.ChoiceField(
        label=_("完整性"),
        required=False,
        choices=[("", _("全部"))] + list(MediaInfo.Integrity.choices),
    )
    late = forms.ChoiceField(label=_("超过24小时采集"), required=False, choices=YES_NO)
    annotated = forms.ChoiceField(label=_("已标注"), required=False, choices=YES_NO)
    overdue = forms.BooleanField(label=_("超过48小时未标注"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, "view").order_by("path")
        self.fields["officer"].queryset = (
            Person.objects.restrict(user, "view").select_related("unit").order_by("name")
        )
        if not has_annotations():
            del self.fields["annotated"]
            del self.fields["overdue"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("结束日期不能早于开始日期"))
        return data

    def filters(self) -> RecordingFilters:
        data = self.cleaned_data if self.is_valid() else {}
        officer = data.get("officer")
        return RecordingFilters(
            q=data.get("q", "").strip(),
            unit=data.get("unit"),
            officer_id=officer.pk if officer else None,
            serial=data.get("serial", "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            kind=data.get("kind", ""),
            integrity=data.get("integrity", ""),
            late=_yes_no(data.get("late", "")),
            annotated=_yes_no(data.get("annotated", "")),
            overdue=bool(data.get("overdue")),
        )


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("处理情况"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("写明已采取的措施，例如：已报告督察，已从备份恢复并重新校验。"),
    )
