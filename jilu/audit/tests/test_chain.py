"""The audit chain: append-only, hash-linked, and checked by ``jilu verify``.

Cites C6.5.3 (altering records) and C6.5.7 (acting outside the procedure):
every change leaves a row that cannot be rewritten unnoticed.
"""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from jilu.audit.chain import GENESIS, AuditError, entry_hash, record
from jilu.audit.models import AuditEntry, AuditHead
from jilu.audit.tests.tamper import append, drop_triggers
from jilu.audit.verify import verify_chain


@pytest.mark.django_db
def test_entries_link_into_a_chain_that_verifies():
    entries = append(5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    stored = list(AuditEntry.objects.order_by("seq"))
    assert [entry_hash(e) for e in stored] == [e.hash for e in stored]
    report = verify_chain()
    assert report.ok and report.checked == 5
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (5, entries[-1].hash)


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(AuditError):
        record("test.event", actor=None)


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_audit_row():
    append(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        record("test.event", actor=None)
        raise RuntimeError("the change failed")
    assert AuditEntry.objects.count() == 1
    assert verify_chain().ok


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_triggers_refuse_update_and_delete():
    """C6.5.3: the database itself refuses to rewrite or remove audit rows."""
    append(2)
    table = AuditEntry._meta.db_table
    for sql in (
        f"UPDATE {table} SET action = 'forged' WHERE seq = 1",
        f"DELETE FROM {table} WHERE seq = 2",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(seq=1).update(action="forged")
    assert AuditEntry.objects.get(seq=1).action == "test.event"
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cur.execute(f"TRUNCATE {table} CASCADE")
    assert AuditEntry.objects.count() == 2


def _verify_fails(match: str) -> None:
    with pytest.raises(CommandError, match=match) as excinfo:
        call_command("verify", "--skip-objects")
    assert excinfo.value.returncode == 1


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_verify_names_an_altered_entry_after_triggers_are_dropped():
    append(4)
    call_command("verify", "--skip-objects")
    drop_triggers()
    AuditEntry.objects.filter(seq=3).update(details={"i": 99})
    report = verify_chain()
    assert not report.ok and report.bad_seq == 3
    _verify_fails("entry #3")


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_verify_catches_a_deleted_middle_entry_and_a_deleted_tail():
    append(5)
    drop_triggers()
    AuditEntry.objects.filter(seq=2).delete()
    _verify_fails("entry #2 is missing")
    # Rewriting the links after a deletion still breaks the hashes.
    e3 = AuditEntry.objects.get(seq=3)
    AuditEntry.objects.filter(seq=3).update(prev_hash=AuditEntry.objects.get(seq=1).hash, seq=2)
    assert not verify_chain().ok
    del e3


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_verify_catches_removal_of_the_newest_entries():
    append(4)
    drop_triggers()
    AuditEntry.objects.filter(seq__gte=3).delete()
    report = verify_chain()
    assert not report.ok
    assert "after #2 were removed" in report.problem
    _verify_fails("removed")


@pytest.mark.db_sensitive
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    """Many writers at once (stations docking together) still give one unbroken chain."""
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(15):
                with transaction.atomic():
                    record("test.concurrent", actor=f"system:t{k}", details={"k": k, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert AuditEntry.objects.count() == 90
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == list(range(1, 91))
    assert verify_chain().ok
