"""The recording list query: fixed query count, lean rows equal Django's, scope
through subqueries, the first page counted without a count query (C6.3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jilu.evidence.models import Recording
from jilu.evidence.queries import (
    LIST_FIELDS,
    CappedPaginator,
    RecordingFilters,
    find_recordings,
    media_of,
)
from jilu.evidence.rows import LeanModelIterable
from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import make_recording, recorder_for

NINE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def recorders(settings, tmp_path, people, tree):
    use_store(settings, tmp_path, "file")
    return {
        "officer": recorder_for(people["officer"], tree["squad1"], "A000001"),
        "officer_other": recorder_for(people["officer_other"], tree["squad3"], "B000003"),
    }


def _make(people, recorders, n: int, *, who: str = "officer", integrity: str | None = "complete"):
    return [
        make_recording(
            officer=people[who],
            recorder=recorders[who],
            start=NINE + timedelta(minutes=i),
            integrity=integrity,
        )
        for i in range(n)
    ]


def _list_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("evidence:recording_list"))
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.context["rows"])


@pytest.mark.django_db
def test_list_page_query_count_does_not_grow_with_rows(client, people, recorders):
    """No N+1: 3 rows or 40 rows (officer, recorder and probe shown) cost the same queries."""
    client.force_login(people["inspector"])
    _make(people, recorders, 3)
    few, rows = _list_queries(client)
    assert rows == 3
    _make(people, recorders, 37, integrity=None)
    many, rows = _list_queries(client)
    assert rows == 40
    assert many == few
    # A full first page needs the count query that a short one answers by itself.
    _make(people, recorders, 20)
    full, rows = _list_queries(client)
    assert rows == 50
    assert full == few + 1
    response = client.get(reverse("evidence:recording_list"))
    assert response.context["page_obj"].paginator.count == 60
    second = client.get(reverse("evidence:recording_list"), {"page": 2})
    assert len(second.context["rows"]) == 10


@pytest.mark.django_db
def test_lean_rows_equal_djangos_rows(people, recorders, tree):
    recs = _make(people, recorders, 2)
    recs.append(
        make_recording(
            officer=people["officer"], recorder=recorders["officer"], start=NINE, seconds=None
        )
    )
    unheld = recs[1]
    Recording.objects.filter(pk=unheld.pk).update(officer=None)
    lean = list(find_recordings(people["inspector"], RecordingFilters()))
    plain = list(
        Recording.objects.select_related("officer", "recorder", "media").order_by(
            "-started_at", "-pk"
        )
    )
    assert [r.pk for r in lean] == [r.pk for r in plain]
    with CaptureQueriesContext(connection) as ctx:
        for got, want in zip(lean, plain, strict=True):
            assert got._state.adding is False and got._state.db == "default"
            for name in LIST_FIELDS:
                assert getattr(got, name) == getattr(want, name), name
            assert got == want and str(got) == str(want)
            assert got.get_kind_display() == want.get_kind_display()
            assert (got.officer and got.officer.name) == (want.officer and want.officer.name)
            assert got.recorder.serial == want.recorder.serial
            info, expected = media_of(got), media_of(want)
            assert (info and (info.integrity, info.integrity_reason)) == (
                expected and (expected.integrity, expected.integrity_reason)
            )
            if info is not None:
                assert info.recording is got  # the reverse one-to-one is cached both ways
    assert ctx.captured_queries == []
    assert next(r for r in lean if r.pk == unheld.pk).officer is None
    # Fields a list row does not show are deferred: loaded on access, never wrong.
    assert lean[0].get_deferred_fields() >= {"user_no_in_name", "created_at"}
    assert lean[0].user_no_in_name == plain[0].user_no_in_name


@pytest.mark.django_db
def test_lean_rows_defer_to_django_when_someone_listens(people, recorders):
    """A post_init receiver must see every instance: then Django builds them."""
    _make(people, recorders, 2)
    seen = []

    def note(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(note, sender=Recording)
    try:
        rows = list(find_recordings(people["inspector"], RecordingFilters()))
    finally:
        post_init.disconnect(note, sender=Recording)
    assert sorted(seen) == sorted(r.pk for r in rows)
    # values() switches to its own iterable, as with any queryset.
    qs = find_recordings(people["inspector"], RecordingFilters())
    assert qs._iterable_class is LeanModelIterable
    assert sorted(qs.values_list("pk", flat=True)) == sorted(seen)


@pytest.mark.django_db
def test_serial_filter_is_exact_and_case_insensitive(people, recorders):
    mine = _make(people, recorders, 2)
    _make(people, recorders, 1, who="officer_other")
    inspector = people["inspector"]
    for serial in ("A000001", "a000001 "):
        got = find_recordings(inspector, RecordingFilters(serial=serial))
        assert [r.pk for r in got] == [r.pk for r in reversed(mine)]
    assert not find_recordings(inspector, RecordingFilters(serial="Z999999")).exists()
    # The filter narrows the scope, never widens it.
    assert not find_recordings(people["officer"], RecordingFilters(serial="B000003")).exists()


@pytest.mark.django_db
def test_capped_paginator_counts_short_first_pages_from_the_rows(people, recorders):
    _make(people, recorders, 7)
    qs = find_recordings(people["inspector"], RecordingFilters())
    with CaptureQueriesContext(connection) as ctx:
        paginator = CappedPaginator(qs, 10)
        page = paginator.get_page(None)
        assert (len(page), paginator.count, paginator.num_pages) == (7, 7, 1)
        assert not page.has_next() and not paginator.capped
    assert len(ctx.captured_queries) == 1
    # Full pages still count (capped), and out-of-range pages fall back as before.
    paginator = CappedPaginator(qs, 3, cap=5)
    page = paginator.get_page("1")
    assert len(page) == 3 and page.has_next()
    assert paginator.count == 6 and paginator.capped
    assert CappedPaginator(qs, 3).get_page("99").number == 3
    assert CappedPaginator(qs, 3).get_page("x").number == 1
    assert [r.pk for r in CappedPaginator(qs, 3).get_page(3)] == [r.pk for r in qs][6:]
