"""Traceable copies (C6.3, C6.5.2, C6.5.7): fulfilling an approved 调用单 is one
step that yields one package (a zip of a BagIt bag: originals under their
standard names with SHA-256 and SM3 manifests; for a viewing request a
watermarked viewing copy of each video), every file of it in the copy
register, each copy later returned or destroyed."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import av
import bagit
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from conftest import streamed
from jilu.access import actions, register
from jilu.access.models import AccessRequest, CopyPackage, IssuedCopy
from jilu.access.testing import provide
from jilu.access.tests.conftest import DATA
from jilu.access.tests.copies_data import (
    annotate,
    approved,
    extract,
    not_media,
    video_recording,
)
from jilu.access.watermark import read_copy_id
from jilu.audit.models import AuditEntry
from jilu.casework.tests.conftest import make_activity, party  # noqa: F401
from jilu.evidence.store import get_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(people, tree, tmp_path, recs):
    recorder = recs["a"].recorder
    return video_recording(people, recorder, tmp_path)


def _sm3_ok(root: Path) -> None:
    """bagit validates SHA-256 only: the SM3 manifest is checked here (GB/T 32905)."""
    for line in (root / "manifest-sm3.txt").read_text("utf-8").splitlines():
        digest, rel = line.split("  ", 1)
        assert hashlib.new("sm3", (root / rel).read_bytes()).hexdigest() == digest, rel


def test_c6_3_one_step_package_validates_with_bagit_and_sha256sum(
    people,
    recs,
    video,
    make_activity,  # noqa: F811
    tmp_path,
):
    standard = annotate(people, video, make_activity)
    not_media(recs["a"])  # no picture: the original only, no viewing copy
    req = approved(people, [video, recs["a"]], use="viewing")
    package = provide(people["archivist"], req, recipient="王五", medium="usb")
    assert package.state == CopyPackage.State.READY, package.error
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.PROVIDED
    assert req.provided_by == people["archivist"] and req.recipient == "王五"

    zip_path = Path(package.zip_path)
    assert zip_path.name == f"{req.number}.zip"
    assert hashlib.sha256(zip_path.read_bytes()).hexdigest() == package.zip_sha256
    root = extract(zip_path, tmp_path / "unzipped")
    assert root.name == req.number
    bag = bagit.Bag(str(root))
    bag.validate()  # SHA-256 payload + tag manifests, Payload-Oxum (RFC 8493)
    assert bag.info["Jilu-Request"] == req.number and bag.info["Jilu-Recipient"] == "王五"
    check = subprocess.run(
        ["sha256sum", "-c", "--strict", "manifest-sha256.txt"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 3
    _sm3_ok(root)

    # Originals byte for byte under their standard names (C5.3), else the original name.
    originals = root / "data" / "原始文件"
    assert (originals / standard).read_bytes() == b"".join(get_store().open_range(video.sha256))
    assert (originals / "A000001_900001_20261120090000_0001.MP4").read_bytes() == DATA
    viewing = sorted((root / "data" / "查看副本").iterdir())
    assert [p.name for p in viewing] == [standard.rsplit(".", 1)[0] + "_查看副本.mp4"]

    # The register: one row per file, with what was handed out, its hashes, to whom.
    rows = {(c.kind, c.recording_id): c for c in IssuedCopy.objects.filter(request=req)}
    assert set(rows) == {("original", video.pk), ("original", recs["a"].pk), ("viewing", video.pk)}
    viewing_copy = rows[("viewing", video.pk)]
    assert viewing_copy.sha256 == hashlib.sha256(viewing[0].read_bytes()).hexdigest()
    assert rows[("original", video.pk)].sha256 == video.sha256
    assert all(c.recipient == "王五" and c.issued_by == people["archivist"] for c in rows.values())
    # The viewing copy carries its own ID in its metadata, naming the request.
    assert read_copy_id(viewing[0]) == viewing_copy.copy_id
    listed = json.loads((root / "jilu-copies.json").read_text("utf-8"))
    assert {f["copy_id"] for f in listed["files"]} == {c.copy_id for c in rows.values()}
    assert [f["recording_id"] for f in listed["without_viewing_copy"]] == [recs["a"].pk]


@pytest.fixture
def provided(people, recs, video):
    not_media(recs["b"])
    req = approved(people, [video, recs["b"]], use="viewing")
    package = provide(people["archivist"], req, recipient="赵六（市民代表）", medium="network")
    assert package.state == CopyPackage.State.READY, package.error
    return req, package


def test_c6_3_only_a_covering_archivist_not_the_requester_fulfils(
    people, recs, video, outsiders, make_person
):
    req = approved(people, [video], use="viewing")
    for name in ("officer", "squad_leader", "brigade_leader", "inspector", "admin"):
        with pytest.raises(PermissionDenied):
            actions.fulfil(actor=people[name], request=req, recipient="王五", medium="disc")
    with pytest.raises(PermissionDenied):
        actions.fulfil(
            actor=outsiders["archivist_other"], request=req, recipient="王五", medium="disc"
        )
    # An archivist who asked for the copies cannot make them for themself (C6.3).
    make_person("archivist_city", unit="city", roles=("archivist",))
    own = actions.create_request(
        actor=people["archivist"], purpose="本人调阅", recording_ids=[video.pk]
    )
    own = actions.approve(actor=people["squad_leader"], request=own)
    with pytest.raises(PermissionDenied):
        actions.fulfil(actor=people["archivist"], request=own, recipient="本人", medium="disc")
    assert not CopyPackage.objects.exists()


def test_c6_3_unapproved_refused_or_expired_requests_make_no_package(people, recs, video):
    from datetime import timedelta

    from django.utils import timezone

    pending = actions.create_request(
        actor=people["officer"], purpose="待审批", recording_ids=[video.pk]
    )
    with pytest.raises(ValidationError, match="待审批"):
        actions.fulfil(actor=people["archivist"], request=pending, recipient="王五", medium="disc")
    expired = approved(people, [recs["a"]], use="evidence")
    AccessRequest.objects.filter(pk=expired.pk).update(
        valid_until=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(ValidationError, match="已过期"):
        actions.fulfil(actor=people["archivist"], request=expired, recipient="王五", medium="disc")
    good = approved(people, [recs["b"]], use="evidence")
    with pytest.raises(ValidationError) as bad:
        actions.fulfil(actor=people["archivist"], request=good, recipient=" ", medium="tape")
    assert "请填写领取人" in str(bad.value) and "请选择提供复制件的介质" in str(bad.value)
    assert not CopyPackage.objects.exists()
    # Once provided it cannot be fulfilled again.
    assert provide(people["archivist"], good).state == CopyPackage.State.READY
    with pytest.raises(ValidationError, match="已提供"):
        actions.fulfil(actor=people["archivist"], request=good, recipient="王五", medium="disc")


def test_a_failed_build_leaves_nothing_and_the_request_open(people, recs, video, tmp_path):
    """A stored copy that no longer matches its ingest hash stops the build."""
    req = approved(people, [recs["a"]], use="evidence")
    path = get_store().path(recs["a"].sha256)
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    package = provide(people["archivist"], req)
    assert package.state == CopyPackage.State.FAILED and "哈希不一致" in package.error
    req.refresh_from_db()
    assert req.status == AccessRequest.Status.APPROVED and not req.issued.exists()
    assert not any(Path(package.out_dir).parent.rglob("*.zip"))


def test_package_download_only_by_the_archivist_and_audited(client, people, provided):
    req, package = provided
    url = reverse("access:package_download", args=[package.pk])
    for name in ("officer", "squad_leader", "inspector"):
        client.force_login(people[name])
        assert client.get(url).status_code in (403, 404), name
    client.force_login(people["archivist"])
    response = client.get(url)
    assert response.status_code == 200
    body = streamed(response)
    assert hashlib.sha256(body).hexdigest() == package.zip_sha256
    assert AuditEntry.objects.filter(
        action="access.package.download", actor=people["archivist"], object_id=str(req.pk)
    ).exists()
    page = client.get(reverse("access:detail", args=[req.pk])).content.decode()
    assert package.zip_sha256 in page and "package-download" in page


def test_copies_are_marked_returned_or_destroyed(client, people, provided):
    req, _package = provided
    viewing = req.issued.get(kind="viewing")
    original = req.issued.filter(kind="original").first()
    with pytest.raises(PermissionDenied):
        register.mark_returned(actor=people["officer"], copy=viewing)
    with pytest.raises(ValidationError, match="须写明销毁方式"):
        register.mark_destroyed(actor=people["archivist"], copy=viewing, note="")
    client.force_login(people["archivist"])
    client.post(reverse("access:copy_returned", args=[original.pk]), {"note": "U盘已交回"})
    client.post(
        reverse("access:copy_destroyed", args=[viewing.pk]), {"note": "碎纸机粉碎光盘，何中队见证"}
    )
    original.refresh_from_db()
    viewing.refresh_from_db()
    assert original.state == "returned" and original.closed_by == people["archivist"]
    assert viewing.state == "destroyed" and "何中队" in viewing.close_note
    with pytest.raises(ValidationError, match="已是"):
        register.mark_returned(actor=people["archivist"], copy=viewing)
    actions_logged = set(
        AuditEntry.objects.filter(object_id=str(req.pk)).values_list("action", flat=True)
    )
    assert {"access.copy.return", "access.copy.destroy"} <= actions_logged


def test_c6_5_2_identify_by_file_hash_or_id_names_request_and_recipient(
    client, people, provided, tmp_path
):
    req, package = provided
    viewing = req.issued.get(kind="viewing")
    root = extract(Path(package.zip_path), tmp_path / "x")
    leaked = next((root / "data" / "查看副本").iterdir())
    url = reverse("access:identify")
    for name in ("officer", "archivist", "squad_leader", "brigade_leader"):
        client.force_login(people[name])
        assert client.get(url).status_code == 403, name
        with leaked.open("rb") as fh:
            assert client.post(url, {"file": fh}).status_code == 403, name
    for name in ("inspector", "admin"):
        client.force_login(people[name])
        with leaked.open("rb") as fh:
            html = client.post(url, {"file": fh}).content.decode()
        assert 'data-found="1"' in html and viewing.copy_id in html, name
        assert f"这是调用单 {req.number} 提供给 赵六（市民代表） 的复制件" in html
    # Its ID alone (read off the picture), or its hash, names the same copy.
    html = client.post(url, {"copy_id": viewing.copy_id.lower()}).content.decode()
    assert f"这是调用单 {req.number}" in html
    html = client.post(url, {"hash": viewing.sha256.upper()}).content.decode()
    assert f"这是调用单 {req.number}" in html
    # Re-muxed without its metadata, the file has other bytes and no ID: only the ID
    # drawn in its picture remains, and the page says the file is not registered.
    stripped = tmp_path / "stripped.mp4"
    with av.open(str(leaked)) as src, av.open(str(stripped), "w", format="mp4") as out:
        stream = out.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    with stripped.open("rb") as fh:
        html = client.post(url, {"file": fh}).content.decode()
    assert 'data-found="0"' in html and "不是按调用单提供的复制件" in html
    audit = AuditEntry.objects.filter(action="access.copy.identify").order_by("seq")
    assert audit.count() == 5 and audit.last().details["found"] == []


def test_identify_bad_inputs(client, people, provided, recs, settings, tmp_path):
    url = reverse("access:identify")
    client.force_login(people["inspector"])
    response = client.post(url, {})
    assert response.status_code == 400 and "请上传要识别的文件" in response.content.decode()
    response = client.post(url, {"copy_id": "JC-1234"})
    assert response.status_code == 400 and "JC-XXXX-XXXX-XXXX" in response.content.decode()
    response = client.post(url, {"hash": "xyz"})
    assert response.status_code == 400 and "64 位十六进制" in response.content.decode()
    # A file that is not a copy at all.
    other = tmp_path / "holiday.mp4"
    other.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"x" * 5000)
    with other.open("rb") as fh:
        html = client.post(url, {"file": fh}).content.decode()
    assert 'data-found="0"' in html
    # An original never handed out through a package: named as the recording's original.
    with (tmp_path / "orig").open("wb") as fh:
        fh.write(b"".join(get_store().open_range(recs["a"].sha256)))
    with (tmp_path / "orig").open("rb") as fh:
        html = client.post(url, {"file": fh}).content.decode()
    assert 'data-found="0"' in html and 'id="originals"' in html
    # Too large: refused before it is read, with what to do instead.
    settings.ACCESS_IDENTIFY_MAX_BYTES = 1000
    with other.open("rb") as fh:
        response = client.post(url, {"file": fh})
    assert response.status_code == 413 and "sha256sum" in response.content.decode()


def test_the_task_page_names_the_build_in_words():
    from jilu.evidence.task_labels import label_of

    assert label_of("jilu.access.tasks.build_copy_package_job", [7], {}) == (
        "制作调用单复制件包",
        "复制件包 #7",
    )
