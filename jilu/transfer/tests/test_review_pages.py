"""The package page, the reviewer's queue and the review page, through the test client (C5.5).

C5.5: the handling unit sends the disc and the record list (A2, C5.4) to
legal; reviewers check completeness against the list, and (C6.5.3) the disc
is re-hashed file by file so any altered, missing or extra file is named.
Permission tests for every page; the uploaded ISO is streamed to a temporary
file.
"""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.urls import reverse

from jilu.audit.models import AuditEntry
from jilu.casework.models import Case
from jilu.casework.tests.conftest import _file_store, party, recorders  # noqa: F401
from jilu.casework.tests.documents_data import build_case
from jilu.transfer.models import Package, Review, Verification
from jilu.transfer.tests.disc_trees import make_iso

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def data(people, tree, recorders, party, settings, tmp_path):  # noqa: F811
    settings.TASKS = IMMEDIATE
    settings.TRANSFER_PACKAGE_DIR = tmp_path / "packages"
    return build_case(people, tree, recorders, party)


def login(client, person):
    client.force_login(person)
    return client


@pytest.fixture
def handler(client, people):
    return login(client, people["case_handler"])


def build(client, case, django_capture_on_commit_callbacks, disc="dvd") -> Package:
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("transfer:package_build", args=[case.pk]), {"disc": disc})
    assert r.status_code == 302
    return Package.objects.filter(case=case).order_by("-version").first()


