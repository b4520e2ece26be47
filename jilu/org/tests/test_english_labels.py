"""Choice labels and verbose names follow the interface language, while the
roster (a Chinese document) reads and writes Chinese whatever the language."""

from __future__ import annotations

import pytest
from django.utils import translation

from jilu.devices.models import DeviceEvent, Recorder
from jilu.dutylog.models import UnrecordedNote
from jilu.org.models import Person, Unit
from jilu.org.roles import Role
from jilu.org.roster import (
    SHEET_HELP,
    SHEET_PEOPLE,
    SHEET_UNITS,
    apply_import,
    export_roster,
    plan_import,
)
from jilu.org.tests.xlsx import person_row, read_sheets, roster_bytes

BRIGADE = "350203000001"
NEW_BRIGADE = "350203000002"
NEW_SQUAD = "350203000201"


def _texts(labels) -> list[str]:
    return [str(label) for label in labels]


def test_labels_are_english_under_english():
    with translation.override("en"):
        assert _texts(Role.labels) == [
            "Officer",
            "Squad leader",
            "Brigade leader",
            "Archivist",
            "Case handler",
            "Legal reviewer",
            "Inspector",
            "Administrator",
        ]
        assert _texts(Unit.Level.labels) == [
            "City bureau",
            "District bureau / Detachment",
            "Brigade",
            "Squad",
        ]
        assert _texts(Recorder.Status.labels) == ["In service", "Under repair", "Lost", "Retired"]
        assert str(DeviceEvent.Kind.BATTERY.label) == "Battery check"
        assert str(DeviceEvent.Kind.FOUND.label) == "Found"
        assert str(UnrecordedNote.Reason.WEATHER.label) == "Bad weather"
        assert str(UnrecordedNote.Reason.OTHER.label) == "Other"
        assert str(UnrecordedNote.State.CONFIRMED.label) == "Confirmed"
        assert str(Unit._meta.verbose_name) == "Unit"
        assert str(Unit._meta.get_field("level").verbose_name) != "层级"
        assert str(Person._meta.get_field("cert_no").verbose_name) == "Certificate no."
        assert str(Recorder._meta.verbose_name) == "Body-worn recorder"


def test_labels_are_chinese_under_chinese():
    with translation.override("zh-hans"):
        assert _texts(Role.labels) == [
            "执法队员",
            "中队长",
            "大队长",
            "档案管理员",
            "案件承办人",
            "法制审核员",
            "督察",
            "系统管理员",
        ]
        assert _texts(Unit.Level.labels) == ["市局", "区局/支队", "大队", "中队"]
        assert _texts(Recorder.Status.labels) == ["在用", "维修中", "遗失", "报废"]
        assert str(DeviceEvent.Kind.BATTERY.label) == "电量检查"
        assert str(UnrecordedNote.Reason.WEATHER.label) == "恶劣天气"
        assert str(Unit._meta.verbose_name) == "单位"
        assert str(Person._meta.get_field("cert_no").verbose_name) == "执法证号"


@pytest.mark.django_db
def test_roster_with_chinese_labels_imports_under_english(people):
    data = roster_bytes(
        units=[
            [
                "350203000002",
                "思明区城管执法二大队",
                "思明区城管执法二大队",
                "大队",
                "350203000000",
                "是",
            ],
            [NEW_SQUAD, "思明区二大队一中队", "思明区二大队一中队", "中队", NEW_BRIGADE, "否"],
        ],
        people=[
            person_row("new1", "新一", NEW_SQUAD, user_no="350501", roles="执法队员、中队长"),
            person_row(
                "new2", "新二", NEW_BRIGADE, user_no="350502", roles="档案管理员，法制审核员"
            ),
        ],
    )
    with translation.override("en"):
        plan = apply_import(data, user=people["admin"], actor=people["admin"])
        assert plan.ok, [str(e) for e in plan.errors]
        # The preview of a Chinese document shows the Chinese labels.
        new1 = next(c for c in plan.people if c.key == "new1")
        assert ("角色", "执法队员、中队长") in new1.facts
        squad = next(c for c in plan.units if c.key == NEW_SQUAD)
        assert ("层级", "中队") in squad.facts
    assert Unit.objects.get(code=NEW_BRIGADE).level == Unit.Level.BRIGADE
    assert Unit.objects.get(code=NEW_SQUAD).level == Unit.Level.SQUAD
    assert Person.objects.get(username="new1").roles == {"officer", "squad_leader"}
    assert Person.objects.get(username="new2").roles == {"archivist", "legal_reviewer"}


