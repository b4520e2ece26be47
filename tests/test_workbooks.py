"""Uploaded workbooks are read with limits (jilu.workbooks): each crafted attack of
the "spreadsheets as weapons" report is refused with a message naming what is
wrong, before or while openpyxl reads it, and a normal workbook still reads."""

from __future__ import annotations

import io
import itertools
import zipfile

import openpyxl
import pytest
from django.utils import translation

from jilu import workbooks
from jilu.org.tests.hostile import (
    BILLION_LAUGHS,
    MIB,
    XXE,
    flag_encrypted,
    rezip,
    sheet_members,
    sheet_with_cell,
    with_doctype,
    with_streamed_comment,
)
from jilu.org.tests.xlsx import workbook_bytes
from jilu.workbooks import Budget, Limits, WorkbookRefused, inspect, open_workbook

BOOK = workbook_bytes({"单位": [["编号", "名称"], ["1", "甲"]], "人员": [["姓名"], ["张三"]]})
FIRST, SECOND = sheet_members(BOOK)


def refused(
    data: bytes, limits: Limits | None = None, sheet: str = "单位", **kw
) -> WorkbookRefused:
    with pytest.raises(WorkbookRefused) as caught:
        with open_workbook(data, limits, **kw) as wb:
            list(wb.rows(sheet))
    return caught.value


def test_a_normal_workbook_reads_only_its_rows():
    with open_workbook(BOOK) as wb:
        assert wb.sheetnames == ["单位", "人员"]
        assert list(wb.rows("单位")) == [(1, ("编号", "名称")), (2, ("1", "甲"))]


def test_openpyxl_parses_with_defusedxml_as_a_second_line():
    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize("member", [FIRST, "xl/workbook.xml", "[Content_Types].xml"])
def test_billion_laughs_is_refused_as_a_dtd(member):
    data = rezip(BOOK, {member: with_doctype(BILLION_LAUGHS, reference=b"&lol9;")})
    exc = refused(data)
    assert exc.code == "dtd"
    assert str(exc).startswith("工作簿包含 DTD 声明，已拒绝")
    assert member in str(exc)


def test_an_external_entity_is_refused_and_nothing_is_read():
    data = rezip(BOOK, {FIRST: with_doctype(XXE, reference=b"&xxe;")})
    exc = refused(data)
    assert exc.code == "dtd" and "root:" not in str(exc)


def test_a_dtd_in_a_sheet_that_is_not_read_is_refused_too():
    data = rezip(BOOK, {SECOND: with_doctype(BILLION_LAUGHS)})
    assert refused(data, sheet="单位").code == "dtd"  # openpyxl opens it for its size


def test_defusedxml_refuses_entities_when_the_first_line_is_bypassed(monkeypatch):
    monkeypatch.setattr(workbooks._Prolog, "feed", lambda self, data, final: None)
    data = rezip(BOOK, {FIRST: with_doctype(BILLION_LAUGHS, reference=b"&lol9;")})
    assert refused(data).code == "dtd"


def test_a_huge_comment_in_the_second_sheet_is_refused_from_the_zip_directory():
    # The report's file: a small upload whose second sheet inflates to 300 MiB.
    data = with_streamed_comment(BOOK, SECOND, 300 * MIB)
    assert len(data) < 2 * MIB
    exc = refused(data)
    assert exc.code == "member_size"
    assert str(exc) == f"工作簿中的 {SECOND} 解压后大小超过 64 MB，已拒绝"


def test_a_comment_below_the_size_caps_is_stopped_by_the_time_budget():
    # A clock that moves one second per look: the budget of 5 s runs out while
    # the comment is still being inflated and parsed (many reads of one member).
    data = with_streamed_comment(BOOK, FIRST, 8 * MIB)
    budget = Budget(5, clock=itertools.count().__next__)
    exc = refused(data, Limits(max_ratio=10_000), budget=budget)
    assert exc.code == "timeout"
    assert "读取工作簿超过 5 秒仍未完成，已停止，未导入任何数据" in str(exc)


def test_the_time_budget_also_bounds_rows():
    data = rezip(BOOK, {FIRST: sheet_with_cell("A15000", 15000)})
    checks = itertools.count()
    exc = refused(data, budget=Budget(1000, clock=checks.__next__))
    assert exc.code == "timeout"
    assert next(checks) < 1100  # stopped at the budget, not after 15,000 rows


