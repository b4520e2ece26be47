"""``jilu seed-demo-history``: the demo bureau's last month, so that on first
start the findings list, the ledgers and the inspector's home show what they
are for (C6.1, C6.4). The plan's breaches land on working days whatever today
is, and each makes the finding of its rule (C5.1, C5.2, C2.1, C4.3, C3.2,
C1.4, C2.2); a confirmed duty-log note clears its activity (C6.2)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command


@pytest.fixture
def demo(db, settings, tmp_path):
    from jilu.evidence.tests.conftest import use_store

    use_store(settings, tmp_path, "file")
    call_command("seed_demo", stdout=io.StringIO())


def test_the_shipped_plan_lands_on_working_days(demo):
    from jilu.web import demo_history

    officers = demo_history._officers()
    assert len(officers) == 20
    assert demo_history.check_plan(officers, demo_history.EXCEPTIONS, 30) == []


def test_an_impossible_plan_is_refused_before_anything_is_written(demo):
    from jilu.casework.models import Activity
    from jilu.web import demo_history

    officers = demo_history._officers()
    resting = next(o for o in officers if not demo_history.on_duty(o, 10))
    plan = demo_history.Exceptions(
        late_dock={(resting.person.username, 10): timedelta(days=2)},
        skipped={("officer13", 7)},  # without the rest of the pair
    )
    problems = demo_history.check_plan(officers, plan, 30)
    assert any("off duty 10 days back" in p for p in problems)
    assert any("without the rest of the pair" in p for p in problems)
    with pytest.raises(RuntimeError, match="plan is impossible"):
        demo_history.seed(days=10, exceptions=plan)
    assert not Activity.objects.exists()


def test_a_short_history_makes_the_findings_of_its_breaches_once(demo):
    from jilu.casework.models import Activity
    from jilu.evidence.models import Recording
    from jilu.oversight.models import Finding, LedgerConfirmation
    from jilu.web import demo_history

    # Four days back officer12 works (index 2), three days back officer13
    # (index 3), with squad3 and officer31 as one pair (see on_duty and _pairs);
    # an activity is judged once its grace period is over.
    plan = demo_history.Exceptions(
        late_dock={("officer12", 4): timedelta(days=1, hours=8)},
        never_annotated={("officer13", 3)},
        skipped={("squad3", 3), ("officer31", 3)},
        low_battery={("officer12", 3): 5},
        off_duty={("officer22", 3)},
    )
    assert demo_history.check_plan(demo_history._officers(), plan, 5) == []
    history = demo_history.seed(days=5, exceptions=plan)
    assert history.dockings > 40 and len(history.recordings) == Recording.objects.count()
    assert not Recording.objects.filter(media__isnull=True).exists()  # processed

    def who(rule: str) -> set[str]:
        return set(Finding.objects.filter(rule=rule).values_list("person__username", flat=True))

    assert who("late_collection") == {"officer12"}  # C5.1
    # C5.2, still unannotated: officer13's clip, and officer22's evening clip,
    # which no activity explains.
    assert who("late_annotation") == {"officer13", "officer22"}
    assert len(who("no_recording")) == 1  # C2.1: the skipped pair's activity
    assert who("low_battery") == {"officer12"}  # C1.4
    assert who("off_duty_recording") == {"officer22"}  # C2.2 candidate
    assert not Finding.objects.filter(rule__in=["clock_drift", "unrecorded_time"]).exists()
    on_time = Recording.objects.exclude(officer__username="officer12")
    assert on_time.exists() and not on_time.filter(collected_within_24h=False).exists()

    # Walked through the workflow and the ledgers confirmed, as the plan says.
    assert LedgerConfirmation.objects.count() == 2
    assert Finding.objects.get(rule="late_collection").state == "explained"

    # Once: a second run writes nothing.
    activities = Activity.objects.count()
    again = demo_history.seed(days=5, exceptions=plan)
    assert again.dockings == 0 and Activity.objects.count() == activities
