"""Docking sessions, tus uploads and the quarantine of files that cannot be attributed.

A docking session is one recorder volume at one workstation (C1.2): what the
recorder reported (serial, user number, clock, battery, storage: C1.4, C3.2),
who held it at the time (C1.3) and what the station did with its files. An
upload is the server side of one tus upload. A quarantine item is a file the
server stored and verified but could not attribute to a recorder and officer;
it is never discarded, an administrator resolves it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jilu.org import access
from jilu.org.access import RestrictedQuerySet
from jilu.org.roles import UNIT_READERS, Role


def _scope(user: Any, action: str, *fields: str) -> Q | None:
    """Read rule shared by the ingest models: inspectors everything, unit readers
    their subtree through any of ``fields`` (unit foreign keys), nobody else."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return access.ALL
    if action != access.VIEW:
        return None
    if access.is_inspector(user):
        return access.ALL
    if user.has_role(*UNIT_READERS) and user.unit_id:
        q = Q()
        for field in fields:
            q |= access.unit_q(user, field)
        return q
    return None


class DockingSession(models.Model):
    """One recorder volume docked at one workstation."""

    station = models.ForeignKey(
        "devices.Workstation", on_delete=models.PROTECT, related_name="dockings"
    )
    recorder = models.ForeignKey(
        "devices.Recorder", on_delete=models.PROTECT, null=True, blank=True, related_name="dockings"
    )
    # What the recorder reported, as reported (ZFY_INFO.json).
    serial = models.CharField(_("上报产品序号"), max_length=32, blank=True)
    user_no = models.CharField(_("上报警号"), max_length=32, blank=True)
    user_name = models.CharField(_("上报姓名"), max_length=50, blank=True)
    unit_no = models.CharField(_("上报单位编号"), max_length=32, blank=True)
    unit_name = models.CharField(_("上报单位名称"), max_length=100, blank=True)
    # C1.3: the responsible holder when the recorder was docked.
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dockings_held",
    )
    # C3.2: device clock minus station clock when the volume was read.
    device_clock = models.DateTimeField(_("设备时钟"), null=True, blank=True)
    station_clock = models.DateTimeField(_("工作站时钟"), null=True, blank=True)
    clock_offset_seconds = models.FloatField(_("时钟偏差（秒）"), null=True, blank=True)
    # C1.4: readings at docking.
    battery_pct = models.SmallIntegerField(_("电量（%）"), null=True, blank=True)
    storage_free_bytes = models.BigIntegerField(_("剩余存储（字节）"), null=True, blank=True)
    storage_total_bytes = models.BigIntegerField(_("总存储（字节）"), null=True, blank=True)
    # Counts as the station reports them (found at opening, the rest at finish).
    files_found = models.PositiveIntegerField(_("发现文件"), default=0)
    files_ingested = models.PositiveIntegerField(_("已入库"), default=0)
    files_already_present = models.PositiveIntegerField(_("已存在"), default=0)
    files_flagged = models.PositiveIntegerField(_("待处理"), default=0)
    files_failed = models.PositiveIntegerField(_("失败"), default=0)
    # Why ZFY_INFO.json could not be used; non-empty quarantines the session's files.
    info_problem = models.TextField(_("信息文件问题"), blank=True)
    # Readings the server could not record as device checks (impossible values).
    reading_problem = models.TextField(_("读数问题"), blank=True)
    started_at = models.DateTimeField(_("对接时间"), db_index=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # The station's last per-file progress report (telemetry, not evidence).
    progress = models.JSONField(default=dict, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("对接会话")
        indexes = [
            models.Index(fields=["recorder", "-started_at"], name="ingest_docking_recorder_idx"),
            models.Index(fields=["station", "-started_at"], name="ingest_docking_station_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.serial or '?'} @ {self.station_id}"

    @property
    def in_progress(self) -> bool:
        return self.finished_at is None

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = _scope(user, action, "station__unit", "recorder__unit")
        if q is None and action == access.VIEW and getattr(user, "is_authenticated", False):
            # An officer sees the dockings of the recorders they held.
            return Q(holder_id=user.pk)
        return q

    PROGRESS_LABELS = {
        "found": _("已发现"),
        "spooled": _("已暂存"),
        "uploading": _("上传中"),
        "verified": _("已核验"),
        "wiped": _("已核验并清除"),
        "failed": _("失败"),
    }

    def progress_files(self) -> list[dict]:
        """The last reported files, each with a label and a percentage for display."""
        out = []
        for f in (self.progress or {}).get("files") or []:
            if not isinstance(f, dict):
                continue
            size, done = int(f.get("size") or 0), int(f.get("done") or 0)
            state = f.get("state", "")
            out.append(
                {
                    **f,
                    "label": self.PROGRESS_LABELS.get(state, state),
                    "pct": min(100, int(done * 100 / size)) if size else 100,
                    "badge": {"verified": "good", "wiped": "good", "failed": "bad"}.get(state, ""),
                }
            )
        return out

    def progress_totals(self) -> dict:
        files = self.progress_files()
        size = sum(int(f.get("size") or 0) for f in files)
        done = sum(min(int(f.get("done") or 0), int(f.get("size") or 0)) for f in files)
        states: dict[str, int] = {}
        for f in files:
            states[f.get("state", "")] = states.get(f.get("state", ""), 0) + 1
        return {
            "files": len(files),
            "size": size,
            "done": done,
            "pct": int(done * 100 / size) if size else (100 if files else 0),
            "states": states,
        }


class Upload(models.Model):
    """The server side of one tus upload: how many of its bytes arrived, and where they wait."""

    class State(models.TextChoices):
        RECEIVING = "receiving", _("接收中")
        COMPLETE = "complete", _("已入库")
        FAILED = "failed", _("校验失败")
        TERMINATED = "terminated", _("已终止")
        EXPIRED = "expired", _("已过期")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    station = models.ForeignKey(
        "devices.Workstation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    docking = models.ForeignKey(
        DockingSession, on_delete=models.PROTECT, null=True, blank=True, related_name="uploads"
    )
    length = models.BigIntegerField()
    # Bytes received, made durable in the staging area and acknowledged: the
    # truth about the upload, whatever the staging area holds beyond it.
    offset = models.BigIntegerField(default=0)
    # Where the bytes wait (jilu/ingest/staging.py): a machine's spool, a shared
    # directory, or the store (S3 multipart); fixed at creation.
    staging = models.CharField(max_length=12, default="local")
    # What the store's staging acknowledged with the offset: its multipart
    # upload, the parts so far, whether they were assembled.
    staged = models.JSONField(default=dict, blank=True)
    metadata_raw = models.TextField(blank=True)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    sm3 = models.CharField(max_length=64)
    mtime = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RECEIVING)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    recording = models.ForeignKey(
        "evidence.Recording", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quarantine = models.ForeignKey(
        "ingest.QuarantineItem", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("上传")
        indexes = [models.Index(fields=["state", "expires_at"], name="ingest_upload_expiry_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(offset__gte=0) & Q(offset__lte=models.F("length")),
                name="ingest_upload_offset_within_length",
            ),
            models.CheckConstraint(
                condition=Q(station__isnull=False) | Q(person__isnull=False),
                name="ingest_upload_has_uploader",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.offset}/{self.length})"

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = _scope(user, action, "docking__station__unit", "docking__recorder__unit")
        if q is None and action == access.VIEW and getattr(user, "is_authenticated", False):
            return Q(docking__holder_id=user.pk) | Q(person_id=user.pk)
        return q


class QuarantineItem(models.Model):
    """A verified, stored file that could not be attributed (never discarded)."""

    class Reason(models.TextChoices):
        UNKNOWN_SERIAL = "unknown_serial", _("未登记的记录仪序号")
        SERIAL_MISMATCH = "serial_mismatch", _("文件名中的序号与对接的记录仪不符")
        BAD_NAME = "bad_name", _("文件名不符合命名规范")
        ZERO_BYTE = "zero_byte", _("零字节文件")
        UNREADABLE = "unreadable", _("文件无法读取")
        INFO_MISSING = "info_missing", _("记录仪信息文件缺失或损坏")

    class Resolution(models.TextChoices):
        ATTRIBUTED = "attributed", _("已人工归属")
        REGISTERED = "registered", _("已登记记录仪并归属")
        CLOSED = "closed", _("已核实结案（不作为声像记录）")

    stored_object = models.ForeignKey(
        "evidence.StoredObject", on_delete=models.PROTECT, related_name="quarantine_items"
    )
    sha256 = models.CharField(max_length=64, db_index=True)
    sm3 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    original_name = models.CharField(_("原始文件名"), max_length=255)
    # The serial as the file name or the docking gave it (may be empty or unknown).
    serial = models.CharField(_("序号"), max_length=32, blank=True)
    docking = models.ForeignKey(
        DockingSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quarantine_items",
    )
    station = models.ForeignKey(
        "devices.Workstation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The unit that must resolve it: the workstation's (or the uploader's) unit.
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)
    reason_text = models.TextField(_("说明"))
    mtime = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=12, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    recording = models.ForeignKey(
        "evidence.Recording", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("待处理文件")
        constraints = [
            # The same bytes under the same name are one item (a re-upload answers it).
            models.UniqueConstraint(
                fields=["stored_object", "original_name"], name="ingest_quarantine_unique_file"
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolution="")
                | Q(resolved_at__isnull=False) & ~Q(resolution=""),
                name="ingest_quarantine_resolution_complete",
            ),
        ]
        indexes = [models.Index(fields=["resolved_at", "-created_at"], name="ingest_q_open_idx")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_reason_display()})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        if action == access.CHANGE:
            # Resolving is an administrator's act within their subtree.
            return access.role_scope(
                user,
                action,
                read_roles=frozenset(),
                write_roles=frozenset({Role.ADMIN}),
                field="unit",
            )
        return _scope(user, action, "unit")
