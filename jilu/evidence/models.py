"""Stored objects: content-addressed, immutable bytes in the evidence store."""

from __future__ import annotations

from django.db import models


class StoredObject(models.Model):
    """One object in the evidence store, keyed by its SHA-256 (C6.5.3–4)."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    sm3 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    backend = models.CharField(max_length=10)
    stored_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "存储对象"

    def __str__(self) -> str:
        return self.sha256
