"""What stays of a stored object that a retention disposal removed (C5.6).

One row per object, written before the bytes are deleted and never changed
after, except to note when the store confirmed the deletion. Fixity and
``jilu verify`` take a tombstoned object as legitimately gone; any other
missing object still raises the alarm (C6.5.4).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Tombstone(models.Model):
    sha256 = models.CharField(max_length=64, primary_key=True)
    sm3 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    # Every name the object was known by: the recorder's file name, the C5.3
    # standard name, or what derived copy it was ("poster of …").
    names = models.JSONField(default=list)
    recording_ids = models.JSONField(default=list)
    rule = models.CharField(_("依据的规则"), max_length=60)
    clause = models.CharField(_("条款"), max_length=20)
    reason = models.CharField(_("说明"), max_length=300)
    # Who approved (the archivist who reviewed and the leader who approved), as text.
    approved_by = models.JSONField(default=list)
    approved_at = models.DateTimeField(_("批准时间"))
    disposal_ref = models.CharField(_("处置单号"), max_length=40)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    store_deleted_at = models.DateTimeField(_("存储删除时间"), null=True, blank=True)
    store_versions_deleted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("销毁记录")

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.disposal_ref})"
