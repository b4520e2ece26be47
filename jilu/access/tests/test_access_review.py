"""Access requests (调用单, C6.3) after review: someone must be able to provide
an approved request, the printed form shows the leader's decision, who may act
is checked before anything else, and the pages speak English when asked (the
printed form stays Chinese)."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from jilu.access import actions, scope
from jilu.access.models import AccessRequest
from jilu.access.testing import grant_copy, provide
from jilu.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _names(people_list) -> list[str]:
    return [p.username for p in people_list]


def test_providers_are_active_covering_archivists_other_than_the_requester(
    people, recs, outsiders, make_person
):
    """C6.3: only an active archivist (by grant) covering every recording, never
    the requester, can provide the copies."""
    ids = [recs["a"].pk, recs["b"].pk]
    assert _names(scope.providers_for(ids, requester=people["officer"])) == ["archivist"]
    assert scope.providers_for(ids, requester=people["archivist"]) == []
    # Not covering both districts; then a city archivist who does.
    wide = [recs["a"].pk, recs["other"].pk]
    assert scope.providers_for(wide, requester=people["inspector"]) == []
    make_person("archivist_city", unit="city", roles=("archivist",))
    assert _names(scope.providers_for(wide, requester=people["inspector"])) == ["archivist_city"]
    # Inactive archivists and other roles do not count.
    sq1 = make_person("archivist_sq1", unit="squad1", roles=("archivist",))
    sq1.is_active = False
    sq1.save(update_fields=["is_active"])
    assert "archivist_sq1" not in _names(scope.providers_for(ids, requester=people["officer"]))
    assert "squad_leader" not in _names(scope.providers_for(ids, requester=people["officer"]))


def test_archivists_own_request_refused_when_nobody_else_could_provide_it(client, people, recs):
    """An archivist's own request that no other archivist covers would sit approved
    until it expired: it is refused at once, saying why and what to do."""
    with pytest.raises(ValidationError) as exc:
        actions.create_request(
            actor=people["archivist"], purpose="档案核对", recording_ids=[recs["a"].pk]
        )
    text = " ".join(exc.value.messages)
    assert "申请人本人不能提供" in text and "系统管理员" in text and "中华中队" in text
    client.force_login(people["archivist"])
    response = client.post(
        reverse("access:create"), {"purpose": "档案核对", "recording": [str(recs["a"].pk)]}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "无人能提供这张调用单的复制件" in html and "请联系系统管理员为 中华中队" in html
    assert not AccessRequest.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="access.").exists()


def test_request_nobody_covers_refused_at_creation(people, recs):
    with pytest.raises(ValidationError) as exc:
        actions.create_request(
            actor=people["inspector"],
            purpose="督察抽查",
            recording_ids=[recs["a"].pk, recs["other"].pk],
        )
    text = " ".join(exc.value.messages)
    assert "没有在岗的档案管理员管辖全部所调声像记录" in text
    assert "中华中队" in text and "湖里中队" in text and "分开申请" in text


def test_detail_names_the_providers_and_approval_checks_again(client, people, recs, make_person):
    other = make_person("archivist_sq1", unit="squad1", roles=("archivist",), name="中华档案")
    req = actions.create_request(
        actor=people["archivist"], purpose="档案核对", recording_ids=[recs["a"].pk]
    )
    client.force_login(people["archivist"])
    html = client.get(reverse("access:detail", args=[req.pk])).content.decode()
    providers = html.split('id="providers"', 1)[1].split("</p>", 1)[0]
    assert "由以下档案管理员提供：" in providers
    assert "中华档案（中华中队）" in providers
    assert f'data-person="{people["archivist"].pk}"' not in providers

    # The only other archivist leaves before the decision: approval is refused.
    other.is_active = False
    other.save(update_fields=["is_active"])
    html = client.get(reverse("access:detail", args=[req.pk])).content.decode()
    assert "目前没有档案管理员能提供这张调用单的复制件" in html
    with pytest.raises(ValidationError) as exc:
        actions.approve(actor=people["squad_leader"], request=req)
    assert "不能批准" in exc.value.messages[0] and "系统管理员" in exc.value.messages[0]
    client.force_login(people["squad_leader"])
    response = client.post(reverse("access:approve", args=[req.pk]), follow=True)
    assert "不能批准" in response.content.decode()
    req.refresh_from_db()
    assert req.status == "pending" and req.approver is None
    # Refusing stays possible.
    actions.refuse(actor=people["squad_leader"], request=req, note="暂无档案管理员")
    req.refresh_from_db()
    assert req.status == "refused"
    html = client.get(reverse("access:detail", args=[req.pk])).content.decode()
    assert 'id="providers"' not in html  # closed: nobody to name


def test_permission_is_checked_before_state_and_input(client, people, recs):
    """Someone who may not act gets 403 whatever the request's state or the input."""
    req = grant_copy(people["archivist"], [recs["a"]])
    refused = actions.create_request(
        actor=people["officer"], purpose="另案", recording_ids=[recs["b"].pk]
    )
    actions.refuse(actor=people["squad_leader"], request=refused, note="无关")
    pending = actions.create_request(
        actor=people["officer"], purpose="第三案", recording_ids=[recs["b"].pk]
    )
    for name in ("officer", "inspector", "archivist", "admin"):
        client.force_login(people[name])
        for target in (req, refused, pending):
            for url in ("access:approve", "access:refuse"):
                response = client.post(reverse(url, args=[target.pk]), {"note": ""})
                assert response.status_code == 403, (name, url, target.status)
    # Handing over: a non-archivist with a bad medium on a pending request is 403 too.
    for name in ("officer", "squad_leader", "inspector"):
        client.force_login(people[name])
        for target in (req, pending):
            response = client.post(reverse("access:fulfil", args=[target.pk]), {"medium": ""})
            assert response.status_code == 403, (name, target.status)
    with pytest.raises(PermissionDenied):
        actions.refuse(actor=people["officer"], request=pending, note="")
    with pytest.raises(PermissionDenied):
        actions.fulfil(actor=people["officer"], request=pending, recipient="", medium="bogus")
    # The leader who may act still gets the state and input messages.
    with pytest.raises(ValidationError, match="不能再审批"):
        actions.refuse(actor=people["squad_leader"], request=refused, note="")
    with pytest.raises(ValidationError, match="拒绝调用申请须写明理由"):
        actions.refuse(actor=people["squad_leader"], request=pending, note=" ")
    with pytest.raises(ValidationError, match="不能制作复制件"):
        actions.fulfil(actor=people["archivist"], request=pending, recipient="", medium="bogus")
    statuses = {r.pk: r.status for r in AccessRequest.objects.all()}
    assert statuses == {req.pk: "approved", refused.pk: "refused", pending.pk: "pending"}


