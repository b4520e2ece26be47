"""The recording list's filters: crafted dates, values that are not offered,
scoped drop-downs and keyword search on the officer (C5.1, C5.2, C6.3)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jilu.evidence.queries import (
    RecordingFilters,
    base_queryset,
    filter_recordings,
    find_recordings,
)
from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import make_recording, recorder_for

NINE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
LIST = "evidence:recording_list"


@pytest.fixture
def recs(settings, tmp_path, people, tree):
    use_store(settings, tmp_path, "file")
    r1 = recorder_for(people["officer"], tree["squad1"], "A000001")
    r2 = recorder_for(people["officer_b"], tree["squad1"], "A000002")
    r3 = recorder_for(people["officer_other"], tree["squad3"], "B000003")
    return {
        "own": make_recording(officer=people["officer"], recorder=r1, start=NINE),
        "own_late": make_recording(
            officer=people["officer"],
            recorder=r1,
            start=NINE - timedelta(days=3),
            docked_at=NINE,
            integrity="incomplete",
        ),
        "colleague": make_recording(
            officer=people["officer_b"], recorder=r2, start=NINE, kind="audio"
        ),
        "other_district": make_recording(
            officer=people["officer_other"], recorder=r3, start=NINE, kind="photo"
        ),
    }


def _get(client, **params):
    response = client.get(reverse(LIST), params)
    assert response.status_code == 200
    return response


def _pks(response) -> set[int]:
    return {row["rec"].pk for row in response.context["rows"]}


def _ids(recs, *keys) -> set[int]:
    return {recs[k].pk for k in keys}


def _summary(response) -> str:
    """The message above the (possibly folded) filters naming the refused ones."""
    match = re.search(
        r'<p class="error" id="filter-errors"[^>]*>(.*?)</p>', response.content.decode()
    )
    return match.group(1) if match else ""


def _options(response, name: str) -> set[str]:
    html = response.content.decode()
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return {v for v in re.findall(r'<option value="([^"]*)"', select) if v}


# --- finding 5: dates out of range ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("field,label", [("date_from", "开始日期"), ("date_to", "结束日期")])
@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01"])
def test_dates_out_of_range_are_a_field_error_not_a_500(client, people, recs, field, label, value):
    client.force_login(people["inspector"])
    response = _get(client, **{field: value, "kind": "photo"})
    html = response.content.decode()
    assert "日期超出范围（2000-01-01 至 2099-12-31）" in html
    assert label in _summary(response)
    # The refused date is left out; the other filter still applies.
    assert _pks(response) == _ids(recs, "other_district")


@pytest.mark.django_db
def test_dates_at_the_edges_of_the_range_are_accepted(client, people, recs):
    client.force_login(people["inspector"])
    everything = _ids(recs, "own", "own_late", "colleague", "other_district")
    assert _pks(_get(client, date_from="2000-01-01", date_to="2099-12-31")) == everything
    assert _summary(_get(client, date_from="2000-01-01", date_to="2099-12-31")) == ""


@pytest.mark.django_db
def test_the_query_layer_takes_any_date_without_overflow(people, recs):
    """filter_recordings never raises for a date: a bound beyond every datetime
    narrows nothing, and the others keep their meaning (the API relies on it)."""
    inspector = people["inspector"]
    everything = _ids(recs, "own", "own_late", "colleague", "other_district")

    def found(**kw) -> set[int]:
        qs = filter_recordings(base_queryset(inspector), RecordingFilters(**kw))
        return {r.pk for r in qs}

    for day in (date.min, date(1, 1, 2), date(9999, 12, 30), date.max):
        found(date_from=day)
        found(date_to=day)
        found(date_from=day, date_to=day)
    assert found(date_from=date.min) == everything
    assert found(date_to=date.max) == everything
    assert found(date_from=date.min, date_to=date.max) == everything
    assert found(date_from=date.max) == set()
    assert found(date_to=date.min) == set()
    assert found(date_from=date(9999, 12, 30)) == set()
    # Ordinary days are unchanged: Shanghai calendar days on the corrected start.
    assert found(date_to=date(2026, 11, 19)) == _ids(recs, "own_late")
    assert found(date_from=date(2026, 11, 20), date_to=date(2026, 11, 20)) == everything - {
        recs["own_late"].pk
    }


# --- finding 14: values that are not offered ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "param,value,label",
    [
        ("late", "1", "超过24小时采集"),
        ("annotated", "0", "已标注"),
        ("unit", "99999", "单位（含下级）"),
        ("officer", "99999", "执法队员"),
        ("kind", "zzz", "类型"),
        ("integrity", "broken", "完整性"),
    ],
)
def test_a_value_not_offered_is_named_and_the_others_still_apply(
    client, people, recs, param, value, label
):
    client.force_login(people["inspector"])
    response = _get(client, **{param: value, "serial": "a000001"})
    assert label in _summary(response), _summary(response)
    # The error beside the field names the filter too (the form may be folded).
    assert f'<span class="field-error">{label}：' in response.content.decode()
    assert _pks(response) == _ids(recs, "own", "own_late")


@pytest.mark.django_db
def test_valid_filters_show_no_message(client, people, recs, tree):
    client.force_login(people["inspector"])
    response = _get(client, late="yes", annotated="no", unit=tree["squad1"].pk)
    assert _summary(response) == ""
    assert _pks(response) == _ids(recs, "own_late")  # C5.1


@pytest.mark.django_db
def test_units_and_officers_outside_the_scope_are_not_offered(client, people, recs, tree):
    """An officer's drop-downs hold their own subtree and themself; a unit leader's,
    the subtree and its people; an inspector's, everything (C6.3)."""
    client.force_login(people["officer"])
    response = _get(client)
    assert _options(response, "unit") == {str(tree["squad1"].pk)}
    assert _options(response, "officer") == {str(people["officer"].pk)}
    refused = _get(client, officer=people["officer_b"].pk)
    assert "执法队员" in _summary(refused)
    assert _pks(refused) == _ids(recs, "own", "own_late")
    refused = _get(client, unit=tree["squad3"].pk, kind="video")
    assert "单位（含下级）" in _summary(refused)
    assert _pks(refused) == _ids(recs, "own", "own_late")

    client.force_login(people["brigade_leader"])
    response = _get(client)
    units = {str(tree[u].pk) for u in ("brigade", "squad1", "squad2")}
    assert _options(response, "unit") == units
    officers = _options(response, "officer")
    assert {str(people[p].pk) for p in ("officer", "officer_b", "squad_leader")} <= officers
    assert str(people["officer_other"].pk) not in officers
    assert _pks(_get(client, officer=people["officer_b"].pk)) == _ids(recs, "colleague")

    client.force_login(people["inspector"])
    response = _get(client)
    assert str(tree["squad3"].pk) in _options(response, "unit")
    assert str(people["officer_other"].pk) in _options(response, "officer")
    # 执法队员 offers only people whose recordings there can be (C1.3): never the
    # archivist, the legal reviewer or the inspector themself.
    offered = _options(response, "officer")
    for nobody in ("archivist", "legal_reviewer", "inspector", "admin"):
        assert str(people[nobody].pk) not in offered, nobody


