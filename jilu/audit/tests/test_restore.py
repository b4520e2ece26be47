"""After a restore from a backup the audit log says once, in the open, which
entries were lost, and is checked as strictly as before from then on (C6.5.3
records neither altered nor deleted unnoticed; C6.4 the inspection department
relies on ``jilu verify``).

A restore is played by winding the chain back to an earlier head, exactly the
state a database restored from a dump of that moment is in: every remaining
entry, link and MAC holds, the head names the last entry, and the checkpoint
log outside the database goes on beyond it.
"""

from __future__ import annotations

from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jilu.audit import seal
from jilu.audit.chain import AuditError
from jilu.audit.checkpoints import Checkpoint, checkpoint, log_path, read_log
from jilu.audit.labels import action_label, details_text
from jilu.audit.models import AuditEntry
from jilu.audit.tests.tamper import append, cut_tail, forge
from jilu.audit.tests.test_anchor import KEY, run_verify

pytestmark = [pytest.mark.db_sensitive, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def audit_key(settings):
    settings.AUDIT_KEY = KEY
    settings.AUDIT_KEY_SOURCE = "JILU_AUDIT_KEY"
    return KEY


def restore(reason: str = "磁盘损坏；用 2026-12-04 的备份恢复") -> str:
    out = StringIO()
    call_command("audit_restore", "--reason", reason, stdout=out)
    return out.getvalue()


def backup_then_lose(kept: int = 81, lost: int = 19) -> None:
    """Checkpoint before the backup at ``kept``, ``lost`` more entries checkpointed
    afterwards, then the database restored from the backup."""
    append(kept)
    assert checkpoint("backup").checkpoint.seq == kept
    append(lost)
    assert checkpoint().checkpoint.seq == kept + lost
    assert cut_tail(lost) == kept


def test_a_restore_is_acknowledged_once_and_named_in_every_verify():
    backup_then_lose()
    code, out = run_verify()
    assert code == 1
    assert "entries #82–#100 are missing" in out and "jilu audit-restore" in out
    with pytest.raises(AuditError, match="behind checkpoint #2 of .*jilu audit-restore"):
        checkpoint()

    said = restore()
    assert "wrote checkpoint #3 of " in said
    assert "the restored chain ends at #81; entries #82–#100 are recorded as lost" in said
    assert "recorded the restore as entry #82, anchored by checkpoint #4 of " in said
    cps = read_log(log_path(), KEY).checkpoints
    assert [(cp.n, cp.seq, cp.lost) for cp in cps] == [
        (1, 81, None),
        (2, 100, None),
        (3, 81, (82, 100)),
        (4, 82, None),
    ]
    assert cps[2].reason == "restore: 磁盘损坏；用 2026-12-04 的备份恢复"
    entry = AuditEntry.objects.get(seq=82)
    assert entry.action == "audit.restore" and entry.actor_label.startswith("cli:")
    assert entry.details == {
        "lost_from": 82,
        "lost_to": 100,
        "checkpoint": 3,
        "reason": "磁盘损坏；用 2026-12-04 的备份恢复",
    }
    assert "审计记录已丢失" in action_label("audit.restore")
    text = details_text(entry.details)
    assert "丢失的第一条记录 82" in text and "丢失的最后一条记录 100" in text

    # New entries take the lost numbers again; the checkpoints that recorded the
    # lost ones are no longer held against them.
    append(30)
    assert checkpoint().created
    code, out = run_verify()
    assert code == 0, out
    assert "audit chain: OK (112 entries)" in out
    assert "entries #82–#100 were lost when the database was restored from a backup, " in out
    assert "acknowledged by checkpoint #3 of " in out and "(restore: 磁盘损坏" in out


def test_after_a_restore_tampering_is_found_as_before():
    backup_then_lose()
    restore()
    append(20)
    assert checkpoint().checkpoint.seq == 102
    forge(95, {"changed": True})  # a number the lost entries also had
    code, out = run_verify()
    assert code == 1 and "MAC does not match: entry #95" in out

    forge(60, {"changed": True}, strip_macs=True)  # kept through the restore
    code, out = run_verify()
    assert code == 1 and "audit chain BROKEN at #60" in out


def test_the_newest_entries_cut_after_a_restore_are_found():
    backup_then_lose()
    restore()
    append(10)
    assert checkpoint().checkpoint.seq == 92
    cut_tail(4)
    code, out = run_verify()
    assert code == 1
    assert "the chain ends at #88 but checkpoint #5 of " in out
    assert "entries #89–#92 are missing" in out


def test_nothing_behind_is_refused():
    append(5)
    checkpoint()
    with pytest.raises(CommandError, match="nothing to acknowledge: the chain's head is entry #5"):
        restore()
    with pytest.raises(CommandError, match="say why in --reason"):
        call_command("audit_restore", "--reason", "  x ")
    assert len(read_log(log_path(), KEY).checkpoints) == 1


def test_a_missing_or_empty_log_is_refused():
    append(3)
    with pytest.raises(CommandError, match="cannot open the checkpoint log .*not a copy"):
        restore()
    assert not log_path().exists()  # never created by a restore: the real one is wanted
    log_path().parent.mkdir(parents=True, exist_ok=True)
    log_path().touch()
    with pytest.raises(CommandError, match="the checkpoint log .* is empty"):
        restore()


def test_a_backup_from_before_any_checkpoint_is_refused():
    append(10)
    checkpoint()
    cut_tail(4)
    with pytest.raises(CommandError, match="no checkpoint vouches for the restored chain"):
        restore()
    assert len(read_log(log_path(), KEY).checkpoints) == 1
    assert run_verify()[0] == 1


def test_a_restored_chain_that_was_altered_is_refused():
    backup_then_lose()
    forge(40, {"changed": True}, strip_macs=True)
    with pytest.raises(CommandError, match="the restored chain is broken at #"):
        restore()
    assert len(read_log(log_path(), KEY).checkpoints) == 2
    assert not AuditEntry.objects.filter(action="audit.restore").exists()


def test_a_forged_restore_checkpoint_is_found():
    backup_then_lose()
    restore()
    path = log_path()
    lines = path.read_bytes().splitlines(keepends=True)
    third = Checkpoint.parse(lines[2])

    # The lost range shortened, without the key: the MAC no longer matches.
    shortened = replace(third, lost=(95, 100))
    path.write_bytes(b"".join(lines[:2]) + shortened.line() + b"\n" + b"".join(lines[3:]))
    code, out = run_verify()
    assert code == 1 and "checkpoint #3 of " in out and "MAC does not match" in out

    # Even sealed with the key, a range that does not meet the head before is refused.
    resealed = replace(shortened, mac=seal.checkpoint_mac(KEY, shortened.body()))
    path.write_bytes(b"".join(lines[:2]) + resealed.line() + b"\n")
    code, out = run_verify()
    assert code == 1
    assert "acknowledges entries #95–#100 as lost, but the checkpoint before it recorded " in out

    path.write_bytes(b"".join(lines))
    assert run_verify()[0] == 0


def test_checkpoint_lines_keep_their_format():
    append(2)
    cp = checkpoint().checkpoint
    assert b'"lost"' not in cp.line() and b'"v":1' in cp.line()
    restored = replace(cp, lost=(3, 9))
    assert b'"lost":[3,9]' in restored.line() and b'"v":2' in restored.line()
    assert Checkpoint.parse(restored.line()) == restored
    for bad in (
        restored.line().replace(b'"v":2', b'"v":1'),
        cp.line().replace(b'"v":1', b'"v":2'),
        restored.line().replace(b"[3,9]", b"[9,3]"),
    ):
        with pytest.raises(ValueError):
            Checkpoint.parse(bad)
