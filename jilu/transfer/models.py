"""Case disc packages, their hand-over to legal and the legal review (C5.5, A2).

A *package* is one version of a case's disc set (built in the background by
``jilu.transfer.builder``); a new version never replaces an older one. A
*transfer* records who handed which package (named by the SHA-256 of its
manifest) to the legal department and when. A *review* is the legal
reviewer's work on one transfer: a mark per record-list row (C5.4), the
package checks (every file re-hashed against the manifest, C6.5.3) and the
decision, accepted or returned with reasons.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jilu.casework.models import Case
from jilu.org import access
from jilu.org.access import RestrictedQuerySet
from jilu.org.roles import Role

# Who builds and transfers packages (as for cases: those who edit them).
PACKAGE_MAKERS = frozenset({Role.ADMIN, Role.CASE_HANDLER, Role.SQUAD_LEADER, Role.BRIGADE_LEADER})
# Who reviews transferred packages (案审人员, C5.5).
REVIEWERS = frozenset({Role.LEGAL_REVIEWER, Role.ADMIN})


class DiscType(models.TextChoices):
    DVD = "dvd", _("DVD（4.7 GB）")
    DVD_DL = "dvd-dl", _("DVD DL（8.5 GB）")
    BD = "bd", _("BD（25 GB）")


def _case_scope(user: Any, action: str, field: str = "case") -> Q | None:
    """Rows of cases the user may see (``view``) or change (other actions)."""
    cases = Case.objects.restrict(user, access.VIEW if action == access.VIEW else access.CHANGE)
    return Q(**{f"{field}__in": cases.values("pk")})


def _review_scope(user: Any, action: str, field: str) -> Q | None:
    """Legal reviewers (and administrators) act on the cases of their unit subtree."""
    return access.role_scope(user, action, read_roles=REVIEWERS, write_roles=REVIEWERS, field=field)


class Package(models.Model):
    """One version of a case's disc package."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        BUILDING = "building", _("正在制作")
        READY = "ready", _("已完成")
        FAILED = "failed", _("制作失败")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="packages")
    version = models.PositiveIntegerField(_("版本"))
    disc = models.CharField(_("光盘类型"), max_length=8, choices=DiscType.choices)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED)
    done_bytes = models.BigIntegerField(_("已处理字节"), default=0)
    total_bytes = models.BigIntegerField(_("总字节"), default=0)
    message = models.CharField(_("进度说明"), max_length=300, blank=True)
    error = models.TextField(_("错误"), blank=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    out_dir = models.CharField(_("输出目录"), max_length=500, blank=True)
    manifest_sha256 = models.CharField(_("清单文件 SHA-256"), max_length=64, blank=True)
    file_count = models.PositiveIntegerField(_("文件数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["case", "-version"]
        verbose_name = _("光盘包")
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="transfer_package_version")
        ]

    def __str__(self) -> str:
        return f"{self.case.number} v{self.version}"

    @property
    def percent(self) -> int:
        if not self.total_bytes:
            return 100 if self.state == self.State.READY else 0
        return min(100, round(100 * self.done_bytes / self.total_bytes))

    @property
    def message_display(self) -> str:
        """``message`` in the page's language: the fixed progress messages are
        stored untranslated (gettext_noop) and looked up here."""
        from django.utils.translation import gettext

        return gettext(self.message) if self.message else ""

    @property
    def finished(self) -> bool:
        return self.state in (self.State.READY, self.State.FAILED)

    @property
    def package_manifest(self) -> str:
        """The lines of package-manifest.txt, whose SHA-256 is ``manifest_sha256``.

        One line per disc with that disc's manifest-sha256.txt hash (printed on
        its label): what a reviewer holding the labels can check the package
        hash against (C5.5). Empty until the package is built.
        """
        from jilu.transfer.labels import package_manifest_text

        return package_manifest_text(
            (d.number, d.manifest_sha256) for d in self.discs.order_by("number")
        )

    @property
    def label_sheet(self) -> str:
        """The full set of labels (C5.5), as the builder writes it to labels.txt:
        every disc's labels, then the package block with the package hash
        (SHA-256 of package-manifest.txt, by which the hand-over is recorded)
        and that file's lines. Empty until the package is built.
        """
        from jilu.transfer.labels import package_labels

        if not self.manifest_sha256:
            return ""
        discs = sorted(self.discs.all(), key=lambda d: d.number)
        return package_labels(
            [d.label_text for d in discs], self.package_manifest, self.manifest_sha256
        )

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = _case_scope(user, action)
        if action == access.VIEW:
            review = _review_scope(user, action, "case__unit")
            if review is not None:
                q = q | review if review else access.ALL
        return q


class Disc(models.Model):
    """One disc of a package: its ISO image and label (disc n of m)."""

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="discs")
    number = models.PositiveIntegerField(_("盘号"))
    count = models.PositiveIntegerField(_("总盘数"))
    bag_dir = models.CharField(_("BagIt 目录"), max_length=500, blank=True)
    iso_path = models.CharField(_("ISO 镜像"), max_length=500, blank=True)
    iso_size = models.BigIntegerField(_("镜像大小"), default=0)
    iso_sha256 = models.CharField(_("镜像 SHA-256"), max_length=64, blank=True)
    manifest_sha256 = models.CharField(_("本盘清单 SHA-256"), max_length=64, blank=True)
    file_count = models.PositiveIntegerField(_("文件数"), default=0)
    payload_bytes = models.BigIntegerField(_("内容字节"), default=0)
    label_text = models.TextField(_("标签"), blank=True)

    class Meta:
        ordering = ["package", "number"]
        verbose_name = _("光盘")
        constraints = [
            models.UniqueConstraint(fields=["package", "number"], name="transfer_disc_number")
        ]

    def __str__(self) -> str:
        return f"{self.package} {self.number}/{self.count}"


