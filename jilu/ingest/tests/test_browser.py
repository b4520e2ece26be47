"""The workstation page in a real browser: a docking in progress, then finished (C5.1, C1.2)."""

from __future__ import annotations

import os

import pytest
import requests

from conftest import sign_in
from jilu.ingest.tests.conftest import hours_ago, mp4, name_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE = "DCIM/20261126/A000123_900001_20261126090000_0001.MP4"


def test_workstation_page_follows_a_docking_live(
    page, live_server, token, recorder, people, tmp_path
):
    api = f"{live_server.url}/api/v1"
    auth = {"Authorization": f"Bearer {token}"}
    opened = requests.post(
        f"{api}/station/dockings",
        json={
            "serial": "A000123",
            "user_no": "900001",
            "clock_offset_seconds": 1.5,
            "battery_pct": 64,
            "files_found": 2,
        },
        headers=auth,
        timeout=10,
    )
    assert opened.status_code == 201
    docking_id = opened.json()["id"]
    requests.post(
        f"{api}/station/dockings/{docking_id}/progress",
        json={
            "files": [
                {"name": FILE, "size": 4000, "done": 1000, "state": "uploading"},
                {
                    "name": "DCIM/20261126/A000123_900001_20261126091000_0002.MP4",
                    "size": 2000,
                    "done": 0,
                    "state": "spooled",
                },
            ]
        },
        headers=auth,
        timeout=10,
    ).raise_for_status()

    sign_in(page, "squad_leader")
    page.goto(page.base_url + "/ingest/")
    article = page.locator(f"#in-progress [data-docking='{docking_id}']")
    article.wait_for()
    assert "A000123" in article.inner_text()
    assert "王五" in article.inner_text()
    row = article.locator(f"tr[data-file='{FILE}']")
    assert "上传中" in row.inner_text()
    assert "16%" in article.inner_text() or "1000" in row.inner_text() or "KB" in row.inner_text()

    # The station verifies the file: the page follows without a reload.
    requests.post(
        f"{api}/station/dockings/{docking_id}/progress",
        json={"files": [{"name": FILE, "size": 4000, "done": 4000, "state": "verified"}]},
        headers=auth,
        timeout=10,
    ).raise_for_status()
    page.locator(f"#in-progress tr[data-file='{FILE}']", has_text="已核验").wait_for()
    if os.environ.get("JILU_SCREENSHOTS"):
        page.screenshot(path=str(tmp_path / "in-progress.png"), full_page=True)

    # The station really uploads one file through tus, then finishes the session.
    from django.test import Client

    from jilu.ingest.tests.conftest import Tus

    class _Docking:
        pk = docking_id

    Tus(Client(), token).upload(mp4(80), name_for(hours_ago(2)), docking=_Docking)
    requests.post(
        f"{api}/station/dockings/{docking_id}/finish",
        json={
            "files_found": 2,
            "files_verified": 1,
            "files_already_present": 0,
            "files_flagged": 0,
            "files_failed": 1,
        },
        headers=auth,
        timeout=10,
    ).raise_for_status()
    finished = page.locator(f"#recent tr[data-docking='{docking_id}']")
    finished.wait_for()
    assert "已完成" in finished.inner_text()
    assert page.locator(f"#in-progress [data-docking='{docking_id}']").count() == 0
    assert page.locator("#none-in-progress").is_visible()

    # The session's page lists the recording with its corrected time and the checks.
    finished.locator("a").click()
    page.wait_for_url(f"**/ingest/dockings/{docking_id}/")
    body = page.locator("main").inner_text()
    assert "64%" in body and "1.500" in body
    assert "A000123_900001_" in page.locator("#recordings").inner_text()
    if os.environ.get("JILU_SCREENSHOTS"):
        page.screenshot(path=str(tmp_path / "detail.png"), full_page=True)
        print("screenshots in", tmp_path)


def test_quarantine_resolution_in_the_browser(page, live_server, tus, station, people, tree):
    """An administrator registers an unknown recorder from the quarantine page."""
    from jilu.evidence.models import Recording
    from jilu.ingest.tests.conftest import open_docking

    docking = open_docking(station, serial="Z999999")
    tus.upload(
        mp4(81),
        name_for(hours_ago(3), serial="Z999999", user_no=people["officer_b"].user_no),
        docking=docking,
    )
    sign_in(page, "admin")
    page.goto(page.base_url + "/ingest/quarantine/")
    page.locator("table.list a", has_text="Z999999").click()
    page.locator("#register").wait_for()
    page.select_option("#id_reg-unit", str(tree["squad1"].pk))
    page.fill("#id_reg-holder_user_no", people["officer_b"].user_no)
    page.fill("#id_reg-note", "补登记")
    page.locator("#register button[type=submit]").click()
    page.locator(".messages", has_text="已登记记录仪").wait_for()
    rec = Recording.objects.get()
    assert rec.recorder.serial == "Z999999" and rec.officer == people["officer_b"]
