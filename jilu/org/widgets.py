"""Form pieces every app's pages share, knowing only org: local date-times in
Asia/Shanghai, unit and person choices, and an action's errors on a form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jilu.org.models import Person, Unit


class LocalDateTimeInput(forms.DateTimeInput):
    """A datetime-local input; values are read and shown in Asia/Shanghai (TIME_ZONE)."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs={"step": "1", **(attrs or {})}, format="%Y-%m-%dT%H:%M:%S")


def when_field(label: Any, *, required: bool = False) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=LocalDateTimeInput(),
        help_text="" if required else _("北京时间；留空表示现在"),
    )


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{'　' * max(obj.depth, 0)}{obj.name}"


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Person) -> str:
        user_no = obj.user_no or gettext("无警号")
        label = f"{obj.name}（{user_no}）· {obj.unit.short_name if obj.unit_id else ''}"
        held = getattr(obj, "held_serial", None)
        if held:
            label += " · " + gettext("已持有 %(serial)s") % {"serial": held}
        return label


def apply_errors(
    form: forms.Form, exc: ValidationError, *, aliases: dict[str, str] | None = None
) -> None:
    """Show an action's ValidationError on the form: on its field when the form
    has that field (``aliases`` maps an action's field name to the form's),
    otherwise above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = (aliases or {}).get(field, field)
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