@pytest.fixture
def transferred(data, handler, django_capture_on_commit_callbacks):
    case = data["case"]
    package = build(handler, case, django_capture_on_commit_callbacks)
    assert package.state == Package.State.READY, package.error
    r = handler.post(
        reverse("transfer:package_transfer", args=[package.pk]),
        {"note": "请审核", "coverage_ack": "on"},  # activity 1 has a gap (C4.3)
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.TRANSFERRED
    handler.logout()
    return package, Review.objects.get(transfer__package=package)


def test_package_page_builds_with_progress_and_transfers(
    data, handler, django_capture_on_commit_callbacks
):
    """C5.5: the handler builds the package (background job) and hands it over."""
    case = data["case"]
    page = handler.get(reverse("transfer:case_packages", args=[case.pk]))
    assert page.status_code == 200
    assert "制作光盘包" in page.content.decode()
    package = build(handler, case, django_capture_on_commit_callbacks)
    progress = handler.get(reverse("transfer:package_progress", args=[package.pk])).json()
    assert progress["state"] == "ready" and progress["percent"] == 100 and progress["finished"]
    body = handler.get(reverse("transfer:case_packages", args=[case.pk])).content.decode()
    assert package.manifest_sha256 in body
    # each hash said in the users' words, the file it is of still named for tools
    assert "整套光盘指纹" in body and "package-manifest.txt 的 SHA-256" in body
    assert "清单 SHA-256" not in body
    disc = package.discs.get()
    assert f'<code class="disc-hash">{disc.manifest_sha256}</code>' in body
    assert f"{disc.manifest_sha256}  disc-01/manifest-sha256.txt" in body
    assert "第 1 张 共 1 张" in body and "移送第 1 版至法制审核" in body
    handler.post(
        reverse("transfer:package_transfer", args=[package.pk]), {"note": "", "coverage_ack": "on"}
    )
    body = handler.get(reverse("transfer:case_packages", args=[case.pk])).content.decode()
    assert "locked-note" in body and "移送第 1 版" not in body
    assert "制作新版本" in body  # a new version is the only change left


def test_progress_is_shown_while_building(data, handler):
    """Without running the queue, the page shows the queued package with a progress bar."""
    case = data["case"]
    handler.post(reverse("transfer:package_build", args=[case.pk]), {"disc": "dvd"})
    package = Package.objects.get(case=case)
    assert package.state == Package.State.QUEUED
    body = handler.get(reverse("transfer:case_packages", args=[case.pk])).content.decode()
    assert "<progress" in body and reverse("transfer:package_progress", args=[package.pk]) in body


def test_disc_download_is_audited(data, handler, django_capture_on_commit_callbacks):
    package = build(handler, data["case"], django_capture_on_commit_callbacks)
    r = handler.get(reverse("transfer:disc_download", args=[package.pk, 1]))
    assert r.status_code == 200
    assert b"".join(r.streaming_content)[32768 + 1 : 32768 + 6] == b"CD001"
    assert AuditEntry.objects.filter(action="transfer.disc.download").count() == 1


def test_page_permissions(data, client, people, make_person, django_capture_on_commit_callbacks):
    case = data["case"]
    login(client, people["officer_other"])
    assert client.get(reverse("transfer:case_packages", args=[case.pk])).status_code == 404
    assert client.get(reverse("transfer:review_queue")).status_code == 403
    login(client, people["legal_reviewer"])
    assert client.get(reverse("transfer:case_packages", args=[case.pk])).status_code == 200
    r = client.post(reverse("transfer:package_build", args=[case.pk]), {"disc": "dvd"})
    assert r.status_code == 403
    assert not Package.objects.exists()
    login(client, people["case_handler"])
    assert client.get(reverse("transfer:review_queue")).status_code == 403


def test_reviewer_queue_is_scoped(transferred, client, people, make_person):
    package, review = transferred
    login(client, people["legal_reviewer"])
    body = client.get(reverse("transfer:review_queue")).content.decode()
    assert package.case.number in body
    assert reverse("transfer:review_detail", args=[review.pk]) in body
    login(client, make_person("reviewer_huli", unit="district2", roles=("legal_reviewer",)))
    body = client.get(reverse("transfer:review_queue")).content.decode()
    assert package.case.number not in body
    assert client.get(reverse("transfer:review_detail", args=[review.pk])).status_code == 404
    login(client, people["case_handler"])
    assert client.get(reverse("transfer:review_detail", args=[review.pk])).status_code == 403


def test_review_page_shows_rows_with_player_integrity_and_gaps(transferred, client, people, data):
    """C5.4 / A2: each record-list row with its player link, state kept and coverage gaps."""
    package, review = transferred
    login(client, people["legal_reviewer"])
    body = client.get(reverse("transfer:review_detail", args=[review.pk])).content.decode()
    for rec in data["recordings"]:
        assert f'href="/recordings/{rec.pk}/"' in body
    assert body.count('name="verdict_') == 5
    assert "完整" in body and "录制缺口" in body
    assert package.manifest_sha256 in body


def test_review_page_names_each_hash_and_shows_the_label_hash(transferred, client, people):
    """C5.5: the hash to compare with a disc's label is that disc's manifest-sha256.txt
    hash; the registered package hash is named as package-manifest.txt's, and its
    lines (the label hashes) are shown and checked against it."""
    package, review = transferred
    login(client, people["legal_reviewer"])
    body = client.get(reverse("transfer:review_detail", args=[review.pk])).content.decode()
    disc = package.discs.get()
    assert f'<code class="disc-hash" data-disc="1">{disc.manifest_sha256}</code>' in body
    assert "各盘的光盘指纹（SHA-256）" in body and "印在该盘的光盘标签" in body
    assert "移送时登记的整套光盘指纹（SHA-256）" in body
    assert "移送时登记的清单 SHA-256" not in body
    assert f"{disc.manifest_sha256}  disc-01/manifest-sha256.txt" in body
    assert 'class="good" id="package-manifest-ok"' in body
    assert f"manifest-sha256.txt 的 SHA-256：{disc.manifest_sha256}" in disc.label_text


def test_verify_against_originals(transferred, client, people):
    package, review = transferred
    login(client, people["legal_reviewer"])
    r = client.post(reverse("transfer:review_verify", args=[review.pk]), follow=True)
    body = r.content.decode()
    assert "核验通过" in body and 'data-ok="1"' in body
    v = Verification.objects.get(review=review)
    assert v.ok and v.source == "originals" and v.checked_files == 7
    assert AuditEntry.objects.filter(action="transfer.package.verify").exists()


def test_uploaded_iso_is_streamed_to_a_temporary_file_and_checked(
    transferred, client, people, monkeypatch
):
    package, review = transferred
    seen = []
    original = TemporaryUploadedFile.temporary_file_path
    monkeypatch.setattr(
        TemporaryUploadedFile,
        "temporary_file_path",
        lambda self: seen.append(self.name) or original(self),
    )
    login(client, people["legal_reviewer"])
    disc = package.discs.get()
    with open(disc.iso_path, "rb") as fh:
        r = client.post(
            reverse("transfer:review_upload", args=[review.pk]), {"iso": fh}, follow=True
        )
    assert r.status_code == 200
    assert seen == ["disc-01.iso"]
    v = Verification.objects.get(review=review)
    assert v.ok, (v.missing, v.extra, v.altered, v.problems)
    assert v.source == "iso" and v.source_name == "disc-01.iso"


def test_uploaded_iso_with_an_altered_byte_is_named_on_the_page(
    transferred, client, people, tmp_path
):
    """C6.5.3 tamper test through the page: the altered recording is named in its row."""
    package, review = transferred
    disc = package.discs.get()
    copy = tmp_path / "tampered"
    shutil.copytree(disc.bag_dir, copy)
    target = sorted((copy / "data").glob("02_*"))[0]
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[3] ^= 0xFF
    target.write_bytes(bytes(data))
    iso = make_iso(copy, tmp_path / "tampered.iso")
    login(client, people["legal_reviewer"])
    with open(iso, "rb") as fh:
        body = client.post(
            reverse("transfer:review_upload", args=[review.pk]), {"iso": fh}, follow=True
        ).content.decode()
    assert "核验未通过" in body and 'data-ok="0"' in body
    assert f"data/{target.name}" in body
    v = Verification.objects.get(review=review)
    assert [a["path"] for a in v.altered] == [f"data/{target.name}"]


def test_not_an_iso_gets_a_clear_message(transferred, client, people, tmp_path):
    package, review = transferred
    junk = tmp_path / "junk.iso"
    junk.write_bytes(b"\0" * 70000)
    login(client, people["legal_reviewer"])
    with open(junk, "rb") as fh:
        r = client.post(reverse("transfer:review_upload", args=[review.pk]), {"iso": fh})
    assert r.status_code == 400
    html = r.content.decode()
    assert "无法读取光盘镜像" in html and "不是完整的 ISO 光盘镜像" in html
    # Not the reader's own English ("Failed to read entire volume descriptor").
    assert "Failed to read" not in html and "volume descriptor" not in html
    assert not Verification.objects.exists()


def test_return_with_reasons_reaches_the_handler(transferred, client, people):
    """C5.5: returned with a reason per row; the handler sees it on the package page."""
    package, review = transferred
    login(client, people["legal_reviewer"])
    r = client.post(
        reverse("transfer:review_mark", args=[review.pk]),
        {"verdict_1": "ok", "verdict_3": "problem", "reason_3": "询问笔录未完整录制"},
    )
    assert r.status_code == 302
    # a problem without a reason is refused and nothing of that post is kept
    client.post(reverse("transfer:review_mark", args=[review.pk]), {"verdict_4": "problem"})
    assert review.marks.count() == 2
    r = client.post(
        reverse("transfer:review_decide", args=[review.pk]),
        {"decision": "returned", "note": "请补正后重新移送"},
    )
    assert r.status_code == 302
    review.refresh_from_db()
    assert review.decision == Review.Decision.RETURNED
    login(client, people["case_handler"])
    body = client.get(reverse("transfer:case_packages", args=[package.case_id])).content.decode()
    assert "询问笔录未完整录制" in body and "请补正后重新移送" in body
    assert "locked-note" not in body


def test_api_build_transfer_and_queue(data, client, people, django_capture_on_commit_callbacks):
    from conftest import PASSWORD

    def bearer(person):
        r = client.post(
            "/api/v1/auth/token",
            {"username": person.username, "password": PASSWORD},
            content_type="application/json",
        )
        return {"HTTP_AUTHORIZATION": f"Bearer {r.json()['token']}"}

    case = data["case"]
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            f"/api/v1/cases/{case.pk}/packages",
            {"disc": "bd"},
            content_type="application/json",
            **bearer(people["case_handler"]),
        )
    assert r.status_code == 202, r.content
    pid = r.json()["id"]
    got = client.get(f"/api/v1/packages/{pid}", **bearer(people["case_handler"])).json()
    assert got["state"] == "ready" and got["discs"][0]["count"] == 1
    r = client.post(
        f"/api/v1/packages/{pid}/transfer",
        {"note": ""},
        content_type="application/json",
        **bearer(people["case_handler"]),
    )
    assert r.status_code == 201 and r.json()["manifest_sha256"] == got["manifest_sha256"]
    queue = client.get("/api/v1/reviews", **bearer(people["legal_reviewer"])).json()
    assert [q["case_number"] for q in queue] == [case.number]
    assert client.get("/api/v1/reviews", **bearer(people["case_handler"])).status_code == 403


