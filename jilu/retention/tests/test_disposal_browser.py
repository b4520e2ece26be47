"""A disposal end to end in a real browser (C5.6): the weekly list, an archivist's
review, a refused attempt by that same person to approve, a leader's approval,
the bytes gone and the tombstone on the recording page. Time is moved by
patching retention's clock, never by sleeping."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.casework.tests.conftest import T0

pytestmark = pytest.mark.browser

LATER = T0 + timedelta(days=400)


def test_two_people_dispose_and_one_alone_cannot(
    transactional_db, page, people, make_person, make_recording, settings, tmp_path
):
    from jilu.evidence.models import Tombstone
    from jilu.evidence.store import get_store
    from jilu.retention import actions, tasks
    from jilu.retention.models import Disposal

    make_person("both", unit="brigade", roles=("archivist", "brigade_leader"), name="双岗")
    old = make_recording(start=T0)
    kept = make_recording("officer_b", start=T0 + timedelta(hours=1))
    with mock.patch("jilu.retention.clock.now", return_value=LATER):
        actions.recompute([old.pk, kept.pk])
        tasks.propose_disposals.call()
    disposal = Disposal.objects.get()

    # The archivist who holds a leader's role too reviews, taking one item off ...
    sign_in(page, "both")
    page.wait_for_url(page.base_url + "/")
    page.goto(f"{page.base_url}/retention/")
    page.get_by_role("link", name=disposal.number).click()
    expect(page.locator("#disposal-state")).to_have_text("待档案管理员审核")
    row = page.locator(f'tr[data-item="{disposal.items.get(recording=kept).pk}"]')
    row.locator("input[type=checkbox]").check()
    row.locator("input[name^=why]").fill("当事人申请行政复议")
    page.click("#review")
    expect(page.locator("#disposal-state")).to_have_text("待领导批准")
    # ... and is not offered the approval, and is refused when trying anyway.
    expect(page.locator("#approve")).to_have_count(0)
    page.evaluate(
        """(url) => { const f = document.createElement('form'); f.method = 'post'; f.action = url;
        const t = document.createElement('input'); t.name = 'csrfmiddlewaretoken';
        t.value = document.querySelector('[name=csrfmiddlewaretoken]').value; f.appendChild(t);
        document.body.appendChild(f); f.submit(); }""",
        f"/retention/disposals/{disposal.pk}/approve/",
    )
    expect(page.locator(".messages")).to_contain_text("两个不同的人")
    assert not Tombstone.objects.exists()
    page.click("#sign-out")

    # A different leader approves; the background run carries it out a year on.
    sign_in(page, "brigade_leader")
    page.wait_for_url(page.base_url + "/")
    page.goto(f"{page.base_url}/retention/disposals/{disposal.pk}/")
    page.click("#approve")
    expect(page.locator(".messages")).to_contain_text("已批准")
    with mock.patch("jilu.retention.clock.now", return_value=LATER):
        tasks.execute_approved.call()
    page.reload()
    expect(page.locator("#disposal-state")).to_have_text("已销毁")
    store = get_store()
    assert not store.exists(old.sha256) and store.exists(kept.sha256)

    # The recording page says it was disposed of, and under which list.
    page.goto(f"{page.base_url}/recordings/{old.pk}/")
    expect(page.locator("#retention")).to_contain_text(disposal.number)
    page.goto(f"{page.base_url}/recordings/{kept.pk}/")
    expect(page.locator("#keep-until")).to_contain_text("保存至 2027-11-26")
