"""Hostile roster workbooks on every way in (page, API, command) are refused with
their reason and never answer 500; a large roster is read by a background task
while the page shows its progress and the server answers other requests."""

from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from conftest import api_auth
from jilu import workbooks
from jilu.audit.models import AuditEntry
from jilu.org import tasks
from jilu.org.models import Person, WorkbookUpload
from jilu.org.roster import XLSX_MIME
from jilu.org.tests.hostile import (
    BILLION_LAUGHS,
    MIB,
    XXE,
    flag_encrypted,
    rezip,
    sheet_members,
    with_doctype,
    with_streamed_comment,
)
from jilu.org.tests.xlsx import person_row, roster_bytes

SQUAD1 = "350203000101"
GOOD = roster_bytes(people=[person_row("big1", "后台", SQUAD1, user_no="380001")])
UNITS_SHEET, PEOPLE_SHEET = sheet_members(GOOD)
State = WorkbookUpload.State

HOSTILE = {
    "billion laughs": (
        rezip(GOOD, {UNITS_SHEET: with_doctype(BILLION_LAUGHS, reference=b"&lol9;")}),
        "工作簿包含 DTD 声明，已拒绝",
    ),
    "external entity": (
        rezip(GOOD, {PEOPLE_SHEET: with_doctype(XXE, reference=b"&xxe;")}),
        "工作簿包含 DTD 声明，已拒绝",
    ),
    "300 MiB comment in the second sheet": (
        with_streamed_comment(GOOD, PEOPLE_SHEET, 300 * MIB),
        "解压后大小超过 64 MB，已拒绝",
    ),
    "not a zip": (b"\x00\x01 just bytes", "文件不是 Excel 工作簿（.xlsx）"),
    "encrypted member": (flag_encrypted(GOOD, PEOPLE_SHEET), "加密的文件"),
    "zip bomb ratio": (
        rezip(GOOD, add={"xl/media/image1.png": bytes(16 * MIB)}),
        "压缩比异常",
    ),
}


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("名册.xlsx", data, content_type=XLSX_MIME)


@pytest.mark.django_db
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_rosters_are_refused_on_the_page(client, people, case):
    data, expected = HOSTILE[case]
    client.force_login(people["admin"])
    response = client.post(reverse("org:roster_import"), {"file": _upload(data)})
    assert response.status_code == 200
    assert expected in response.context["file_error"]
    assert "无法读取这个文件，未导入任何数据" in response.content.decode()
    assert not Person.objects.filter(username="big1").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["billion laughs", "300 MiB comment in the second sheet"])
def test_hostile_rosters_are_refused_by_the_api(client, people, case):
    data, expected = HOSTILE[case]
    admin = api_auth(client, "admin")
    response = client.post("/api/v1/roster", {"file": _upload(data)}, **admin)
    assert response.status_code == 400
    assert expected in response.json()["detail"]


@pytest.mark.django_db
def test_hostile_rosters_are_refused_by_the_command(people, tmp_path):
    path = tmp_path / "名册.xlsx"
    path.write_bytes(HOSTILE["external entity"][0])
    with pytest.raises(CommandError, match="工作簿包含 DTD 声明，已拒绝"):
        call_command("import_roster", str(path))
    assert not Person.objects.filter(username="big1").exists()


@pytest.fixture
def large(monkeypatch):
    """Every workbook counts as large: read in the background, not on the request."""
    monkeypatch.setattr(workbooks, "INLINE_BYTES", 0)


def _not_on_the_request_thread(monkeypatch):
    def tripwire(*args, **kwargs):
        raise AssertionError("the workbook was opened on the request thread")

    monkeypatch.setattr("jilu.org.roster.importing._load_workbook", tripwire)