def test_unknown_recording_id_on_the_form_is_reported(client, people, recs):
    client.force_login(people["officer"])
    url = reverse("access:create")
    html = client.get(url + f"?recording=9999&recording={recs['a'].pk}").content.decode()
    assert "声像记录 9999 不存在或您无权查看" in html
    assert f'value="{recs["a"].pk}"' in html
    html = client.get(url + f"?recording={recs['other'].pk}").content.decode()
    assert f"声像记录 {recs['other'].pk} 不存在或您无权查看" in html
    html = client.get(url + "?recording=abc").content.decode()
    assert "声像记录编号无效：abc" in html


def _approved_then_provided(client, people, recs):
    req = grant_copy(people["archivist"], [recs["a"]])
    provide(people["archivist"], req, medium="disc")
    req.refresh_from_db()
    return req


def _decision_cell(html: str) -> str:
    cell = html.split('id="decision">', 1)[1].split("</td>", 1)[0]
    return re.sub(r"<[^>]+>", "", cell)


def test_print_shows_the_leaders_decision_not_the_current_status(client, people, recs):
    req = _approved_then_provided(client, people, recs)
    client.force_login(people["officer"])
    cell = _decision_cell(client.get(reverse("access:print", args=[req.pk])).content.decode())
    valid = timezone.localtime(req.valid_until).strftime("%Y-%m-%d %H:%M")
    assert cell == f"批准：同意（有效期至 {valid}）"
    # Expired later: the printed decision is still the approval.
    other = grant_copy(people["archivist"], [recs["b"]])
    AccessRequest.objects.filter(pk=other.pk).update(
        valid_until=timezone.now() - timedelta(seconds=1)
    )
    cell = _decision_cell(client.get(reverse("access:print", args=[other.pk])).content.decode())
    assert cell.startswith("批准：同意（有效期至") and "已过期" not in cell
    refused = actions.create_request(
        actor=people["officer"], purpose="另案", recording_ids=[recs["b"].pk]
    )
    actions.refuse(actor=people["squad_leader"], request=refused, note="与本案无关")
    cell = _decision_cell(client.get(reverse("access:print", args=[refused.pk])).content.decode())
    assert cell == "拒绝：与本案无关"
    pending = actions.create_request(
        actor=people["officer"], purpose="第三案", recording_ids=[recs["b"].pk]
    )
    cell = _decision_cell(client.get(reverse("access:print", args=[pending.pk])).content.decode())
    assert cell == ""


