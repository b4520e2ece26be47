"""In a real browser: the officer notes a period they could not record, the squad
leader confirms it (C6.2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from jilu.dutylog.models import UnrecordedNote
from jilu.dutylog.views import local_input

pytestmark = pytest.mark.browser


def test_officer_writes_leader_confirms(page, transactional_db, people, tree):
    end = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(hours=2)
    sign_in(page, "officer")
    page.goto(f"{page.base_url}/dutylog/new/?start={local_input(start)}&end={local_input(end)}")
    expect(page.locator("input[name=start]")).to_have_value(local_input(start))
    page.select_option("select[name=reason]", "weather")
    page.fill("textarea[name=description]", "台风暴雨，未能开机记录")
    page.click("#submit")
    expect(page.locator("#state")).to_have_text("待确认")
    note = UnrecordedNote.objects.get()
    assert note.start == start and note.end == end

    page.context.clear_cookies()
    sign_in(page, "squad_leader")
    expect(page.locator("#dutylog-confirm")).to_have_attribute("data-count", "1")
    page.click("#dutylog-confirm a")
    page.click(f"tr[data-note='{note.pk}'] a")
    page.fill("textarea[name=note]", "已知悉")
    page.click("#confirm")
    expect(page.locator("#state")).to_have_text("已确认")
    expect(page.locator("#confirmed")).to_contain_text("何中队")
    note.refresh_from_db()
    assert note.state == "confirmed" and note.confirmed_by == people["squad_leader"]