@pytest.mark.django_db
def test_officer_drop_down_offers_the_partners_of_their_activities(client, people, recs):
    """C4.1: an officer sees a partner's recording of a shared activity, so the
    partner is offered, and choosing them lists that recording."""
    from jilu.casework import actions

    activity = actions.create_activity(
        actor="system:test",
        officers=[people["officer"], people["officer_other"]],
        kind="S1",
        planned_start=NINE,
        planned_end=NINE + timedelta(hours=1),
        unit=people["officer"].unit,
        category="inspection",
        place_name="某某餐厅",
        address="思明区中山路1号",
    )
    actions.annotate(
        actor=people["officer_other"],
        recording=recs["other_district"],
        activity=activity,
        step="site_check",
    )
    client.force_login(people["officer"])
    response = _get(client)
    assert _options(response, "officer") == {
        str(people["officer"].pk),
        str(people["officer_other"].pk),
    }
    chosen = _get(client, officer=people["officer_other"].pk)
    assert _summary(chosen) == ""
    assert _pks(chosen) == _ids(recs, "other_district")


# --- finding 13: keyword search on the officer --------------------------------------------


@pytest.mark.django_db
def test_keyword_matches_officer_name_numbers_and_serial(client, people, recs):
    client.force_login(people["inspector"])
    officer_b = people["officer_b"]
    assert _pks(_get(client, q="王五")) == _ids(recs, "own", "own_late")
    assert _pks(_get(client, q="李")) == _ids(recs, "colleague")
    assert _pks(_get(client, q=officer_b.user_no)) == _ids(recs, "colleague")
    assert _pks(_get(client, q=officer_b.cert_no.lower())) == _ids(recs, "colleague")
    assert _pks(_get(client, q="a000002")) == _ids(recs, "colleague")
    # Several words narrow: the officer and a part of the file name.
    assert _pks(_get(client, q="王五 20261117")) == _ids(recs, "own_late")
    # Never wider than the scope.
    client.force_login(people["officer"])
    assert _pks(_get(client, q="李四")) == set()
    assert _pks(_get(client, q="韩一")) == set()