@pytest.mark.django_db
def test_roster_accepts_english_codes_and_labels(people):
    data = roster_bytes(
        units=[[NEW_SQUAD, "思明区三中队", "思明区三中队", "Squad", BRIGADE, "否"]],
        people=[
            person_row("new3", "新三", NEW_SQUAD, user_no="350503", roles="Officer, inspector"),
            person_row("new4", "新四", NEW_SQUAD, user_no="350504", roles="squad_leader"),
        ],
    )
    for language in ("zh-hans", "en"):
        with translation.override(language):
            plan = apply_import(data, user=people["admin"], actor=people["admin"])
            assert plan.ok, [str(e) for e in plan.errors]
    assert Unit.objects.get(code=NEW_SQUAD).level == Unit.Level.SQUAD
    assert Person.objects.get(username="new3").roles == {"officer", "inspector"}
    assert Person.objects.get(username="new4").roles == {"squad_leader"}


@pytest.mark.django_db
def test_roster_errors_under_english_name_the_chinese_roles(people):
    data = roster_bytes(people=[person_row("new5", "新五", BRIGADE, roles="队长")])
    with translation.override("en"):
        plan = plan_import(data, user=people["admin"])
    [error] = plan.errors
    assert "执法队员、中队长、大队长、档案管理员" in error.message
    assert not Person.objects.filter(username="new5").exists()


@pytest.mark.django_db
def test_roster_export_stays_chinese_under_english(people):
    with translation.override("en"):
        data = export_roster(people["squad_admin"])
    sheets = read_sheets(data)
    assert sheets[SHEET_UNITS][1][3] == "中队"
    exported = {row[1]: row for row in sheets[SHEET_PEOPLE][1:]}
    assert exported["squad_admin"][6] == "系统管理员"
    assert exported["officer_other"][6] == "执法队员"
    help_text = "\n".join(str(row[0]) for row in sheets[SHEET_HELP] if row and row[0])
    assert (
        "执法队员、中队长、大队长、档案管理员、案件承办人、法制审核员、督察、系统管理员"
        in help_text
    )
    assert "Officer" not in help_text


def test_roster_maps_do_not_depend_on_the_active_language():
    from jilu.org.roster import base

    with translation.override("en"):
        assert base._labels(Role, "zh-hans")["admin"] == "系统管理员"
        assert base._labels(Unit.Level, "zh-hans")["district"] == "区局/支队"
        assert base.ROLE_WORDS["中队长"] == "squad_leader"
        assert base.LEVEL_WORDS["区局/支队"] == "district"


@pytest.mark.django_db
def test_role_names_join_into_messages_in_either_language(people):
    from django.core.exceptions import ValidationError

    from jilu.org import actions
    from jilu.org.models import RoleGrant

    before, after = frozenset(), frozenset({"inspector"})
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        actions.check_grant(people["squad_admin"], before, after)
    assert "Inspector" in str(caught.value)
    with translation.override("zh-hans"), pytest.raises(ValidationError, match="督察"):
        actions.check_grant(people["squad_admin"], before, after)
    with translation.override("en"):
        assert RoleGrant(role="legal_reviewer").get_role_display() == "Legal reviewer"
        assert people["admin"].role_labels() == ["Administrator"]
