"""Access requests (调用单, C6.3): request → leader's approval → archivist's copy.

C6.3: anyone needing recordings must get the responsible leader's approval and
sign an access form; the archivist then provides a copy and records it; no
access without this. C6.5.7: viewing, copying or handing out recordings without
the procedure is prevented (copying) and on record (every refusal is audited).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from conftest import streamed
from jilu.access import actions, scope
from jilu.access.models import AccessCopy, AccessRequest
from jilu.access.testing import grant_copy
from jilu.access.tests.conftest import DATA
from jilu.audit.models import AuditEntry
from jilu.audit.verify import verify_chain

pytestmark = pytest.mark.django_db

REFUSAL = "复制原始文件须经负责领导审批调用单（C6.3）"


def _download(client, rec, req=None):
    url = reverse("evidence:recording_download", args=[rec.pk])
    return client.get(url + (f"?request={req.pk}" if req else ""))


def _audit(req) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="access.request", object_id=str(req.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def _refusals(rec) -> int:
    return AuditEntry.objects.filter(
        action="evidence.recording.refused",
        object_id=str(rec.pk),
        details__wanted="download",
    ).count()


def _create(client, people, recs, *names, purpose="行政处罚案件取证需要"):
    client.force_login(people["officer"])
    response = client.post(
        reverse("access:create"),
        {"purpose": purpose, "recording": [str(recs[n].pk) for n in names]},
    )
    assert response.status_code == 302, response.content.decode()
    return AccessRequest.objects.get(requester=people["officer"], purpose=purpose)


def test_full_flow_officer_leader_archivist_with_audit(
    client, people, recs, settings, django_capture_on_commit_callbacks
):
    """C6.3: request, approval by the responsible leader, copy and hand-over, all on record."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    req = _create(client, people, recs, "a", "b")
    assert re.fullmatch(r"DY\d{4}-\d{6}", req.number)
    assert req.status == "pending" and req.unit == people["officer"].unit
    assert set(req.recordings.all()) == {recs["a"], recs["b"]}

    client.force_login(people["squad_leader"])
    home = client.get("/").content.decode()
    assert 'id="access-approve" data-count="1"' in home
    listed = client.get(reverse("access:list") + "?tab=approve").content.decode()
    assert req.number in listed
    detail = client.get(reverse("access:detail", args=[req.pk])).content.decode()
    assert 'id="approve"' in detail and 'id="withdraw"' not in detail
    response = client.post(reverse("access:approve", args=[req.pk]), {"note": "同意调用"})
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == "approved" and req.approver == people["squad_leader"]
    assert req.valid_until - req.decided_at == timedelta(days=7)

    client.force_login(people["archivist"])
    home = client.get("/").content.decode()
    assert 'id="access-provide" data-count="1"' in home
    assert req.number in client.get(reverse("access:list") + "?tab=provide").content.decode()
    page = client.get(reverse("evidence:recording_detail", args=[recs["a"].pk])).content.decode()
    assert 'id="download"' in page and req.number in page
    # A single download from the recording page is still recorded against the request.
    response = _download(client, recs["a"], req)
    assert response.status_code == 200 and streamed(response) == DATA
    assert _download(client, recs["b"]).status_code == 200
    copies = list(AccessCopy.objects.filter(request=req).order_by("pk"))
    assert [(c.recording, c.made_by) for c in copies] == [
        (recs["a"], people["archivist"]),
        (recs["b"], people["archivist"]),
    ]
    # Without a recipient the package is refused and nothing changes.
    client.post(reverse("access:fulfil", args=[req.pk]), {"medium": "disc", "recipient": " "})
    req.refresh_from_db()
    assert req.status == "approved" and not req.packages.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("access:fulfil", args=[req.pk]),
            {"medium": "disc", "recipient": "王五", "recipient_note": "王五本人领取一份"},
        )
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == "provided" and req.provided_by == people["archivist"]
    assert req.medium == "disc" and req.recipient_note == "王五本人领取一份"
    assert req.recipient == "王五" and req.issued.count() == 2

    assert _audit(req) == [
        "access.request.create",
        "access.request.approve",
        "access.request.copy",
        "access.request.copy",
        "access.request.fulfil",
        "access.package.start",
        "access.package.ready",
        "access.request.provide",
    ]
    downloads = AuditEntry.objects.filter(action="evidence.recording.download")
    assert {e.object_id for e in downloads} == {str(recs["a"].pk), str(recs["b"].pk)}
    assert verify_chain().ok
    # Closed: no further copies under it (C6.3).
    assert _download(client, recs["a"]).status_code == 403


