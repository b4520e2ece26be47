"""A person's and a recorder's page lead to their timeline of today, so a leader
can open a day that has no recordings at all (C2.1, C4.3)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _follow(client: Client, page_url: str, link_id: str) -> str:
    html = client.get(page_url).content.decode()
    match = re.search(rf'id="{link_id}" href="([^"]+)"', html)
    assert match, f"no {link_id} on {page_url}"
    response = client.get(match.group(1))
    assert response.status_code == 200
    return response.content.decode()


def test_person_and_recorder_pages_link_to_todays_timeline(people, tree):
    from jilu.evidence.tests.recordings import recorder_for

    recorder_for(people["officer"], tree["squad1"], "A000777")
    today = timezone.localtime(timezone.now()).date().isoformat()
    c = Client()
    c.force_login(people["squad_leader"])
    person_url = reverse("org:person_detail", args=[people["officer"].pk])
    html = _follow(c, person_url, "person-timeline")
    assert people["officer"].name in html and today in html
    assert "当天没有录像" in html  # an empty day is shown, not refused
    recorder_url = reverse("devices:recorder_detail", args=["A000777"])
    html = _follow(c, recorder_url, "recorder-timeline")
    assert "A000777" in html and today in html


def test_officer_home_links_to_their_own_day(people):
    c = Client()
    c.force_login(people["officer"])
    html = _follow(c, "/", "my-day")
    assert people["officer"].name in html and "当天没有录像" in html
