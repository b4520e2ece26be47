"""From verified bytes to a recording: hashes, idempotence, attribution, quarantine.

C1.3 (the holder when recording started), C3.2 (clock offset), C5.1 (24 hours),
C6.5.3 (nothing altered or faked becomes evidence), C6.5.4 (nothing lost).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jilu.audit.models import AuditEntry
from jilu.evidence.media_models import MediaInfo
from jilu.evidence.models import Recording, StoredObject
from jilu.evidence.store import get_store
from jilu.evidence.tasks import run_processing
from jilu.ingest import spool
from jilu.ingest.models import QuarantineItem, Upload
from jilu.ingest.tests.conftest import (
    SERIAL,
    digests,
    hours_ago,
    mp4,
    name_for,
    open_docking,
    wav,
)

pytestmark = pytest.mark.django_db


def _recording(resp) -> Recording:
    assert resp.status_code == 204, resp.content
    assert "Jilu-Quarantine-Id" not in resp
    return Recording.objects.get(pk=int(resp["Jilu-Recording-Id"]))


def _quarantined(resp) -> QuarantineItem:
    assert resp.status_code in (201, 204), resp.content
    assert "Jilu-Recording-Id" not in resp
    return QuarantineItem.objects.get(pk=int(resp["Jilu-Quarantine-Id"]))


# --- hashes ---------------------------------------------------------------


def test_recording_carries_the_hashes_of_the_bytes(tus, docking, people):
    data = mp4(11)
    rec = _recording(tus.upload(data, name_for(hours_ago(2)), docking=docking, chunk=700))
    sha256, sm3 = digests(data)
    assert (rec.sha256, rec.sm3, rec.size) == (sha256, sm3, len(data))
    assert rec.stored_object_id == sha256
    assert get_store().verify(sha256).ok
    assert b"".join(get_store().open_range(sha256)) == data
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "ingest.upload.create",
        "evidence.object.store",
        "ingest.recording.create",
        "ingest.upload.complete",
    } <= actions


@pytest.mark.parametrize("wrong", ["sha256", "sm3"])
def test_a_full_hash_mismatch_is_refused_and_nothing_becomes_visible(tus, docking, wrong):
    """C6.5.3: bytes that are not what the station declared never become evidence."""
    data = mp4(12)
    declared = {wrong: "0" * 64}
    resp = tus.upload(data, name_for(hours_ago(2)), docking=docking, **declared)
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert "校验失败" in detail and "重新上传" in detail
    assert ("SHA-256" if wrong == "sha256" else "SM3") in detail
    assert not Recording.objects.exists()
    assert not QuarantineItem.objects.exists()
    assert not StoredObject.objects.exists()
    objects = get_store().root / "objects"
    assert not objects.exists() or not [p for p in objects.rglob("*") if p.is_file()]
    upload = Upload.objects.get()
    assert upload.state == Upload.State.FAILED and "校验失败" in upload.failure
    assert AuditEntry.objects.filter(action="ingest.upload.reject").count() == 1
    # The station re-sends with a new upload and the right declaration.
    rec = _recording(tus.upload(data, name_for(hours_ago(2)), docking=docking))
    assert rec.sha256 == digests(data)[0]


def test_a_discarded_upload_leaves_no_spool_file(tus, docking, django_capture_on_commit_callbacks):
    data = mp4(13)
    with django_capture_on_commit_callbacks(execute=True):
        resp = tus.upload(data, name_for(hours_ago(2)), docking=docking, sha256="1" * 64)
    assert resp.status_code == 422
    assert not spool.partial_path(Upload.objects.get().pk).exists()


def test_the_same_bytes_again_answer_the_existing_recording(tus, station, recorder):
    """Idempotent: a second docking of the same volume creates nothing new."""
    data = mp4(14)
    name = name_for(hours_ago(2))
    first = _recording(tus.upload(data, name, docking=open_docking(station)))
    second = _recording(tus.upload(data, name, docking=open_docking(station), chunk=500))
    assert second.pk == first.pk
    assert Recording.objects.count() == 1 and StoredObject.objects.count() == 1
    assert Upload.objects.filter(state=Upload.State.COMPLETE).count() == 2
    assert AuditEntry.objects.filter(
        action="ingest.recording.again", object_id=str(first.pk)
    ).exists()
    assert AuditEntry.objects.filter(action="evidence.object.store").count() == 1


# --- attribution (C1.3, C3.2, C5.1) ---------------------------------------


def test_officer_is_the_holder_and_start_is_corrected_by_the_clock_offset(
    tus, station, recorder, people
):
    """C3.2: true start = name time − (device clock − station clock)."""
    docking = open_docking(station, clock_offset_seconds=125.5)
    start_local = hours_ago(3)
    rec = _recording(tus.upload(mp4(15), name_for(start_local), docking=docking))
    assert rec.recorder == recorder
    assert rec.officer == people["officer"]
    assert rec.user_no_in_name == people["officer"].user_no and not rec.user_no_mismatch
    assert rec.name_start_local == start_local
    assert rec.clock_offset_seconds == 125.5
    assert rec.started_at == start_local - timedelta(seconds=125.5)
    assert rec.kind == "video"
    assert (rec.station, rec.docking, rec.docked_at) == (station, docking, docking.started_at)
    assert rec.ended_at is None
    assert rec.collected_within_24h


def test_a_slow_device_clock_moves_the_start_later(tus, station, recorder):
    docking = open_docking(station, clock_offset_seconds=-3600)
    start_local = hours_ago(5)
    rec = _recording(tus.upload(mp4(16), name_for(start_local), docking=docking))
    assert rec.started_at == start_local + timedelta(hours=1)


def test_a_user_number_that_disagrees_with_holder_history_is_flagged(tus, docking, people):
    """C1.3: the holder history decides who answers for a recording; a name that
    says otherwise is flagged, not believed."""
    rec = _recording(
        tus.upload(
            mp4(17), name_for(hours_ago(2), user_no=people["officer_b"].user_no), docking=docking
        )
    )
    assert rec.officer == people["officer"]
    assert rec.user_no_in_name == people["officer_b"].user_no
    assert rec.user_no_mismatch


def test_the_holder_at_recording_time_not_at_docking(tus, station, recorder, people):
    """A recording made before a hand-over belongs to the previous holder (C1.3)."""
    from jilu.devices.actions import issue_recorder, return_recorder

    handover = timezone.now() - timedelta(hours=10)
    return_recorder(actor="system:test", recorder=recorder, at=handover)
    issue_recorder(actor="system:test", recorder=recorder, person=people["officer_b"], at=handover)
    docking = open_docking(station)
    assert docking.holder == people["officer_b"]
    before = _recording(tus.upload(mp4(18), name_for(hours_ago(12)), docking=docking))
    after = _recording(
        tus.upload(
            mp4(19),
            name_for(hours_ago(2), user_no=people["officer_b"].user_no, seq=2),
            docking=docking,
        )
    )
    assert before.officer == people["officer"] and not before.user_no_mismatch
    assert after.officer == people["officer_b"] and not after.user_no_mismatch


def test_no_holder_at_recording_time_is_flagged(tus, station, recorder):
    docking = open_docking(station)
    rec = _recording(
        tus.upload(mp4(20), name_for(timezone.now() - timedelta(days=40)), docking=docking)
    )
    assert rec.officer is None and rec.user_no_mismatch


def test_collected_more_than_24_hours_after_recording_is_late(tus, station, recorder):
    """C5.1: the end is unknown until probing; the corrected start stands in for it."""
    docking = open_docking(station, clock_offset_seconds=0)
    late = _recording(tus.upload(mp4(21), name_for(hours_ago(30)), docking=docking))
    on_time = _recording(tus.upload(mp4(22), name_for(hours_ago(23), seq=2), docking=docking))
    assert not late.collected_within_24h and late.late
    assert on_time.collected_within_24h


def test_the_clock_offset_can_make_a_recording_late(tus, station, recorder):
    """A device running 2 hours fast: its name says 23 h ago, truly it was 25 h (C3.2 + C5.1)."""
    docking = open_docking(station, clock_offset_seconds=7200)
    rec = _recording(tus.upload(mp4(23), name_for(hours_ago(23)), docking=docking))
    assert not rec.collected_within_24h


def test_audio_and_photo_kinds_come_from_the_extension(tus, docking):
    rec = _recording(tus.upload(wav(1), name_for(hours_ago(2), ext="WAV"), docking=docking))
    assert rec.kind == "audio"


# --- quarantine: never discarded ------------------------------------------


def test_an_unknown_serial_is_quarantined(tus, station, tree):
    docking = open_docking(station, serial="Z999999")
    assert docking.recorder is None
    item = _quarantined(
        tus.upload(mp4(24), name_for(hours_ago(2), serial="Z999999"), docking=docking)
    )
    assert item.reason == QuarantineItem.Reason.UNKNOWN_SERIAL
    assert "Z999999" in item.reason_text and "登记" in item.reason_text
    assert item.serial == "Z999999"
    assert item.unit == station.unit and item.station == station and item.docking == docking
    assert StoredObject.objects.filter(pk=item.sha256).exists()
    assert get_store().verify(item.sha256).ok
    assert not Recording.objects.exists()
    assert AuditEntry.objects.filter(action="ingest.quarantine.create").count() == 1


def test_a_non_conforming_name_is_quarantined(tus, docking):
    item = _quarantined(tus.upload(mp4(25), "DCIM/VID_0001.MP4", docking=docking))
    assert item.reason == QuarantineItem.Reason.BAD_NAME
    assert "VID_0001.MP4" in item.reason_text


def test_an_impossible_time_in_the_name_is_a_bad_name(tus, docking):
    item = _quarantined(
        tus.upload(mp4(26), f"DCIM/{SERIAL}_900001_20261345250000_0001.MP4", docking=docking)
    )
    assert item.reason == QuarantineItem.Reason.BAD_NAME


def test_a_zero_byte_file_is_quarantined_at_creation(tus, docking):
    resp = tus.upload(b"", name_for(hours_ago(2)), docking=docking)
    assert resp.status_code == 201
    item = _quarantined(resp)
    assert item.reason == QuarantineItem.Reason.ZERO_BYTE
    assert item.size == 0
    assert item.sha256 == digests(b"")[0]
    assert Upload.objects.get().state == Upload.State.COMPLETE


def test_a_truncated_mp4_is_kept_as_a_recording_marked_incomplete(tus, docking):
    """A damaged file from a known recorder is evidence too: it becomes a recording,
    kept byte for byte, and media processing marks it 不完整 (C6.5.4)."""
    data = mp4(27)
    recording = _recording(
        tus.upload(data[: len(data) // 2], name_for(hours_ago(2)), docking=docking)
    )
    assert recording.size == len(data) // 2
    run_processing(recording)
    recording.refresh_from_db()
    assert recording.media.integrity == MediaInfo.Integrity.INCOMPLETE
    assert recording.media.integrity_reason
    assert get_store().verify(recording.sha256).ok


def test_missing_device_info_quarantines_the_sessions_files(tus, station, recorder):
    docking = open_docking(
        station, serial="", clock_offset_seconds=None, info_problem="ZFY_INFO.json 不存在"
    )
    item = _quarantined(tus.upload(mp4(28), name_for(hours_ago(2)), docking=docking))
    assert item.reason == QuarantineItem.Reason.INFO_MISSING
    assert "ZFY_INFO.json 不存在" in item.reason_text


def test_a_file_of_another_recorder_on_the_volume_is_quarantined(tus, docking):
    item = _quarantined(
        tus.upload(mp4(29), name_for(hours_ago(2), serial="B000001"), docking=docking)
    )
    assert item.reason == QuarantineItem.Reason.SERIAL_MISMATCH


def test_quarantined_bytes_uploaded_again_answer_the_same_item(tus, station):
    data = mp4(30)
    name = name_for(hours_ago(2), serial="Z999999")
    first = _quarantined(tus.upload(data, name, docking=open_docking(station, serial="Z999999")))
    again = _quarantined(tus.upload(data, name, docking=open_docking(station, serial="Z999999")))
    assert again.pk == first.pk
    assert QuarantineItem.objects.count() == 1


def test_an_upload_without_a_docking_offset_uses_the_name_time(tus, station, recorder):
    docking = open_docking(station, clock_offset_seconds=None)
    start = hours_ago(2)
    rec = _recording(tus.upload(mp4(31), name_for(start), docking=docking))
    assert rec.started_at == start and rec.clock_offset_seconds is None


def test_the_checks_run_in_order(tus, station):
    """A zero-byte file of an unknown recorder is reported as zero-byte (the first reason)."""
    docking = open_docking(station, serial="Z999999", info_problem="损坏")
    item = _quarantined(tus.upload(b"", "junk.bin", docking=docking))
    assert item.reason == QuarantineItem.Reason.ZERO_BYTE
