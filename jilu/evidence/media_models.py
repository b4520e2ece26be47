"""What media processing and fixity checking learn about stored recordings.

Kept beside ``models.py`` (imported from it) so the ingest-time Recording and
its later processing stay in separate, small modules.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MediaInfo(models.Model):
    """The probe of one recording (PyAV): container, streams, duration, integrity."""

    class Integrity(models.TextChoices):
        PENDING = "pending", _("待检测")
        COMPLETE = "complete", _("完整")
        INCOMPLETE = "incomplete", _("不完整")
        UNPARSEABLE = "unparseable", _("无法解析")

    recording = models.OneToOneField(
        "evidence.Recording", on_delete=models.PROTECT, primary_key=True, related_name="media"
    )
    integrity = models.CharField(
        _("完整性"), max_length=12, choices=Integrity.choices, default=Integrity.PENDING
    )
    integrity_reason = models.CharField(_("完整性说明"), max_length=300, blank=True)
    container = models.CharField(_("封装格式"), max_length=50, blank=True)
    video_codec = models.CharField(_("视频编码"), max_length=30, blank=True)
    audio_codec = models.CharField(_("音频编码"), max_length=30, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(_("帧率"), null=True, blank=True)
    duration_seconds = models.FloatField(_("时长（秒）"), null=True, blank=True)
    embedded_created_at = models.DateTimeField(_("内嵌创建时间"), null=True, blank=True)
    has_video = models.BooleanField(default=False)
    has_audio = models.BooleanField(default=False)
    # Chromium plays H.264/AAC MP4 directly; anything else needs a playback copy.
    browser_playable = models.BooleanField(default=False)
    probed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("媒体信息")
        indexes = [models.Index(fields=["integrity"], name="evidence_media_integrity_idx")]

    def __str__(self) -> str:
        return f"{self.recording_id}: {self.get_integrity_display()}"


class Derivative(models.Model):
    """A file derived from a recording (never the evidence itself): pictures and playback copies."""

    class Kind(models.TextChoices):
        POSTER = "poster", _("封面帧")
        STRIP = "strip", _("缩略图条")
        WAVEFORM = "waveform", _("波形图")
        PREVIEW = "preview", _("照片预览")
        PLAYBACK = "playback", _("播放副本（H.264，派生）")

    recording = models.ForeignKey(
        "evidence.Recording", on_delete=models.PROTECT, related_name="derivatives"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    stored_object = models.ForeignKey(
        "evidence.StoredObject", on_delete=models.PROTECT, related_name="derivatives"
    )
    content_type = models.CharField(max_length=50)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("派生文件")
        constraints = [
            models.UniqueConstraint(fields=["recording", "kind"], name="evidence_derivative_unique")
        ]

    def __str__(self) -> str:
        return f"{self.recording_id}:{self.kind}"


class FixityCheck(models.Model):
    """One re-hash of one stored object (C6.5.3, C6.5.4): an event, never updated."""

    stored_object = models.ForeignKey(
        "evidence.StoredObject", on_delete=models.PROTECT, related_name="fixity_checks"
    )
    checked_at = models.DateTimeField(db_index=True)
    ok = models.BooleanField()
    problem = models.CharField(max_length=300, blank=True)
    sha256_found = models.CharField(max_length=64, blank=True)
    sm3_found = models.CharField(max_length=64, blank=True)
    size_found = models.BigIntegerField(null=True, blank=True)
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("固定性校验")
        indexes = [
            models.Index(fields=["stored_object", "-checked_at"], name="evidence_fixity_obj_idx")
        ]

    def __str__(self) -> str:
        return f"{self.stored_object_id} {'OK' if self.ok else 'FAIL'}"


class FixityAlarm(models.Model):
    """Raised when a check finds altered or missing bytes; stays until acknowledged."""

    stored_object = models.ForeignKey(
        "evidence.StoredObject", on_delete=models.PROTECT, related_name="fixity_alarms"
    )
    fixity_check = models.OneToOneField(FixityCheck, on_delete=models.PROTECT, related_name="alarm")
    raised_at = models.DateTimeField(db_index=True)
    problem = models.CharField(max_length=300)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("固定性告警")
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"{self.stored_object_id}: {self.problem}"
