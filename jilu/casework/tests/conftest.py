"""Recorders, recordings and activities for the casework tests (made through the ORM and actions)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

T0 = datetime(2026, 11, 26, 1, 0, 0, tzinfo=UTC)  # 09:00 in Xiamen


@pytest.fixture(autouse=True)
def _file_store(settings, tmp_path):
    settings.STORE_ROOT = tmp_path / "store"
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.STORAGE_KIND = "file"
    settings.S3 = None


@pytest.fixture
def recorders(tree, people):
    """A000001 held by officer (王五), A000002 by officer_b (李四), A000003 by officer_other."""
    from jilu.devices.actions import issue_recorder, register_recorder

    issued_at = T0 - timedelta(days=30)
    out = {}
    for serial, unit, holder in (
        ("A000001", "squad1", "officer"),
        ("A000002", "squad1", "officer_b"),
        ("A000003", "squad3", "officer_other"),
    ):
        rec = register_recorder(actor="system:test", serial=serial, unit=tree[unit])
        issue_recorder(actor="system:test", recorder=rec, person=people[holder], at=issued_at)
        out[holder] = rec
    return out


@pytest.fixture
def make_recording(recorders, people):
    """A recording of ``holder``'s recorder from ``start`` lasting ``minutes``."""
    from jilu.evidence.actions import store_object
    from jilu.evidence.models import Recording

    counter = {"n": 0}

    def make(
        holder: str = "officer",
        *,
        start: datetime = T0,
        minutes: float | None = 10,
        docked_at: datetime | None = None,
    ) -> Recording:
        counter["n"] += 1
        n = counter["n"]
        recorder = recorders[holder]
        stored = store_object(actor="system:test", stream=io.BytesIO(f"clip {n}".encode()))
        docked = docked_at or start + timedelta(hours=3)
        local = start + timedelta(hours=8)
        return Recording.objects.create(
            stored_object=stored,
            recorder=recorder,
            officer=people[holder],
            kind="video",
            original_name=(
                f"DCIM/{recorder.serial}_{people[holder].user_no}_{local:%Y%m%d%H%M%S}_{n:04d}.MP4"
            ),
            started_at=start,
            ended_at=start + timedelta(minutes=minutes) if minutes is not None else None,
            size=stored.size,
            sha256=stored.sha256,
            sm3=stored.sm3,
            docked_at=docked,
            collected_within_24h=docked - start <= timedelta(hours=24),
        )

    return make


@pytest.fixture
def party(tree):
    from jilu.casework.actions import create_party

    return create_party(
        actor="system:test",
        unit=tree["squad1"],
        kind="organisation",
        name="厦门某某餐饮有限公司",
        id_number="91350203MA2XXXXX0Y",
    )


@pytest.fixture
def make_activity(tree, people, party):
    from jilu.casework.actions import create_activity

    def make(
        *,
        officers=("officer", "officer_b"),
        start: datetime = T0,
        minutes: float = 60,
        kind: str = "S1",
        actor="system:test",
        **fields,
    ):
        fields.setdefault("unit", tree["brigade"])
        fields.setdefault("category", "inspection")
        fields.setdefault("party", party)
        fields.setdefault("place_name", "某某餐厅")
        fields.setdefault("address", "思明区中山路1号")
        return create_activity(
            actor=actor,
            officers=[people[o] for o in officers],
            kind=kind,
            planned_start=start,
            planned_end=start + timedelta(minutes=minutes),
            **fields,
        )

    return make
