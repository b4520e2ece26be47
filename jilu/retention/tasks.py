"""Background work of retention (C5.6): each week every unit's disposal list is
proposed; approved disposals are carried out; objects whose store deletion was
refused or failed are tried again. All idempotent, safe to run any time."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from jilu.evidence import disposal as evidence_disposal
from jilu.retention import actions
from jilu.retention.models import Disposal

SYSTEM = actions.SYSTEM


@task()
def propose_disposals() -> list[str]:
    """A new list for each unit with recordings past their keep-until and not
    already on a list; returns the numbers proposed."""
    made = []
    for unit in actions.units_with_recordings():
        disposal = actions.propose_disposal(actor=SYSTEM, unit=unit)
        if disposal is not None:
            made.append(disposal.number)
    return made


@task()
def execute_approved() -> list[str]:
    """Carry out every approved disposal, then retry store deletions left pending."""
    done = []
    for pk in Disposal.objects.filter(state=Disposal.State.APPROVED).values_list("pk", flat=True):
        with transaction.atomic():
            disposal = Disposal.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if disposal is None or disposal.state != Disposal.State.APPROVED:
                continue
            actions.execute_disposal(actor=SYSTEM, disposal=disposal)
            done.append(disposal.number)
    evidence_disposal.delete_pending()
    return done


def enqueue_execution() -> None:
    """After an approval: carry it out in the background once the approval commits."""
    transaction.on_commit(lambda: execute_approved.enqueue(), robust=True)
