"""The station API of docs/station-protocol.md: dockings, progress, finish, "do you hold this?".

C1.3 (holder at docking), C1.4 (battery and storage checks), C3.2 (clock offset).
"""

from __future__ import annotations

import pytest
from django.test import Client

from jilu.audit.models import AuditEntry
from jilu.devices.models import DeviceEvent
from jilu.ingest.models import DockingSession
from jilu.ingest.tests.conftest import SERIAL, digests, hours_ago, mp4, name_for

pytestmark = pytest.mark.django_db

DOCKING = {
    "serial": "A000123",
    "user_no": "900001",
    "user_name": "王五",
    "unit_no": "350203000001",
    "unit_name": "思明区城管执法大队",
    "device_clock": "2026-11-26T09:00:03+08:00",
    "station_clock": "2026-11-26T01:00:00.512Z",
    "clock_offset_seconds": 2.488,
    "battery_pct": 72,
    "storage_free_bytes": 1234,
    "storage_total_bytes": 5678,
    "files_found": 12,
    "info_problem": "",
}


class Api:
    def __init__(self, token: str) -> None:
        self.client = Client()
        self.auth = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: dict):
        return self.client.post(
            f"/api/v1{path}", data=body, content_type="application/json", headers=self.auth
        )

    def get(self, path: str):
        return self.client.get(f"/api/v1{path}", headers=self.auth)


@pytest.fixture
def api(token):
    return Api(token)


def test_opening_a_docking_names_the_holder_and_records_the_checks(api, recorder, people, station):
    resp = api.post("/station/dockings", DOCKING)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["recorder_known"] is True
    assert body["holder"] == {"name": people["officer"].name, "user_no": people["officer"].user_no}
    session = DockingSession.objects.get(pk=body["id"])
    assert session.station == station and session.recorder == recorder
    assert session.holder == people["officer"]
    assert session.clock_offset_seconds == pytest.approx(2.488)
    assert session.battery_pct == 72 and session.files_found == 12
    assert session.user_name == "王五" and session.unit_no == "350203000001"
    assert session.finished_at is None
    # C1.4 / C3.2: one device check per reading, from this workstation.
    events = {e.kind: e for e in DeviceEvent.objects.filter(recorder=recorder)}
    assert set(events) == {"battery", "storage", "clock"}
    assert events["battery"].battery_pct == 72
    assert (events["storage"].storage_free_bytes, events["storage"].storage_total_bytes) == (
        1234,
        5678,
    )
    assert events["clock"].clock_offset_seconds == pytest.approx(2.488)
    assert all(e.workstation == station for e in events.values())
    entry = AuditEntry.objects.get(action="ingest.docking.open")
    assert entry.actor_label == f"station:{station.pk}:{station.name}"


def test_the_offset_is_computed_from_the_clocks_when_not_given(api, recorder):
    body = {**DOCKING, "clock_offset_seconds": None}
    resp = api.post("/station/dockings", body)
    session = DockingSession.objects.get(pk=resp.json()["id"])
    assert session.clock_offset_seconds == pytest.approx(2.488)


def test_impossible_readings_are_noted_and_the_docking_still_opens(api, recorder):
    body = {**DOCKING, "battery_pct": 130, "storage_free_bytes": 9999, "device_clock": "garbage"}
    resp = api.post("/station/dockings", body)
    assert resp.status_code == 201
    session = DockingSession.objects.get(pk=resp.json()["id"])
    assert "电量" in session.reading_problem and "剩余存储" in session.reading_problem
    assert "设备时钟" in session.reading_problem
    assert session.info_problem == ""
    assert set(DeviceEvent.objects.values_list("kind", flat=True)) == {"clock"}


def test_an_unknown_recorder_opens_a_session_without_checks(api, tree):
    resp = api.post("/station/dockings", {**DOCKING, "serial": "Z999999"})
    assert resp.status_code == 201
    assert resp.json() == {"id": resp.json()["id"], "recorder_known": False, "holder": None}
    assert not DeviceEvent.objects.exists()


def test_missing_info_opens_a_session_with_the_problem(api, recorder):
    body = {
        "serial": "",
        "user_no": None,
        "user_name": None,
        "unit_no": None,
        "unit_name": None,
        "device_clock": None,
        "station_clock": "2026-11-26T01:00:00Z",
        "clock_offset_seconds": None,
        "battery_pct": None,
        "storage_free_bytes": None,
        "storage_total_bytes": None,
        "files_found": 3,
        "info_problem": "ZFY_INFO.json 不存在",
    }
    resp = api.post("/station/dockings", body)
    assert resp.status_code == 201, resp.content
    session = DockingSession.objects.get(pk=resp.json()["id"])
    assert session.info_problem == "ZFY_INFO.json 不存在" and session.recorder is None


