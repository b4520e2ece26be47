"""Roster import and export (XLSX): every row checked first, all or nothing.

Units carry the short name used in standard file names (C5.3) and whether a
brigade is independently housed (C1.2); people carry the 警号 recorders store
(6 characters) and the frontline flag (C1.1).
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from jilu.audit.models import AuditEntry
from jilu.org import actions
from jilu.org.models import Person, Unit
from jilu.org.roster import (
    SHEET_HELP,
    SHEET_PEOPLE,
    SHEET_UNITS,
    RosterChanged,
    RosterFileError,
    RosterInvalid,
    apply_import,
    export_roster,
    plan_import,
)
from jilu.org.tests.xlsx import person_row, read_sheets, roster_bytes, workbook_bytes

CITY = "350200000000"
BRIGADE = "350203000001"
SQUAD1 = "350203000101"
SQUAD3 = "350206000101"
NEW_SQUAD = "350203000103"


def _snapshot():
    units = list(
        Unit.objects.order_by("code").values_list(
            "code", "name", "short_name", "level", "parent_id", "path", "independently_housed"
        )
    )
    people = list(
        Person.objects.order_by("username").values_list(
            "username", "name", "user_no", "cert_no", "unit_id", "frontline", "phone", "is_active"
        )
    )
    roles = sorted(
        (p.username, sorted(p.roles)) for p in Person.objects.prefetch_related("role_grants")
    )
    return units, people, roles


def _messages(plan) -> list[str]:
    return [str(e) for e in plan.errors]


# --- the acceptance test ---------------------------------------------------


@pytest.mark.django_db
def test_bad_roster_rejected_with_one_message_per_bad_row_and_nothing_imported(people):
    """A roster XLSX with a duplicate certificate number, an unknown unit code
    and an empty name is rejected with one message per bad row and imports nothing."""
    data = roster_bytes(
        units=[[NEW_SQUAD, "思明区城管执法大队新华中队", "思明区新华中队", "中队", BRIGADE, "否"]],
        people=[
            person_row("zhang3", "张三", NEW_SQUAD, user_no="350301", cert_no="C200"),  # row 2
            person_row("li4", "李四", SQUAD1, user_no="350302", cert_no="C123"),  # row 3
            person_row("wang9", "王九", "350299999999", user_no="350303"),  # row 4
            person_row("zhao6", "赵六", SQUAD1, user_no="350304", cert_no="C123"),  # row 5
            person_row("qian7", "", SQUAD1, user_no="350305"),  # row 6
        ],
    )
    before = _snapshot()
    audit_before = AuditEntry.objects.count()

    with pytest.raises(RosterInvalid) as caught:
        apply_import(data, user=people["admin"], actor=people["admin"])

    assert _messages(caught.value.plan) == [
        "人员表第4行：单位编号 350299999999 不存在（单位表和系统中都没有）",
        "人员表第5行：执法证号 C123 与第3行重复",
        "人员表第6行：姓名为空",
    ]
    assert _snapshot() == before
    assert not Unit.objects.filter(code=NEW_SQUAD).exists()
    assert not Person.objects.filter(username__in=["zhang3", "li4"]).exists()
    assert AuditEntry.objects.count() == audit_before


@pytest.mark.django_db
def test_several_problems_of_one_row_make_one_message(people):
    data = roster_bytes(people=[person_row("", "", "", user_no="123", roles="队长")])
    plan = plan_import(data, user=people["admin"])
    assert len(plan.errors) == 1
    message = str(plan.errors[0])
    assert message.startswith("人员表第2行：")
    for part in (
        "姓名为空",
        "登录名为空",
        "警号 123 应为6位数字或字母",
        "单位编号为空",
        "角色“队长”无法识别",
    ):
        assert part in message


# --- row checks ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (person_row("a1", "甲", SQUAD1, user_no="12345"), "警号 12345 应为6位数字或字母（以0开头"),
        (person_row("a1", "甲", SQUAD1, user_no="1234567"), "警号 1234567 应为6位数字或字母"),
        (person_row("a1", "甲", SQUAD1, roles="执法队员、局长"), "角色“局长”无法识别"),
        (person_row("a1", "甲", SQUAD1, frontline="也许"), "一线“也许”无法识别"),
        (person_row("a1", "甲", SQUAD1, active="离职"), "在岗“离职”无法识别"),
        (person_row("a 1", "甲", SQUAD1), "登录名 a 1 不能超过50个字符，也不能含空格"),
        (person_row("a1", "甲", SQUAD1, user_no="900001"), "警号 900001 已被 王五（officer）使用"),
        (
            person_row("a1", "甲", SQUAD1, cert_no="C0000002"),
            "执法证号 C0000002 已被 李四（officer_b）使用",
        ),
    ],
)
def test_bad_person_rows(people, row, expected):
    plan = plan_import(roster_bytes(people=[row]), user=people["admin"])
    assert len(plan.errors) == 1
    assert expected in str(plan.errors[0]), str(plan.errors[0])
    assert str(plan.errors[0]).startswith("人员表第2行：")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            [NEW_SQUAD, "新华中队", "新华中队", "中队", "350203999999", "否"],
            "上级单位编号 350203999999 不存在",
        ),
        (
            [NEW_SQUAD, "新华中队", "新华中队", "大队", SQUAD1, "否"],
            "层级顺序不对：大队不能隶属于中队",
        ),
        ([NEW_SQUAD, "新华中队", "新华中队", "总队", BRIGADE, "否"], "层级“总队”无法识别"),
        (
            [NEW_SQUAD, "新华中队", "新华/中队", "中队", BRIGADE, "否"],
            "简称用于文件命名（C5.3），不能含有这些字符：/",
        ),
        ([NEW_SQUAD, "", "新华中队", "中队", BRIGADE, "否"], "单位全称为空"),
        (
            ["35020300010", "新华中队", "新华中队", "中队", BRIGADE, "否"],
            "单位编号 35020300010 应为12位数字或字母",
        ),
        (
            [NEW_SQUAD, "新华中队", "新华中队", "中队", "", "否"],
            "上级单位编号为空（只有市局没有上级单位）",
        ),
        ([NEW_SQUAD, "新华中队", "新华中队", "中队", BRIGADE, "可能"], "独立驻点“可能”无法识别"),
        (
            [
                BRIGADE,
                "思明区城市管理行政执法大队",
                "思明区城管执法大队",
                "中队",
                "350203000000",
                "否",
            ],
            "层级改为中队后，下级单位 350203000101（中队）的层级顺序不对",
        ),
    ],
)
def test_bad_unit_rows(people, row, expected):
    plan = plan_import(roster_bytes(units=[row]), user=people["admin"])
    assert len(plan.errors) == 1
    assert str(plan.errors[0]).startswith("单位表第2行：")
    assert expected in str(plan.errors[0]), str(plan.errors[0])


@pytest.mark.django_db
def test_duplicate_unit_codes_and_usernames_name_the_first_row(people):
    plan = plan_import(
        roster_bytes(
            units=[
                [NEW_SQUAD, "新华中队", "新华中队", "中队", BRIGADE, "否"],
                [NEW_SQUAD, "新华中队", "新华中队", "中队", BRIGADE, "否"],
            ],
            people=[
                person_row("dup", "甲", SQUAD1, user_no="350401"),
                person_row("dup", "乙", SQUAD1, user_no="350401"),
            ],
        ),
        user=people["admin"],
    )
    assert _messages(plan) == [
        f"单位表第3行：单位编号 {NEW_SQUAD} 与第2行重复",
        "人员表第3行：登录名 dup 与第2行重复；警号 350401 与第2行重复",
    ]


@pytest.mark.django_db
def test_a_parent_defined_later_in_the_sheet_is_fine(people):
    """Rows may come in any order: the squad is listed before its new brigade."""
    data = roster_bytes(
        units=[
            [
                "350203000201",
                "思明区城管执法二大队一中队",
                "思明区二大队一中队",
                "中队",
                "350203000002",
                "否",
            ],
            [
                "350203000002",
                "思明区城管执法二大队",
                "思明区城管执法二大队",
                "大队",
                "350203000000",
                "是",
            ],
        ],
        people=[person_row("new1", "新一", "350203000201", user_no="350501", cert_no="C9001")],
    )
    plan = apply_import(data, user=people["admin"], actor=people["admin"])
    assert plan.summary() == "单位：新建 2，更新 0，不变 0；人员：新建 1，更新 0，不变 0"
    brigade = Unit.objects.get(code="350203000002")
    squad = Unit.objects.get(code="350203000201")
    assert brigade.independently_housed and brigade.needs_workstation()  # C1.2
    assert squad.parent == brigade
    assert squad.path.startswith(brigade.path)
    person = Person.objects.get(username="new1")
    assert person.unit == squad and person.frontline and person.roles == {"officer"}
    assert not person.has_usable_password()
    assert AuditEntry.objects.filter(action="org.unit.create", object_id=str(squad.pk)).exists()
    assert AuditEntry.objects.filter(action="org.person.create", object_id=str(person.pk)).exists()
    assert AuditEntry.objects.filter(action="org.roster.import").count() == 1


# --- creating and updating ---------------------------------------------------------------


@pytest.mark.django_db
def test_import_creates_and_updates_by_code_and_username(people):
    officer = people["officer"]
    data = roster_bytes(
        units=[[SQUAD1, "中华中队", "思明区中华中队", "中队", BRIGADE, "否"]],  # short name changes
        people=[
            person_row(
                "officer",
                "王五",
                "350203000102",  # moves to squad2
                user_no=officer.user_no,
                cert_no=officer.cert_no,
                roles="officer, case_handler",  # codes and commas work too
                phone="13800000000",
            ),
            person_row("liu", "刘一", SQUAD1, user_no="350601", roles="执法队员，中队长"),
        ],
    )
    plan = plan_import(data, user=people["admin"])
    assert plan.ok
    [unit_change] = plan.changed_units
    assert unit_change.op == "update"
    assert unit_change.diffs == [("简称", "中华中队", "思明区中华中队")]
    ops = {c.key: (c.op, c.diffs) for c in plan.changed_people}
    assert ops["liu"][0] == "create"
    assert ops["officer"] == (
        "update",
        [
            ("单位编号", SQUAD1, "350203000102"),
            ("角色", "执法队员", "执法队员、案件承办人"),
            ("电话", "—", "13800000000"),
        ],
    )
    apply_import(data, user=people["admin"], actor=people["admin"])
    officer.refresh_from_db()
    officer._roles_cache = None
    assert officer.unit.code == "350203000102"
    assert officer.roles == {"officer", "case_handler"}
    assert officer.phone == "13800000000"
    assert Unit.objects.get(code=SQUAD1).short_name == "思明区中华中队"
    liu = Person.objects.get(username="liu")
    assert liu.roles == {"officer", "squad_leader"}
    update = AuditEntry.objects.filter(action="org.person.update", object_id=str(officer.pk)).get()
    assert set(update.details["changed"]) == {"unit", "roles"}
    assert update.actor_id == people["admin"].pk


@pytest.mark.django_db
def test_deactivating_through_the_roster_keeps_the_person(people):
    b = people["officer_b"]
    data = roster_bytes(
        people=[
            person_row(
                "officer_b", "李四", SQUAD1, user_no=b.user_no, cert_no=b.cert_no, active="否"
            )
        ]
    )
    apply_import(data, user=people["admin"], actor=people["admin"])
    b.refresh_from_db()
    assert b.is_active is False


@pytest.mark.django_db
def test_a_released_number_can_be_taken_by_another_row(people):
    """officer gives up 警号 900001 and a new colleague takes it, in one import."""
    o = people["officer"]
    data = roster_bytes(
        people=[
            person_row("newcomer", "新人", SQUAD1, user_no="900001"),  # listed first on purpose
            person_row("officer", "王五", SQUAD1, user_no="350701", cert_no=o.cert_no),
        ]
    )
    apply_import(data, user=people["admin"], actor=people["admin"])
    assert Person.objects.get(username="newcomer").user_no == "900001"
    assert Person.objects.get(username="officer").user_no == "350701"


@pytest.mark.django_db
def test_swapping_numbers_in_one_import_is_explained(people):
    o, b = people["officer"], people["officer_b"]
    data = roster_bytes(
        people=[
            person_row("officer", "王五", SQUAD1, user_no=b.user_no, cert_no=o.cert_no),
            person_row("officer_b", "李四", SQUAD1, user_no=o.user_no, cert_no=b.cert_no),
        ]
    )
    plan = plan_import(data, user=people["admin"])
    assert _messages(plan) == [
        f"人员表第2行：警号 {b.user_no} 与第3行的人员互换，无法一次导入："
        "请先清空其中一人的这一项导入一次，再导入这份名册",
        f"人员表第3行：警号 {o.user_no} 与第2行的人员互换，无法一次导入："
        "请先清空其中一人的这一项导入一次，再导入这份名册",
    ]


@pytest.mark.django_db
def test_numbers_typed_as_numbers_in_excel_are_read_as_text(people):
    data = roster_bytes(
        people=[
            ["孙七", "sun7", 350801, 20210001, int(SQUAD1), "是", "执法队员", 13900000000, "是"]
        ]
    )
    apply_import(data, user=people["admin"], actor=people["admin"])
    sun = Person.objects.get(username="sun7")
    assert (sun.user_no, sun.cert_no, sun.unit.code, sun.phone) == (
        "350801",
        "20210001",
        SQUAD1,
        "13900000000",
    )


# --- scope --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_squad_administrator_imports_only_within_their_squad(people):
    admin = people["squad_admin"]
    o = people["officer"]
    data = roster_bytes(
        units=[["350206000102", "殿前中队", "湖里区殿前中队", "中队", "350206000001", "否"]],
        people=[
            person_row("han2", "韩二", SQUAD3, user_no="350901"),  # fine
            person_row("zhou", "周", SQUAD1, user_no="350902"),  # another brigade's squad
            person_row("officer", "王五", SQUAD3, user_no=o.user_no, cert_no=o.cert_no),
            person_row("han3", "韩三", SQUAD3, user_no="350903", roles="督察"),
        ],
    )
    plan = plan_import(data, user=admin)
    assert _messages(plan) == [
        "单位表第2行：上级单位 350206000001（湖里区城市管理行政执法大队）不在你的管理范围内",
        f"人员表第3行：单位 {SQUAD1}（中华中队）不在你的管理范围内",
        "人员表第4行：登录名 officer 已被你管理范围以外的人员使用，不能修改",
        "人员表第5行：你不能授予“督察”角色（只有市局系统管理员可以授予）",
    ]


@pytest.mark.django_db
def test_an_administrator_cannot_lock_themselves_out(people):
    admin = people["admin"]
    data = roster_bytes(
        people=[
            person_row(
                "admin",
                admin.name,
                CITY,
                user_no=admin.user_no,
                cert_no=admin.cert_no,
                frontline="否",
                roles="督察",
                active="否",
            )
        ]
    )
    plan = plan_import(data, user=admin)
    assert _messages(plan) == ["人员表第2行：不能停用你自己的账号；不能取消你自己的系统管理员角色"]


# --- export and round trip ------------------------------------------------------------------


@pytest.mark.django_db
def test_export_has_two_sheets_with_chinese_headers_of_the_users_scope(people):
    data = export_roster(people["squad_admin"])
    sheets = read_sheets(data)
    assert list(sheets) == [SHEET_UNITS, SHEET_PEOPLE, SHEET_HELP]
    assert sheets[SHEET_UNITS] == [
        ["单位编号", "单位全称", "简称", "层级", "上级单位编号", "独立驻点"],
        [SQUAD3, "湖里中队", "湖里中队", "中队", "350206000001", "否"],
    ]
    assert sheets[SHEET_PEOPLE][0] == [
        "姓名",
        "登录名",
        "警号",
        "执法证号",
        "单位编号",
        "一线",
        "角色",
        "电话",
        "在岗",
    ]
    exported = {row[1]: row for row in sheets[SHEET_PEOPLE][1:]}
    assert set(exported) == {"officer_other", "squad_admin"}
    other = people["officer_other"]
    assert exported["officer_other"] == [
        "韩一",
        "officer_other",
        other.user_no,
        other.cert_no,
        SQUAD3,
        "是",
        "执法队员",
        None,
        "是",
    ]
    assert AuditEntry.objects.filter(
        action="org.roster.export", actor=people["squad_admin"]
    ).exists()


@pytest.mark.django_db
def test_export_of_the_city_lists_the_tree_parents_first(people):
    sheets = read_sheets(export_roster(people["admin"]))
    codes = [row[0] for row in sheets[SHEET_UNITS][1:]]
    assert len(codes) == 8 and codes[0] == CITY
    seen = set()
    for row in sheets[SHEET_UNITS][1:]:
        assert row[4] is None or row[4] in seen
        seen.add(row[0])
    housed = {row[0]: row[5] for row in sheets[SHEET_UNITS][1:]}
    assert housed["350206000001"] == "是"  # C1.2
    assert len(sheets[SHEET_PEOPLE]) == 1 + 11


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["admin", "squad_admin"])
def test_round_trip_export_then_import_changes_nothing(people, who):
    user = people[who]
    actions.update_person(actor="system:test", person=people["officer_b"], is_active=False)
    data = export_roster(user)
    before = _snapshot()
    last_seq = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    plan = apply_import(data, user=user, actor=user)
    assert plan.ok and not plan.has_changes
    assert plan.counts("units")["create"] == plan.counts("units")["update"] == 0
    assert plan.counts("people")["create"] == plan.counts("people")["update"] == 0
    assert plan.counts("people")["unchanged"] == Person.objects.restrict(user, "view").count()
    assert _snapshot() == before
    # Nothing changed, so the only new audit row is the import itself.
    new = list(AuditEntry.objects.filter(seq__gt=last_seq).values_list("action", flat=True))
    assert new == ["org.roster.import"]


@pytest.mark.django_db
def test_edit_in_excel_then_import_changes_only_what_was_edited(people):
    data = export_roster(people["admin"])
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[SHEET_PEOPLE]
    for row in ws.iter_rows(min_row=2):
        if row[1].value == "officer_b":
            row[7].value = "13700000000"
    out = io.BytesIO()
    wb.save(out)
    plan = apply_import(out.getvalue(), user=people["admin"], actor=people["admin"])
    assert plan.summary() == "单位：新建 0，更新 0，不变 8；人员：新建 0，更新 1，不变 10"
    assert Person.objects.get(username="officer_b").phone == "13700000000"


@pytest.mark.django_db
def test_a_preview_digest_that_no_longer_matches_is_refused(people):
    data = roster_bytes(people=[person_row("liu", "刘一", SQUAD1, user_no="351001")])
    preview = plan_import(data, user=people["admin"])
    actions.create_person(
        actor="system:test", username="liu", name="刘", unit=people["officer"].unit
    )
    with pytest.raises(RosterChanged) as caught:
        apply_import(
            data, user=people["admin"], actor=people["admin"], expected_digest=preview.digest
        )
    assert caught.value.plan.changed_people[0].op == "update"
    assert Person.objects.get(username="liu").name == "刘"


# --- bad files ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "文件是空的"),
        (
            b"\xe5\xa7\x93\xe5\x90\x8d,\xe7\x99\xbb\xe5\xbd\x95\xe5\x90\x8d\n",
            "文件不是 Excel 工作簿（.xlsx）",
        ),
        (b"PK\x03\x04 not really a zip", "文件不是 Excel 工作簿（.xlsx）"),
        (
            workbook_bytes({"Sheet1": [["姓名"]]}),
            "缺少工作表“单位”。名册需要两个工作表：“单位”和“人员”（文件中的工作表：“Sheet1”）",
        ),
        (
            workbook_bytes(
                {
                    SHEET_UNITS: [
                        list(("单位编号", "单位全称", "简称", "层级", "上级单位编号", "独立驻点"))
                    ]
                }
            ),
            "缺少工作表“人员”",
        ),
        (
            roster_bytes(
                person_headers=["姓名", "登录名", "警号", "单位编号", "一线", "角色", "电话"]
            ),
            "工作表“人员”缺少列：执法证号、在岗。第一行应为表头：姓名、登录名、警号、执法证号、单位编号、一线、角色、电话、在岗",
        ),
        (
            roster_bytes(unit_headers=["单位编号", "单位编号", "单位全称"]),
            "工作表“单位”中“单位编号”列出现了两次",
        ),
        (workbook_bytes({SHEET_UNITS: [], SHEET_PEOPLE: []}), "工作表“单位”是空的"),
    ],
)
def test_bad_files_get_a_clear_message(people, data, expected):
    with pytest.raises(RosterFileError) as caught:
        plan_import(data, user=people["admin"])
    assert expected in str(caught.value)


@pytest.mark.django_db
def test_headers_may_be_in_any_order_with_extra_columns(people):
    headers = [
        "序号",
        "登录名",
        "姓名",
        "单位编号",
        "警号",
        "执法证号",
        "角色",
        "一线",
        "在岗",
        "电话",
        "备注",
    ]
    data = roster_bytes(
        person_headers=headers,
        people=[[1, "wu", "吴", SQUAD1, "351101", "", "执法队员", "是", "是", "", "新招录"]],
    )
    plan = apply_import(data, user=people["admin"], actor=people["admin"])
    assert plan.counts("people")["create"] == 1
    assert Person.objects.get(username="wu").user_no == "351101"


# --- the command ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_imports_and_prints_a_summary(people, tmp_path, capsys):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(roster_bytes(people=[person_row("cli1", "命令行", SQUAD3, user_no="351201")]))
    call_command("import_roster", str(path))
    out = capsys.readouterr().out
    assert "人员表第2行：新建 cli1 命令行" in out
    assert "已导入：单位：新建 0，更新 0，不变 0；人员：新建 1，更新 0，不变 0" in out
    entry = AuditEntry.objects.get(
        action="org.person.create", object_id=str(Person.objects.get(username="cli1").pk)
    )
    assert entry.actor_label.startswith("cli:")


@pytest.mark.django_db
def test_command_prints_row_errors_and_fails_on_bad_input(people, tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(
        roster_bytes(
            people=[
                person_row("ok1", "好", SQUAD1, user_no="351301"),
                person_row("bad1", "", SQUAD1, user_no="351302"),
            ]
        )
    )
    with pytest.raises(CommandError, match="名册有 1 行错误，未导入任何数据"):
        call_command("import_roster", str(path))
    assert "人员表第3行：姓名为空" in capsys.readouterr().err
    assert not Person.objects.filter(username="ok1").exists()


@pytest.mark.django_db
def test_command_refuses_a_file_that_is_not_xlsx(people, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("姓名,登录名\n", encoding="utf-8")
    with pytest.raises(CommandError, match="文件不是 Excel 工作簿（.xlsx）"):
        call_command("import_roster", str(path))
    with pytest.raises(CommandError, match="无法读取文件"):
        call_command("import_roster", str(tmp_path / "missing.xlsx"))


@pytest.mark.django_db
def test_command_dry_run_and_acting_as_an_administrator(people, tmp_path, capsys):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(roster_bytes(people=[person_row("dry", "试", SQUAD1, user_no="351401")]))
    call_command("import_roster", str(path), "--dry-run")
    assert "试运行，未写入" in capsys.readouterr().out
    assert not Person.objects.filter(username="dry").exists()
    with pytest.raises(CommandError, match="名册有 1 行错误"):
        call_command("import_roster", str(path), "--as", "squad_admin")
    with pytest.raises(CommandError, match="不是系统管理员"):
        call_command("import_roster", str(path), "--as", "officer")
    call_command("import_roster", str(path), "--as", "admin")
    person = Person.objects.get(username="dry")
    entry = AuditEntry.objects.get(action="org.person.create", object_id=str(person.pk))
    assert entry.actor_id == people["admin"].pk


@pytest.mark.django_db
def test_jilu_console_script_spelling(people, tmp_path):
    """``jilu import-roster`` maps to this command (dashes become underscores)."""
    from django.core.management import get_commands

    assert get_commands()["import_roster"] == "jilu.org"


@pytest.mark.django_db
def test_a_failure_while_writing_rolls_back_everything(people, monkeypatch):
    """Even if a write fails half-way (someone changed the data meanwhile),
    nothing half-imported becomes visible."""
    from django.core.exceptions import ValidationError

    real = actions.create_person

    def flaky(**kwargs):
        if kwargs["username"] == "second":
            raise ValidationError({"cert_no": "具有 执法证号 的 人员 已存在。"})
        return real(**kwargs)

    monkeypatch.setattr(actions, "create_person", flaky)
    data = roster_bytes(
        units=[[NEW_SQUAD, "新华中队", "新华中队", "中队", BRIGADE, "否"]],
        people=[
            person_row("first", "第一", NEW_SQUAD, user_no="351501"),
            person_row("second", "第二", NEW_SQUAD, user_no="351502"),
        ],
    )
    before = _snapshot()
    audit_before = AuditEntry.objects.count()
    with pytest.raises(RosterInvalid) as caught:
        apply_import(data, user=people["admin"], actor=people["admin"])
    assert _messages(caught.value.plan) == ["人员表第3行：具有 执法证号 的 人员 已存在。"]
    assert _snapshot() == before
    assert AuditEntry.objects.count() == audit_before


@pytest.mark.django_db
def test_a_row_with_bad_cells_is_still_checked_against_the_database(people):
    plan = plan_import(
        roster_bytes(people=[person_row("new", "新", SQUAD1, user_no="900001", roles="局长")]),
        user=people["admin"],
    )
    assert _messages(plan) == [
        "人员表第2行：角色“局长”无法识别（可填：执法队员、中队长、大队长、档案管理员、"
        "案件承办人、法制审核员、督察、系统管理员）；警号 900001 已被 王五（officer）使用"
    ]
