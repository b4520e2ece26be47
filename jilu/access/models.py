"""Access requests (调用单, C6.3): who asked for copies of which recordings, who
approved, which archivist copied them, and when the copy was handed over.

A copy of an original leaves the system only through an approved request
(C6.3, C6.5.7). Stored times are UTC; pages show Asia/Shanghai. Approval lapses
at ``valid_until``: the request then reads as 已过期 (computed on read, so no
scheduled job is needed for the gate to close on time).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jilu.org import access
from jilu.org.access import RestrictedQuerySet
from jilu.org.roles import Role


class AccessRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("已拒绝")
        PROVIDED = "provided", _("已提供")
        WITHDRAWN = "withdrawn", _("已撤回")
        EXPIRED = "expired", _("已过期")
        PREPARING = "preparing", _("正在制作复制件")

    class Use(models.TextChoices):
        """What the copies are for: originals to use as evidence, or to be viewed
        only, which adds a watermarked viewing copy of each video (C6.5.2)."""

        EVIDENCE = "evidence", _("作为证据或办案使用（原始文件）")
        VIEWING = "viewing", _("仅供查看（另附带水印的查看副本）")

    class Medium(models.TextChoices):
        DISC = "disc", _("光盘")
        USB = "usb", _("U盘")
        HDD = "hdd", _("移动硬盘")
        NETWORK = "network", _("网络传输")

    number = models.CharField(_("调用单号"), max_length=20, unique=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests"
    )
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="access_requests", null=True
    )
    purpose = models.TextField(_("调用事由"))
    use = models.CharField(_("调用用途"), max_length=10, choices=Use.choices, default=Use.EVIDENCE)
    case = models.ForeignKey(
        "casework.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_requests",
    )
    recordings = models.ManyToManyField("evidence.Recording", related_name="access_requests")
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_decisions",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    valid_until = models.DateTimeField(_("有效期至"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    provided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_provided",
    )
    provided_at = models.DateTimeField(_("提供时间"), null=True, blank=True)
    medium = models.CharField(_("介质"), max_length=10, choices=Medium.choices, blank=True)
    recipient_note = models.CharField(_("领取情况"), max_length=300, blank=True)
    recipient = models.CharField(_("领取人"), max_length=100, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("调用申请")
        indexes = [models.Index(fields=["status", "valid_until"], name="access_req_status_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def current_status(self) -> str:
        """The status as of now: an approval past ``valid_until`` reads as expired."""
        if (
            self.status == self.Status.APPROVED
            and self.valid_until is not None
            and self.valid_until <= timezone.now()
        ):
            return self.Status.EXPIRED.value
        return self.status

    @property
    def current_status_label(self) -> str:
        return str(self.Status(self.current_status).label)

    @property
    def decision(self) -> str:
        """The leader's decision as taken ("approved" or "refused"; "" before
        one), whatever happened to the request afterwards (provided, expired)."""
        if self.decided_at is None or self.approver_id is None:
            return ""
        return "refused" if self.status == self.Status.REFUSED else "approved"

    @property
    def decision_label(self) -> str:
        if not self.decision:
            return ""
        if self.decision == "refused":
            return str(pgettext_lazy("decision", "拒绝"))
        return str(pgettext_lazy("decision", "批准"))

    @property
    def for_viewing(self) -> bool:
        return self.use == self.Use.VIEWING

    @property
    def open_for_copy(self) -> bool:
        return self.current_status == self.Status.APPROVED

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        """Requesters read their own; inspectors and administrators read all (C6.4);
        leaders and archivists read those of their unit subtree or touching its
        recordings. Changes go through ``jilu.access.actions`` only."""
        if action != access.VIEW:
            return None
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return None
        if user.is_superuser or user.has_role(Role.INSPECTOR, Role.ADMIN):
            return access.ALL
        q = Q(requester_id=user.pk)
        if user.unit_id and user.has_role(Role.SQUAD_LEADER, Role.BRIGADE_LEADER, Role.ARCHIVIST):
            from jilu.evidence.scope import recordings_of_unit

            links = cls.recordings.through.objects.filter(
                recording_id__in=recordings_of_unit(user.unit).values("pk")
            )
            q |= Q(unit__path__startswith=user.unit.path) | Q(
                pk__in=links.values("accessrequest_id")
            )
        return q


class AccessCopy(models.Model):
    """One download of an original made under a request (who, which, when)."""

    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="copies")
    recording = models.ForeignKey(
        "evidence.Recording", on_delete=models.PROTECT, related_name="access_copies"
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_copies"
    )
    made_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=10, default="web")

    class Meta:
        ordering = ["made_at", "pk"]
        verbose_name = _("调用复制记录")


class CopyPackage(models.Model):
    """The one package an archivist makes to fulfil a request (C6.3): a zip of a
    BagIt bag with the originals under their standard names and, for a viewing
    request, a watermarked viewing copy of each video. Built in the background
    (``jilu.access.tasks``); a failed build may be started again."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        BUILDING = "building", _("正在制作")
        READY = "ready", _("已完成")
        FAILED = "failed", _("制作失败")

    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="packages")
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED)
    recipient = models.CharField(_("领取人"), max_length=100)
    medium = models.CharField(_("介质"), max_length=10, choices=AccessRequest.Medium.choices)
    done_bytes = models.BigIntegerField(default=0)
    total_bytes = models.BigIntegerField(default=0)
    message = models.CharField(_("进度说明"), max_length=300, blank=True)
    error = models.TextField(_("错误"), blank=True)
    attempts = models.PositiveIntegerField(default=0)
    out_dir = models.CharField(max_length=500, blank=True)
    zip_path = models.CharField(max_length=500, blank=True)
    zip_size = models.BigIntegerField(default=0)
    zip_sha256 = models.CharField(_("压缩包 SHA-256"), max_length=64, blank=True)
    manifest_sha256 = models.CharField(_("清单文件 SHA-256"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("复制件包")

    def __str__(self) -> str:
        return f"{self.request.number} #{self.pk}"

    @property
    def percent(self) -> int:
        if not self.total_bytes:
            return 100 if self.state == self.State.READY else 0
        return min(100, round(100 * self.done_bytes / self.total_bytes))

    @property
    def finished(self) -> bool:
        return self.state in (self.State.READY, self.State.FAILED)

    @property
    def message_display(self) -> str:
        from django.utils.translation import gettext

        return gettext(self.message) if self.message else ""

    @property
    def file_name(self) -> str:
        return f"{self.request.number}.zip"


class IssuedCopy(models.Model):
    """The copy register (复制件登记): one row per file handed out under a
    request, with its hashes and to whom, later marked returned or destroyed.

    ``copy_id`` is the per-copy ID; a viewing copy carries it in its metadata
    and in its picture, so a copy found outside can be traced (C6.5.2)."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("原始文件")
        VIEWING = "viewing", _("带水印的查看副本")

    class State(models.TextChoices):
        ISSUED = "issued", _("已提供")
        RETURNED = "returned", _("已收回")
        DESTROYED = "destroyed", _("已销毁")

    copy_id = models.CharField(_("副本编号"), max_length=20, unique=True)
    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="issued")
    package = models.ForeignKey(CopyPackage, on_delete=models.PROTECT, related_name="issued")
    recording = models.ForeignKey(
        "evidence.Recording", on_delete=models.PROTECT, related_name="issued_copies"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    path = models.CharField(_("包内路径"), max_length=600)
    size = models.BigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64, db_index=True)
    sm3 = models.CharField(max_length=64, db_index=True)
    recipient = models.CharField(_("领取人"), max_length=100)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("提供时间"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.ISSUED)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("收回或销毁时间"), null=True, blank=True)
    close_note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        ordering = ["request", "pk"]
        verbose_name = _("复制件登记")

    def __str__(self) -> str:
        return self.copy_id

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]
