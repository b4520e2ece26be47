"""The append-only, hash-chained audit log.

Each entry's hash is SHA-256 over a canonical encoding of its fields and the
previous entry's hash, so changing, removing or reordering any entry breaks
the chain from that point on. Database triggers (migration 0003) refuse
UPDATE and DELETE on the entries table.

Hashes alone can be recomputed by whoever can write the table, so each entry
also carries an HMAC of its hash under the audit key, which is kept outside
the database (``jilu.audit.seal``), and the head is checkpointed into a log
outside the database (``jilu.audit.checkpoints``). ``jilu verify`` checks all
three.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who acted, as text, so the entry stays readable if the account is renamed;
    # stations and the system act without a person.
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # HMAC-SHA256 of ``hash`` under the audit key and the key's ID; null on
    # entries written before the key existed (those are covered only through
    # the first sealed entry after them and the checkpoints).
    mac = models.CharField(max_length=64, null=True, blank=True)
    key_id = models.CharField(max_length=16, null=True, blank=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_idx"),
            models.Index(fields=["actor", "seq"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditHead(models.Model):
    """The single row naming the chain's tip; appending locks it first."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
