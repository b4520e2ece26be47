"""The ledger page names an activity's kind in the reader's language; the
stored ledger (and the printed one) keeps the Chinese words."""

from __future__ import annotations

import re

from django.test import Client

from conftest import PASSWORD

PAGE = "/oversight/ledgers/"


def test_activity_kinds_in_the_readers_language(november, tree, people):
    c = Client()
    assert c.login(username="squad_leader", password=PASSWORD)
    c.cookies["django_language"] = "en"
    html = c.get(PAGE, {"unit": tree["squad1"].pk, "month": "2026-11"}).content.decode()
    cells = re.findall(r'<td class="activities">(.*?)</td>', html, re.S)
    shown = " ".join(cells)
    assert "Patrol and inspection, site survey, evidence gathering 某某餐厅" in shown
    assert "巡查检查" not in shown
    c.cookies["django_language"] = "zh-hans"
    html = c.get(PAGE, {"unit": tree["squad1"].pk, "month": "2026-11"}).content.decode()
    assert "巡查检查、现场勘验、取证 某某餐厅" in " ".join(
        re.findall(r'<td class="activities">(.*?)</td>', html, re.S)
    )