def test_pages_in_english_and_the_printed_form_stays_chinese(client, people, recs, poppler):
    client.cookies["django_language"] = "en"
    client.force_login(people["officer"])
    response = client.post(
        reverse("access:create"), {"purpose": "", "recording": [str(recs["a"].pk)]}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please state the purpose" in html and "请写明调用事由" not in html
    html = client.get(reverse("access:create") + "?recording=9999").content.decode()
    assert "Recording 9999 does not exist or you may not see it" in html
    form = client.get(reverse("access:create")).content.decode()
    body = form.split("<main", 1)[1].split("</main>", 1)[0]
    assert not re.search(r"[\u4e00-\u9fff]", body), body
    req = _approved_then_provided(client, people, recs)
    client.force_login(people["officer"])
    detail = client.get(reverse("access:detail", args=[req.pk])).content.decode()
    assert ">Provided<" in detail and "Access form" in detail
    main = detail.split("<main", 1)[1].split("</main>", 1)[0]
    stripped = main.replace(req.purpose, "").replace(people["officer"].name, "")
    stripped = stripped.replace(people["officer"].unit.name, "")
    stripped = stripped.replace(people["squad_leader"].name, "").replace("同意", "")
    stripped = stripped.replace(recs["a"].officer.unit.name, "")
    assert not re.search(r"[\u4e00-\u9fff]", re.sub(r"<[^>]+>", "", stripped)), stripped
    client.force_login(people["squad_leader"])
    pending = actions.create_request(
        actor=people["officer"], purpose="另案", recording_ids=[recs["b"].pk]
    )
    response = client.post(reverse("access:refuse", args=[pending.pk]), {"note": ""}, follow=True)
    assert "A refusal needs a reason." in response.content.decode()

    # The printed 调用单 is the same Chinese form whatever the language.
    client.force_login(people["officer"])
    english = client.get(reverse("access:print", args=[req.pk])).content.decode()
    del client.cookies["django_language"]
    chinese = client.get(reverse("access:print", args=[req.pk])).content.decode()
    for text in ("声像资料调用单", "文件名（标准名/原始名）", "审批意见", "依据："):
        assert text in english, text
    assert _decision_cell(english).startswith("批准：同意（有效期至")
    assert "Access form" not in english and "Form number" not in english
    # The same but for the print time and each response's own CSP nonce.
    strip = re.compile(r"打印时间 [\d\- :]+|nonce=\"[^\"]+\"")
    assert strip.sub("", english) == strip.sub("", chinese)
    client.cookies["django_language"] = "en"
    pdf = client.get(reverse("access:pdf", args=[req.pk])).content
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    flat = re.sub(r"\s+", "", text)
    assert "声像资料调用单" in flat and "领取人签名" in flat and "Recipient" not in flat
