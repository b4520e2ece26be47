"""Fixtures of the findings tests: a controlled clock and a way to run the rules.

Imported by the findings test modules (``from … import *``), beside the
casework fixtures of this package's conftest.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from jilu.oversight import clock as oversight_clock


class Clock:
    def __init__(self, monkeypatch) -> None:
        self.at: datetime | None = None
        monkeypatch.setattr(oversight_clock, "now", self.now)

    def now(self) -> datetime:
        from django.utils import timezone

        return self.at or timezone.now()

    def set(self, at: datetime) -> None:
        self.at = at


@pytest.fixture
def clock(monkeypatch):
    """The rules' time, set by the test (real time until set)."""
    return Clock(monkeypatch)


@pytest.fixture
def run_rules():
    from jilu.oversight.tasks import run_all

    return run_all


def findings(rule: str):
    from jilu.oversight.models import Finding

    return list(Finding.objects.filter(rule=rule).order_by("pk"))


def fact_ids(finding, kind: str = "recording") -> set[str]:
    return set(finding.facts.filter(kind=kind).values_list("object_id", flat=True))
