"""Background media processing: idempotent, retried with back-off on named errors,
never half-written, enqueued on commit; the task page for administrators
(issue 4, items 1 and 2; C5.1 for the end time and the 24-hour flag)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jilu.audit.models import AuditEntry
from jilu.evidence import tasks
from jilu.evidence.media_models import Derivative, MediaInfo
from jilu.evidence.models import StoredObject
from jilu.evidence.tasks import (
    MAX_ATTEMPTS,
    TransientError,
    backoff,
    enqueue_processing,
    process_recording,
)
from jilu.evidence.tests import media_files

Integrity = MediaInfo.Integrity


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return media_files.sample_media(tmp_path_factory.mktemp("media"))


@pytest.fixture
def recorder(tree):
    from jilu.devices.actions import register_recorder

    return register_recorder(actor="system:test", serial="A000001", unit=tree["squad1"])


@pytest.fixture
def local_store(settings, tmp_path):
    from jilu.evidence.tests.conftest import use_store

    return use_store(settings, tmp_path, "file")


def audit_actions(rec) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="evidence.recording", object_id=str(rec.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def counts() -> tuple[int, int, int, int]:
    return (
        StoredObject.objects.count(),
        Derivative.objects.count(),
        MediaInfo.objects.count(),
        AuditEntry.objects.count(),
    )


# --- processing results -------------------------------------------------------


def test_processing_fills_media_end_time_and_audits(db, store, recorder, media):
    rec = media_files.make_recording(media["h264"], recorder=recorder)
    assert rec.ended_at is None
    assert process_recording.call(rec.pk) == Integrity.COMPLETE
    rec.refresh_from_db()
    info = rec.media
    assert (info.video_codec, info.audio_codec, info.width, info.height) == (
        "h264",
        "aac",
        160,
        120,
    )
    assert info.duration_seconds == pytest.approx(2.5, abs=0.15)
    assert info.probed_at is not None and info.attempts == 0 and info.last_error == ""
    assert rec.ended_at == rec.started_at + timedelta(seconds=info.duration_seconds)
    assert "evidence.media.processed" in audit_actions(rec)


def test_c5_1_flag_is_recomputed_from_the_real_end(db, local_store, recorder, media):
    """C5.1: docked 24 h 1 s after the start was late by the start, but the recording
    ended 2.5 s later, so it reached the workstation within 24 h of its end."""
    started = timezone.now() - timedelta(days=2)
    rec = media_files.make_recording(
        media["h264"],
        recorder=recorder,
        started_at=started,
        docked_at=started + timedelta(hours=24, seconds=1),
    )
    assert rec.collected_within_24h is False
    process_recording.call(rec.pk)
    rec.refresh_from_db()
    assert rec.collected_within_24h is True
    assert rec.docked_at - rec.ended_at <= timedelta(hours=24)


def test_c5_1_flag_stays_late_when_the_end_is_late_too(db, local_store, recorder, media):
    started = timezone.now() - timedelta(days=3)
    rec = media_files.make_recording(
        media["h264"],
        recorder=recorder,
        started_at=started,
        docked_at=started + timedelta(hours=30),
    )
    process_recording.call(rec.pk)
    rec.refresh_from_db()
    assert rec.collected_within_24h is False and rec.ended_at is not None


def test_truncated_and_text_states(db, local_store, recorder, media):
    cut = media_files.make_recording(media["truncated"], recorder=recorder)
    text = media_files.make_recording(media["text"], recorder=recorder, kind="other")
    process_recording.call(cut.pk)
    process_recording.call(text.pk)
    cut.refresh_from_db()
    text.refresh_from_db()
    assert cut.media.get_integrity_display() == "不完整"
    assert "缺少索引（moov）" in cut.media.integrity_reason
    assert text.media.get_integrity_display() == "无法解析"
    assert cut.ended_at is None and text.ended_at is None  # no duration known
    assert cut.media.last_error == ""  # a damaged file is a result, not a failure


def test_rerun_is_idempotent(db, store, recorder, media):
    rec = media_files.make_recording(media["h265"], recorder=recorder)
    process_recording.call(rec.pk)
    before = counts()
    assert process_recording.call(rec.pk) == "already processed"
    assert counts() == before
    # A forced run probes again but finds nothing new: no rows, no objects, no audit.
    process_recording.call(rec.pk, force=True)
    assert counts() == before


def test_forced_rerun_makes_only_what_is_missing(db, local_store, recorder, media):
    rec = media_files.make_recording(media["h264"], recorder=recorder)
    process_recording.call(rec.pk)
    poster = rec.derivatives.get(kind=Derivative.Kind.POSTER)
    rec.derivatives.filter(kind=Derivative.Kind.STRIP).delete()
    process_recording.call(rec.pk, force=True)
    assert set(rec.derivatives.values_list("kind", flat=True)) == {"poster", "strip"}
    assert rec.derivatives.get(kind=Derivative.Kind.POSTER).pk == poster.pk


def test_a_failing_run_leaves_nothing_half_written(db, local_store, recorder, media, monkeypatch):
    """The poster is stored before the strip fails; no result row is written."""
    rec = media_files.make_recording(media["h264"], recorder=recorder)

    def broken(*args, **kwargs):
        raise RuntimeError("decoder crashed")

    monkeypatch.setattr(tasks.derive, "strip", broken)
    with pytest.raises(RuntimeError):
        process_recording.call(rec.pk)
    rec.refresh_from_db()
    info = MediaInfo.objects.get(recording=rec)
    assert info.integrity == Integrity.PENDING and info.probed_at is None
    assert "decoder crashed" in info.last_error
    assert not rec.derivatives.exists() and rec.ended_at is None
    assert "evidence.media.failed" in audit_actions(rec)
    assert not DBTaskResult.objects.exists()  # not a named transient error: no retry


# --- retry with back-off --------------------------------------------------------


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(20) == timedelta(hours=1)


def test_transient_error_is_retried_with_backoff_then_succeeds(
    db, local_store, recorder, media, monkeypatch
):
    rec = media_files.make_recording(media["h264"], recorder=recorder)
    real_probe = tasks.probe
    calls = {"n": 0}

    def flaky(path):
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransientError("对象存储暂时不可用")
        return real_probe(path)

    monkeypatch.setattr(tasks, "probe", flaky)
    start = timezone.now()
    outcome = process_recording.call(rec.pk)
    assert outcome.startswith("retry at")
    info = MediaInfo.objects.get(recording=rec)
    assert info.attempts == 1 and "对象存储暂时不可用" in info.last_error
    assert info.integrity == Integrity.PENDING
    retry = DBTaskResult.objects.get()
    assert retry.task_path == "jilu.evidence.tasks.process_recording"
    assert retry.args_kwargs == {"args": [rec.pk], "kwargs": {"force": False}}
    assert start + backoff(1) <= retry.run_after <= timezone.now() + backoff(1)
    assert "evidence.media.retry" in audit_actions(rec)

    # The retry runs (as the worker would, when its time has come) and succeeds.
    assert process_recording.call(*retry.args_kwargs["args"]) == Integrity.COMPLETE
    info.refresh_from_db()
    assert info.integrity == Integrity.COMPLETE and info.last_error == ""
    assert info.attempts == 1  # how many attempts failed before it worked


def test_gives_up_after_max_attempts_and_stays_visible(
    db, local_store, recorder, media, monkeypatch
):
    rec = media_files.make_recording(media["h264"], recorder=recorder)

    def down(path):
        raise TransientError("对象存储不可用")

    monkeypatch.setattr(tasks, "probe", down)
    for _ in range(MAX_ATTEMPTS - 1):
        assert process_recording.call(rec.pk).startswith("retry at")
    with pytest.raises(TransientError):
        process_recording.call(rec.pk)
    info = MediaInfo.objects.get(recording=rec)
    assert info.attempts == MAX_ATTEMPTS and info.integrity == Integrity.PENDING
    assert "对象存储不可用" in info.last_error
    assert DBTaskResult.objects.count() == MAX_ATTEMPTS - 1
    runs = list(DBTaskResult.objects.order_by("run_after").values_list("run_after", flat=True))
    gaps = [(b - a).total_seconds() for a, b in zip(runs, runs[1:], strict=False)]
    assert all(g > 0 for g in gaps)  # each retry waits longer than the one before
    assert audit_actions(rec).count("evidence.media.failed") == 1


def test_store_errors_on_s3_are_transient(db, settings, tmp_path, s3_endpoint, recorder, media):
    from jilu.evidence.tests.conftest import use_store

    use_store(settings, tmp_path, "s3", endpoint=s3_endpoint)
    rec = media_files.make_recording(media["h264"], recorder=recorder)
    # The object store goes away (nothing listens on port 9): a named transient error.
    settings.S3 = dataclasses.replace(settings.S3, endpoint_url="http://127.0.0.1:9")
    outcome = process_recording.call(rec.pk)
    assert outcome.startswith("retry at")
    assert MediaInfo.objects.get(recording=rec).attempts == 1


def test_s3_processing_leaves_no_spool_files(db, settings, tmp_path, s3_endpoint, recorder, media):
    from jilu.evidence.tests.conftest import use_store

    use_store(settings, tmp_path, "s3", endpoint=s3_endpoint)
    rec = media_files.make_recording(media["h265"], recorder=recorder)
    process_recording.call(rec.pk)
    assert rec.derivatives.filter(kind="playback").exists()
    spool = tmp_path / "spool" / "media"
    assert not any(spool.iterdir())


# --- enqueued on commit ------------------------------------------------------------


def test_enqueued_only_when_the_transaction_commits(
    db, local_store, recorder, media, django_capture_on_commit_callbacks
):
    rec = media_files.make_recording(media["h264"], recorder=recorder)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            enqueue_processing(rec.pk)
            assert not DBTaskResult.objects.exists()
    assert len(callbacks) == 1
    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs["args"] == [rec.pk] and queued.status == "READY"


def test_rolled_back_transaction_enqueues_nothing(
    db, local_store, recorder, media, django_capture_on_commit_callbacks
):
    rec = media_files.make_recording(media["h264"], recorder=recorder)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                enqueue_processing(rec.pk)
                raise RuntimeError("ingest failed")
        except RuntimeError:
            pass
    assert callbacks == [] and not DBTaskResult.objects.exists()


def test_immediate_backend_processes_on_commit(
    db, settings, local_store, recorder, media, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    rec = media_files.make_recording(media["wav"], recorder=recorder, kind="audio")
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            enqueue_processing(rec.pk)
    rec.refresh_from_db()
    assert rec.media.integrity == Integrity.COMPLETE
    assert rec.derivatives.get().kind == Derivative.Kind.WAVEFORM


def test_worker_runs_queued_processing(transactional_db, local_store, recorder, media):
    from django.core.management import call_command

    rec = media_files.make_recording(media["h264"], recorder=recorder)
    process_recording.enqueue(rec.pk)
    call_command("db_worker", "--batch", "--interval", "0")
    result = DBTaskResult.objects.get()
    assert result.status == "SUCCESSFUL", result.traceback
    rec.refresh_from_db()
    assert rec.media.integrity == Integrity.COMPLETE


# --- the task page ---------------------------------------------------------------


@pytest.fixture
def stuck(db, local_store, recorder, media, people):
    """A recording whose processing gave up, and one that never got processed."""
    failed = media_files.make_recording(media["h264"], recorder=recorder, officer=people["officer"])
    tasks.record_failure(
        recording_id=failed.pk, error="TransientError: 对象存储不可用", gave_up=True
    )
    never = media_files.make_recording(media["wav"], recorder=recorder, officer=people["officer"])
    type(never).objects.filter(pk=never.pk).update(created_at=timezone.now() - timedelta(hours=1))
    return failed, never


@pytest.mark.parametrize("who", ["officer", "squad_leader", "archivist", "legal_reviewer"])
def test_task_page_is_forbidden_to_others(client, people, who):
    client.force_login(people[who])
    assert client.get(reverse("tasks:list")).status_code == 403


def test_task_page_needs_sign_in(client, db):
    response = client.get(reverse("tasks:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_sees_tasks_and_problems_and_can_requeue(
    client, people, stuck, django_capture_on_commit_callbacks
):
    failed, never = stuck
    process_recording.enqueue(failed.pk)
    client.force_login(people["admin"])
    page = client.get(reverse("tasks:list"))
    assert page.status_code == 200
    html = page.content.decode()
    # The task in words, not a function name nor "18, force=False".
    assert "处理声像记录" in html and f"声像记录 #{failed.pk}" in html
    assert "<code>process_recording</code>" not in html and "force=" not in html
    assert f'id="problem-{failed.pk}"' in html and f'id="problem-{never.pk}"' in html
    assert "对象存储不可用" in html
    assert reverse("tasks:requeue", args=[failed.pk]) in html

    queued_before = DBTaskResult.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("tasks:requeue", args=[failed.pk]))
    assert response.status_code == 302
    info = MediaInfo.objects.get(recording=failed)
    assert info.attempts == 0 and info.last_error == ""
    assert DBTaskResult.objects.count() == queued_before + 1
    entry = AuditEntry.objects.filter(action="evidence.media.requeue").get()
    assert entry.object_id == str(failed.pk)


def test_inspector_reads_without_requeue(client, people, stuck):
    failed, _ = stuck
    client.force_login(people["inspector"])
    page = client.get(reverse("tasks:list"))
    assert page.status_code == 200
    assert f'id="problem-{failed.pk}"' in page.content.decode()
    assert reverse("tasks:requeue", args=[failed.pk]) not in page.content.decode()
    assert client.post(reverse("tasks:requeue", args=[failed.pk])).status_code == 403
    assert not AuditEntry.objects.filter(action="evidence.media.requeue").exists()


def test_requeue_is_post_only_and_scoped(client, people, stuck):
    failed, _ = stuck
    client.force_login(people["admin"])
    assert client.get(reverse("tasks:requeue", args=[failed.pk])).status_code == 405
    # An administrator of another district does not see squad1's recordings.
    client.force_login(people["squad_admin"])
    assert client.post(reverse("tasks:requeue", args=[failed.pk])).status_code == 404
    assert f'id="problem-{failed.pk}"' not in client.get(reverse("tasks:list")).content.decode()


def test_task_page_filters_by_status(client, people, stuck):
    failed, _ = stuck
    process_recording.enqueue(failed.pk)
    client.force_login(people["admin"])
    html = client.get(reverse("tasks:list"), {"status": "SUCCESSFUL"}).content.decode()
    assert "<code>process_recording</code>" not in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_requeues_a_failed_recording_in_the_browser(page, people, stuck):
    """The page an administrator uses, in Chromium: the failed recording is listed
    with its error, 重新排队 queues it again and the page says so."""
    from playwright.sync_api import expect

    from conftest import sign_in

    failed, _never = stuck
    sign_in(page, "admin")
    page.goto(page.base_url + reverse("tasks:list"))
    row = page.locator(f"#problem-{failed.pk}")
    assert "对象存储不可用" in row.inner_text()
    row.get_by_role("button", name="重新排队").click()
    # The answer comes back to the same address: wait for its message, not the URL.
    expect(page.locator(".messages")).to_contain_text("已重新排队处理")
    assert "处理声像记录" in page.locator("#tasks").inner_text()
    assert MediaInfo.objects.get(recording=failed).attempts == 0


@pytest.mark.parametrize(
    ("path", "args", "kwargs", "title", "subject"),
    [
        (
            "jilu.evidence.tasks.process_recording",
            [18],
            {"force": True},
            "处理声像记录",
            "声像记录 #18（重新处理）",
        ),
        ("jilu.evidence.tasks.process_recording", [18, False], {}, "处理声像记录", "声像记录 #18"),
        ("jilu.transfer.tasks.build_package_job", [7], {}, "制作案件光盘包", "光盘包 #7"),
        (
            "jilu.evidence.fixity_tasks.fixity_batch",
            [],
            {"part": 1, "parts": 4},
            "固定性校验",
            "第 2 份（共 4 份）",
        ),
        ("jilu.ingest.tasks.expire_uploads", [], {}, "清理过期", "全部到期的上传"),
    ],
)
def test_every_task_is_named_in_words(path, args, kwargs, title, subject):
    """Registered by the app that owns each task (transfer and ingest from their
    AppConfig.ready()), so the task page names them without importing them."""
    from jilu.evidence.task_labels import label_of

    shown_title, shown_subject = label_of(path, args, kwargs)
    assert title in shown_title and subject in shown_subject


def test_an_unknown_task_is_named_by_its_path():
    from jilu.evidence.task_labels import label_of

    assert label_of("some.app.tasks.job", [1], {"x": 2}) == ("job", "1, x=2")
