"""Refuse UPDATE and DELETE (and TRUNCATE) on the audit log at the database level.

Whoever has write access to the database still cannot quietly rewrite an
entry through SQL: the statement fails. (A database owner can drop the
triggers first; ``jilu verify`` then catches the change.)
"""

from django.db import migrations

from jilu.audit import triggers


def forward(apps, schema_editor):
    for sql in triggers.statements(schema_editor.connection.vendor, True):
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    for sql in triggers.statements(schema_editor.connection.vendor, False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]
    operations = [migrations.RunPython(forward, backward)]
