"""The integrity state of each recording (C6.5.3, C6.5.4) on the casework pages that
list recordings: the officer's queue, the squad overview, the annotation pages and
the activity page. Same badge as the recording list, no query per row."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jilu.casework import actions
from jilu.casework.tests.conftest import T0
from jilu.evidence.models import MediaInfo

REASON = "文件被截断，缺少索引（moov）"


def _probe_queries(ctx) -> list[str]:
    """Queries that fetch a probe by itself (one per row would be an N+1)."""
    return [
        q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "evidence_mediainfo"')
    ]


def _probe(recording, integrity: str, reason: str = "") -> None:
    MediaInfo.objects.create(recording=recording, integrity=integrity, integrity_reason=reason)


def _badge(html: str, recording_pk: int) -> str:
    """The integrity badge markup inside the element carrying ``data-recording``."""
    found = re.search(
        rf'data-recording="{recording_pk}".*?(<span class="integrity" data-integrity="(\w+)">.*?</span></span>)',
        html,
        re.S,
    )
    assert found, f"no integrity badge for recording {recording_pk}"
    return found.group(1)


@pytest.fixture
def four(make_recording):
    """One recording per state: complete, incomplete, unparseable, not yet probed."""
    recs = {
        "complete": make_recording(start=T0),
        "incomplete": make_recording(start=T0 + timedelta(minutes=10)),
        "unparseable": make_recording(start=T0 + timedelta(minutes=20)),
        "pending": make_recording(start=T0 + timedelta(minutes=30)),
    }
    _probe(recs["complete"], "complete")
    _probe(recs["incomplete"], "incomplete", REASON)
    _probe(recs["unparseable"], "unparseable", "不是可识别的 MP4 文件")
    return recs


def _check_states(html: str, recs) -> None:
    expected = {
        "complete": ("完整", "good", ""),
        "incomplete": ("不完整", "warn", REASON),
        "unparseable": ("无法解析", "bad", "不是可识别的 MP4 文件"),
        "pending": ("待检测", "", ""),
    }
    for state, (label, css, reason) in expected.items():
        badge = _badge(html, recs[state].pk)
        assert f'data-integrity="{state}"' in badge, badge
        assert f'<span class="badge {css}">{label}</span>' in badge, badge
        if reason:  # visible text beside the badge, not a tooltip
            assert f'<span class="integrity-reason">{reason}</span>' in badge, badge
        else:
            assert "integrity-reason" not in badge, badge


@pytest.mark.django_db
def test_officer_queue_shows_integrity(client, people, four, make_recording):
    client.force_login(people["officer"])
    with CaptureQueriesContext(connection) as few:
        html = client.get(reverse("casework:queue")).content.decode()
    _check_states(html, four)
    for i in range(6):
        _probe(make_recording(start=T0 + timedelta(hours=2, minutes=i)), "incomplete", REASON)
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("casework:queue")).content.decode()
    assert html.count('class="integrity-reason"') == 8
    assert len(many.captured_queries) == len(few.captured_queries)
    assert not _probe_queries(many)


@pytest.mark.django_db
def test_squad_overview_shows_integrity(client, people, four, make_recording):
    client.force_login(people["squad_leader"])
    with CaptureQueriesContext(connection) as few:
        html = client.get(reverse("casework:squad_queue")).content.decode()
    _check_states(html, four)
    assert "<th>完整性</th>" in html
    for i in range(6):
        make_recording("officer_b", start=T0 + timedelta(hours=2, minutes=i))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("casework:squad_queue"))
    assert len(many.captured_queries) == len(few.captured_queries)
    assert not _probe_queries(many)


@pytest.mark.django_db
def test_annotation_pages_show_integrity(client, people, four, make_activity):
    client.force_login(people["officer"])
    for state, rec in four.items():
        html = client.get(reverse("casework:annotate", args=[rec.pk])).content.decode()
        badge = re.search(r'<dd id="integrity">(.*?)</dd>', html, re.S).group(1)
        assert f'data-integrity="{state}"' in badge
    html = client.get(reverse("casework:annotate", args=[four["incomplete"].pk])).content.decode()
    assert f'<span class="integrity-reason">{REASON}</span>' in html
    act = make_activity()
    actions.annotate(
        actor=people["officer"], recording=four["unparseable"], activity=act, step="site_check"
    )
    html = client.get(reverse("casework:annotation", args=[four["unparseable"].pk])).content
    badge = re.search(r'<dd id="integrity">(.*?)</dd>', html.decode(), re.S).group(1)
    assert "无法解析" in badge and "不是可识别的 MP4 文件" in badge


@pytest.mark.django_db
def test_activity_page_shows_integrity_of_linked_and_overlapping(
    client, people, four, make_activity, make_recording
):
    act = make_activity(minutes=60)
    for state in ("complete", "incomplete"):
        actions.annotate(
            actor=people["officer"], recording=four[state], activity=act, step="site_check"
        )
    client.force_login(people["officer"])
    url = reverse("casework:activity_detail", args=[act.pk])
    with CaptureQueriesContext(connection) as few:
        html = client.get(url).content.decode()
    linked = html.split("<h2>已关联的声像记录</h2>", 1)[1]
    unlinked = html.split('id="unlinked"', 1)[1].split("</section>", 1)[0]
    assert "<th>完整性</th>" in linked
    for state in ("complete", "incomplete"):
        assert f'data-integrity="{state}"' in _badge(linked, four[state].pk)
    assert REASON in linked
    for state in ("unparseable", "pending"):
        assert f'data-integrity="{state}"' in _badge(unlinked, four[state].pk)
    # The probe comes with each row: no query of its own, however many rows.
    # (coverage.py still asks for each window recording's annotation: not the badge's.)
    for i in range(4):
        extra = make_recording(start=T0 + timedelta(minutes=40 + i, seconds=30), minutes=0.5)
        _probe(extra, "incomplete", REASON)
        actions.annotate(actor=people["officer"], recording=extra, activity=act, step="site_check")
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert html.count(f'<span class="integrity-reason">{REASON}</span>') == 5
    # ... and the record list's 记录保存情况 beside it (A2), which names the same reason.
    assert html.count(f"不完整（截断：{REASON}") == 5
    assert not _probe_queries(few) and not _probe_queries(many)
