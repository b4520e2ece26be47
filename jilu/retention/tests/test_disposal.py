"""Disposal (C5.6): proposed per unit, reviewed by an archivist, approved by a
different leader, decided again from the facts before anything goes; what goes
leaves a tombstone that ``jilu verify`` and fixity accept, while any other
missing object still raises the alarm (C6.5.4). Time is moved by passing
``now``, never by sleeping."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from jilu.casework.tests.conftest import T0
from jilu.evidence.models import Tombstone
from jilu.evidence.store import get_store
from jilu.retention import actions
from jilu.retention.models import Disposal, DisposalItem

pytestmark = pytest.mark.django_db

LATER = T0 + timedelta(days=400)  # past the one-year minimum of recordings made at T0


@pytest.fixture
def old(make_recording):
    """Two recordings of 王五 at T0 (kept until T0 + 1 year) and one of 李四."""
    recs = [make_recording(start=T0), make_recording(start=T0 + timedelta(hours=1))]
    recs.append(make_recording("officer_b", start=T0 + timedelta(hours=2)))
    actions.recompute([r.pk for r in recs])
    return recs


def _propose(tree, now=LATER) -> Disposal:
    disposal = actions.propose_disposal(actor=actions.SYSTEM, unit=tree["squad1"], now=now)
    assert disposal is not None
    return disposal


def test_nothing_is_proposed_before_the_year_is_over(tree, old):
    assert (
        actions.propose_disposal(
            actor=actions.SYSTEM, unit=tree["squad1"], now=T0 + timedelta(days=300)
        )
        is None
    )


def test_two_people_then_tombstones_then_the_bytes_go(
    tree, people, old, django_capture_on_commit_callbacks
):
    store = get_store()
    disposal = _propose(tree)
    assert disposal.items.count() == 3 and disposal.state == Disposal.State.PROPOSED
    # A leader cannot approve a list nobody reviewed.
    with pytest.raises(ValidationError):
        actions.approve_disposal(actor=people["brigade_leader"], disposal=disposal)
    keep_item = disposal.items.get(recording=old[2])
    actions.review_disposal(
        actor=people["archivist"], disposal=disposal, exclude={keep_item.pk: "当事人申请复核"}
    )
    actions.approve_disposal(actor=people["brigade_leader"], disposal=disposal)
    with django_capture_on_commit_callbacks(execute=True):
        actions.execute_disposal(actor=actions.SYSTEM, disposal=disposal, now=LATER)
    disposal.refresh_from_db()
    assert disposal.state == Disposal.State.EXECUTED
    gone = [old[0], old[1]]
    for rec in gone:
        tomb = Tombstone.objects.get(pk=rec.sha256)
        assert tomb.disposal_ref == disposal.number and tomb.rule == "original"
        assert rec.original_name in tomb.names and tomb.size == rec.size
        assert tomb.store_deleted_at is not None
        assert not store.exists(rec.sha256)
    assert store.exists(old[2].sha256)  # excluded by the archivist
    assert keep_item.__class__.objects.get(pk=keep_item.pk).outcome == DisposalItem.Outcome.EXCLUDED
    # jilu verify accepts what was disposed of as approved ...
    call_command("verify", stdout=io.StringIO())
    # ... and still fails on an object that is missing without a tombstone (C6.5.4).
    store.delete(old[2].sha256)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify", stdout=out)
    assert old[2].sha256 in out.getvalue() and "disposed under" in out.getvalue()


def test_one_person_alone_cannot_dispose(tree, people, old, make_person):
    """The archivist who reviewed may not approve, even holding a leader's role too."""
    both = make_person("both", unit="brigade", roles=("archivist", "brigade_leader"))
    disposal = _propose(tree)
    with pytest.raises(PermissionDenied):  # an officer reviews nothing
        actions.review_disposal(actor=people["officer"], disposal=disposal)
    actions.review_disposal(actor=both, disposal=disposal)
    with pytest.raises(PermissionDenied, match="两个不同的人"):
        actions.approve_disposal(actor=both, disposal=disposal)
    assert not Tombstone.objects.exists()


