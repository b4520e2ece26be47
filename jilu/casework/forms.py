"""Forms for the casework pages. They only read and check input; actions change state."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jilu.casework.models import (
    ACTIVITY_CREATORS,
    ACTIVITY_EDITORS,
    CASE_HANDLER_ROLES,
    Activity,
    ActivityKind,
    Case,
    Category,
    CloseReason,
    Party,
    Power,
    RecordedStep,
    RetentionClass,
)
from jilu.org.models import Person, RoleGrant, Unit
from jilu.org.roles import Role
from jilu.org.widgets import LocalDateTimeInput, PersonChoiceField, UnitChoiceField


def when(label: Any, *, required: bool = False) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=required, widget=LocalDateTimeInput(), help_text=_("北京时间")
    )


class OfficerChoices(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Person) -> str:
        # The number says what it is: a 执法证号 (C4.1) where there is one, else the 警号.
        if obj.cert_no:
            number = gettext("执法证号 %(no)s") % {"no": obj.cert_no}
        elif obj.user_no:
            number = gettext("警号 %(no)s") % {"no": obj.user_no}
        else:
            number = gettext("无证号")
        return f"{obj.name}（{number}）"


class PowerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Power) -> str:
        return f"{obj.code} {obj.name}"


def may_write_activities(user: Any) -> bool:
    """Whether the user writes activities down at all: officers, case handlers,
    squad and brigade leaders and administrators, never inspectors, legal
    reviewers or archivists (who only read)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(user.unit_id) and user.has_role(*ACTIVITY_CREATORS)


def units_for(user: Any, *, above: bool = True) -> forms.models.QuerySet:
    """The units a person may write activities under: their own unit, the
    enforcing brigade above it and the units below it. Cases are opened only
    in the person's own subtree (``above=False``), where they can see them.
    Nobody who may not write activities gets any unit."""
    if not may_write_activities(user):
        return Unit.objects.none()
    if user.is_superuser and not user.unit_id:
        return Unit.objects.filter(active=True)
    ids = list(user.unit.subtree().values_list("pk", flat=True))
    if above:
        ids += [u.pk for u in user.unit.ancestors() if u.level == Unit.Level.BRIGADE]
    return Unit.objects.filter(pk__in=ids, active=True)


def officers_for(user: Any) -> forms.models.QuerySet:
    """The people a user may name on an activity (or as a case's handler): an
    officer names the colleagues of their own unit; leaders, case handlers and
    administrators the people of their unit subtree; nobody else anyone."""
    people = Person.objects.filter(is_active=True).order_by("name")
    if not may_write_activities(user):
        return people.none()
    if user.is_superuser and not user.unit_id:
        return people
    if user.is_superuser or user.has_role(*ACTIVITY_EDITORS):
        return people.filter(unit__path__startswith=user.unit.path)
    if user.has_role(Role.OFFICER):
        return people.filter(Q(unit_id=user.unit_id) | Q(pk=user.pk))
    return people.none()


def handlers_for(user: Any) -> forms.models.QuerySet:
    """The people a user may name as a case's handler (承办人): those of
    :func:`officers_for` who hold a role that handles cases
    (``CASE_HANDLER_ROLES``: case handlers and leaders, who may edit cases)."""
    return (
        officers_for(user)
        .filter(pk__in=RoleGrant.objects.filter(role__in=CASE_HANDLER_ROLES).values("person_id"))
        .order_by("name")
    )


def parties_for(user: Any) -> forms.models.QuerySet:
    return Party.objects.restrict(user, "view").order_by("name")


def powers_for(user: Any) -> forms.models.QuerySet:
    units = units_for(user)
    return Power.objects.filter(active=True, unit__in=units).select_related("unit")


class PartyFields(forms.Form):
    """Choose a known party or write down a new one."""

    party = forms.ModelChoiceField(
        label=_("相对人"),
        queryset=Party.objects.none(),
        required=False,
        empty_label=_("（新相对人或无）"),
    )
    new_party_kind = forms.ChoiceField(
        label=_("新相对人类型"), choices=Party.Kind.choices, initial=Party.Kind.ORGANISATION
    )
    new_party_name = forms.CharField(label=_("新相对人名称或姓名"), max_length=200, required=False)
    new_party_id_number = forms.CharField(
        label=_("证件号码或统一社会信用代码"), max_length=40, required=False
    )


