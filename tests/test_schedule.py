"""Periodic work: ``jilu worker`` enqueues each periodic task exactly once per
period, however many workers run the scheduler (the fixity schedule of
C6.5.3/C6.5.4 depends on it)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from jilu import schedule
from jilu.conf import database_url
from jilu.schedule.models import PeriodClaim

RUNS: list[int] = []
TICK = "tests.test_schedule.tick_task"


@task()
def tick_task() -> int:
    RUNS.append(1)
    return len(RUNS)


@pytest.fixture
def only_tick(monkeypatch):
    monkeypatch.setattr(
        schedule,
        "periodic_tasks",
        lambda: [
            schedule.Periodic(TICK, timedelta(minutes=10)),
            schedule.Periodic("tests.test_schedule.no_such_task", timedelta(minutes=10)),
        ],
    )


def test_periods_are_fixed_slices_of_time_every_scheduler_names_alike():
    ten = timedelta(minutes=10)
    at = datetime(2026, 12, 4, 9, 37, 12, tzinfo=UTC)
    assert schedule.period_start(at, ten) == datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    boundary = datetime(2026, 12, 4, 9, 40, tzinfo=UTC)
    assert schedule.period_start(boundary, ten) == boundary
    assert schedule.period_start(boundary - timedelta(microseconds=1), ten) == at.replace(
        minute=30, second=0
    )
    # The same instant in another time zone is in the same period.
    shanghai = at.astimezone(timezone.get_fixed_timezone(8 * 60))
    assert schedule.period_start(shanghai, ten) == schedule.period_start(at, ten)
    week = timedelta(days=7)
    assert schedule.period_start(at, week) == datetime(2026, 12, 3, tzinfo=UTC)  # a Thursday


@pytest.mark.django_db
def test_a_periodic_task_is_enqueued_once_per_period(only_tick):
    start = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    assert schedule.enqueue_due(start + timedelta(minutes=1)) == [TICK]
    assert schedule.enqueue_due(start + timedelta(minutes=9, seconds=59)) == []
    assert DBTaskResult.objects.filter(task_path=TICK).count() == 1
    assert schedule.enqueue_due(start + timedelta(minutes=10)) == [TICK]
    assert DBTaskResult.objects.filter(task_path=TICK).count() == 2
    # A scheduler whose clock is behind names the earlier period, already enqueued.
    assert schedule.enqueue_due(start + timedelta(minutes=3)) == []
    assert DBTaskResult.objects.filter(task_path=TICK).count() == 2


@pytest.mark.django_db
def test_only_the_last_two_periods_are_remembered(only_tick):
    start = datetime(2026, 12, 4, tzinfo=UTC)
    for n in range(5):
        schedule.enqueue_due(start + n * timedelta(minutes=10))
    kept = PeriodClaim.objects.filter(task_path=TICK).values_list("period_start", flat=True)
    assert sorted(kept) == [start + timedelta(minutes=30), start + timedelta(minutes=40)]
    assert DBTaskResult.objects.filter(task_path=TICK).count() == 5
    # A scheduler still in a forgotten period (it lagged) does not enqueue it again.
    assert schedule.enqueue_due(start + timedelta(minutes=1)) == []
    assert DBTaskResult.objects.filter(task_path=TICK).count() == 5
    assert PeriodClaim.objects.filter(task_path=TICK).count() == 2


@pytest.mark.django_db
def test_a_failed_enqueue_leaves_the_period_to_the_next_tick(only_tick, monkeypatch):
    """The claim and the enqueue are one transaction: a queue that refuses the
    task leaves the period unclaimed, so it is not lost."""
    at = datetime(2026, 12, 4, 9, 31, tzinfo=UTC)

    def refuse(*args, **kwargs):
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(type(tick_task), "enqueue", refuse)
    with pytest.raises(ConnectionError):
        schedule.enqueue_due(at)
    assert not PeriodClaim.objects.exists()
    monkeypatch.undo()
    monkeypatch.setattr(
        schedule, "periodic_tasks", lambda: [schedule.Periodic(TICK, timedelta(minutes=10))]
    )
    assert schedule.enqueue_due(at + timedelta(seconds=30)) == [TICK]
    assert DBTaskResult.objects.filter(task_path=TICK).count() == 1


@pytest.mark.django_db
def test_the_real_schedule_names_importable_tasks():
    for item in schedule.periodic_tasks():
        assert schedule._load(item.task_path) is not None, item.task_path
        assert item.every >= timedelta(minutes=1)


@pytest.mark.django_db
def test_fixity_is_split_across_workers_when_asked(settings):
    """JILU_FIXITY_PARALLEL=4: each interval enqueues four fixity batches, one per
    share of the objects, so four workers re-read the store side by side (C6.5.3)."""
    settings.FIXITY_PARALLEL = 4
    path = "jilu.evidence.fixity_tasks.fixity_batch"
    now = timezone.now()
    assert path in schedule.enqueue_due(now)
    queued = DBTaskResult.objects.filter(task_path=path)
    shares = [r.args_kwargs["kwargs"] for r in queued]
    assert sorted((k["part"], k["parts"]) for k in shares) == [
        (0, 4),
        (1, 4),
        (2, 4),
        (3, 4),
    ]
    assert path not in schedule.enqueue_due(now)  # not again within the interval


def test_fixity_parallel_setting_is_checked(monkeypatch):
    from jilu import conf

    monkeypatch.setenv("JILU_T_PARALLEL", "17")
    with pytest.raises(conf.ConfigError, match="too large: the maximum is 16"):
        conf.env_int("JILU_T_PARALLEL", 1, minimum=1, maximum=16)


# --- several schedulers at once ------------------------------------------------

PERIODS = 10
WEEK = timedelta(days=7)  # every periodic task's interval divides a week


class Clock:
    """The time the schedulers read, moved on by the test one period at a time.

    ``advance`` returns once every scheduler has read the new time three times:
    it has then finished at least two ticks in the new period, the first of them
    racing the other schedulers' first tick."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.reads: Counter[int] = Counter()
        self.changed = threading.Condition()

    def __call__(self) -> datetime:
        with self.changed:
            self.reads[threading.get_ident()] += 1
            self.changed.notify_all()
            return self.now

    def advance(self, by: timedelta, schedulers: list[schedule.Scheduler]) -> None:
        with self.changed:
            self.now += by
            self.reads.clear()
            self.changed.notify_all()
        self.wait_for(schedulers)

    def wait_for(self, schedulers: list[schedule.Scheduler]) -> None:
        with self.changed:
            done = self.changed.wait_for(
                lambda: all(self.reads[s.ident] >= 3 for s in schedulers), timeout=120
            )
        assert done, "a scheduler stopped ticking"