def test_download_refused_before_approval_after_refusal_and_for_others(client, people, recs):
    """C6.3 / C6.5.7: no copy without an approved request; each refusal is audited."""
    rec = recs["a"]
    req = _create(client, people, recs, "a")
    for name in ("archivist", "officer", "squad_leader", "inspector", "admin"):
        client.force_login(people[name])
        response = _download(client, rec)
        assert response.status_code == 403, name
        html = response.content.decode()
        assert REFUSAL in html
        assert f"{reverse('access:create')}?recording={rec.pk}" in html
    assert _refusals(rec) == 5

    actions.refuse(actor=people["squad_leader"], request=req, note="与本案无关")
    client.force_login(people["archivist"])
    assert _download(client, rec).status_code == 403

    approved = grant_copy(people["archivist"], [rec])
    # Approved: still nobody but a covering archivist (C6.3).
    for name in ("officer", "squad_leader", "brigade_leader", "inspector", "admin"):
        client.force_login(people[name])
        assert _download(client, rec).status_code == 403, name
    client.force_login(people["archivist"])
    assert _download(client, rec, approved).status_code == 200
    assert not AuditEntry.objects.filter(
        action="evidence.recording.download", actor=people["officer"]
    ).exists()


def test_download_refused_after_expiry(client, people, recs):
    req = grant_copy(people["archivist"], [recs["a"]])
    AccessRequest.objects.filter(pk=req.pk).update(
        valid_until=timezone.now() - timedelta(seconds=1)
    )
    client.force_login(people["archivist"])
    assert _download(client, recs["a"]).status_code == 403
    req.refresh_from_db()
    assert req.current_status == "expired"
    html = client.get(reverse("access:detail", args=[req.pk])).content.decode()
    assert 'data-status="expired"' in html and "已过期" in html
    with pytest.raises(ValidationError, match="已过期"):
        actions.fulfil(actor=people["archivist"], request=req, recipient="王五", medium="usb")
    assert scope.awaiting_copy(people["archivist"]).count() == 0


def test_download_refused_for_archivists_not_covering_or_requesting(
    client, people, recs, outsiders, make_person
):
    """An archivist outside the recordings' units, or who asked for the copy, makes none."""
    req = grant_copy(people["archivist"], [recs["a"]])
    client.force_login(outsiders["archivist_other"])
    assert _download(client, recs["a"]).status_code == 404  # not even visible
    assert not scope.may_provide(outsiders["archivist_other"], req)
    make_person("archivist_sq1", unit="squad1", roles=("archivist",), name="中华档案")
    own = actions.create_request(
        actor=people["archivist"], purpose="档案核对", recording_ids=[recs["b"].pk]
    )
    actions.approve(actor=people["brigade_leader"], request=own)
    client.force_login(people["archivist"])
    assert _download(client, recs["b"]).status_code == 403
    with pytest.raises(PermissionDenied):
        actions.record_copy(actor=people["archivist"], request=own, recording=recs["b"])


def test_approver_is_a_covering_leader_never_the_requester(
    client, people, recs, outsiders, make_person
):
    """C6.3: the responsible leader approves: not the requester, not one outside the scope."""
    mine = actions.create_request(
        actor=people["squad_leader"], purpose="复核", recording_ids=[recs["a"].pk]
    )
    client.force_login(people["squad_leader"])
    assert (
        'id="approve"' not in client.get(reverse("access:detail", args=[mine.pk])).content.decode()
    )
    assert client.post(reverse("access:approve", args=[mine.pk])).status_code == 403
    for leader in (outsiders["leader_sq2"], outsiders["leader_other"]):
        with pytest.raises(PermissionDenied):
            actions.approve(actor=leader, request=mine)
        client.force_login(leader)
        assert client.post(reverse("access:approve", args=[mine.pk])).status_code in (403, 404)
    for name in ("inspector", "admin", "archivist"):
        client.force_login(people[name])
        assert client.get(reverse("access:detail", args=[mine.pk])).status_code == 200
        assert client.post(reverse("access:approve", args=[mine.pk])).status_code == 403, name
    mine.refresh_from_db()
    assert mine.status == "pending" and mine.approver is None
    assert scope.awaiting_approval(people["squad_leader"]).count() == 0
    assert list(scope.awaiting_approval(people["brigade_leader"])) == [mine]
    # A request spanning two districts needs a leader covering both.
    make_person("archivist_city", unit="city", roles=("archivist",), name="市档案")
    wide = actions.create_request(
        actor=people["inspector"],
        purpose="督察抽查",
        recording_ids=[recs["a"].pk, recs["other"].pk],
    )
    assert not scope.may_approve(people["brigade_leader"], wide)
    assert not scope.may_approve(outsiders["leader_other"], wide)


