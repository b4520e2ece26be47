"""Fixtures for access requests (C6.3): recordings in squad1 and squad3, and
people outside the brigade's subtree."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import make_recording, recorder_for

DATA = bytes((i * 11 + 5) % 256 for i in range(2048))
START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


@pytest.fixture(autouse=True)
def _package_dir(settings, tmp_path):
    settings.ACCESS_PACKAGE_DIR = tmp_path / "access-packages"


@pytest.fixture
def recs(settings, tmp_path, people, tree):
    use_store(settings, tmp_path, "file")
    r1 = recorder_for(people["officer"], tree["squad1"], "A000001")
    r3 = recorder_for(people["officer_other"], tree["squad3"], "B000003")
    return {
        "a": make_recording(
            officer=people["officer"],
            recorder=r1,
            start=START,
            data=DATA,
            name="A000001_900001_20261120090000_0001.MP4",
        ),
        "b": make_recording(officer=people["officer"], recorder=r1, start=START.replace(hour=2)),
        "other": make_recording(officer=people["officer_other"], recorder=r3, start=START),
    }


@pytest.fixture
def outsiders(make_person):
    return {
        "archivist_other": make_person(
            "archivist_other", unit="brigade2", roles=("archivist",), name="外档案"
        ),
        "leader_other": make_person(
            "leader_other", unit="squad3", roles=("squad_leader",), name="外中队"
        ),
        "leader_sq2": make_person(
            "leader_sq2", unit="squad2", roles=("squad_leader",), name="鹭江队长"
        ),
    }