def test_rows_with_data_past_the_cap_are_refused_and_empty_ones_ignored():
    data = rezip(BOOK, {FIRST: sheet_with_cell("A30000", 30000)})
    exc = refused(data, Limits(max_rows=100))
    assert exc.code == "rows"
    assert str(exc) == "工作表“单位”超过 100 行，已拒绝。请拆分后分批导入"
    styled_only = rezip(
        BOOK, {FIRST: lambda x: x.replace(b"</sheetData>", b'<row r="500"/></sheetData>')}
    )
    with open_workbook(styled_only, Limits(max_rows=100)) as wb:
        assert [n for n, _ in wb.rows("单位")] == list(range(1, 101))


def test_columns_with_data_past_the_cap_are_refused():
    data = rezip(BOOK, {FIRST: sheet_with_cell("BZ3", 3)})
    exc = refused(data, Limits(max_columns=10))
    assert exc.code == "columns"
    assert str(exc) == "工作表“单位”第 3 行超过 10 列，已拒绝。请删去多余的列"


@pytest.mark.parametrize(
    ("data", "code", "expected"),
    [
        (b"", "empty", "文件是空的"),
        ("name,unit\n张三,1\n".encode(), "not_xlsx", "文件不是 Excel 工作簿（.xlsx），无法读取"),
        (b"PK\x03\x04 not really a zip", "not_xlsx", "文件不是 Excel 工作簿（.xlsx）"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "ole", "设置了打开密码的工作簿"),
        (flag_encrypted(BOOK, FIRST), "encrypted", f"加密的文件（{FIRST}）"),
        (rezip(BOOK, add={"../../etc/cron.d/x": b"x"}), "path", "不安全或重复的文件路径"),
        (rezip(BOOK, add={"/abs.xml": b"x"}), "path", "（/abs.xml）"),
        (rezip(BOOK, add={"C:/win.xml": b"x"}), "path", "（C:/win.xml）"),
        (rezip(BOOK, add={"xl\\evil.xml": b"x"}), "path", "不安全或重复的文件路径"),
        (
            rezip(BOOK, compression=zipfile.ZIP_BZIP2),
            "compression",
            "不支持的压缩方式",
        ),
        (
            rezip(BOOK, add={"xl/media/image1.png": bytes(8 * MIB)}),
            "ratio",
            "工作簿中的 xl/media/image1.png 压缩比异常（",
        ),
        (
            rezip(BOOK, add={f"xl/x{i}.xml": b"<x/>" for i in range(400)}),
            "members",
            "个文件，超过上限 300 个，已拒绝",
        ),
        (bytes(6 * MIB), "too_large", "文件超过 5 MB，已拒绝"),
    ],
)
def test_odd_files_and_zips_are_refused_with_their_reason(data, code, expected):
    exc = refused(data)
    assert exc.code == code
    assert expected in str(exc)


def test_a_repeated_member_name_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(BOOK)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        with pytest.warns(UserWarning):
            dst.writestr(FIRST, b"<worksheet/>")
    assert refused(out.getvalue()).code == "path"


def test_total_uncompressed_size_is_capped():
    exc = refused(BOOK, Limits(max_total_bytes=10_000))
    assert exc.code == "total_size"
    assert str(exc) == "工作簿解压后大小超过 0.01 MB，已拒绝"


def test_broken_xml_inside_a_sheet_is_a_clear_refusal():
    data = rezip(BOOK, {FIRST: lambda x: x.replace(b"</sheetData>", b"<row><c></sheetData>")})
    exc = refused(data)
    assert exc.code == "damaged" and "单位" in str(exc)


def test_inspect_tells_small_from_large():
    assert inspect(BOOK, Limits()).inline
    big = rezip(BOOK, add={"xl/padding.xml": b"<p>" + b"ab" * MIB + b"</p>"})
    assert not inspect(big, Limits(max_ratio=10_000)).inline


def test_refusals_read_in_english_too():
    with translation.override("en"):
        exc = refused(rezip(BOOK, {FIRST: with_doctype(XXE)}))
    assert str(exc).startswith("The workbook contains a DTD declaration and was refused")
