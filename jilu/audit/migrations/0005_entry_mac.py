"""Entries gain an HMAC under the audit key, which is kept outside the database.

The columns are nullable and without a default, so both databases add them in
place (on SQLite a NOT NULL column would rebuild the table and drop the
append-only triggers with it). Entries written before this migration keep a
null MAC: they are not sealed, and ``jilu verify`` says so; they are covered
through the first sealed entry after them and by the checkpoints.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chain_head")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="mac",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="key_id",
            field=models.CharField(blank=True, max_length=16, null=True),
        ),
    ]