def test_a_mounted_disc_is_checked_from_the_command_line(transferred, client, people, tmp_path):
    """A disc in a drive is checked where the drive is, by command, and recorded as
    the reviewer's check; the browser offers an upload of the image instead and
    never asks a person for a directory on the server (C5.5)."""
    from django.core.management import CommandError, call_command

    package, review = transferred
    mounted = tmp_path / "media" / "cdrom"
    shutil.copytree(package.discs.get().bag_dir, mounted)
    case = review.transfer.case.number
    with pytest.raises(CommandError, match="no active legal reviewer"):
        call_command("check_disc", case, str(mounted), "--reviewer", "officer")
    with pytest.raises(CommandError, match="no such directory"):
        call_command("check_disc", case, str(tmp_path / "nothing"), "--reviewer", "legal_reviewer")
    assert not Verification.objects.exists()
    (mounted / "data" / "备注.txt").write_text("多出来的文件", "utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="does not match"):
        call_command("check_disc", case, str(mounted), "--reviewer", "legal_reviewer", stdout=out)
    assert "extra: data/备注.txt" in out.getvalue()
    v = Verification.objects.get(review=review)
    assert v.source == "directory" and v.extra == ["data/备注.txt"]
    login(client, people["legal_reviewer"])
    page = client.get(reverse("transfer:review_detail", args=[review.pk])).content.decode()
    assert "jilu check-disc" in page and 'id="mounted-form"' not in page
    assert "光盘挂载目录" not in page.replace("jilu check-disc", "") or "命令" in page


def test_rows_not_on_the_checked_disc_are_not_shown_as_consistent(transferred, client, people):
    """A check of disc 1 of 2 says nothing about the rows burnt on disc 2."""
    from jilu.transfer import actions, verify

    package, review = transferred
    full = verify.check_originals(package)
    on_disc_1 = [f for f in full.files if f.list_no in (1, 2, 3)]
    part = verify.Report(source="iso", source_name="disc-01.iso", files=on_disc_1)
    part.checked_files = len(on_disc_1)
    actions.record_verification(
        actor=people["legal_reviewer"], package=package, report=part, review=review
    )
    login(client, people["legal_reviewer"])
    body = client.get(reverse("transfer:review_detail", args=[review.pk])).content.decode()
    assert body.count("不在这次核验的光盘上") == 2  # rows 4 and 5


def _row_html(body: str, recording_pk: int) -> str:
    import re

    for tr in re.findall(r'<tr data-no="\d+">.*?</tr>', body, re.S):
        if f'href="/recordings/{recording_pk}/"' in tr:
            return tr
    raise AssertionError(f"no row for recording {recording_pk}")


def test_review_rows_show_only_the_gaps_that_concern_them(transferred, client, people, data):
    """C4.3 / C2.1: activity 1 (09:00–10:00) is recorded 09:00–09:20; its gap
    09:20–10:00 is the activity's. The row of a recording 09:00–09:10 does not
    show it; the row of the recording ending at 09:20 does; the activity's
    coverage lists every gap once, labelled as the activity's, never 100 %."""
    package, review = transferred
    login(client, people["legal_reviewer"])
    body = client.get(reverse("transfer:review_detail", args=[review.pk])).content.decode()
    r1, r2 = data["recordings"][0], data["recordings"][1]
    first = _row_html(body, r1.pk)
    assert "09:20:00–10:00:00" not in first
    assert '<td class="row-gaps"><span class="muted">无</span></td>' in first
    assert "09:20:00–10:00:00" in _row_html(body, r2.pk)
    section = body[body.index('id="activity-coverage"') :]
    a1 = data["activities"][0]
    assert f'data-activity="{a1.pk}"' in section
    assert "活动未录制 09:20:00–10:00:00" in section
    assert "覆盖 33%" in section and "覆盖 100%" not in section


def test_packages_page_shows_and_serves_the_full_label_set(transferred, client, people):
    """C5.5: the package hash the hand-over is recorded by (package-manifest.txt's
    SHA-256) and that file's lines are on the packages page and downloadable
    with every disc's labels, as the builder's labels.txt."""
    from pathlib import Path

    package, review = transferred
    login(client, people["case_handler"])
    body = client.get(reverse("transfer:case_packages", args=[package.case_id])).content.decode()
    sheet_url = reverse("transfer:package_labels", args=[package.pk])
    assert f'href="{sheet_url}"' in body
    assert "整套标签" in body and 'class="label-sheet-text"' in body
    assert (
        f"光盘包哈希（package-manifest.txt 的 SHA-256，移送时登记）：{package.manifest_sha256}"
        in body
    )
    r = client.get(sheet_url)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")
    assert "attachment" in r["Content-Disposition"]
    text = r.content.decode()
    disc = package.discs.get()
    assert disc.label_text in text
    assert package.manifest_sha256 in text
    assert f"{disc.manifest_sha256}  disc-01/manifest-sha256.txt" in text
    # The same text the builder wrote next to the discs.
    assert text == (Path(package.out_dir) / "labels.txt").read_text(encoding="utf-8")
    assert package.manifest_sha256 == review.transfer.manifest_sha256
    # Outside the case's scope: not found.
    login(client, people["officer_other"])
    assert client.get(sheet_url).status_code == 404
