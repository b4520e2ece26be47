"""Recordings of activities a person took part in are in their scope (C4.1, C6.3),
through the same restricted list query as the list page and the API."""

from __future__ import annotations

import pytest

from jilu.casework import actions
from jilu.evidence.models import Recording
from jilu.evidence.queries import RecordingFilters, find_recordings


@pytest.mark.django_db
def test_partners_see_the_recordings_of_their_activities(
    make_activity, make_recording, make_person, people
):
    people["leader3"] = make_person("leader3", unit="squad3", roles=("squad_leader", "officer"))
    act = make_activity(officers=("officer", "officer_b", "officer_other", "leader3"))
    filmed = make_recording("officer_b")  # the partner's recorder filmed the scene
    actions.annotate(actor=people["officer_b"], recording=filmed, activity=act, step="site_check")
    elsewhere = make_recording("officer_b")

    def seen(who: str) -> set[int]:
        got = find_recordings(people[who], RecordingFilters())
        assert set(got.values_list("pk", flat=True)) == set(
            Recording.objects.restrict(people[who], "view").values_list("pk", flat=True)
        )
        return {r.pk for r in got}

    for who in ("officer", "officer_other", "leader3"):
        assert filmed.pk in seen(who), who
        assert elsewhere.pk not in seen(who), who
    # Nobody else in district 2 (the admin there reads no recordings at all).
    assert not seen("squad_admin")
    # Once per recording, however the scope's branches overlap.
    leader = people["squad_leader"]  # squad1: sees officer_b's recordings by unit
    rows = [r.pk for r in find_recordings(leader, RecordingFilters())]
    assert rows.count(filmed.pk) == 1


@pytest.mark.django_db
def test_a_recording_joins_only_an_activity_its_officer_took_part_in(
    make_activity, make_recording, people
):
    """C4.1, C5.2: the web form offers only such activities; the action (and so
    the API and bulk linking) refuses the others and changes nothing."""
    from django.core.exceptions import ValidationError

    from jilu.audit.models import AuditEntry
    from jilu.casework.models import Annotation

    act = make_activity(officers=("officer", "officer_other"))
    stranger = make_recording("officer_b")
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError, match="不在执法活动"):
        actions.annotate(
            actor=people["squad_leader"], recording=stranger, activity=act, step="site_check"
        )
    assert not Annotation.objects.filter(recording=stranger).exists()
    assert AuditEntry.objects.count() == before
    own = make_recording("officer")
    actions.annotate(actor=people["officer"], recording=own, activity=act, step="site_check")
    assert Annotation.objects.filter(recording=own, activity=act).exists()
