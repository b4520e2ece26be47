"""Forms for the unit and people pages. They read and check input; actions change state."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jilu.org import actions
from jilu.org.models import Person, Unit, unit_code_validator, user_no_validator
from jilu.org.roles import Role


class UnitChoiceField(forms.ModelChoiceField):
    """Units indented by depth, so the picker reads like the tree."""

    def label_from_instance(self, obj: Unit) -> str:
        return f"{'　' * max(obj.depth, 0)}{obj.name}（{obj.get_level_display()}）"


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show an action's ValidationError on the form: on the field it names if
    the form has that field, otherwise at the top of the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields else None
            for error in errors:
                form.add_error(target, error.messages[0] if error.messages else str(error))
    else:
        for message in exc.messages:
            form.add_error(None, message)


class UnitForm(forms.Form):
    code = forms.CharField(
        label=_("单位编号"),
        max_length=12,
        min_length=12,
        validators=[unit_code_validator],
        help_text=_("12位数字或字母，与执法记录仪中存储的单位编号一致"),
    )
    name = forms.CharField(label=_("单位全称"), max_length=100)
    short_name = forms.CharField(
        label=_("简称"),
        max_length=40,
        help_text=_("用于声像资料的标准文件名（C5.3），如“思明区城管执法大队”"),
    )
    level = forms.ChoiceField(label=_("层级"), choices=Unit.Level.choices)
    parent = UnitChoiceField(label=_("上级单位"), queryset=Unit.objects.none(), required=False)
    independently_housed = forms.BooleanField(
        label=_("独立驻点"),
        required=False,
        help_text=_("独立驻点的大队需要配备自己的数据采集工作站（C1.2）"),
    )
    active = forms.BooleanField(label=_("在用"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any, unit: Unit | None = None, **kwargs: Any) -> None:
        if unit is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "code": unit.code,
                "name": unit.name,
                "short_name": unit.short_name,
                "level": unit.level,
                "parent": unit.parent_id,
                "independently_housed": unit.independently_housed,
                "active": unit.active,
            }
        super().__init__(*args, **kwargs)
        self.user = user
        self.unit = unit
        # Parents: units the administrator may add under, never a squad (the
        # lowest level); an edited unit keeps its current parent even if that
        # lies above the administrator's own unit.
        allowed = Q(pk__in=Unit.objects.restrict(user, "add").values("pk"), active=True)
        allowed &= ~Q(level=Unit.Level.SQUAD)
        if unit is not None:
            allowed = (allowed & ~Q(path__startswith=unit.path)) | Q(pk=unit.parent_id)
        self.fields["parent"].queryset = Unit.objects.filter(allowed).order_by("path")
        if unit is None:
            del self.fields["active"]
        if unit is not None and unit.parent_id is None:
            del self.fields["parent"]  # the top unit (市局) has no parent and stays on top
        elif not user.is_superuser:
            self.fields["parent"].required = True
            self.fields["parent"].empty_label = None

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        clash = Unit.objects.filter(code=code)
        if self.unit is not None:
            clash = clash.exclude(pk=self.unit.pk)
        other = clash.first()
        if other is not None:
            raise ValidationError(
                _("单位编号 %(code)s 已被“%(name)s”使用") % {"code": code, "name": other.name}
            )
        return code

    def clean_short_name(self) -> str:
        value = self.cleaned_data["short_name"].strip()
        try:
            actions.check_short_name(value)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["short_name"]) from None
        return value


class PersonForm(forms.Form):
    username = forms.CharField(
        label=_("登录名"), max_length=50, help_text=_("登录系统用，不能含空格")
    )
    name = forms.CharField(label=_("姓名"), max_length=50)
    user_no = forms.CharField(
        label=_("警号"),
        max_length=6,
        min_length=6,
        required=False,
        validators=[user_no_validator],
        help_text=_("6位数字或字母，与执法记录仪中存储的一致"),
    )
    cert_no = forms.CharField(label=_("执法证号"), max_length=30, required=False)
    unit = UnitChoiceField(label=_("单位"), queryset=Unit.objects.none(), empty_label=None)
    frontline = forms.BooleanField(
        label=_("一线执法人员"),
        required=False,
        help_text=_("一线执法人员每人配发一台执法记录仪（C1.1）"),
    )
    phone = forms.CharField(label=_("电话"), max_length=30, required=False)
    roles = forms.MultipleChoiceField(
        label=_("角色"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, user: Any, person: Person | None = None, **kwargs: Any) -> None:
        if person is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "username": person.username,
                "name": person.name,
                "user_no": person.user_no or "",
                "cert_no": person.cert_no or "",
                "unit": person.unit_id,
                "frontline": person.frontline,
                "phone": person.phone,
                "roles": sorted(person.roles),
            }
        super().__init__(*args, **kwargs)
        self.user = user
        self.person = person
        allowed = Q(pk__in=Unit.objects.restrict(user, "add").values("pk"), active=True)
        if person is not None and person.unit_id:
            allowed |= Q(pk=person.unit_id)
        self.fields["unit"].queryset = Unit.objects.filter(allowed).order_by("path")
        held = person.roles if person is not None else frozenset()
        offered = actions.grantable_roles(user) | held
        self.fields["roles"].choices = [(v, lbl) for v, lbl in Role.choices if v in offered]
        if Role.INSPECTOR not in offered:
            self.fields["roles"].help_text = _("督察角色只能由市局系统管理员授予")
        if person is None:
            self.fields["password1"] = forms.CharField(
                label=_("初始密码"),
                strip=False,
                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                help_text=password_validation.password_validators_help_text_html(),
            )
            self.fields["password2"] = forms.CharField(
                label=_("再次输入初始密码"),
                strip=False,
                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
            )

    def _unique(self, field: str, value: str, label: str) -> None:
        clash = Person.objects.filter(**{field: value})
        if self.person is not None:
            clash = clash.exclude(pk=self.person.pk)
        other = clash.first()
        if other is None:
            return
        visible = Person.objects.restrict(self.user, "view").filter(pk=other.pk).exists()
        who = f"{other.name}（{other.username}）" if visible else _("其他单位的人员")
        raise ValidationError(
            _("%(label)s %(value)s 已被 %(who)s 使用")
            % {"label": label, "value": value, "who": who}
        )

    def clean_username(self) -> str:
        value = self.cleaned_data["username"].strip()
        if any(c.isspace() for c in value):
            raise ValidationError(_("登录名不能含空格"))
        self._unique("username", value, _("登录名"))
        return value

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_user_no(self) -> str:
        value = self.cleaned_data["user_no"].strip()
        if value:
            self._unique("user_no", value, _("警号"))
        return value

    def clean_cert_no(self) -> str:
        value = self.cleaned_data["cert_no"].strip()
        if value:
            self._unique("cert_no", value, _("执法证号"))
        return value

    def clean(self) -> dict:
        data = super().clean()
        if self.person is None:
            p1, p2 = data.get("password1"), data.get("password2")
            if p1 and p2 and p1 != p2:
                self.add_error("password2", _("两次输入的密码不一致"))
            elif p1:
                try:
                    password_validation.validate_password(
                        p1, Person(username=data.get("username", ""), name=data.get("name", ""))
                    )
                except ValidationError as exc:
                    self.add_error("password1", exc)
        return data

    def person_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            key: data[key]
            for key in ("username", "name", "user_no", "cert_no", "unit", "frontline", "phone")
        }


class PasswordResetForm(forms.Form):
    password1 = forms.CharField(
        label=_("新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("再次输入新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person

    def clean(self) -> dict:
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致"))
        elif p1:
            try:
                password_validation.validate_password(p1, self.person)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("名册文件（XLSX）"),
        help_text=_(
            "包含“单位”和“人员”两个工作表，格式与导出的名册相同。先检查所有行，全部无误才会导入。"
        ),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