class ActivityForm(PartyFields):
    kind = forms.ChoiceField(label=_("活动类型"), choices=ActivityKind.choices)
    # No preselection (as on the case form): the category is chosen, never
    # taken silently; it fixes the record list's 执法类别 (A2) and retention.
    category = forms.ChoiceField(
        label=_("执法类别"),
        choices=[("", _("（请选择执法类别）"))] + list(Category.choices),
        error_messages={"required": _("请选择执法类别")},
    )
    power = PowerChoice(
        label=_("执法事项（权责清单）"), queryset=Power.objects.none(), required=False
    )
    matter_text = forms.CharField(
        label=_("执法事项（清单外）"),
        max_length=300,
        required=False,
        help_text=_("权责清单中找不到时填写"),
    )
    officers = OfficerChoices(
        label=_("执法人员"),
        queryset=Person.objects.none(),
        help_text=_("现场执法须至少两名执法人员（C4.1）"),
    )
    unit = UnitChoiceField(label=_("执法部门"), queryset=Unit.objects.none())
    address = forms.CharField(label=_("地址"), max_length=300, required=False)
    place_name = forms.CharField(label=_("地点名称"), max_length=200, required=False)
    planned_start = when(_("计划开始"))
    planned_end = when(_("计划结束"))
    actual_start = when(_("实际开始"))
    actual_end = when(_("实际结束"))
    case = forms.ModelChoiceField(label=_("所属案件"), queryset=Case.objects.none(), required=False)
    present_person = forms.CharField(label=_("在场当事人或代理人"), max_length=100, required=False)
    party_notified_on = forms.DateField(
        label=_("通知当事人日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    party_refused = forms.BooleanField(label=_("当事人拒不到场"), required=False)
    witness1_name = forms.CharField(label=_("见证人一"), max_length=50, required=False)
    witness1_unit = forms.CharField(label=_("见证人一单位"), max_length=100, required=False)
    witness2_name = forms.CharField(label=_("见证人二"), max_length=50, required=False)
    witness2_unit = forms.CharField(label=_("见证人二单位"), max_length=100, required=False)
    legal_basis = forms.CharField(label=_("法律依据"), max_length=300, required=False)
    decision_no = forms.CharField(label=_("决定书文号"), max_length=100, required=False)
    inspection_items = forms.CharField(
        label=_("检查事项"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    field_order = [
        "kind",
        "category",
        "power",
        "matter_text",
        "party",
        "new_party_kind",
        "new_party_name",
        "new_party_id_number",
        "officers",
        "unit",
        "address",
        "place_name",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
        "case",
    ]

    def __init__(self, *args: Any, user: Any, activity: Activity | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = parties_for(user)
        self.fields["power"].queryset = powers_for(user)
        officers = officers_for(user)
        if activity is not None:
            # Keep the officers already on the activity selectable.
            officers = Person.objects.filter(
                pk__in=list(officers.values_list("pk", flat=True))
                + list(activity.officers.values_list("pk", flat=True))
            ).order_by("name")
        self.fields["officers"].queryset = officers
        self.fields["unit"].queryset = units_for(user)
        self.fields["case"].queryset = Case.objects.restrict(user, "change").filter(
            status=Case.Status.OPEN
        )
        if activity is not None:
            # Moving between cases is done on the case page.
            del self.fields["case"]

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("planned_start") and not data.get("actual_start"):
            self.add_error("planned_start", _("请填写计划开始时间或实际开始时间"))
        return data


class AnnotateForm(forms.Form):
    activity = forms.ModelChoiceField(
        label=_("执法活动"), queryset=Activity.objects.none(), widget=forms.RadioSelect
    )
    step = forms.ChoiceField(label=_("记录事项"), choices=RecordedStep.choices)
    run = forms.ModelMultipleChoiceField(
        label=_("一并关联的连续分段"),
        queryset=Activity.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("说明"), max_length=300, required=False)

    def __init__(self, *args: Any, activities, run, suggested=(), fits=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["activity"].queryset = activities
        best = {a.pk for a in suggested}
        fits = fits or {}

        def label(a: Activity) -> str:
            if a.pk not in best:
                return activity_label(a)
            return f"{suggestion_tag(fits.get(a.pk))}{activity_label(a)}"

        self.fields["activity"].label_from_instance = label
        self.fields["run"].queryset = run
        self.fields["run"].label_from_instance = lambda r: str(r)


def suggestion_tag(fit: Any) -> str:
    """【推荐】 with why: the times overlap, or are only near (with the gap)."""
    if fit is None:
        return gettext("【推荐】")
    if fit.overlaps:
        return gettext("【推荐·时间重叠】")
    return gettext("【推荐·时间相近，相隔 %(n)d 分钟】") % {"n": fit.gap_minutes}


def activity_label(a: Activity) -> str:
    from django.utils import timezone

    start = timezone.localtime(a.span_start).strftime("%m-%d %H:%M")
    end = timezone.localtime(a.span_end).strftime("%H:%M") if a.span_end else "…"
    who = a.party.name if a.party_id else (a.place_name or a.address or "")
    return f"{start}–{end} {a.get_kind_display()} {who}".strip()


class QuickActivityForm(PartyFields):
    """Write down the activity on the spot from the annotate page."""

    kind = forms.ChoiceField(label=_("活动类型"), choices=ActivityKind.choices)
    # No preselection (as on the case form): the category is chosen, never
    # taken silently; it fixes the record list's 执法类别 (A2) and retention.
    category = forms.ChoiceField(
        label=_("执法类别"),
        choices=[("", _("（请选择执法类别）"))] + list(Category.choices),
        error_messages={"required": _("请选择执法类别")},
    )
    unit = UnitChoiceField(label=_("执法部门"), queryset=Unit.objects.none())
    place_name = forms.CharField(label=_("地点名称"), max_length=200, required=False)
    address = forms.CharField(label=_("地址"), max_length=300, required=False)
    other_officers = OfficerChoices(
        label=_("同行执法人员"),
        queryset=Person.objects.none(),
        required=False,
        help_text=_("现场执法须至少两名执法人员（C4.1）"),
    )
    step = forms.ChoiceField(label=_("记录事项"), choices=RecordedStep.choices)

    field_order = [
        "kind",
        "category",
        "party",
        "new_party_kind",
        "new_party_name",
        "new_party_id_number",
        "unit",
        "place_name",
        "address",
        "other_officers",
        "step",
    ]

    def __init__(self, *args: Any, user: Any, recording: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = parties_for(user)
        self.fields["unit"].queryset = units_for(user)
        self.fields["other_officers"].queryset = officers_for(user).exclude(pk=recording.officer_id)
        if user.unit_id:
            self.fields["unit"].initial = user.unit_id


class CaseForm(forms.Form):
    number = forms.CharField(label=_("案件编号"), max_length=60)
    title = forms.CharField(label=_("案由"), max_length=200, required=False)
    # No preselection: a penalty case once went in as licensing because the
    # first choice was taken silently (the category fixes retention, C5.6).
    category = forms.ChoiceField(
        label=_("执法类别"),
        choices=[("", _("（请选择执法类别）"))] + list(Category.choices),
        error_messages={"required": _("请选择执法类别")},
    )
    power = PowerChoice(
        label=_("执法事项（权责清单）"), queryset=Power.objects.none(), required=False
    )
    matter_text = forms.CharField(label=_("执法事项（清单外）"), max_length=300, required=False)
    party = forms.ModelChoiceField(label=_("相对人"), queryset=Party.objects.none(), required=False)
    unit = UnitChoiceField(label=_("承办单位"), queryset=Unit.objects.none())
    handler = PersonChoiceField(label=_("承办人"), queryset=Person.objects.none(), required=False)
    retention = forms.ChoiceField(
        label=_("保管期限"),
        choices=[("", _("按保管期限表"))] + list(RetentionClass.choices),
        required=False,
    )

    def __init__(self, *args: Any, user: Any, case: Case | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["power"].queryset = powers_for(user)
        self.fields["party"].queryset = parties_for(user)
        self.fields["unit"].queryset = units_for(user, above=False)
        handlers = handlers_for(user)
        self._current_handler = case.handler_id if case is not None else None
        if self._current_handler:
            # Keep the case's present handler selectable; a new one must qualify.
            handlers = Person.objects.filter(
                Q(pk__in=handlers.values("pk")) | Q(pk=self._current_handler)
            ).order_by("name")
        self.fields["handler"].queryset = handlers
        self.fields["handler"].error_messages["invalid_choice"] = _(
            "承办人须是本单位范围内的案件承办人、中队长或大队长"
        )
        if case is not None:
            del self.fields["number"]
            del self.fields["unit"]


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("新状态"), choices=Case.Status.choices)
    reason = forms.ChoiceField(
        label=_("结案原因"),
        choices=[("", _("（请选择结案原因）"))]
        + [(v, label) for v, label in CloseReason.choices if v != CloseReason.REVIEWED],
        required=False,
    )
    note = forms.CharField(label=_("说明"), max_length=300, required=False)
    confirm = forms.BooleanField(label=_("我确认结案后案件不能再修改"), required=False)


class PowerImportForm(forms.Form):
    unit = UnitChoiceField(label=_("单位"), queryset=Unit.objects.none())
    file = forms.FileField(
        label=_("权责清单（XLSX）"),
        help_text=_("第一行为表头，须含“事项编码”“事项名称”“执法类别”，可含“设定依据”"),
    )

    def __init__(self, *args: Any, units, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
