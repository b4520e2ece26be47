"""Migrations: complete for every model, and the audit triggers come and go with them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from jilu.audit.chain import record
from jilu.audit.models import AuditEntry


@pytest.mark.db_sensitive
@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.db_sensitive
@pytest.mark.django_db(transaction=True)
def test_trigger_migration_reverses_and_reapplies():
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0002_initial")])
    old = executor.loader.project_state([("audit", "0002_initial")]).apps
    Entry = old.get_model("audit", "AuditEntry")
    Entry.objects.create(
        seq=1, at=timezone.now(), actor_label="system", action="test.event", prev_hash="0" * 64,
        hash="1" * 64,
    )  # fmt: skip
    Entry.objects.filter(seq=1).update(action="changed")  # no trigger now
    Entry.objects.all().delete()
    # Forward to the newest migration: the triggers come back, and the later
    # migrations that add columns (0005) must not lose them.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    with transaction.atomic():
        record("test.event", actor=None)
    assert AuditEntry.objects.get().mac
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.update(mac=None)