class Transfer(models.Model):
    """移送: who handed which package (by manifest hash) to legal, and when (C5.5)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfers")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="transfers")
    manifest_sha256 = models.CharField(_("清单文件 SHA-256"), max_length=64)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    transferred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    transferred_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-transferred_at"]
        verbose_name = _("移送记录")

    def __str__(self) -> str:
        return f"{self.case.number} v{self.package.version}"

    @property
    def decided(self) -> bool:
        return hasattr(self, "review") and self.review.decision != Review.Decision.PENDING

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = _case_scope(user, access.VIEW)
        review = _review_scope(user, access.VIEW, "case__unit")
        if review is not None:
            q = q | review if review else access.ALL
        return q if action == access.VIEW else _case_scope(user, action)


class Review(models.Model):
    """法制审核 of one transfer."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("审核中")
        ACCEPTED = "accepted", _("审核通过")
        RETURNED = "returned", _("退回补正")

    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="review")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(
        _("审核结论"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    note = models.TextField(_("审核意见"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("法制审核")

    def __str__(self) -> str:
        return f"{self.transfer} {self.get_decision_display()}"

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        review = _review_scope(user, action, "transfer__case__unit")
        if action != access.VIEW:
            return review
        q = _case_scope(user, action, "transfer__case")
        if review is not None:
            q = q | review if review else access.ALL
        return q


class RowMark(models.Model):
    """The reviewer's mark on one record-list row (C5.4): ok, or a problem with its reason."""

    class Verdict(models.TextChoices):
        OK = "ok", _("无误")
        PROBLEM = "problem", _("有问题")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="marks")
    list_no = models.PositiveIntegerField(_("序号"))
    recording = models.ForeignKey(
        "evidence.Recording", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(_("文件名"), max_length=500, blank=True)
    verdict = models.CharField(_("结论"), max_length=10, choices=Verdict.choices)
    reason = models.TextField(_("原因"), blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review", "list_no"]
        verbose_name = _("清单逐项审核")
        constraints = [
            models.UniqueConstraint(fields=["review", "list_no"], name="transfer_rowmark_row")
        ]

    def __str__(self) -> str:
        return f"{self.list_no} {self.get_verdict_display()}"


class Verification(models.Model):
    """One check of a package: every file re-hashed against the manifest (C6.5.3)."""

    class Source(models.TextChoices):
        ORIGINALS = "originals", _("对照存储原件")
        ISO = "iso", _("上传的光盘镜像")
        DIRECTORY = "directory", _("挂载或解压的目录")

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="verifications")
    review = models.ForeignKey(
        Review, on_delete=models.PROTECT, null=True, blank=True, related_name="verifications"
    )
    source = models.CharField(_("核验对象"), max_length=10, choices=Source.choices)
    source_name = models.CharField(_("文件或目录"), max_length=500, blank=True)
    ok = models.BooleanField(_("一致"))
    checked_files = models.PositiveIntegerField(_("核验文件数"), default=0)
    checked_bytes = models.BigIntegerField(_("核验字节"), default=0)
    missing = models.JSONField(_("缺少的文件"), default=list)
    extra = models.JSONField(_("多出的文件"), default=list)
    altered = models.JSONField(_("被改动的文件"), default=list)
    problems = models.JSONField(_("其他问题"), default=list)
    passed = models.JSONField(_("核验一致的文件"), default=list)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_at"]
        verbose_name = _("光盘包核验")

    def __str__(self) -> str:
        verdict = _("一致") if self.ok else _("不一致")
        return f"{self.package} {self.get_source_display()} {verdict}"
