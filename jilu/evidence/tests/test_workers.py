"""Several ``jilu worker`` processes on one queue, as a city runs them: each
recording is processed exactly once, completely, whichever worker claims it,
with the originals in S3 (issue 4, item 1; C6.5.4 nothing lost, C6.5.3 nothing
altered). Runs on SQLite and, in the PostgreSQL pass, on PostgreSQL; on the
database queue and on RQ (Redis)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from jilu.audit.models import AuditEntry
from jilu.conf import database_url
from jilu.evidence.media_models import Derivative, MediaInfo
from jilu.evidence.models import StoredObject
from jilu.evidence.tasks import process_recording
from jilu.evidence.tests import media_files
from jilu.evidence.tests.conftest import Behind, use_store

WORKERS = 3
Integrity = MediaInfo.Integrity


def _worker_env(tmp_path: Path, settings) -> dict[str, str]:
    s3 = settings.S3
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "jilu.settings",
        "JILU_DATA_DIR": str(tmp_path / "worker"),
        "JILU_SECRET_KEY": "w" * 50,
        "JILU_DATABASE_URL": database_url(connection.settings_dict),
        "JILU_STORAGE": "s3",
        # A test machine: no separate database roles or shared audit key (those
        # refusals are tested in jilu/deploy/tests).
        "JILU_DEPLOYMENT": "embedded",
        "JILU_SPOOL_DIR": str(settings.SPOOL_DIR),
        "JILU_S3_ENDPOINT": s3.endpoint_url,
        "JILU_S3_BUCKET": s3.bucket,
        "JILU_S3_ACCESS_KEY": s3.access_key,
        "JILU_S3_SECRET_KEY": s3.secret_key,
        "JILU_S3_REGION": s3.region,
    }


def _samples(directory: Path) -> list[tuple[str, Path]]:
    """Distinct files of every kind (no two share bytes or a stored object)."""
    directory.mkdir(parents=True, exist_ok=True)
    name = "A000901_900001_202611260{:d}0000_000{:d}.{}"
    return [
        ("h264", media_files.make_mp4(directory / name.format(1, 1, "MP4"), seconds=2.0)),
        ("h264", media_files.make_mp4(directory / name.format(2, 2, "MP4"), seconds=3.0)),
        ("h265", media_files.make_mp4(directory / name.format(3, 3, "MP4"), codec="libx265")),
        ("wav", media_files.make_wav(directory / name.format(4, 4, "WAV"))),
        ("jpg", media_files.make_jpg(directory / name.format(5, 5, "JPG"))),
        ("truncated", media_files.make_truncated_mp4(directory / name.format(6, 6, "MP4"))),
        ("text", media_files.make_text_as_mp4(directory / name.format(7, 7, "MP4"))),
        ("h264", media_files.make_mp4(directory / name.format(8, 8, "MP4"), seconds=1.5)),
    ]


def _enqueue_samples(tmp_path, tree) -> list:
    from jilu.devices.actions import register_recorder

    recorder = register_recorder(actor="system:test", serial="A000901", unit=tree["squad1"])
    recordings = []
    for kind, path in _samples(tmp_path / "in"):
        rec_kind = {"wav": "audio", "jpg": "photo"}.get(kind, "video")
        recordings.append(
            (kind, media_files.make_recording(path, recorder=recorder, kind=rec_kind))
        )
    for _kind, rec in recordings:
        process_recording.enqueue(rec.pk)
    # The same recording queued twice (a requeue racing the first run) is harmless.
    process_recording.enqueue(recordings[0][1].pk)
    return recordings


def _run_workers(env: dict[str, str], count: int) -> list[str]:
    """``count`` workers side by side until the queue is empty; their output."""
    jilu = str(Path(sys.executable).with_name("jilu"))
    argv = [jilu, "worker", "--batch", "--no-schedule", "--interval", "0"]
    procs = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(count)
    ]
    outputs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        outputs.append(out.decode(errors="replace"))
        assert proc.returncode == 0, out
    return outputs


def _assert_each_recording_processed_once(recordings, store, settings) -> None:
    expected = {
        "h264": (Integrity.COMPLETE, {"poster", "strip"}),
        "h265": (Integrity.COMPLETE, {"poster", "strip", "playback"}),
        "wav": (Integrity.COMPLETE, {"waveform"}),
        "jpg": (Integrity.COMPLETE, {"preview"}),
        "truncated": (Integrity.INCOMPLETE, set()),
        "text": (Integrity.UNPARSEABLE, set()),
    }
    processed = Counter(
        AuditEntry.objects.filter(action="evidence.media.processed").values_list(
            "object_id", flat=True
        )
    )
    for kind, rec in recordings:
        rec.refresh_from_db()
        integrity, derived = expected[kind]
        assert rec.media.integrity == integrity, (kind, rec.media.integrity_reason)
        kinds_made = list(rec.derivatives.values_list("kind", flat=True))
        # One of each kind at most, never two made by racing workers.
        assert len(kinds_made) == len(set(kinds_made)), kind
        assert derived <= set(kinds_made), (kind, kinds_made)
        assert processed[str(rec.pk)] == 1, kind
        if integrity == Integrity.COMPLETE and kind != "jpg":  # start + duration
            assert rec.ended_at is not None and rec.ended_at > rec.started_at
    # Every stored object, original or derived, is in the bucket; nothing is left in the spool.
    in_bucket = set(Behind(store).objects())
    assert set(StoredObject.objects.values_list("pk", flat=True)) <= in_bucket
    assert set(Derivative.objects.values_list("stored_object", flat=True)) <= in_bucket
    spool = Path(settings.SPOOL_DIR)
    assert not spool.exists() or not any(p.is_file() for p in spool.rglob("*"))


@pytest.mark.db_sensitive
def test_several_workers_process_each_recording_once(
    transactional_db, settings, tmp_path, s3_endpoint, tree
):
    store = use_store(settings, tmp_path, "s3", endpoint=s3_endpoint)
    recordings = _enqueue_samples(tmp_path, tree)
    _run_workers(_worker_env(tmp_path, settings), WORKERS)

    results = list(DBTaskResult.objects.all())
    assert len(results) == len(recordings) + 1
    assert {r.status for r in results} == {"SUCCESSFUL"}, [r.traceback for r in results]
    # Each task was claimed by one worker only.
    assert all(len(r.worker_ids) == 1 for r in results)
    _assert_each_recording_processed_once(recordings, store, settings)


@pytest.mark.db_sensitive
def test_two_rq_workers_process_each_recording_once(
    transactional_db, settings, tmp_path, s3_endpoint, tree, rq_backend
):
    """The same on RQ (``JILU_TASKS_BACKEND=rq``): two RQ workers take the
    jobs from Redis; each job runs once, on one worker, without a retry."""
    store = use_store(settings, tmp_path, "s3", endpoint=s3_endpoint)
    recordings = _enqueue_samples(tmp_path, tree)
    assert not DBTaskResult.objects.exists()  # the jobs are in Redis
    queue = rq_backend.queue()
    job_ids = queue.get_job_ids()
    assert len(job_ids) == len(recordings) + 1
    outputs = _run_workers({**_worker_env(tmp_path, settings), **rq_backend.env}, 2)

    assert queue.count == 0
    assert queue.failed_job_registry.count == 0, outputs
    assert sorted(queue.finished_job_registry.get_job_ids()) == sorted(job_ids)
    for job_id in job_ids:
        job = queue.fetch_job(job_id)
        runs = job.results()
        assert len(runs) == 1, (job_id, runs)  # ran once, on one worker
        assert job.retries_left == rq_backend.retries
    _assert_each_recording_processed_once(recordings, store, settings)
