"""Forms for finding recordings and acknowledging fixity alarms."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.db.models import Q
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from jilu.devices.models import Holding
from jilu.evidence.models import MediaInfo, Recording
from jilu.evidence.queries import (
    RecordingFilters,
    has_annotations,
    officers_in_scope,
    units_in_scope,
)
from jilu.evidence.timeline import FIRST_DAY, LAST_DAY
from jilu.org.models import Person, Unit
from jilu.org.roles import Role

YES_NO = [("", _("全部")), ("yes", _("是")), ("no", _("否"))]

NOT_OFFERED = {"invalid_choice": _("“%(value)s”不是可选的值")}
CHECKED, UNCHECKED = {"on", "1", "true", "yes"}, {"", "off", "0", "false", "no"}


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class FastSelect(forms.Select):
    """A ``<select>`` rendered in one pass.

    The officer filter of a city lists thousands of people; Django renders each
    option through its own template (~0.2 ms each), which made the list page
    spend most of its time drawing one drop-down.
    """

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> str:
        final_attrs = self.build_attrs(self.attrs, attrs)
        chosen = {str(v) for v in self.format_value(value)}
        options = []
        for option_value, label in self.choices:
            raw = getattr(option_value, "value", option_value)  # ModelChoiceIteratorValue
            text = "" if raw is None else str(raw)
            options.append(
                format_html(
                    '<option value="{}"{}>{}</option>',
                    text,
                    mark_safe(" selected") if text in chosen else "",
                    label,
                )
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(final_attrs),
            mark_safe("".join(options)),
        )


class RecordingFilterForm(forms.Form):
    q = forms.CharField(label=_("关键词"), required=False, max_length=100)
    unit = forms.ModelChoiceField(
        label=_("单位（含下级）"),
        queryset=Unit.objects.none(),
        required=False,
        widget=FastSelect,
        error_messages={"invalid_choice": _("没有这个单位，或它不在你的权限范围内")},
    )
    officer = forms.ModelChoiceField(
        label=_("执法队员"),
        queryset=Person.objects.none(),
        required=False,
        widget=FastSelect,
        error_messages={"invalid_choice": _("没有这个执法队员，或其声像记录不在你的权限范围内")},
    )
    serial = forms.CharField(label=_("记录仪序号"), required=False, max_length=32)
    date_from = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(
        label=_("类型"),
        required=False,
        choices=[("", _("全部"))] + list(Recording.Kind.choices),
        error_messages=NOT_OFFERED,
    )
    integrity = forms.ChoiceField(
        label=_("完整性"),
        required=False,
        choices=[("", _("全部"))] + list(MediaInfo.Integrity.choices),
        error_messages=NOT_OFFERED,
    )
    late = forms.ChoiceField(
        label=_("超过24小时采集"), required=False, choices=YES_NO, error_messages=NOT_OFFERED
    )
    annotated = forms.ChoiceField(
        label=_("已标注"), required=False, choices=YES_NO, error_messages=NOT_OFFERED
    )
    overdue = forms.BooleanField(label=_("超过48小时未标注"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only what the person's scope holds: another unit or officer would list
        # nothing, and a chosen one outside the scope is refused as not offered.
        self.fields["unit"].queryset = units_in_scope(user).order_by("path")
        # Only people whose recordings there can be: frontline officers and
        # anyone who has held a recorder (the officer of a recording is its
        # holder at the time, C1.3) — not archivists or legal reviewers.
        recorder_holders = Q(role_grants__role=Role.OFFICER) | Q(
            pk__in=Holding.objects.values("person_id")
        )
        self.fields["officer"].queryset = (
            officers_in_scope(user)
            .filter(recorder_holders)
            .distinct()
            .select_related("unit")
            .order_by("name")
        )
        if not has_annotations():
            del self.fields["annotated"]
            del self.fields["overdue"]

    def _clean_day(self, name: str) -> date | None:
        day = self.cleaned_data.get(name)
        if day and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(_("日期超出范围（2000-01-01 至 2099-12-31）"))
        return day

    def clean_date_from(self) -> date | None:
        return self._clean_day("date_from")

    def clean_date_to(self) -> date | None:
        return self._clean_day("date_to")

    def clean_overdue(self) -> bool:
        # A checkbox sends "on"; links may say 1/0, yes/no, true/false. Anything
        # else (which Django's checkbox would read as "checked") is refused.
        raw = str(self.data.get(self.add_prefix("overdue"), "")).strip().lower()
        if raw in CHECKED:
            return True
        if raw in UNCHECKED:
            return False
        raise forms.ValidationError(NOT_OFFERED["invalid_choice"], params={"value": raw})

    def ignored(self) -> list[str]:
        """Labels of the filters whose values were refused (and so not applied)."""
        if not self.is_bound:
            return []
        return [str(self.fields[name].label) for name in self.errors if name in self.fields]

    def applied(self) -> int:
        """How many filters are in force (shown on the folded filter panel)."""
        if not self.is_bound:
            return 0
        self.is_valid()  # cleans once; invalid fields are left out of cleaned_data
        return sum(1 for value in self.cleaned_data.values() if value not in (None, "", False))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("结束日期不能早于开始日期"))
        return data

    def filters(self) -> RecordingFilters:
        # An invalid field is left out (its error is shown beside it); the valid
        # ones still filter, so one mistyped date does not list everything.
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
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
