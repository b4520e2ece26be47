"""Pages people read: times in Beijing time, actions and actors in words, bad
URLs and bad filters answered plainly, long names that fit a phone (C6.5.7)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.urls import reverse

from jilu.audit import labels
from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import make_recording, recorder_for

NINE = datetime(2026, 11, 20, 1, 10, tzinfo=UTC)  # 09:10 in Shanghai


@pytest.fixture
def rec(settings, tmp_path, people, tree):
    use_store(settings, tmp_path, "file")
    recorder = recorder_for(people["officer"], tree["squad1"], "A000001")
    return make_recording(
        officer=people["officer"],
        recorder=recorder,
        start=NINE,
        integrity="complete",
        name="A000001_900001_20261120091000_0001.MP4",
    )


@pytest.mark.django_db
def test_custody_shows_the_file_name_time_in_beijing_time(client, people, rec):
    client.force_login(people["officer"])
    html = client.get(reverse("evidence:recording_detail", args=[rec.pk])).content.decode()
    custody = html.split('id="custody"', 1)[1]
    assert "文件名时间 2026-11-20 09:10:00" in custody
    assert "01:10:00" not in custody


@pytest.mark.django_db
def test_custody_names_system_and_station_actors_in_words(client, people, rec):
    from jilu.audit.chain import record

    with transaction.atomic():
        record(
            "evidence.media.processed",
            actor="system:media",
            object_type="evidence.recording",
            object_id=str(rec.pk),
        )
    client.force_login(people["officer"])
    html = client.get(reverse("evidence:recording_detail", args=[rec.pk])).content.decode()
    custody = html.split('id="custody"', 1)[1]
    assert "媒体处理完成" in custody and "系统（媒体处理）" in custody
    assert "evidence.media.processed" not in custody and "system:media" not in custody


def test_actor_and_details_text():
    assert (
        labels.actor_text("station:2:思明区中华中队采集工作站")
        == "采集工作站 思明区中华中队采集工作站"
    )
    assert labels.actor_text("system:fixity") == "系统（固定性校验）"
    assert labels.actor_text("system:other") == "系统（other）"
    assert labels.actor_text("王五") == "王五"
    text = labels.details_text({"ip": "127.0.0.1", "via": "web", "derived": False})
    assert text == "地址 127.0.0.1 · 途径 网页 · 派生副本 否"
    assert labels.details_text({}) == ""
    # Access requests (C6.3): field names and coded values in words, times in
    # Beijing time, empty values left out.
    text = labels.details_text(
        {
            "number": "DY2026-000001",
            "medium": "disc",
            "recipient_note": "",
            "valid_until": "2026-12-04 08:58:40.211061+00:00",
        }
    )
    assert text == "调用单号 DY2026-000001 · 介质 光盘 · 有效期至 2026-12-04 16:58"
    refused = {"wanted": "download", "reason": "no_approved_request"}
    assert labels.action_label("evidence.recording.refused", refused) == (
        "拒绝复制原始文件（无已批准的调用单，C6.3）"
    )
    assert labels.action_label("evidence.recording.refused", {"wanted": "view"}) == (
        "拒绝访问（超出权限范围）"
    )
    assert labels.details_text(refused) == "请求 下载原始文件 · 原因 无已批准的调用单（C6.3）"


@pytest.mark.django_db
def test_audit_log_shows_words_and_keeps_codes(client, people, rec):
    client.force_login(people["officer"])
    client.get(reverse("evidence:recording_detail", args=[rec.pk]))
    client.force_login(people["inspector"])
    html = client.get(reverse("audit:log"), {"action": "evidence.recording"}).content.decode()
    # Words as the text; the code kept for machines in the action's tooltip.
    assert "查看" in html and ' · evidence.recording.view">' in html
    assert '<code class="muted">evidence.recording.view</code>' not in html
    assert "{&#x27;" not in html and "{'" not in html  # no Python dicts
    assert '<select name="family">' in html  # filtered by family of actions, in words


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2026-13-01"])
def test_timeline_days_out_of_range_are_404_not_500(client, people, rec, day):
    client.force_login(people["officer"])
    response = client.get(reverse("evidence:timeline_officer", args=[people["officer"].pk, day]))
    assert response.status_code == 404
    response = client.get(reverse("evidence:timeline_recorder", args=["A000001", day]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_an_invalid_filter_keeps_the_valid_ones(client, people, settings, tmp_path, tree):
    use_store(settings, tmp_path, "file")
    mine = recorder_for(people["officer"], tree["squad1"], "A000001")
    other = recorder_for(people["officer_b"], tree["squad1"], "A000002")
    make_recording(officer=people["officer"], recorder=mine, start=NINE)
    make_recording(officer=people["officer_b"], recorder=other, start=NINE)
    client.force_login(people["squad_leader"])
    response = client.get(
        reverse("evidence:recording_list"),
        {"serial": "A000001", "date_from": "2026-11-19", "date_to": "2026-11-18"},
    )
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert {row["rec"].recorder.serial for row in response.context["rows"]} == {"A000001"}


@pytest.mark.django_db
def test_officer_filter_renders_every_person_in_scope_and_keeps_the_choice(client, people, rec):
    client.force_login(people["squad_leader"])
    officer = people["officer"]
    html = client.get(reverse("evidence:recording_list"), {"officer": officer.pk}).content.decode()
    select = html.split('name="officer"', 1)[1].split("</select>", 1)[0]
    assert f'<option value="{officer.pk}" selected>' in select
    assert '<option value="">' in select
    assert people["officer_other"].name not in select  # another district


@pytest.mark.django_db
def test_task_states_are_in_words(client, people):
    client.force_login(people["admin"])
    html = client.get(reverse("tasks:list")).content.decode()
    for word in ("排队中", "运行中", "失败", "成功"):
        assert word in html
    assert ">Successful" not in html and ">Ready" not in html


@pytest.mark.browser
def test_recording_page_fits_a_phone(page, people, rec, transactional_db):
    from conftest import sign_in

    rec.original_name = (
        "DCIM/20261120/" + "A000001_900001_20261120091000_0001_长文件名" * 3 + ".MP4"
    )
    rec.save(update_fields=["original_name"])
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, "officer")
    page.wait_for_url(page.base_url + "/")
    page.goto(f"{page.base_url}/recordings/{rec.pk}/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width
    assert page.locator("#sha256").is_visible()


@pytest.mark.django_db
def test_the_player_offers_no_download_of_its_own(client, people, rec):
    """Copies go through an access request (C6.3): the browser's player menu does
    not offer "download" beside the page's own, gated, button."""
    client.force_login(people["officer"])
    html = client.get(reverse("evidence:recording_detail", args=[rec.pk])).content.decode()
    video = html.split('<video id="video"', 1)[1].split(">", 1)[0]
    assert 'controlslist="nodownload"' in video


def test_recorded_time_counts_overlapping_files_once():
    """A sound file made during a video does not add to the day's recorded time (C4.3)."""
    from datetime import timedelta

    from jilu.evidence.timeline import covered_seconds

    lo, hi = NINE - timedelta(hours=1), NINE + timedelta(hours=10)
    videos = [
        (NINE + timedelta(minutes=10 * i), NINE + timedelta(minutes=10 * (i + 1))) for i in range(3)
    ]
    sound = [(NINE + timedelta(minutes=5), NINE + timedelta(minutes=5, seconds=30))]
    assert covered_seconds(videos + sound, lo, hi) == 30 * 60
    # Clipped to the day; separate spans add up.
    late = [(hi - timedelta(minutes=1), hi + timedelta(minutes=5))]
    assert covered_seconds(videos + late, lo, hi) == 31 * 60
    assert covered_seconds([], lo, hi) == 0
