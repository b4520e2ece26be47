"""The audit log page an inspector reads (C6.4, C6.5.7): actions in words, objects
by name, details as sentences; filters by Beijing date, person, unit, family of
actions and object; bad filters answered with a message; the filtered view
exported as XLSX, the export itself audited."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import openpyxl
import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from jilu.audit import labels
from jilu.audit.chain import record
from jilu.audit.models import AuditEntry
from jilu.web import audit_export, audit_filters
from jilu.web.audit_text import describe

LOG = reverse("audit:log")
EXPORT = reverse("audit:export")


def put(code: str, *, actor, at: datetime | None = None, **kwargs) -> AuditEntry:
    with freeze_time(at or timezone.now()), transaction.atomic():
        return record(code, actor=actor, **kwargs)


def cells(html: str, css_class: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", " ", c)
        for c in re.findall(rf'<td class="{css_class}">(.*?)</td>', html, re.S)
    ]


@pytest.fixture
def inspector(client, people):
    client.force_login(people["inspector"])
    return client


@pytest.mark.django_db
def test_every_action_reads_in_words_on_the_page(inspector, people):
    """One entry of every labelled action: each shows its phrase, never a bare
    code in its place, and details without Python reprs."""
    for code in labels.ACTION_LABELS:
        put(code, actor=people["admin"], details={"note": "x", "ip": "10.0.0.1"})
    seen = ""
    for page in (1, 2, 3):
        response = inspector.get(LOG, {"page": page, "actor": people["admin"].pk})
        assert response.status_code == 200
        seen += response.content.decode()
    actions = cells(seen, "action")
    assert len(actions) == len(labels.ACTION_LABELS)
    for code in labels.ACTION_LABELS:
        phrase = labels.action_label(code)
        assert phrase != code and phrase in seen, code
    for text in cells(seen, "details"):
        assert "{" not in text and "&#x27;" not in text and "'" not in text
        assert "ip" not in text and "note" not in text


@pytest.mark.django_db
def test_objects_are_named_and_codes_kept(inspector, people, make_recording, make_activity):
    from jilu.casework.actions import annotate
    from jilu.casework.models import RecordedStep

    rec = make_recording("officer")
    annotate(
        actor=people["officer"],
        recording=rec,
        activity=make_activity(),
        step=RecordedStep.values[0],
    )
    rec.refresh_from_db()
    put("evidence.recording.view", actor=people["officer"], obj=rec, details={"via": "web"})
    put(
        "evidence.recording.download",
        actor=people["archivist"],
        obj=rec,
        details={"sha256": rec.sha256, "via": "web", "request": "DY2026-0003"},
    )
    put(
        "org.person.update",
        actor=people["admin"],
        obj=people["officer_b"],
        details={"changed": {"phone": ["", "13800000000"]}},
    )
    html = inspector.get(LOG).content.decode()
    objects = " ".join(cells(html, "object"))
    assert rec.annotation.standard_name in objects
    assert f"李四（警号 {people['officer_b'].user_no}）" in objects
    # The raw reference stays for tools, out of the way: a link and a tooltip.
    assert f"evidence.recording:{rec.pk}" not in objects
    assert f"?object_type=evidence.recording&amp;object_id={rec.pk}" in html
    assert f' · evidence.recording:{rec.pk}"' in html
    details = " ".join(cells(html, "details"))
    assert "下载原始文件，依据调用单 DY2026-0003" in details
    assert "电话：空 → 13800000000" in details
    assert ' · evidence.recording.download"' in html  # the code, in the tooltip
    assert "evidence.recording.download" not in " ".join(cells(html, "action"))
    entry = AuditEntry.objects.get(action="evidence.recording.download")
    assert entry.hash in html and entry.prev_hash in html  # the chain, for inspectors


@pytest.mark.django_db
def test_sign_in_failures_read_as_sentences(client, people):
    from jilu.org import actions

    actions.login_failed(username="officer", ip="10.1.1.1")
    actions.login_failed(username="nobody", ip="10.1.1.2")
    client.force_login(people["admin"])
    html = client.get(LOG, {"family": "auth"}).content.decode()
    details = " ".join(cells(html, "details"))
    assert "登录失败：密码错误（连续第 1 次），地址 10.1.1.1" in details
    assert "登录失败：没有登录名为“nobody”的账号，地址 10.1.1.2" in details
    assert "未知账号（nobody）" in html


@pytest.mark.django_db
def test_officers_and_leaders_cannot_read_the_log(client, people):
    for who in ("officer", "squad_leader", "archivist"):
        client.force_login(people[who])
        assert client.get(LOG).status_code == 403
        assert client.get(EXPORT).status_code == 403


# --- filters -------------------------------------------------------------------------


@pytest.fixture
def spread(people, tree):
    """Entries on three Beijing days by people of two districts."""
    return [
        # 2026-11-19 23:30 in Beijing
        put(
            "auth.login",
            actor=people["officer"],
            at=datetime(2026, 11, 19, 15, 30, tzinfo=UTC),
            obj=people["officer"],
            details={"ip": "10.0.0.1", "via": "web"},
        ),
        # 2026-11-20 01:30 in Beijing, though still the 19th in UTC
        put(
            "auth.login",
            actor=people["officer_b"],
            at=datetime(2026, 11, 19, 17, 30, tzinfo=UTC),
            obj=people["officer_b"],
            details={"ip": "10.0.0.2", "via": "web"},
        ),
        put(
            "evidence.recording.view",
            actor=people["officer_other"],
            at=datetime(2026, 11, 20, 6, 0, tzinfo=UTC),
            object_type="evidence.recording",
            object_id="5",
            details={"via": "api"},
        ),
        put(
            "devices.recorder.status",
            actor=people["admin"],
            at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
            obj=tree["squad1"],
            details={"serial": "A000001", "from": "in_service", "to": "repair", "note": ""},
        ),
    ]


def seqs(client, **params) -> list[int]:
    """The entries the page lists, within the days of ``spread`` unless told."""
    params.setdefault("date_from", "2026-11-19")
    params.setdefault("date_to", "2026-11-21")
    response = client.get(LOG, params)
    assert response.status_code == 200
    return [int(s) for s in re.findall(r'data-seq="(\d+)"', response.content.decode())]


@pytest.mark.django_db
def test_filter_by_beijing_dates(inspector, spread):
    login_19, login_20, view_20, status_21 = (e.seq for e in spread)
    assert seqs(inspector, date_from="2026-11-20", date_to="2026-11-20") == [view_20, login_20]
    assert seqs(inspector, date_from="2026-11-19", date_to="2026-11-19") == [login_19]
    assert seqs(inspector, date_from="2026-11-21", date_to="2026-11-21") == [status_21]
    assert seqs(inspector) == [status_21, view_20, login_20, login_19]


@pytest.mark.django_db
def test_filter_by_person_unit_family_and_object(inspector, people, tree, spread):
    login_19, login_20, view_20, status_21 = (e.seq for e in spread)
    assert seqs(inspector, person="王五") == [login_19]
    assert seqs(inspector, person=people["officer_b"].user_no) == [login_20]
    assert seqs(inspector, person="officer_b") == [login_20]
    assert seqs(inspector, actor=people["officer_b"].pk) == [login_20]
    # The unit and the units below it: the brigade holds both squads' officers.
    assert seqs(inspector, unit=tree["brigade"].pk) == [login_20, login_19]
    assert seqs(inspector, unit=tree["squad1"].pk) == [login_20, login_19]
    assert seqs(inspector, unit=tree["district2"].pk) == [view_20]
    assert seqs(inspector, family="view") == [view_20]
    assert seqs(inspector, family="devices") == [status_21]
    person = people["officer"].pk
    assert seqs(inspector, object_type="org.person", object_id=person) == [login_19]
    assert seqs(inspector, object=f"org.person:{people['officer_b'].pk}") == [login_20]
    assert seqs(inspector, object_type="org.unit", q="中华") == [status_21]
    assert seqs(inspector, object_type="evidence.recording") == [view_20]
    # Filters together narrow further.
    assert seqs(inspector, family="auth", date_from="2026-11-20", date_to="2026-11-20") == [
        login_20
    ]
    assert seqs(inspector, family="auth", unit=tree["district2"].pk) == []


@pytest.mark.django_db
def test_filter_by_recording_name(inspector, people, make_recording):
    rec = make_recording("officer")
    other = make_recording("officer_b")
    mine = put("evidence.recording.play", actor=people["officer"], obj=rec)
    put("evidence.recording.play", actor=people["officer"], obj=other)
    name = rec.original_name.rsplit("/", 1)[-1]
    today = timezone.localdate().isoformat()
    assert seqs(inspector, q=name, date_from=today, date_to=today) == [mine.seq]
    assert seqs(
        inspector, object_type="evidence.recording", q=name, date_from=today, date_to=today
    ) == [mine.seq]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, message",
    [
        ({"date_from": "1999-12-31"}, "日期应在 2000 年至 2099 年之间"),
        ({"date_to": "2100-01-01"}, "日期应在 2000 年至 2099 年之间"),
        ({"date_from": "2026-13-01"}, "日期应写作 年-月-日"),
        ({"date_from": "yesterday"}, "日期应写作 年-月-日"),
        ({"date_from": "2026-11-21", "date_to": "2026-11-20"}, "截止日期早于起始日期"),
        ({"unit": "99999999"}, "没有这个单位"),
        ({"unit": "x"}, "没有这个单位"),
        ({"family": "nope"}, "没有这个操作类别"),
        ({"object_type": "auth.user"}, "没有这个对象类型"),
        ({"actor": "-1"}, "操作人编号"),
        ({"actor": "99999999999999999999999"}, "操作人编号"),
        ({"person": "没有这个人"}, "没有姓名、登录名或警号为“没有这个人”的人员"),
        ({"q": "x" * 101}, "对象名称"),
    ],
)
def test_bad_filters_get_a_message_not_an_error(inspector, spread, params, message):
    response = inspector.get(LOG, {**params, "family": params.get("family", "auth")})
    assert response.status_code == 200
    html = response.content.decode()
    errors = html.split('id="filter-errors"', 1)
    assert len(errors) == 2 and message in errors[1].split("</div>")[0]


# --- export --------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_matches_the_filtered_view(inspector, people, spread):
    params = {"date_from": "2026-11-19", "date_to": "2026-11-20"}
    response = inspector.get(EXPORT, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    assert ws.print_title_rows == "$1:$1"
    assert ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    entries = audit_filters.apply(AuditEntry.objects.all(), params).entries.order_by("-seq")
    expected = describe(entries)
    assert [r[0] for r in rows] == [e.seq for e in expected] == [e.seq for e in spread[2::-1]]
    for row, want in zip(rows, expected, strict=True):
        assert isinstance(row[1], datetime)  # a real date-time cell, in Beijing time
        assert row[1] == timezone.localtime(want.at).replace(tzinfo=None)
        assert row[2:8] == (
            want.actor_text,
            want.action_text,
            want.family_text,
            want.object_text,
            want.detail_text,
            want.action,
        )
        assert row[8] == want.hash
    assert ws.cell(row=2, column=2).number_format == "yyyy-mm-dd hh:mm:ss"
    assert all(ws.row_dimensions[r].height for r in range(2, len(rows) + 2))
    # The login at 01:30 on the 20th (Beijing) is on the 20th, not the UTC 19th.
    assert rows[1][1] == datetime(2026, 11, 20, 1, 30)
    # The export is itself audited, with its filters in words.
    export = AuditEntry.objects.filter(action="audit.log.export").get()
    assert export.actor_id == people["inspector"].pk
    assert export.details["rows"] == 3
    assert "2026-11-19 至 2026-11-20" in export.details["filters"]
    html = inspector.get(LOG, {"family": "copy"}).content.decode()
    assert "导出审计日志" in html and "导出 3 条" in html


@pytest.mark.django_db
def test_export_beyond_the_bound_is_refused_with_a_message(inspector, spread, monkeypatch):
    monkeypatch.setattr(audit_export, "MAX_ROWS", 2)
    response = inspector.get(EXPORT, {"date_from": "2026-11-19"}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(LOG + "?date_from=2026-11-19")
    assert "超过一次导出的上限 2 条，未导出" in html
    assert not AuditEntry.objects.filter(action="audit.log.export").exists()
    response = inspector.get(EXPORT, {"date_from": "2026-11-21", "date_to": "2026-11-21"})
    assert response.status_code == 200  # one entry fits


@pytest.mark.django_db
def test_export_with_a_bad_filter_is_refused(inspector, spread):
    response = inspector.get(EXPORT, {"date_from": "1999-01-01"}, follow=True)
    assert "筛选条件有误，未导出" in response.content.decode()
    assert not AuditEntry.objects.filter(action="audit.log.export").exists()


def test_english_page_words():
    from django.utils import translation

    with translation.override("en"):
        assert str(labels.FAMILIES["copy"][0]) == "Copies and downloads"
        assert audit_filters.family_choices()[0][1] == "All"