def run_schedulers(count: int, start: datetime) -> None:
    """``count`` schedulers, as ``count`` workers run them, tick through
    ``PERIODS`` periods on a controlled clock (no real waiting for the periods)."""
    clock = Clock(start)
    schedulers = [schedule.Scheduler(tick_seconds=0.005, clock=clock) for _ in range(count)]
    for scheduler in schedulers:
        scheduler.start()
    try:
        clock.wait_for(schedulers)
        for _ in range(PERIODS - 1):
            clock.advance(WEEK, schedulers)
    finally:
        for scheduler in schedulers:
            scheduler.stop()
        for scheduler in schedulers:
            scheduler.join(timeout=60)


def _assert_each_task_enqueued_once_per_period(enqueued: list[tuple[str, dict]], caplog):
    assert not [r for r in caplog.records if r.name == "jilu.schedule" and r.levelno >= 40]
    counts = Counter(path for path, _ in enqueued)
    for item in schedule.periodic_tasks():
        assert counts[item.task_path] == PERIODS * item.fanout, (item.task_path, counts)
    fixity = [kw for path, kw in enqueued if path.endswith("fixity_batch")]
    assert Counter(kw["part"] for kw in fixity) == {0: PERIODS, 1: PERIODS}


@pytest.mark.db_sensitive
def test_two_workers_schedulers_enqueue_each_task_once_per_period(
    transactional_db, settings, caplog
):
    """Two schedulers on the database queue (SQLite here, PostgreSQL in the
    PostgreSQL pass), ten periods: each periodic task enqueued exactly ten times."""
    settings.FIXITY_PARALLEL = 2
    caplog.set_level(logging.INFO, logger="jilu.schedule")
    run_schedulers(2, schedule.period_start(timezone.now(), WEEK) + timedelta(minutes=1))
    enqueued = [(r.task_path, r.args_kwargs["kwargs"]) for r in DBTaskResult.objects.all()]
    _assert_each_task_enqueued_once_per_period(enqueued, caplog)


@pytest.mark.db_sensitive
def test_two_workers_schedulers_enqueue_each_task_once_per_period_on_rq(
    transactional_db, settings, rq_backend, caplog
):
    """The same on RQ: the jobs in the Redis queue are ten of each periodic task."""
    settings.FIXITY_PARALLEL = 2
    caplog.set_level(logging.INFO, logger="jilu.schedule")
    run_schedulers(2, schedule.period_start(timezone.now(), WEEK) + timedelta(minutes=1))
    assert not DBTaskResult.objects.exists()
    queue = rq_backend.queue()
    jobs = queue.get_jobs()
    assert len(jobs) == queue.count
    _assert_each_task_enqueued_once_per_period([(j.func_name, j.kwargs) for j in jobs], caplog)


@pytest.mark.django_db(transaction=True)
def test_a_scheduler_only_process_enqueues_and_runs_nothing(tmp_path):
    """`jilu worker --schedule-only` (a scheduler unit of its own) claims and
    enqueues the current period of every periodic task, runs none of them, and
    stops cleanly on SIGTERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JILU_")}
    env.update(
        DJANGO_SETTINGS_MODULE="jilu.settings",
        JILU_DATA_DIR=str(tmp_path),
        JILU_SECRET_KEY="s" * 50,
        JILU_DATABASE_URL=database_url(connection.settings_dict),
    )
    jilu = str(Path(sys.executable).with_name("jilu"))
    proc = subprocess.Popen(
        [jilu, "worker", "--schedule-only"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    expected = {item.task_path for item in schedule.periodic_tasks()}
    try:
        deadline = time.monotonic() + 120  # a bound against hanging, not a measurement
        while set(PeriodClaim.objects.values_list("task_path", flat=True)) != expected:
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the scheduler claimed nothing"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    queued = Counter(DBTaskResult.objects.values_list("task_path", flat=True))
    assert queued == {item.task_path: item.fanout for item in schedule.periodic_tasks()}
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"READY"}
