"""Migrations: complete for every model, and the audit triggers come and go with them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

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
    with transaction.atomic():
        record("test.event", actor=None)
    AuditEntry.objects.filter(seq=1).update(action="changed")  # no trigger now
    AuditEntry.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("audit", "0003_append_only_triggers")])
    with transaction.atomic():
        record("test.event", actor=None)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().delete()
