"""restrict(): who sees which recordings, docking sessions and quarantined files.

Officers see their own; unit readers their subtree (by the officer's unit or
the recorder's unit); inspectors everything; nobody edits a recording (C6.5.3);
only administrators resolve quarantine, in their subtree (C6.5.7: no access
outside the procedure).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from jilu.devices import actions as device_actions
from jilu.evidence.models import Recording, StoredObject
from jilu.ingest import actions
from jilu.ingest.models import DockingSession, QuarantineItem, Upload
from jilu.ingest.tests.conftest import open_docking

pytestmark = pytest.mark.django_db


def _stored(tag: str) -> StoredObject:
    data = tag.encode()
    return StoredObject.objects.create(
        sha256=hashlib.sha256(data).hexdigest(),
        sm3=hashlib.new("sm3", data).hexdigest(),
        size=len(data),
        backend="file",
    )


def _recording(tag, recorder, officer, docking) -> Recording:
    from django.db import transaction

    with transaction.atomic():
        rec, _ = actions.make_recording(
            actor="system:test",
            stored=_stored(tag),
            recorder=recorder,
            officer=officer,
            user_no_in_name=officer.user_no if officer else "",
            user_no_mismatch=False,
            kind="video",
            original_name=f"{tag}.MP4",
            name_start_local=None,
            clock_offset_seconds=0,
            started_at=timezone.now() - timedelta(hours=2),
            station=docking.station,
            docking=docking,
            docked_at=docking.started_at,
        )
    return rec


def _quarantine(tag, docking) -> QuarantineItem:
    from django.db import transaction

    with transaction.atomic():
        return actions.attribute_file(
            actor="system:test",
            stored=_stored(tag),
            filename=f"DCIM/{tag}.MP4",
            docking=docking,
            station=docking.station,
            unit=docking.station.unit,
        ).quarantine


@pytest.fixture
def world(tree, people, station, recorder):
    """Squad 1 (station, A000123 held by 王五) and squad 3 (station, C000001 held by 韩一);
    plus a squad-2 recorder whose recording names 王五 (an officer of squad 1)."""
    squad3_station, _ = device_actions.create_workstation(
        actor="system:test", unit=tree["squad3"], name="湖里中队工作站"
    )
    squad3_recorder = device_actions.register_recorder(
        actor="system:test", serial="C000001", unit=tree["squad3"]
    )
    device_actions.issue_recorder(
        actor="system:test",
        recorder=squad3_recorder,
        person=people["officer_other"],
        at=timezone.now() - timedelta(days=3),
    )
    squad2_recorder = device_actions.register_recorder(
        actor="system:test", serial="B000002", unit=tree["squad2"]
    )
    d1 = open_docking(station)
    d3 = open_docking(squad3_station, serial="C000001")
    d2 = open_docking(station, serial="B000002")
    return {
        "d1": d1,
        "d3": d3,
        "d2": d2,
        "r1": _recording("r1", recorder, people["officer"], d1),
        "r1b": _recording("r1b", recorder, people["officer_b"], d1),
        "r3": _recording("r3", squad3_recorder, people["officer_other"], d3),
        "r2": _recording("r2", squad2_recorder, people["officer"], d2),
        "q1": _quarantine("q1", d1),
        "q3": _quarantine("q3", d3),
    }


def _names(qs) -> set[str]:
    return {getattr(o, "original_name", None) or str(o.pk) for o in qs}


RECORDINGS_SEEN = {
    "officer": {"r1", "r2"},
    "officer_b": {"r1b"},
    "officer_other": {"r3"},
    "squad_leader": {"r1", "r1b", "r2"},  # r2: its officer belongs to squad 1
    "brigade_leader": {"r1", "r1b", "r2"},
    "archivist": {"r1", "r1b", "r2"},
    "case_handler": {"r1", "r1b", "r2"},
    "legal_reviewer": {"r1", "r1b", "r2", "r3"},
    "inspector": {"r1", "r1b", "r2", "r3"},
    "admin": {"r1", "r1b", "r2", "r3"},
    "squad_admin": {"r3"},
}


@pytest.mark.parametrize(("who", "expected"), RECORDINGS_SEEN.items())
def test_recordings_seen_per_role(world, people, who, expected):
    seen = Recording.objects.restrict(people[who], "view")
    assert {r.original_name.removesuffix(".MP4") for r in seen} == expected


@pytest.mark.parametrize("who", list(RECORDINGS_SEEN))
@pytest.mark.parametrize("action", ["change", "delete", "add"])
def test_nobody_changes_a_recording(world, people, who, action):
    """C6.5.3: recordings are never edited or deleted by people."""
    assert not Recording.objects.restrict(people[who], action).exists()


def test_a_leader_of_the_recorders_unit_sees_a_recording_by_an_outside_officer(world, make_person):
    leader2 = make_person("leader2", unit="squad2", roles=("squad_leader",))
    assert {r.original_name for r in Recording.objects.restrict(leader2, "view")} == {"r2.MP4"}


def test_anonymous_and_inactive_people_see_nothing(world, people):
    from django.contrib.auth.models import AnonymousUser

    assert not Recording.objects.restrict(AnonymousUser(), "view").exists()
    people["inspector"].is_active = False
    assert not Recording.objects.restrict(people["inspector"], "view").exists()
    assert not DockingSession.objects.restrict(people["inspector"], "view").exists()


DOCKINGS_SEEN = {
    "officer": {"d1"},  # the holder at docking
    "officer_b": set(),
    "officer_other": {"d3"},
    "squad_leader": {"d1", "d2"},  # both at squad 1's station
    "brigade_leader": {"d1", "d2"},
    "archivist": {"d1", "d2"},
    "legal_reviewer": {"d1", "d2", "d3"},
    "inspector": {"d1", "d2", "d3"},
    "admin": {"d1", "d2", "d3"},
    "squad_admin": {"d3"},
}


@pytest.mark.parametrize(("who", "expected"), DOCKINGS_SEEN.items())
def test_docking_sessions_seen_per_role(world, people, who, expected):
    ids = {world[k].pk: k for k in ("d1", "d2", "d3")}
    seen = DockingSession.objects.restrict(people[who], "view")
    assert {ids[s.pk] for s in seen} == expected
    # Sessions change only through the station API, never through a person.
    assert not DockingSession.objects.restrict(people[who], "change").exists()


QUARANTINE = {
    # who: (sees, may resolve)
    "officer": (set(), set()),
    "squad_leader": ({"q1"}, set()),
    "brigade_leader": ({"q1"}, set()),
    "inspector": ({"q1", "q3"}, set()),
    "admin": ({"q1", "q3"}, {"q1", "q3"}),
    "squad_admin": ({"q3"}, {"q3"}),
}


@pytest.mark.parametrize(("who", "expected"), QUARANTINE.items())
def test_quarantine_seen_and_resolvable_per_role(world, people, who, expected):
    ids = {world[k].pk: k for k in ("q1", "q3")}
    sees, resolves = expected
    assert {ids[q.pk] for q in QuarantineItem.objects.restrict(people[who], "view")} == sees
    assert {ids[q.pk] for q in QuarantineItem.objects.restrict(people[who], "change")} == resolves


def test_uploads_follow_their_docking(world, people, station):
    Upload.objects.create(
        station=station,
        docking=world["d1"],
        length=1,
        filename="x",
        sha256="a" * 64,
        sm3="b" * 64,
        expires_at=timezone.now() + timedelta(days=1),
    )
    assert Upload.objects.restrict(people["squad_leader"], "view").count() == 1
    assert Upload.objects.restrict(people["officer"], "view").count() == 1
    assert Upload.objects.restrict(people["squad_admin"], "view").count() == 0
