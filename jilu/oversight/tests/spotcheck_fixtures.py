"""Helpers of the spot-check tests: recordings spread over two weeks of
November 2026 and a way to draw a spot check as the inspector."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jilu.casework.tests.conftest import T0

# T0 is Thursday 2026-11-26 09:00 Beijing: week 48 runs 11-23 .. 11-29.
WEEK48 = T0
WEEK49 = T0 + timedelta(days=5)  # Tuesday 2026-12-01


@pytest.fixture
def draw(people, tree):
    from jilu.oversight.spotcheck_actions import draw_spot_check

    def make(units=("squad1",), *, per_stratum=3, seed="", kind="recordings", per="week", **kw):
        return draw_spot_check(
            actor=kw.pop("actor", people["inspector"]),
            kind=kind,
            first_day=kw.pop("first_day", date(2026, 11, 23)),
            last_day=kw.pop("last_day", date(2026, 12, 3)),
            per=per,
            per_stratum=per_stratum,
            unit_ids=[tree[u].pk for u in units],
            seed=seed,
        )

    return make


def all_pass(kind: str = "recordings") -> dict[str, str]:
    from jilu.oversight.spotcheck_checklist import items_for

    return {c.code: "pass" for c in items_for(kind)}