def test_items_outside_the_requesters_scope_are_rejected(client, people, recs):
    client.force_login(people["officer"])
    for ids in ([recs["other"].pk], [recs["a"].pk, recs["other"].pk], [999999]):
        response = client.post(
            reverse("access:create"), {"purpose": "需要", "recording": [str(i) for i in ids]}
        )
        assert response.status_code == 400
        assert "不存在或您无权查看" in response.content.decode()
    client.force_login(people["officer_b"])  # a colleague sees only their own recordings
    response = client.post(
        reverse("access:create"), {"purpose": "需要", "recording": [str(recs["a"].pk)]}
    )
    assert response.status_code == 400
    assert not AccessRequest.objects.exists()


def test_bad_input_gives_clear_errors_and_changes_nothing(client, people, recs):
    client.force_login(people["officer"])
    url = reverse("access:create")
    cases = [
        ({"purpose": "", "recording": [str(recs["a"].pk)]}, "请写明调用事由"),
        ({"purpose": "   ", "recording": [str(recs["a"].pk)]}, "请写明调用事由"),
        ({"purpose": "取证"}, "请至少选择一条声像记录"),
        ({"purpose": "取证", "recording": ["abc"]}, "声像记录编号无效：abc"),
        ({"purpose": "取证", "recording": [str(recs["a"].pk)], "case": "NO-SUCH"}, "没有案件编号"),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    assert not AccessRequest.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="access.").exists()

    req = _create(client, people, recs, "a")
    client.force_login(people["squad_leader"])
    response = client.post(reverse("access:refuse", args=[req.pk]), {"note": "  "}, follow=True)
    assert "拒绝调用申请须写明理由" in response.content.decode()
    req.refresh_from_db()
    assert req.status == "pending"
    assert client.get(reverse("access:detail", args=[99999])).status_code == 404
    assert client.get(reverse("access:approve", args=[req.pk])).status_code == 405
    client.post(reverse("access:refuse", args=[req.pk]), {"note": "理由不充分"})
    req.refresh_from_db()
    assert req.status == "refused" and req.decision_note == "理由不充分"
    # Decided once: a second decision is refused and changes nothing.
    client.post(reverse("access:approve", args=[req.pk]))
    req.refresh_from_db()
    assert req.status == "refused"
    assert _audit(req) == ["access.request.create", "access.request.refuse"]


def test_withdraw_only_by_the_requester_while_pending(client, people, recs):
    req = _create(client, people, recs, "a")
    client.force_login(people["officer_b"])
    assert client.post(reverse("access:withdraw", args=[req.pk])).status_code == 404
    client.force_login(people["squad_leader"])
    assert client.post(reverse("access:withdraw", args=[req.pk])).status_code == 403
    client.force_login(people["officer"])
    assert client.post(reverse("access:withdraw", args=[req.pk])).status_code == 302
    req.refresh_from_db()
    assert req.status == "withdrawn" and req.withdrawn_at
    with pytest.raises(ValidationError):
        actions.approve(actor=people["squad_leader"], request=req)
    approved = grant_copy(people["archivist"], [recs["b"]])
    with pytest.raises(ValidationError):
        actions.withdraw(actor=people["officer"], request=approved)


def test_case_link_lists_the_case_recordings(client, people, recs):
    """From a case: ``?case=<案件编号>`` lists the case's recordings the person can see."""
    from jilu.casework.models import Annotation

    case = _annotated_case(people, recs["a"])
    client.force_login(people["officer"])
    html = client.get(reverse("access:create") + f"?case={case.number}").content.decode()
    assert f'value="{recs["a"].pk}"' in html and f'value="{recs["b"].pk}"' not in html
    response = client.post(
        reverse("access:create"),
        {"purpose": "案件复核", "case": case.number, "recording": [str(recs["a"].pk)]},
    )
    assert response.status_code == 302
    assert AccessRequest.objects.get().case == case
    assert Annotation.objects.filter(case=case).count() == 1