@pytest.mark.django_db
def test_keyword_on_people_is_a_subquery_not_a_join(people, recs):
    """At a million recordings the keyword filter must not join people into the scan
    (bench/list_query.py): people and recorders are matched by ``IN (SELECT ...)``,
    answered once, and the query count stays the same."""
    qs = find_recordings(people["inspector"], RecordingFilters(q="王五"))
    sql, params = qs.query.sql_with_params()
    assert re.search(r'"officer_id" IN \(SELECT', sql), sql
    assert re.search(r'"recorder_id" IN \(SELECT', sql), sql
    assert not re.search(r'U\d+\."name"', sql.split("WHERE", 1)[0])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "CORRELATED" not in plan, plan
    with CaptureQueriesContext(connection) as ctx:
        rows = list(qs)
    assert len(ctx.captured_queries) == 1
    assert {r.pk for r in rows} == _ids(recs, "own", "own_late")


# --- finding 10: what a row shows ---------------------------------------------------------


@pytest.mark.django_db
def test_rows_show_integrity_reason_as_text_and_the_deadline_flags(client, people, recs):
    """C6.5.3/C6.5.4: the reason of a bad state is visible text, not a tooltip;
    C5.1 late collection and C5.2 overdue annotation are flagged on the row."""
    from django.utils import timezone

    from jilu.evidence.models import Recording

    Recording.objects.filter(pk=recs["colleague"].pk).update(docked_at=timezone.now())
    client.force_login(people["inspector"])
    html = _get(client).content.decode()
    rows = dict(re.findall(r'<tr data-recording="(\d+)">(.*?)</tr>', html, re.S))
    late = rows[str(recs["own_late"].pk)]
    assert '<span class="integrity-reason">缺少索引（moov）</span>' in late
    assert "不完整" in late and "flag-late" in late and "flag-overdue" in late
    fresh = rows[str(recs["colleague"].pk)]
    assert "待检测" in fresh and "flag-late" not in fresh and "flag-overdue" not in fresh
    assert "flag-overdue" in rows[str(recs["own"].pk)]


@pytest.mark.django_db
def test_overdue_checkbox_reads_only_what_it_means(client, people, recs):
    """C5.2: ``overdue=0`` does not switch the filter on, and a value that is
    neither on nor off is refused with a message rather than read as "on"."""
    from django.utils import timezone

    from jilu.evidence.models import Recording

    Recording.objects.filter(pk=recs["colleague"].pk).update(docked_at=timezone.now())
    client.force_login(people["inspector"])
    everything = _ids(recs, "own", "own_late", "colleague", "other_district")
    overdue = everything - {recs["colleague"].pk}
    for value in ("on", "1", "true", "yes"):
        assert _pks(_get(client, overdue=value)) == overdue, value
    for value in ("0", "false", "no", "off"):
        response = _get(client, overdue=value)
        assert _pks(response) == everything and _summary(response) == "", value
    refused = _get(client, overdue="maybe", kind="photo")
    assert "超过48小时未标注" in _summary(refused)
    assert _pks(refused) == _ids(recs, "other_district")


@pytest.mark.django_db
@pytest.mark.db_sensitive
@pytest.mark.parametrize("word", ["王五", "A000002", "_0001", "nothing", "mp4"])
def test_city_wide_keyword_matching_finds_the_same(people, recs, word):
    """Over the whole city the keyword is matched as one set of recordings first
    (fast at a million rows, bench/list_query.py); it finds exactly what testing
    each recording finds (C6.4)."""
    base = base_queryset(people["inspector"])
    f = RecordingFilters(q=word)
    wide = list(filter_recordings(base, f, wide=True).values_list("pk", flat=True))
    narrow = list(filter_recordings(base, f, wide=False).values_list("pk", flat=True))
    assert wide == narrow