def test_what_must_be_kept_by_then_is_kept(tree, people, old):
    """A hold placed after approval: the item is decided again and kept, and says why."""
    disposal = _propose(tree)
    actions.review_disposal(actor=people["archivist"], disposal=disposal)
    actions.approve_disposal(actor=people["brigade_leader"], disposal=disposal)
    actions.place_hold(
        actor=people["inspector"], kind="inspection", reason="举报核查", recording=old[0]
    )
    actions.execute_disposal(actor=actions.SYSTEM, disposal=disposal, now=LATER)
    item = disposal.items.get(recording=old[0])
    assert item.outcome == DisposalItem.Outcome.KEPT and "保全" in item.note
    assert get_store().exists(old[0].sha256)
    assert not Tombstone.objects.filter(pk=old[0].sha256).exists()


def test_a_refused_list_deletes_nothing(tree, people, old):
    disposal = _propose(tree)
    with pytest.raises(ValidationError):
        actions.refuse_disposal(actor=people["archivist"], disposal=disposal, note=" ")
    actions.refuse_disposal(actor=people["archivist"], disposal=disposal, note="清单有误")
    with pytest.raises(ValidationError):
        actions.execute_disposal(actor=actions.SYSTEM, disposal=disposal, now=LATER)
    assert not Tombstone.objects.exists()


def test_fixity_takes_a_tombstoned_object_as_gone_not_lost(tree, people, old):
    from jilu.evidence.fixity import due_queryset, open_alarms
    from jilu.evidence.missing import raise_alarm

    disposal = _propose(tree)
    actions.review_disposal(actor=people["archivist"], disposal=disposal)
    actions.approve_disposal(actor=people["brigade_leader"], disposal=disposal)
    actions.execute_disposal(actor=actions.SYSTEM, disposal=disposal, now=LATER)
    keys = set(due_queryset(LATER + timedelta(days=400)).values_list("pk", flat=True))
    assert old[0].sha256 not in keys
    assert raise_alarm(old[0].sha256) is False and not open_alarms().exists()


def test_dry_run_lists_and_writes_nothing(tree, old):
    out = io.StringIO()
    call_command("dispose", "--dry-run", "--unit", tree["squad1"].code, stdout=out)
    # Not due yet today (the recordings are from T0 and "now" is real time ≥ T0 + 1 year?)
    text = out.getvalue()
    assert "nothing was deleted" in text
    assert not Disposal.objects.exists()
    with pytest.raises(CommandError, match="no unit has this code"):
        call_command("dispose", "--unit", "999999999999", stdout=io.StringIO())


def test_disposal_list_prints(tree, people, old, poppler, tmp_path):
    import subprocess

    from openpyxl import load_workbook

    from jilu.retention import printing

    disposal = _propose(tree)
    pdf = tmp_path / "list.pdf"
    pdf.write_bytes(printing.pdf(disposal))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    assert "声像资料销毁清单" in text and disposal.number in text
    assert "王五" in text and "李四" in text and "A000001" in text
    wb = load_workbook(io.BytesIO(printing.xlsx(disposal)))
    ws = wb.active
    assert disposal.number in ws["A1"].value
    assert isinstance(ws.cell(5, 5).value, datetime)
    assert {ws.cell(r, 6).value for r in range(5, 8)} == {r.sha256 for r in old}


def test_object_lock_refuses_a_delete_before_keep_until(
    settings, tmp_path, s3_endpoint, make_recording
):
    """With an S3 store under Object Lock the store itself refuses to delete an
    object before its keep-until, extended whenever the keep-until grows (C5.6)."""
    from jilu.evidence.store import ObjectRetained
    from jilu.evidence.tests.conftest import use_store

    store = use_store(settings, tmp_path, "s3", endpoint=s3_endpoint, lock_days=1)
    rec = make_recording(start=T0)
    actions.recompute([rec.pk])
    head = store.client.head_object(Bucket=store.bucket, Key=store.object_key(rec.sha256))
    # Extended from the store's 1-day default to the keep-until (2027-11-26 in Xiamen).
    assert head["ObjectLockRetainUntilDate"].date().isoformat() == "2027-11-25"
    with pytest.raises(ObjectRetained):
        store.delete(rec.sha256)
    assert store.exists(rec.sha256)
