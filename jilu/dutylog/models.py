"""Duty log (执勤日志): periods an officer could not record, and why (C6.2).

The officer notes the period and the reason; a squad or brigade leader covering
the officer's unit confirms it or returns it for correction. Officers see their
own notes, leaders/archivists/administrators their unit subtree, inspectors all
(C6.4).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jilu.org import access
from jilu.org.access import RestrictedQuerySet
from jilu.org.roles import Role

READERS = frozenset({Role.SQUAD_LEADER, Role.BRIGADE_LEADER, Role.ARCHIVIST, Role.ADMIN})


class UnrecordedNote(models.Model):
    class Reason(models.TextChoices):
        WEATHER = "weather", _("恶劣天气")
        DEVICE_FAULT = "device_fault", _("设备故障")
        BATTERY = "battery", _("电量耗尽")
        STORAGE_FULL = "storage_full", _("存储已满")
        RECORDER_UNAVAILABLE = "recorder_unavailable", _("记录仪遗失或送修")
        OTHER = "other", _("其他")

    class State(models.TextChoices):
        PENDING = "pending", _("待确认")
        RETURNED = "returned", _("已退回")
        CONFIRMED = "confirmed", _("已确认")

    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="unrecorded_notes"
    )
    # The officer's unit when the note was written (C6.2: reported to that unit's leader).
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=30, choices=Reason.choices)
    description = models.TextField()
    recorder = models.ForeignKey(
        "devices.Recorder", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    leader_note = models.CharField(max_length=500, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.CharField(max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "-pk"]
        verbose_name = _("执勤日志无法记录情况")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="dutylog_note_end_after_start"
            ),
        ]
        indexes = [models.Index(fields=["officer", "start"], name="dutylog_officer_start_idx")]

    def __str__(self) -> str:
        return f"{self.officer_id} {self.start:%Y-%m-%d %H:%M} {self.reason}"

    @property
    def editable(self) -> bool:
        return self.state != self.State.CONFIRMED

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        """C6.2/C6.4: officers their own; leaders, archivists, admins their
        subtree; inspectors read all."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return None
        q = access.role_scope(user, action, read_roles=READERS, write_roles=READERS, field="unit")
        if action == access.VIEW:
            own = Q(officer_id=user.pk)
            if q is None:
                return own
            # An empty Q (everything) would vanish from an OR: keep it as is.
            return q if not q else (q | own)
        return q
