"""End-to-end fixtures: the real Jilu server (live_server) and ``jilu-station`` as a subprocess."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.station.helpers import SERIAL, JiluServer


@pytest.fixture
def jilu_server(live_server, transactional_db, tree, people, settings, tmp_path):
    """The real server with a squad-1 workstation and A000123 held by 王五 for 30 days (C1.3)."""
    from django.utils import timezone

    from jilu.devices import actions
    from jilu.evidence.store import get_store

    settings.STORE_ROOT = tmp_path / "server-store"
    settings.SPOOL_DIR = tmp_path / "server-spool"
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    get_store.cache_clear()
    station, token = actions.create_workstation(
        actor="system:test", unit=tree["squad1"], name="中华中队工作站"
    )
    recorder = actions.register_recorder(actor="system:test", serial=SERIAL, unit=tree["squad1"])
    actions.issue_recorder(
        actor="system:test",
        recorder=recorder,
        person=people["officer"],
        at=timezone.now() - timedelta(days=30),
    )
    yield JiluServer(live_server.url, token, station, recorder, people["officer"], tmp_path)
    get_store.cache_clear()
