"""The recording list's keyword through casework (C6.4): a word finds a recording
by its annotation (standard name, note) and by the annotation's activity
(address, place name, party), exactly as testing each annotation would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q

from jilu.casework import actions
from jilu.casework.models import Activity, Annotation, Party
from jilu.evidence.queries import RecordingFilters, base_queryset, filter_recordings

from .conftest import T0


def _or_of_joins(word: str) -> set[int]:
    """What a word finds in casework, written the plain way: one filter over the
    annotations, their activities and parties (the meaning the union keeps)."""
    parties = Party.objects.filter(name__icontains=word).values("pk")
    activities = Activity.objects.filter(
        Q(address__icontains=word) | Q(place_name__icontains=word) | Q(party_id__in=parties)
    ).values("pk")
    return set(
        Annotation.objects.filter(
            Q(standard_name__icontains=word)
            | Q(note__icontains=word)
            | Q(activity_id__in=activities)
        ).values_list("recording_id", flat=True)
    )


@pytest.fixture
def annotated(tree, people, make_recording, make_activity):
    other_party = actions.create_party(
        actor="system:test", unit=tree["squad1"], kind="person", name="赵某某"
    )
    market = make_activity(address="湖里区金山路8号", place_name="金山菜市场")
    street = make_activity(
        start=T0 + timedelta(hours=2),
        party=other_party,
        address="思明区鹭江道2号",
        place_name="轮渡码头",
    )
    recs = {
        name: make_recording(start=T0 + timedelta(minutes=15 * i))
        for i, name in enumerate(("market", "market_noted", "street", "none"))
    }
    officer = people["officer"]
    actions.annotate(actor=officer, recording=recs["market"], activity=market, step="site_check")
    actions.annotate(
        actor=officer,
        recording=recs["market_noted"],
        activity=market,
        step="evidence",
        note="当事人拒绝签字",
    )
    actions.annotate(actor=officer, recording=recs["street"], activity=street, step="site_check")
    return {name: rec.pk for name, rec in recs.items()}


@pytest.mark.django_db
@pytest.mark.db_sensitive
@pytest.mark.parametrize(
    ("word", "found"),
    [
        ("金山", {"market", "market_noted"}),  # address and place name
        ("菜市场", {"market", "market_noted"}),  # place name
        ("鹭江道", {"street"}),  # address
        ("赵某", {"street"}),  # the party's name
        ("拒绝签字", {"market_noted"}),  # the annotation's note
        ("餐饮有限", {"market", "market_noted"}),  # party, also in the standard name
        ("nothing", set()),
    ],
)
def test_keyword_finds_through_annotation_activity_and_party(people, annotated, word, found):
    expected = {annotated[name] for name in found}
    assert _or_of_joins(word) == expected
    base = base_queryset(people["inspector"])
    f = RecordingFilters(q=word)
    for wide in (True, False):
        got = set(filter_recordings(base, f, wide=wide).values_list("pk", flat=True))
        assert got & set(annotated.values()) == expected, (word, wide)