def test_progress_is_kept_for_the_page(api, recorder):
    docking_id = api.post("/station/dockings", DOCKING).json()["id"]
    files = [
        {"name": "DCIM/a.MP4", "size": 100, "done": 40, "state": "uploading"},
        {"name": "DCIM/b.MP4", "size": 50, "done": 50, "state": "verified"},
    ]
    resp = api.post(f"/station/dockings/{docking_id}/progress", {"files": files})
    assert resp.status_code == 200
    assert resp.json() == {"id": docking_id, "files": 2}
    session = DockingSession.objects.get(pk=docking_id)
    assert session.progress["files"] == files
    assert session.progress_totals()["pct"] == 60
    bad = api.post(
        f"/station/dockings/{docking_id}/progress",
        {"files": [{"name": "x", "size": 1, "done": 0, "state": "dancing"}]},
    )
    assert bad.status_code == 422


def test_finishing_keeps_the_counts(api, recorder):
    docking_id = api.post("/station/dockings", DOCKING).json()["id"]
    counts = {
        "files_found": 12,
        "files_verified": 9,
        "files_already_present": 1,
        "files_flagged": 1,
        "files_failed": 1,
    }
    resp = api.post(f"/station/dockings/{docking_id}/finish", counts)
    assert resp.status_code == 200
    body = resp.json()
    assert {k: body[k] for k in counts} == counts
    assert body["recordings"] == 0 and body["quarantined"] == 0
    session = DockingSession.objects.get(pk=docking_id)
    assert session.finished_at is not None and session.files_ingested == 9
    assert AuditEntry.objects.filter(action="ingest.docking.finish").count() == 1


def test_another_stations_docking_is_404(api, recorder, tree):
    from jilu.devices.actions import create_workstation

    docking_id = api.post("/station/dockings", DOCKING).json()["id"]
    _, other_token = create_workstation(actor="system:test", unit=tree["squad2"], name="鹭江工作站")
    other = Api(other_token)
    assert other.post(f"/station/dockings/{docking_id}/finish", {}).status_code == 404
    assert other.post(f"/station/dockings/{docking_id}/progress", {"files": []}).status_code == 404


def test_a_persons_token_is_refused_and_a_revoked_station_token_is_401(
    api, recorder, people, station
):
    from jilu.devices.actions import revoke_workstation
    from jilu.ingest.tests.test_tus_protocol import _person_token

    person = Api(_person_token(people["admin"]))
    assert person.post("/station/dockings", DOCKING).status_code == 403
    assert person.get(f"/station/files/{'a' * 64}").status_code == 403
    revoke_workstation(actor=people["admin"], station=station)
    assert api.post("/station/dockings", DOCKING).status_code == 401
    assert api.get(f"/station/files/{'a' * 64}").status_code == 401


def test_files_answers_only_for_bytes_held_as_recording_or_quarantine(api, tus, docking, station):
    data = mp4(40)
    sha256, sm3 = digests(data)
    assert api.get(f"/station/files/{sha256}").status_code == 404
    assert api.get("/station/files/not-a-hash").status_code == 400
    resp = tus.upload(data, name_for(hours_ago(2)), docking=docking)
    rec_id = int(resp["Jilu-Recording-Id"])
    held = api.get(f"/station/files/{sha256.upper()}")
    assert held.status_code == 200
    assert held.json() == {
        "sha256": sha256,
        "sm3": sm3,
        "size": len(data),
        "recording_id": rec_id,
        "quarantine_id": None,
    }
    odd = mp4(41)
    resp = tus.upload(odd, "DCIM/odd.MP4", docking=docking)
    q_id = int(resp["Jilu-Quarantine-Id"])
    held = api.get(f"/station/files/{digests(odd)[0]}")
    assert held.json()["quarantine_id"] == q_id and held.json()["recording_id"] is None


def test_files_asked_for_one_recorder_ignore_the_same_bytes_of_another(api, tus, docking):
    """C2.1: identical bytes held for recorder A do not make recorder B's file
    'already present' (every empty file is alike), so B's file is still sent."""
    data = mp4(42)
    sha256 = digests(data)[0]
    tus.upload(data, name_for(hours_ago(2)), docking=docking)
    assert api.get(f"/station/files/{sha256}").status_code == 200
    assert api.get(f"/station/files/{sha256}?serial={SERIAL}").status_code == 200
    assert api.get(f"/station/files/{sha256}?serial={SERIAL.lower()}").status_code == 200
    assert api.get(f"/station/files/{sha256}?serial=B000999").status_code == 404
    # A file on A's volume that names another recorder is quarantined; asked for
    # by the volume's recorder it is held (the station may wipe it).
    other = mp4(43)
    tus.upload(other, name_for(hours_ago(2), serial="B000001"), docking=docking)
    held = api.get(f"/station/files/{digests(other)[0]}?serial={SERIAL}")
    assert held.status_code == 200 and held.json()["quarantine_id"]


def test_bytes_stored_but_not_attributed_are_not_reported_held(api, station):
    """A stored object alone (e.g. a crash before attribution) is not yet 'held' for wiping."""
    import io

    from jilu.evidence.actions import store_object

    data = b"orphan bytes"
    store_object(actor="system:test", stream=io.BytesIO(data))
    assert api.get(f"/station/files/{digests(data)[0]}").status_code == 404
