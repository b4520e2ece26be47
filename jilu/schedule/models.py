"""The one table of the scheduler: who enqueued each periodic task's period."""

from __future__ import annotations

from django.db import models


class PeriodClaim(models.Model):
    """A periodic task's run for one period, claimed by the scheduler that enqueued it.

    The unique constraint is the whole coordination between schedulers: the
    first to insert (task, period start) enqueues that period's run, in the
    same transaction; every other scheduler's insert conflicts and it does
    nothing. Only the last two periods of each task are kept.
    """

    task_path = models.CharField(max_length=255)
    period_start = models.DateTimeField()
    claimed_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=200)  # host:pid of the scheduler

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task_path", "period_start"], name="schedule_one_claim_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_path} @ {self.period_start:%Y-%m-%d %H:%M}"
