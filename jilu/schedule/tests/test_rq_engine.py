"""Background tasks on RQ (``JILU_TASKS_BACKEND=rq``), with real Redis and real
``jilu worker`` processes: a task whose worker dies is run again by another
worker, with nobody re-queueing it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus

from jilu import conf
from jilu.schedule.tests.tasks import fail_once, hold_then_record

JILU = str(Path(sys.executable).with_name("jilu"))


def wait_until(condition, what: str, timeout: float = 120.0):
    """Poll ``condition`` until it holds; a generous bound only keeps a broken
    run from hanging, it is not what the test measures."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"gave up waiting: {what}")


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    # Its own session, so the test can kill the worker with everything it started.
    with open(log, "ab") as out:
        return subprocess.Popen(
            [JILU, "worker", "--no-schedule"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def worker_env(tmp_path: Path, rq_backend) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JILU_")}
    env.update(rq_backend.env)
    env.update(
        DJANGO_SETTINGS_MODULE="jilu.settings",
        JILU_DATA_DIR=str(tmp_path / "worker-data"),
        JILU_SECRET_KEY="w" * 50,
    )
    return env


def stop(proc: subprocess.Popen) -> int:
    """Stop a worker as systemd does (SIGTERM); its exit status."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def test_a_task_whose_worker_was_killed_is_completed_by_another_worker_once(rq_backend, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "hold").touch()
    result = hold_then_record.enqueue(str(work))
    attempts = work / "attempts"

    env = worker_env(tmp_path, rq_backend)
    first = start_worker(env, tmp_path / "first.log")
    second = None
    try:
        # The first worker is alone, so the task is its; it is now running, held.
        horse = int(wait_until(lambda: attempts.exists() and attempts.read_text(), "1st attempt"))
        second = start_worker(env, tmp_path / "second.log")
        from rq import Worker

        queue = rq_backend.queue()
        wait_until(lambda: len(Worker.all(queue=queue)) == 2, "the second worker to register")

        # The machine of the first worker is lost: the worker, its scheduler and
        # the child running the task (in a process group of its own) die at once.
        os.killpg(first.pid, signal.SIGKILL)
        os.kill(horse, signal.SIGKILL)
        first.wait(timeout=60)
        (work / "hold").unlink()

        def finished():
            result.refresh()
            return result.status in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)

        wait_until(finished, "the task to be run again and finish")
    finally:
        stop(first)
        stopped = stop(second) if second is not None else None
    logs = "\n".join(p.read_text(errors="replace") for p in tmp_path.glob("*.log"))

    assert result.status == TaskResultStatus.SUCCESSFUL, logs
    assert stopped == 0, logs  # the second worker stopped cleanly on SIGTERM
    assert result.return_value == "done"
    runs = attempts.read_text().split()
    assert len(runs) == 2 and runs[0] == str(horse) and runs[1] != runs[0], runs
    # The effect happened once, in the second run.
    assert (work / "effect").read_text().split() == [runs[1]]
    # RQ found the abandoned run and re-ran it with one of the job's retries.
    job = queue.fetch_job(result.id)
    assert job.retries_left == rq_backend.retries - 1
    assert job.meta["_django_tasks_rq_exceptions"] == ["rq.exceptions.AbandonedJobError"]


def test_a_task_that_raises_has_failed_as_on_the_database_queue(rq_backend, tmp_path):
    """RQ's retries are for runs that were lost; a task that raised is not run
    again behind its back (its own code retries where it should)."""
    work = tmp_path / "work"
    work.mkdir()
    result = fail_once.enqueue(str(work))
    worker = start_worker(worker_env(tmp_path, rq_backend), tmp_path / "worker.log")
    try:

        def finished():
            result.refresh()
            return result.status in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)

        wait_until(finished, "the task to run")
    finally:
        stopped = stop(worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert result.status == TaskResultStatus.FAILED, log
    assert [e.exception_class_path for e in result.errors] == ["builtins.RuntimeError"]
    assert len((work / "runs").read_text().split()) == 1
    queue = rq_backend.queue()
    assert queue.failed_job_registry.get_job_ids() == [result.id]
    assert queue.scheduled_job_registry.count == 0 and queue.count == 0
    assert stopped == 0, log


def test_a_deferred_task_is_put_on_the_queue_by_rqs_scheduler(rq_backend, tmp_path):
    """A task enqueued to run later (``run_after``, as process_recording retries
    itself) waits in RQ's scheduled-job registry; RQ's scheduler, which the
    workers run one at a time under RQ's lock, puts it on the queue."""
    work = tmp_path / "work"
    work.mkdir()
    later = timezone.now() + timedelta(seconds=1)
    result = hold_then_record.using(run_after=later).enqueue(str(work))
    queue = rq_backend.queue()
    assert queue.scheduled_job_registry.get_job_ids() == [result.id] and queue.count == 0
    env = worker_env(tmp_path, rq_backend)
    workers = [start_worker(env, tmp_path / f"worker{n}.log") for n in range(2)]
    try:

        def finished():
            result.refresh()
            return result.status in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)

        wait_until(finished, "the deferred task to run")
        # A worker stopped while still starting up dies of the SIGTERM before it
        # handles it; the clean shutdown checked below is that of running workers.
        for n in range(2):
            log = tmp_path / f"worker{n}.log"
            wait_until(lambda log=log: "Listening on" in log.read_text(errors="replace"), log.name)
    finally:
        stopped = [stop(proc) for proc in workers]
    logs = "\n".join(p.read_text(errors="replace") for p in tmp_path.glob("*.log"))
    assert result.status == TaskResultStatus.SUCCESSFUL, logs
    assert result.started_at >= later
    assert len((work / "attempts").read_text().split()) == 1
    assert "Acquired scheduler lock for default" in logs
    assert stopped == [0, 0], logs


def test_jobs_carry_retries_and_the_job_timeout(rq_backend):
    result = hold_then_record.enqueue("/nonexistent")
    job = rq_backend.queue().fetch_job(result.id)
    assert job.retries_left == rq_backend.retries
    assert job.timeout == 600
    assert job.func_name == "jilu.schedule.tests.tasks.hold_then_record"


# --- settings ------------------------------------------------------------------


def test_rq_needs_a_redis_url(monkeypatch):
    monkeypatch.delenv("JILU_REDIS_URL", raising=False)
    with pytest.raises(conf.ConfigError, match="JILU_TASKS_BACKEND=rq needs JILU_REDIS_URL"):
        conf.read_rq()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://redis:6379/0", "must be a URL such as redis://"),
        ("redis:///0", "must be a URL such as redis://"),
        ("redis://redis:port/0", "the port is not a number"),
        ("redis://redis:6379/jobs", "the database .* is not a number"),
        ("unix://", "the socket path is missing"),
    ],
)
def test_a_malformed_redis_url_is_refused(monkeypatch, url, message):
    monkeypatch.setenv("JILU_REDIS_URL", url)
    with pytest.raises(conf.ConfigError, match=message):
        conf.read_rq()


