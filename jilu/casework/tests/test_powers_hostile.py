"""A hostile list of powers is refused with its reason on the page and by the
command; a large one is imported by a background task, all rows or none."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from jilu import workbooks
from jilu.casework import tasks
from jilu.casework.models import Power
from jilu.casework.tests.test_pages import _xlsx
from jilu.org.models import WorkbookUpload
from jilu.org.tests.hostile import BILLION_LAUGHS, MIB, rezip, sheet_members, with_doctype
from jilu.org.tests.hostile import with_streamed_comment as with_comment

GOOD = _xlsx([["事项编码", "事项名称", "执法类别"], ["A1", "某事项", "行政检查"]]).getvalue()
(SHEET,) = sheet_members(GOOD)
HOSTILE = {
    "billion laughs": (
        rezip(GOOD, {SHEET: with_doctype(BILLION_LAUGHS, reference=b"&lol9;")}),
        "工作簿包含 DTD 声明，已拒绝",
    ),
    "huge comment": (with_comment(GOOD, SHEET, 300 * MIB), "解压后大小超过 64 MB，已拒绝"),
}


def _file(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("powers.xlsx", data)


@pytest.mark.django_db
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_lists_of_powers_are_refused_on_the_page(client, people, tree, case):
    data, expected = HOSTILE[case]
    client.force_login(people["admin"])
    url = reverse("casework:power_import")
    response = client.post(url, {"unit": tree["brigade"].pk, "file": _file(data)})
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not Power.objects.exists()


@pytest.mark.django_db
def test_hostile_lists_of_powers_are_refused_by_the_command(tree, tmp_path):
    path = tmp_path / "powers.xlsx"
    path.write_bytes(HOSTILE["billion laughs"][0])
    with pytest.raises(CommandError, match="工作簿包含 DTD 声明，已拒绝"):
        call_command("import_powers", tree["brigade"].code, str(path), stdout=io.StringIO())


@pytest.mark.django_db
def test_a_large_list_of_powers_is_imported_in_the_background(
    client, people, tree, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(workbooks, "INLINE_BYTES", 0)
    client.force_login(people["admin"])
    url = reverse("casework:power_import")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"unit": tree["brigade"].pk, "file": _file(GOOD)})
    upload = WorkbookUpload.objects.get()
    assert response["Location"] == reverse("casework:power_upload", args=[upload.pk])
    assert not Power.objects.exists()  # nothing read on the request thread
    page = client.get(response["Location"]).content.decode()
    assert 'id="upload-progress"' in page and 'http-equiv="refresh"' in page
    assert tasks.import_powers_upload.call(upload.pk) == "done"
    assert tasks.import_powers_upload.call(upload.pk) == "nothing to import"
    assert Power.objects.get(unit=tree["brigade"]).code == "A1"
    page = client.get(response["Location"]).content.decode()
    assert "已导入：新增 1 项，更新 0 项，停用 0 项" in page


@pytest.mark.django_db
def test_a_large_list_with_a_bad_row_imports_nothing(client, people, tree, monkeypatch):
    monkeypatch.setattr(workbooks, "INLINE_BYTES", 0)
    client.force_login(people["admin"])
    bad = _xlsx([["事项编码", "事项名称", "执法类别"], ["A1", "某事项", "没有的类别"]]).getvalue()
    url = reverse("casework:power_import")
    response = client.post(url, {"unit": tree["brigade"].pk, "file": _file(bad)})
    upload = WorkbookUpload.objects.get()
    assert tasks.import_powers_upload.call(upload.pk) == "invalid"
    page = client.get(response["Location"]).content.decode()
    assert "第2行：执法类别“没有的类别”无法识别" in page
    assert not Power.objects.exists()
