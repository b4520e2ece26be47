"""The audit chain anchored outside the database: MACs under a key the database
does not hold, and checkpoints of the head in an append-only log (C6.5.3
altering or deleting records; C6.4 the inspection department relies on
``jilu verify``).

Each tampering case is what a database owner can do on a copy of the
database: lift the append-only triggers, then rewrite rows and recompute every
hash with Jilu's own function.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from jilu.audit import seal
from jilu.audit.chain import AuditError, entry_hash, record
from jilu.audit.checkpoints import Checkpoint, checkpoint, log_path, read_log
from jilu.audit.models import AuditEntry
from jilu.audit.tasks import audit_checkpoint
from jilu.audit.tests.tamper import append, cut_tail, forge
from jilu.audit.verify import verify_chain
from jilu.schedule import periodic_tasks

KEY = b"the-audit-key-of-this-test-0123456789abcdef"


@pytest.fixture(autouse=True)
def audit_key(settings):
    settings.AUDIT_KEY = KEY
    settings.AUDIT_KEY_SOURCE = "JILU_AUDIT_KEY"
    return KEY


def run_verify() -> tuple[int, str]:
    """``jilu verify --skip-objects``: its exit code and what it printed."""
    out = StringIO()
    try:
        call_command("verify", "--skip-objects", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


@pytest.mark.django_db
def test_a_clean_chain_with_checkpoints_verifies():
    append(10)
    assert checkpoint().created
    append(3)
    code, out = run_verify()
    assert code == 0, out
    assert "audit chain: OK (13 entries)" in out
    assert "latest checkpoint #1 of " in out and "recorded head #10" in out
    assert "3 newer entries are sealed but not yet checkpointed" in out
    entry = AuditEntry.objects.get(seq=13)
    assert entry.mac == seal.entry_mac(KEY, entry.hash)
    assert entry.key_id == seal.key_id(KEY)


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_deleting_the_newest_entries_and_winding_back_the_head_is_found():
    """C6.5.3: the last five entries deleted and the head wound back to #86:
    every remaining hash, link and MAC holds, but the checkpoint does not."""
    append(91)
    assert checkpoint().checkpoint.seq == 91
    assert cut_tail(5) == 86
    code, out = run_verify()
    assert code == 1
    assert "audit chain BROKEN at #87: the chain ends at #86 but checkpoint #1 of " in out
    assert "recorded head #91: entries #87–#91 are missing" in out


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_a_cut_after_the_newest_checkpoint_goes_unseen():
    """The limit docs/inspector.md states: entries written since the newest
    checkpoint can be removed unnoticed (at most one checkpoint interval)."""
    append(10)
    checkpoint()
    append(5)
    cut_tail(5)
    assert verify_chain().ok


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_forging_an_entry_and_recomputing_every_later_hash_is_found():
    """C6.5.3: entry #91's details forged and every later hash and the head
    recomputed: hashes and links hold, the MACs do not."""
    append(100)
    checkpoint()
    forge(91, {"i": 90, "名": "李四"})
    assert AuditEntry.objects.get(seq=91).details["名"] == "李四"
    assert all(entry_hash(e) == e.hash for e in AuditEntry.objects.all())
    code, out = run_verify()
    assert code == 1
    assert "audit chain BROKEN at #91: MAC does not match: entry #91 (test.event)" in out


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_forging_and_removing_the_macs_is_found():
    append(20)
    checkpoint()
    forge(15, {"i": 0}, strip_macs=True)
    report = verify_chain()
    assert not report.ok and report.bad_seq == 15
    assert "entry #15 has no MAC although the entries are sealed from #1 on" in report.problem


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_forging_below_a_checkpoint_without_any_mac_is_found_by_the_checkpoint(settings):
    """Entries written before the audit key existed carry no MAC: a checkpoint
    covers them, and names where the chain stops matching it."""
    settings.AUDIT_KEY = None
    append(8)
    settings.AUDIT_KEY = KEY
    checkpoint()
    forge(3, {"i": 99})
    report = verify_chain()
    assert not report.ok and report.bad_seq == 8
    assert "entry #8 does not match checkpoint #1 of " in report.problem
    assert "it or an entry before it was rewritten" in report.problem


@pytest.mark.django_db
def test_entries_from_before_the_key_are_reported_honestly(settings):
    settings.AUDIT_KEY = None
    append(5)
    assert AuditEntry.objects.filter(mac__isnull=True).count() == 5
    settings.AUDIT_KEY = KEY
    code, out = run_verify()
    assert code == 0, out
    assert (
        "entries #1–#5 were written before the audit key existed and carry no MAC; "
        "nothing outside the database covers them yet: run `jilu audit-checkpoint`"
    ) in out
    assert "no checkpoint has been written yet" in out
    call_command("audit_checkpoint", "--reason", "upgrade", stdout=StringIO())
    append(3)
    code, out = run_verify()
    assert code == 0, out
    assert (
        "entries #1–#5 were written before the audit key existed and carry no MAC; "
        "they are covered through entry #6's MAC and by checkpoint #1 of "
    ) in out
    [cp] = read_log(log_path(), KEY).checkpoints
    assert (cp.seq, cp.entry_mac, cp.sealed_from, cp.reason) == (5, None, 6, "upgrade")


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_macs_stripped_from_entries_after_an_upgrade_checkpoint_are_found(settings):
    """Once a checkpoint exists, every later entry must be sealed: removing the
    MACs of all new entries does not make them pass for old, unsealed ones."""
    settings.AUDIT_KEY = None
    append(5)
    settings.AUDIT_KEY = KEY
    checkpoint(reason="upgrade")
    append(4)
    forge(7, {"i": 1}, strip_macs=True)
    AuditEntry.objects.filter(seq=6).update(mac=None, key_id=None)
    report = verify_chain()
    assert not report.ok and report.bad_seq == 6
    assert "entry #6 has no MAC although the entries are sealed from #6 on" in report.problem


# --- the key ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_replaced_key_is_named_as_such(settings):
    append(3)
    settings.AUDIT_KEY = b"another-key-" + b"z" * 40
    settings.AUDIT_KEY_SOURCE = "/srv/jilu/audit_key"
    code, out = run_verify()
    assert code == 1
    assert (
        f"audit chain BROKEN at #1: entry #1 was sealed with audit key {seal.key_id(KEY)}, but "
        f"the configured key (/srv/jilu/audit_key) is {seal.key_id(settings.AUDIT_KEY)}: "
        "the audit key is missing or was replaced"
    ) in out


@pytest.mark.django_db
def test_a_replaced_key_is_named_for_the_checkpoints_too(settings):
    append(3)
    checkpoint()
    settings.AUDIT_KEY = b"another-key-" + b"z" * 40
    code, out = run_verify()
    assert code == 1
    assert "checkpoint #1 of " in out
    assert "the audit key is missing or was replaced" in out
    with pytest.raises(AuditError, match="no checkpoint written: .*missing or was replaced"):
        checkpoint(force=True)


# --- checkpoints ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_periodic_checkpoint_is_scheduled_and_idempotent(settings):
    settings.AUDIT_CHECKPOINT_MINUTES = 7
    [item] = [p for p in periodic_tasks() if p.task_path == "jilu.audit.tasks.audit_checkpoint"]
    assert item.every.total_seconds() == 7 * 60
    assert audit_checkpoint.call() == {"created": False, "checkpoint": None, "head": 0}
    append(4)
    assert audit_checkpoint.call() == {"created": True, "checkpoint": 1, "head": 4}
    assert audit_checkpoint.call() == {"created": False, "checkpoint": 1, "head": 4}
    assert len(log_path().read_bytes().splitlines()) == 1
    append(2)
    assert audit_checkpoint.call() == {"created": True, "checkpoint": 2, "head": 6}
    first, second = read_log(log_path(), KEY).checkpoints
    assert second.prev == first.digest()
    assert second.mac == seal.checkpoint_mac(KEY, second.body())
    assert (second.seq, second.hash) == (6, AuditEntry.objects.get(seq=6).hash)
    assert second.entry_mac == AuditEntry.objects.get(seq=6).mac
    # A report publication asks for one by name; with the head unmoved it is
    # the newest checkpoint unless forced.
    assert checkpoint(reason="report 2026-11").checkpoint == second
    forced = checkpoint(reason="report 2026-11", force=True)
    assert forced.created and forced.checkpoint.n == 3 and forced.checkpoint.seq == 6
    assert forced.checkpoint.reason == "report 2026-11"


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_no_checkpoint_vouches_for_a_chain_already_broken():
    append(6)
    checkpoint()
    append(3)
    forge(8, {"i": 0})
    with pytest.raises(AuditError, match="no checkpoint written: audit chain broken at #8"):
        checkpoint()
    assert len(read_log(log_path(), KEY).checkpoints) == 1


@pytest.mark.django_db
def test_an_edited_or_shortened_checkpoint_log_is_found():
    for _ in range(3):
        append(2)
        checkpoint()
    path = log_path()
    lines = path.read_bytes().splitlines(keepends=True)
    data = json.loads(lines[1])
    data["seq"] = 3
    path.write_bytes(lines[0] + json.dumps(data).encode() + b"\n" + lines[2])
    code, out = run_verify()
    assert code == 1 and "line 2: not a checkpoint (not in canonical form)" in out
    edited = Checkpoint.parse(lines[1])
    edited = Checkpoint(**{**edited.__dict__, "seq": 3})
    path.write_bytes(lines[0] + edited.line() + b"\n" + lines[2])
    code, out = run_verify()
    assert code == 1 and "checkpoint #2 of " in out and "MAC does not match" in out
    path.write_bytes(lines[0] + lines[2])
    code, out = run_verify()
    assert code == 1 and "checkpoint #3 follows #1: checkpoints are missing" in out
    path.write_bytes(b"".join(lines))
    assert run_verify()[0] == 0


@pytest.mark.db_sensitive
@pytest.mark.django_db(transaction=True)
def test_concurrent_checkpoints_keep_one_chain_of_checkpoints():
    """Writers and checkpoints at once; verify then reads head and entries in one
    snapshot (REPEATABLE READ on PostgreSQL)."""
    import threading

    from django.db import connection

    append(3)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(5):
                with transaction.atomic():
                    record("test.concurrent", actor=f"system:t{k}", details={"i": i})
                checkpoint()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    log = read_log(log_path(), KEY)
    assert not log.problem and log.checkpoints
    assert [cp.n for cp in log.checkpoints] == list(range(1, len(log.checkpoints) + 1))
    assert verify_chain().ok