def test_rq_settings_are_read(monkeypatch):
    monkeypatch.setenv("JILU_REDIS_URL", "rediss://:pw@redis.internal:6380/2")
    monkeypatch.setenv("JILU_RQ_ABANDONED_AFTER_SECONDS", "2")
    with pytest.raises(conf.ConfigError, match="too small: the minimum is 3"):
        conf.read_rq()
    monkeypatch.setenv("JILU_RQ_ABANDONED_AFTER_SECONDS", "300")
    monkeypatch.setenv("JILU_RQ_RETRIES", "5")
    config = conf.read_rq()
    assert config == conf.RQConfig(
        redis_url="rediss://:pw@redis.internal:6380/2",
        job_timeout=6 * 3600,
        retries=5,
        retry_delay=60,
        abandoned_after=300,
    )
    django = conf.rq_django_settings(config)
    assert django["TASKS"]["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    assert django["RQ_QUEUES"]["default"]["URL"] == config.redis_url


def test_jilu_starts_and_checks_in_city_mode(tmp_path, redis_url):
    """`jilu check` with the RQ backend: django-tasks-rq's own checks (django_rq
    installed, the queue configured) pass."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JILU_")}
    env.update(
        DJANGO_SETTINGS_MODULE="jilu.settings",
        JILU_DATA_DIR=str(tmp_path),
        JILU_TASKS_BACKEND="rq",
        JILU_REDIS_URL=redis_url,
    )
    done = subprocess.run(
        [JILU, "check"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