def _annotated_case(people, rec):
    from jilu.casework.models import Activity, Annotation, Case

    unit = people["officer"].unit
    case = Case.objects.create(
        number="思城管罚〔2026〕1号", category="penalty", unit=unit, retention="10y"
    )
    activity = Activity.objects.create(
        kind="S1", category="penalty", unit=unit, case=case, actual_start=rec.started_at
    )
    activity.officers.add(people["officer"])
    Annotation.objects.create(
        recording=rec,
        activity=activity,
        case=case,
        step="evidence",
        standard_name="标准名.MP4",
        annotated_at=timezone.now(),
    )
    return case


def test_recording_page_offers_request_or_download(client, people, recs):
    client.force_login(people["officer"])
    url = reverse("evidence:recording_detail", args=[recs["a"].pk])
    html = client.get(url).content.decode()
    assert "申请调用（复制）" in html and 'id="download"' not in html
    req = grant_copy(people["archivist"], [recs["a"]])
    html = client.get(url).content.decode()
    assert 'id="download"' not in html
    assert req.number in html.split('id="access-requests"', 1)[1]
    client.force_login(people["archivist"])
    html = client.get(url).content.decode()
    assert f"?request={req.pk}" in html and "申请调用（复制）" not in html
    # Playing is unchanged for everyone in scope.
    client.force_login(people["officer"])
    play = reverse("evidence:recording_play", args=[recs["a"].pk])
    assert client.get(play, HTTP_RANGE="bytes=0-").status_code == 206


def test_list_tabs_and_who_reads_what(client, people, recs, outsiders):
    """C6.4: inspectors and administrators read every request; others their scope."""
    req = _create(client, people, recs, "a")
    for name, tabs in {
        "officer": ["mine"],
        "squad_leader": ["mine", "approve", "all"],
        "archivist": ["mine", "provide", "all"],
        "inspector": ["mine", "all"],
    }.items():
        client.force_login(people[name])
        html = client.get(reverse("access:list") + "?tab=all").content.decode()
        assert re.findall(r'data-tab="(\w+)"', html) == tabs, name
        assert req.number in html, name
    client.force_login(people["officer_b"])
    assert req.number not in client.get(reverse("access:list") + "?tab=all").content.decode()
    assert client.get(reverse("access:detail", args=[req.pk])).status_code == 404
    client.force_login(outsiders["leader_other"])
    assert client.get(reverse("access:detail", args=[req.pk])).status_code == 404


def test_api_download_needs_an_approved_request(client, people, recs):
    """C6.3 in the API: ``content?download=true`` only for the covering archivist."""
    tokens = {}
    for name in ("officer", "archivist"):
        response = client.post(
            "/api/v1/auth/token",
            {"username": name, "password": "correct-horse-battery"},
            content_type="application/json",
        )
        tokens[name] = {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}
    url = f"/api/v1/recordings/{recs['a'].pk}/content"
    client.logout()
    for name in ("officer", "archivist"):
        response = client.get(url + "?download=true", **tokens[name])
        assert response.status_code == 403, name
        assert REFUSAL in response.json()["detail"]
    assert (
        AuditEntry.objects.filter(
            action="evidence.recording.refused", details__via="api", details__wanted="download"
        ).count()
        == 2
    )
    # Playing (by ranges, as a player reads) is unchanged.
    assert client.get(url, HTTP_RANGE="bytes=0-", **tokens["officer"]).status_code == 206
    req = grant_copy(people["archivist"], [recs["a"]])
    response = client.get(url + "?download=true", **tokens["archivist"])
    assert response.status_code == 200 and streamed(response) == DATA
    assert AccessCopy.objects.get(request=req).via == "api"
    assert client.get(url + "?download=true", **tokens["officer"]).status_code == 403


def test_print_page_and_pdf_carry_the_hashes(client, people, recs, poppler):
    import subprocess

    req = grant_copy(people["archivist"], [recs["a"], recs["b"]])
    client.force_login(people["officer"])
    html = client.get(reverse("access:print", args=[req.pk])).content.decode()
    for text in (req.number, recs["a"].sha256, recs["b"].sha256, "A000001", "同意"):
        assert text in html
    for line in ("申请人签名", "审批领导签名", "档案管理员签名", "领取人签名"):
        assert line in html
    response = client.get(reverse("access:pdf", args=[req.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    flat = re.sub(r"\s+", "", text)
    assert recs["a"].sha256 in flat and recs["b"].sha256 in flat
    assert req.number in flat and "领取人签名" in flat
