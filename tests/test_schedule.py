"""Periodic work: ``jilu worker`` enqueues each periodic task once per interval
(the fixity schedule of C6.5.3/C6.5.4 depends on it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from jilu import schedule

RUNS: list[int] = []


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
            schedule.Periodic("tests.test_schedule.tick_task", timedelta(minutes=10)),
            schedule.Periodic("tests.test_schedule.no_such_task", timedelta(minutes=10)),
        ],
    )


@pytest.mark.django_db
def test_a_periodic_task_is_enqueued_once_per_interval(only_tick):
    now = timezone.now()
    assert schedule.enqueue_due(now) == ["tests.test_schedule.tick_task"]
    assert schedule.enqueue_due(now + timedelta(minutes=5)) == []
    assert DBTaskResult.objects.filter(task_path="tests.test_schedule.tick_task").count() == 1
    assert schedule.enqueue_due(now + timedelta(minutes=11)) == ["tests.test_schedule.tick_task"]
    assert DBTaskResult.objects.filter(task_path="tests.test_schedule.tick_task").count() == 2


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
    assert path in schedule.enqueue_due()
    queued = DBTaskResult.objects.filter(task_path=path)
    shares = [r.args_kwargs["kwargs"] for r in queued]
    assert sorted((k["part"], k["parts"]) for k in shares) == [
        (0, 4),
        (1, 4),
        (2, 4),
        (3, 4),
    ]
    assert path not in schedule.enqueue_due()  # not again within the interval


def test_fixity_parallel_setting_is_checked(monkeypatch):
    from jilu import conf

    monkeypatch.setenv("JILU_T_PARALLEL", "17")
    with pytest.raises(conf.ConfigError, match="too large: the maximum is 16"):
        conf.env_int("JILU_T_PARALLEL", 1, minimum=1, maximum=16)
