"""Casework validation messages and choice labels follow the interface language."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from jilu.casework import actions
from jilu.casework.models import Activity, ActivityKind, Case, Category


def test_on_site_kind_message_in_english(make_activity):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        make_activity(officers=("officer",), kind="S1")
    [message] = caught.value.message_dict["officers"]
    assert "at least two officers (C4.1)" in message
    assert "巡查" not in message  # the activity kind is named in English too
    assert not Activity.objects.exists()


def test_on_site_kind_message_in_chinese(make_activity):
    with translation.override("zh-hans"), pytest.raises(ValidationError, match="至少两名执法人员"):
        make_activity(officers=("officer",), kind="S1")


def test_end_before_start_in_english(make_activity):
    with translation.override("en"), pytest.raises(ValidationError, match="The end is before"):
        make_activity(minutes=-5)


@pytest.mark.django_db
def test_id_number_message_in_english(tree):
    with translation.override("en"), pytest.raises(ValidationError, match="citizen ID number"):
        actions.create_party(
            actor="system:test", unit=tree["squad1"], kind="person", name="张三", id_number="123"
        )


def test_choice_labels_and_verbose_names():
    with translation.override("en"):
        assert str(Case._meta.verbose_name) == "Case"
        assert str(Category.OTHER.label) == "Other"
        assert str(ActivityKind.S8.label) == "Other"
        assert str(Case._meta.get_field("closed_at").verbose_name) == "Closed at"
    with translation.override("zh-hans"):
        assert str(Case._meta.verbose_name) == "案件"
        assert str(Category.OTHER.label) == "其他"
        assert str(Case._meta.get_field("closed_at").verbose_name) == "结案时间"


def test_a_chinese_list_of_powers_imports_under_english(tree):
    """The list of powers (权责清单) is a Chinese document: its categories are
    recognised whatever language the importing person reads the site in."""
    from django.utils import translation

    from jilu.casework.models import Power
    from jilu.casework.powers import import_powers
    from jilu.casework.tests.test_pages import _xlsx

    sheet = _xlsx(
        [["编码", "名称", "类别"], ["A1", "某事项", "行政处罚"], ["A2", "另一事项", "行政检查"]]
    )
    with translation.override("en"):
        import_powers(actor="system:test", unit=tree["brigade"], stream=sheet)
    assert dict(Power.objects.values_list("code", "category")) == {
        "A1": "penalty",
        "A2": "inspection",
    }
