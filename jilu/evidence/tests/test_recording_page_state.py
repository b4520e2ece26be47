"""What the recording page says about its media (C5.1, C6.3, C6.5.4, C6.5.7).

The thumbnail strip is shown, the embedded creation time and whether there is
sound; a damaged file says why it has no playback instead of "being made"; the
H.265 note points to the access request instead of promising a download; a
failed processing run is 处理失败 in words; and the custody chain shows other
people's refusals only to inspectors and administrators, in words.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from jilu.access.testing import grant_copy
from jilu.evidence.actions import store_object
from jilu.evidence.models import Derivative, MediaInfo
from jilu.evidence.processing import record_failure
from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import make_recording, recorder_for

NINE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def rec(settings, tmp_path, people, tree):
    use_store(settings, tmp_path, "file")
    recorder = recorder_for(people["officer"], tree["squad1"], "A000001")
    return make_recording(officer=people["officer"], recorder=recorder, start=NINE)


def _derive(rec, kind: str, payload: bytes = b"\xff\xd8picture\xff\xd9", ctype="image/jpeg"):
    obj = store_object(actor="system:test", stream=io.BytesIO(payload + kind.encode()))
    return Derivative.objects.create(
        recording=rec, kind=kind, stored_object=obj, content_type=ctype
    )


def _page(client, person, rec) -> str:
    client.force_login(person)
    response = client.get(reverse("evidence:recording_detail", args=[rec.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_strip_embedded_time_and_audio_are_shown(client, people, rec):
    MediaInfo.objects.create(
        recording=rec,
        integrity="complete",
        browser_playable=True,
        has_video=True,
        has_audio=True,
        audio_codec="aac",
        embedded_created_at=datetime(2026, 11, 20, 1, 0, 5, tzinfo=UTC),
        probed_at=NINE,
    )
    _derive(rec, "poster")
    _derive(rec, "strip")
    html = _page(client, people["officer"], rec)
    strip_url = reverse("evidence:recording_derived", args=[rec.pk, "strip"])
    assert f'<img src="{strip_url}"' in html.split('id="strip"', 1)[1]
    assert client.get(strip_url).status_code == 200
    assert "2026-11-20 09:00:05" in html.split('id="embedded-created"', 1)[1][:60]
    assert "有（aac）" in html.split('id="has-audio"', 1)[1][:40]
    MediaInfo.objects.filter(recording=rec).update(has_audio=False)
    html = _page(client, people["officer"], rec)
    assert ">无<" in html.split('id="has-audio"', 1)[1][:40]


@pytest.mark.django_db
@pytest.mark.parametrize("integrity", ["incomplete", "unparseable"])
def test_damaged_file_says_why_there_is_no_playback(client, people, rec, integrity):
    MediaInfo.objects.create(
        recording=rec,
        integrity=integrity,
        integrity_reason="缺少索引（moov）",
        browser_playable=False,
        probed_at=NINE,
    )
    html = _page(client, people["officer"], rec)
    assert "正在生成" not in html
    note = html.split('id="no-playback"', 1)[1].split("</p>", 1)[0]
    assert "无法生成播放副本" in note and "缺少索引（moov）" in note
    assert "调用单" in note
    assert f'href="{reverse("access:create")}?recording={rec.pk}"' in note
    assert "<video" not in html


@pytest.mark.django_db
def test_c6_3_h265_note_points_to_the_request_not_a_download(client, people, rec):
    MediaInfo.objects.create(
        recording=rec, integrity="complete", browser_playable=False, probed_at=NINE
    )
    _derive(rec, "playback", b"h264", "video/mp4")
    html = _page(client, people["squad_leader"], rec)
    note = html.split('id="derived-note"', 1)[1].split("</p>", 1)[0]
    assert "原始文件可下载" not in html
    assert "调用单" in note
    request_url = reverse("access:create") + f"?recording={rec.pk}"
    assert f'href="{request_url}"' in note
    # The archivist holding an approved request is told the download is there.
    grant_copy(people["archivist"], [rec])
    html = _page(client, people["archivist"], rec)
    note = html.split('id="derived-note"', 1)[1].split("</p>", 1)[0]
    assert "按调用单下载" in note and 'id="download"' in html


@pytest.mark.django_db
def test_c6_5_4_processing_failure_is_shown_in_words(client, people, rec):
    record_failure(
        recording_id=rec.pk,
        error="RuntimeError: decoder crashed at 0x7f",
        gave_up=True,
    )
    html = _page(client, people["officer"], rec)
    top = html.split('class="sub"', 1)[1].split("</p>", 1)[0]
    assert "处理失败" in top and "处理程序出错" in top
    assert "RuntimeError" not in html and "待检测" not in top
    # A transient failure that is still being retried says so.
    MediaInfo.objects.filter(recording=rec).update(
        last_error="证据存储或临时磁盘暂时不可用；系统将自动重试\nTransientError: x", attempts=1
    )
    top = _page(client, people["officer"], rec).split('class="sub"', 1)[1].split("</p>", 1)[0]
    assert "将自动重试" in top and "证据存储或临时磁盘暂时不可用" in top


# --- custody chain: refusals ---------------------------------------------------------


@pytest.mark.django_db
def test_c6_5_7_others_refusals_only_for_inspectors_and_admins(client, people, rec, tree):
    from jilu.evidence.playback import note_access

    outsider = people["officer_other"]
    for kind in ("poster", "strip"):
        client.force_login(outsider)
        url = reverse("evidence:recording_derived", args=[rec.pk, kind])
        assert client.get(url).status_code == 404
    note_access(
        actor=people["officer"],
        recording_id=rec.pk,
        action="refused",
        details={"wanted": "play", "reason": "whole_object"},
    )

    def custody(name: str) -> str:
        return _page(client, people[name], rec).split('id="custody"', 1)[1]

    own = custody("officer")
    assert "韩一" not in own and "派生文件" not in own  # someone else's refusals: hidden
    assert "拒绝整份获取" in own  # their own refusal: shown
    assert "韩一" not in custody("squad_leader")
    for reader in ("inspector", "admin"):
        seen = custody(reader)
        assert seen.count("韩一") == 2
        assert "派生文件：封面帧" in seen and "派生文件：缩略图条" in seen
        assert "derived:" not in seen


def test_failure_words_do_not_depend_on_the_workers_language():
    from django.utils import translation

    from jilu.evidence import tasks
    from jilu.evidence.store import ObjectMissing

    with translation.override("en"):
        stored = tasks.describe_failure(ObjectMissing("no stored object ab"), gave_up=True)
        retried = tasks.describe_failure(tasks.TransientError("down"), gave_up=False)
    assert stored.splitlines() == [
        "存储中找不到原始文件，已发出固定性告警；已停止自动处理，请系统管理员在任务页查看后重新排队",
        "ObjectMissing: no stored object ab",
    ]
    assert not tasks.still_retried(stored, 1) and tasks.still_retried(retried, 1)
    assert not tasks.still_retried(retried, tasks.MAX_ATTEMPTS)
    assert tasks.failure_reason(stored) == "存储中找不到原始文件，已发出固定性告警"
    assert tasks.failure_reason("RuntimeError: boom") == "处理程序出错"
    assert tasks.still_retried("TransientError: 对象存储不可用", 2)  # older rows
