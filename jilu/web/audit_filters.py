"""The audit log's filters (C6.4), one form for the page, its export and the API:
Beijing dates, the person who acted, the unit they belong to (with the units
below it), the family of actions and the object (by type and id, or by name).

A filter that cannot be read is left out and said so; the others still apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jilu.audit import labels
from jilu.org.models import Person, Unit
from jilu.web.audit_details import UNIT_BY_CODE
from jilu.web.audit_text import OBJECT_KINDS, SEARCH_LIMIT, object_text, resolve, type_text

FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_ID = 2**63 - 1


class DayField(forms.DateField):
    """A Beijing date between 2000 and 2099, typed as YYYY-MM-DD."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            input_formats=["%Y-%m-%d"],
            error_messages={"invalid": gettext_lazy("日期应写作 年-月-日，例如 2026-11-20")},
            **kwargs,
        )

    def clean(self, value: Any) -> date | None:
        day = super().clean(value)
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise forms.ValidationError(
                _("日期应在 %(first)s 年至 %(last)s 年之间")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
        return day


def family_choices() -> list[tuple[str, str]]:
    return [("", _("全部"))] + [(k, str(v[0])) for k, v in labels.FAMILIES.items()]


def object_type_choices() -> list[tuple[str, str]]:
    return [("", _("全部"))] + [
        (k, str(v.label)) for k, v in OBJECT_KINDS.items() if k != UNIT_BY_CODE
    ]


class AuditFilterForm(forms.Form):
    date_from = DayField(label=gettext_lazy("起始日期"))
    date_to = DayField(label=gettext_lazy("截止日期"))
    person = forms.CharField(
        label=gettext_lazy("操作人"), required=False, max_length=100, strip=True
    )
    actor = forms.IntegerField(
        label=gettext_lazy("操作人编号"), required=False, min_value=1, max_value=MAX_ID
    )
    unit = forms.ModelChoiceField(
        label=gettext_lazy("操作人所在单位"),
        queryset=Unit.objects.order_by("path"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("没有这个单位，请从列表中选择")},
    )
    family = forms.ChoiceField(label=gettext_lazy("操作类别"), required=False, choices=())
    action = forms.CharField(
        label=gettext_lazy("操作代码"), required=False, max_length=100, strip=True
    )
    object_type = forms.ChoiceField(label=gettext_lazy("对象类型"), required=False, choices=())
    object_id = forms.CharField(
        label=gettext_lazy("对象编号"), required=False, max_length=100, strip=True
    )
    q = forms.CharField(label=gettext_lazy("对象名称"), required=False, max_length=100, strip=True)
    object = forms.CharField(required=False, max_length=200, strip=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["family"].choices = family_choices()
        self.fields["object_type"].choices = object_type_choices()
        self.fields["family"].error_messages["invalid_choice"] = _("没有这个操作类别")
        self.fields["object_type"].error_messages["invalid_choice"] = _("没有这个对象类型")


@dataclass
class Filtered:
    entries: QuerySet
    errors: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)  # the filters applied, in words
    form: AuditFilterForm | None = None

    @property
    def description(self) -> str:
        return "；".join(self.said)


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def apply(entries: QuerySet, data: Any) -> Filtered:
    """``entries`` narrowed by the filters in ``data`` (a QueryDict or a dict)."""
    form = AuditFilterForm(data)
    form.is_valid()
    got = form.cleaned_data
    out = Filtered(entries, form=form)
    for name, problems in form.errors.items():
        label = form.fields[name].label if name in form.fields else name
        out.errors += [f"{label}：{p}" for p in problems]
    qs = entries

    start, end = got.get("date_from"), got.get("date_to")
    if start and end and end < start:
        out.errors.append(_("截止日期早于起始日期，日期筛选未使用"))
        start = end = None
    if start:
        qs = qs.filter(at__gte=_start(start))
    if end:
        qs = qs.filter(at__lt=_start(end + timedelta(days=1)))
    if start or end:
        out.said.append(
            _("日期 %(a)s 至 %(b)s（北京时间）")
            % {"a": start.isoformat() if start else "…", "b": end.isoformat() if end else "…"}
        )

    actor = got.get("actor")
    if actor:
        qs = qs.filter(actor_id=actor)
        person = Person.objects.filter(pk=actor).values_list("name", flat=True).first()
        out.said.append(_("操作人 %(p)s") % {"p": person or f"#{actor}"})
    text = got.get("person")
    if text:
        q = Q(name__icontains=text) | Q(username=text) | Q(user_no=text)
        ids = list(Person.objects.filter(q).values_list("pk", flat=True)[:SEARCH_LIMIT])
        qs = qs.filter(actor_id__in=ids)
        out.said.append(_("操作人 %(p)s") % {"p": text})
        if not ids:
            out.errors.append(_("没有姓名、登录名或警号为“%(p)s”的人员") % {"p": text})
    unit = got.get("unit")
    if unit:
        below = Person.objects.filter(unit__path__startswith=unit.path).values("pk")
        qs = qs.filter(actor_id__in=below)
        out.said.append(_("单位 %(u)s 及下级单位的人员") % {"u": unit.name})

    family = got.get("family")
    if family:
        qs = qs.filter(action__in=labels.family_codes(family))
        out.said.append(_("类别 %(f)s") % {"f": labels.FAMILIES[family][0]})
    action = got.get("action")
    if action:
        qs = qs.filter(action__startswith=action)
        out.said.append(_("操作代码 %(a)s") % {"a": action})

    qs = _object(qs, got, out)
    out.entries = qs
    return out


def _object(qs: QuerySet, got: dict, out: Filtered) -> QuerySet:
    legacy = got.get("object") or ""
    object_type, object_id = got.get("object_type") or "", got.get("object_id") or ""
    if legacy and not object_type:  # ?object=org.person:12, as other pages link here
        object_type, _sep, object_id = legacy.partition(":")
    name = got.get("q") or ""
    if object_type and object_id:
        named = object_text(object_type, object_id, resolve([(object_type, object_id)]))
        out.said.append(_("对象 %(o)s") % {"o": named})
        return qs.filter(object_type=object_type, object_id=object_id)
    if name:
        kinds = (
            {object_type: OBJECT_KINDS[object_type]}
            if object_type in OBJECT_KINDS
            else {k: v for k, v in OBJECT_KINDS.items() if v.search is not None}
        )
        match = Q(pk__in=[])
        for kind_key, kind in kinds.items():
            if kind.search is not None:
                ids = kind.search(name)
                if ids:
                    match |= Q(object_type=kind_key, object_id__in=ids)
        what = type_text(object_type) if object_type else _("对象")
        out.said.append(_("%(t)s名称含“%(q)s”") % {"t": what, "q": name})
        return qs.filter(match)
    if object_type:
        out.said.append(_("对象类型 %(t)s") % {"t": type_text(object_type)})
        return qs.filter(object_type=object_type)
    return qs