@pytest.mark.django_db
def test_a_large_roster_is_read_in_the_background_then_previewed_and_imported(
    client, people, large, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(people["admin"])
    with monkeypatch.context() as m:
        _not_on_the_request_thread(m)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("org:roster_import"), {"file": _upload(GOOD)})
        upload = WorkbookUpload.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("org:roster_upload", args=[upload.pk])
        assert upload.state == State.QUEUED
        job = DBTaskResult.objects.get(task_path="jilu.org.tasks.read_roster_upload")
        assert job.args_kwargs["args"] == [upload.pk]
        # While it waits, its page shows the progress and refreshes; other pages answer.
        page = client.get(response["Location"])
        assert '<meta http-equiv="refresh"' in page.content.decode()
        assert "upload-progress" in page.content.decode()
        assert client.get(reverse("org:person_list")).status_code == 200

    assert tasks.read_roster_upload.call(upload.pk) == State.PREVIEW
    assert tasks.read_roster_upload.call(upload.pk) == "nothing to read"  # idempotent
    page = client.get(reverse("org:roster_upload", args=[upload.pk]))
    html = page.content.decode()
    assert 'id="roster-preview"' in html and "big1" in html and "refresh" not in html
    assert not Person.objects.filter(username="big1").exists()

    digest = page.context["plan"].digest
    confirm = reverse("org:roster_upload_confirm", args=[upload.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(confirm, {"digest": digest}).status_code == 302
    upload.refresh_from_db()
    assert upload.state == State.APPLYING
    assert tasks.apply_roster_upload.call(upload.pk) == "done"
    assert tasks.apply_roster_upload.call(upload.pk) == "nothing to import"
    assert Person.objects.get(username="big1").name == "后台"
    html = client.get(reverse("org:roster_upload", args=[upload.pk])).content.decode()
    assert 'id="roster-result"' in html and "后台" in html
    assert AuditEntry.objects.filter(action="org.roster.import").count() == 1


@pytest.mark.django_db
def test_a_large_hostile_roster_is_refused_by_the_task_with_its_reason(client, people, large):
    client.force_login(people["admin"])
    data = rezip(GOOD, {PEOPLE_SHEET: with_doctype(BILLION_LAUGHS, reference=b"&lol9;")})
    response = client.post(reverse("org:roster_import"), {"file": _upload(data)})
    upload = WorkbookUpload.objects.get()
    assert tasks.read_roster_upload.call(upload.pk) == "refused"
    page = client.get(response["Location"]).content.decode()
    assert "工作簿包含 DTD 声明，已拒绝" in page and "无法读取这个文件，未导入任何数据" in page
    refused = AuditEntry.objects.get(action="org.workbook.refused")
    assert refused.details["sha256"] == upload.sha256


@pytest.mark.django_db
def test_someone_elses_upload_is_not_found(client, people, large):
    client.force_login(people["admin"])
    client.post(reverse("org:roster_import"), {"file": _upload(GOOD)})
    upload = WorkbookUpload.objects.get()
    other = people["officer"]
    client.force_login(other)
    assert client.get(reverse("org:roster_upload", args=[upload.pk])).status_code == 404


@pytest.mark.django_db
def test_a_stale_digest_is_not_imported(client, people, large):
    client.force_login(people["admin"])
    client.post(reverse("org:roster_import"), {"file": _upload(GOOD)})
    upload = WorkbookUpload.objects.get()
    tasks.read_roster_upload.call(upload.pk)
    confirm = reverse("org:roster_upload_confirm", args=[upload.pk])
    response = client.post(confirm, {"digest": "0" * 64}, follow=True)
    assert "这份预览已不是最新的" in response.content.decode()
    upload.refresh_from_db()
    assert upload.state == State.PREVIEW


@pytest.mark.django_db(transaction=True)
def test_the_server_answers_while_a_large_roster_is_being_read(client, people, large):
    """The reading holds at its first progress report (in a worker thread); the
    pages answer meanwhile and show that progress; then the reading finishes."""
    client.force_login(people["admin"])
    client.post(reverse("org:roster_import"), {"file": _upload(GOOD)})
    upload = WorkbookUpload.objects.get()
    reported, release = threading.Event(), threading.Event()
    original = tasks.uploads.note_progress

    def held(upload_id, done, total):
        original(upload_id, done, total)
        reported.set()
        assert release.wait(60)

    outcome = []

    def worker():
        try:
            outcome.append(tasks.read_roster_upload.call(upload.pk))
        finally:
            connection.close()

    tasks.uploads.note_progress = held
    try:
        thread = threading.Thread(target=worker)
        thread.start()
        assert reported.wait(60)
        page = client.get(reverse("org:roster_upload", args=[upload.pk]))
        assert page.context["upload"].state == State.READING
        assert 'id="upload-progress"' in page.content.decode()
        assert client.get(reverse("org:person_list")).status_code == 200
        release.set()
        thread.join(60)
    finally:
        tasks.uploads.note_progress = original
        release.set()
    assert outcome == [State.PREVIEW]
    page = client.get(reverse("org:roster_upload", args=[upload.pk]))
    assert 'id="roster-preview"' in page.content.decode()
