"""Stored objects (content-addressed, immutable bytes) and the recordings made of them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jilu.org import access
from jilu.org.access import RestrictedQuerySet
from jilu.org.roles import UNIT_READERS


class StoredObject(models.Model):
    """One object in the evidence store, keyed by its SHA-256 (C6.5.3–4)."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    sm3 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    backend = models.CharField(max_length=10)
    # The S3 VersionId written at ingest: every read asks for this version, so
    # bytes put later under the same key are never served, and fixity names
    # them (C6.5.3). Empty on the filesystem, which keeps no versions.
    version_id = models.CharField(
        _("存储版本"), max_length=1024, blank=True, default="", db_default=""
    )
    stored_at = models.DateTimeField(auto_now_add=True)
    # The rolling fixity schedule takes the objects checked longest ago first.
    last_fixity_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("存储对象")

    def __str__(self) -> str:
        return self.sha256


class Recording(models.Model):
    """One recorder file taken in at a workstation: the evidence item (C5.1, C1.3, C3.2).

    Created by ingest once its bytes are verified in the store (never edited or
    deleted by people). The same bytes from the same recorder are one recording.

    Times: ``name_start_local`` is the device's wall clock from the file name
    (Asia/Shanghai); ``started_at`` is that time corrected by the docking's
    clock offset (true start = name time − offset, C3.2); ``ended_at`` stays
    empty until media probing fills it. ``collected_within_24h`` (C5.1) compares
    the docking time with the end, or with the start while the end is unknown
    (the stricter reading: a recording started more than 24 hours before it was
    docked is late even if it ended later).
    """

    class Kind(models.TextChoices):
        VIDEO = "video", _("视频")
        AUDIO = "audio", _("音频")
        PHOTO = "photo", _("照片")
        OTHER = "other", _("其他")

    stored_object = models.ForeignKey(
        StoredObject, on_delete=models.PROTECT, related_name="recordings"
    )
    recorder = models.ForeignKey(
        "devices.Recorder", on_delete=models.PROTECT, related_name="recordings"
    )
    # C1.3: the responsible holder when recording started (from holder history).
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recordings",
    )
    user_no_in_name = models.CharField(_("文件名中的警号"), max_length=32, blank=True)
    # The user number in the name disagrees with the holder history (or no holder).
    user_no_mismatch = models.BooleanField(_("警号与持有记录不符"), default=False)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    original_name = models.CharField(_("原始文件名"), max_length=255)
    name_start_local = models.DateTimeField(_("文件名时间（设备时钟）"), null=True, blank=True)
    clock_offset_seconds = models.FloatField(_("时钟偏差（秒）"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间（校正后）"), db_index=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    size = models.BigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    sm3 = models.CharField(max_length=64)
    station = models.ForeignKey(
        "devices.Workstation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recordings",
    )
    docking = models.ForeignKey(
        "ingest.DockingSession",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recordings",
    )
    docked_at = models.DateTimeField(_("采集时间"))
    collected_within_24h = models.BooleanField(_("24小时内采集"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("声像记录")
        constraints = [
            models.UniqueConstraint(
                fields=["recorder", "sha256"], name="evidence_recording_unique_bytes"
            ),
            models.CheckConstraint(
                condition=Q(stored_object=models.F("sha256")),
                name="evidence_recording_sha256_is_object",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="evidence_recording_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["officer", "-started_at"], name="evidence_rec_officer_idx"),
            models.Index(fields=["recorder", "-started_at"], name="evidence_rec_recorder_idx"),
            # The recording list at millions of rows: newest first with a stable
            # keyset, by kind, late collection (C5.1) and docking (C5.2 overdue).
            models.Index(fields=["-started_at", "-id"], name="evidence_rec_started_id_idx"),
            models.Index(fields=["kind", "-started_at"], name="evidence_rec_kind_idx"),
            models.Index(
                fields=["-started_at"],
                condition=Q(collected_within_24h=False),
                name="evidence_rec_late_idx",
            ),
            models.Index(fields=["docked_at"], name="evidence_rec_docked_idx"),
        ]

    def __str__(self) -> str:
        return self.original_name.rsplit("/", 1)[-1]

    @property
    def late(self) -> bool:
        return not self.collected_within_24h

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        """Officers read their own recordings and those of activities they took part
        in; unit readers those whose officer's
        unit or recorder's unit is in their subtree; inspectors read all. Nobody
        changes or deletes a recording (C6.5.3)."""
        if action != access.VIEW:
            return None
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return None
        if user.is_superuser or access.is_inspector(user):
            return access.ALL
        # Officers also see the recordings of activities they took part in
        # (their partner's recorder filmed the same scene, C4.1); casework says
        # which (``jilu.evidence.hooks``).
        #
        # Every branch tests a column of the recording itself against a subquery,
        # never a joined table: a join (annotation, officer, recorder) inside an
        # OR makes SQLite scan the whole table, while ``column IN (subquery)``
        # lets it answer each branch from an index (a multi-index OR).
        from jilu.evidence.hooks import hooks

        took_part = Q(officer_id=user.pk)
        for provider in hooks.shared_with:
            took_part |= Q(pk__in=provider(user))
        if user.has_role(*UNIT_READERS) and user.unit_id:
            from jilu.devices.models import Recorder
            from jilu.org.models import Person, Unit

            units = Unit.objects.filter(path__startswith=user.unit.path).values("pk")
            return (
                Q(officer_id__in=Person.objects.filter(unit_id__in=units).values("pk"))
                | Q(recorder_id__in=Recorder.objects.filter(unit_id__in=units).values("pk"))
                | took_part
            )
        return took_part


# Media processing and fixity (their own module, registered with this app).
from jilu.evidence.media_models import Derivative, FixityAlarm, FixityCheck, MediaInfo  # noqa: E402,F401
from jilu.evidence.tombstone_models import Tombstone  # noqa: E402,F401
