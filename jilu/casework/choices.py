"""Casework's fixed lists: 执法类别 and 记录事项 of Attachment 2, the activities
that must be recorded (S1–S8), why a case closes and its file's 保管期限 (C5.6).
Re-exported by ``jilu.casework.models``."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """执法类别 (Attachment 2, column 2)."""

    LICENSING = "licensing", _("行政许可")
    PENALTY = "penalty", _("行政处罚")
    COERCION = "coercion", _("行政强制")
    INSPECTION = "inspection", _("行政检查")
    EXPROPRIATION = "expropriation", _("行政征收征用")
    OTHER = "other", _("其他")


class ActivityKind(models.TextChoices):
    """The activities that must be recorded (C2, S1–S8)."""

    S1 = "S1", _("巡查检查、现场勘验、取证")
    S2 = "S2", _("信访接待、投诉件处置")
    S3 = "S3", _("调查询问、听证")
    S4 = "S4", _("文书送达、告知")
    S5 = "S5", _("查封、扣押、登记保存")
    S6 = "S6", _("强制拆除等强制执行")
    S7 = "S7", _("抢险施救、应急处置")
    S8 = "S8", _("其他")


# C4.1: on arrival the *two* officers state their names and certificate
# numbers; these kinds are carried out on site by at least two officers.
ON_SITE_KINDS = frozenset(
    {ActivityKind.S1, ActivityKind.S3, ActivityKind.S4, ActivityKind.S5, ActivityKind.S6}
)
MIN_ON_SITE_OFFICERS = 2


class RecordedStep(models.TextChoices):
    """记录事项 (Attachment 2, column 4)."""

    SITE_CHECK = "site_check", _("现场检查")
    SITE_SURVEY = "site_survey", _("现场勘验")
    EVIDENCE = "evidence", _("调查取证")
    PRESERVATION = "preservation", _("证据保全")
    HEARING = "hearing", _("听证")
    INQUIRY = "inquiry", _("询问笔录")
    SERVICE = "service", _("送达")
    ENFORCEMENT = "enforcement", _("行政强制")
    OTHER = "other", _("其他")


# The step an activity of each kind usually records (pre-selected in forms).
DEFAULT_STEP = {
    ActivityKind.S1: RecordedStep.SITE_CHECK,
    ActivityKind.S2: RecordedStep.OTHER,
    ActivityKind.S3: RecordedStep.INQUIRY,
    ActivityKind.S4: RecordedStep.SERVICE,
    ActivityKind.S5: RecordedStep.PRESERVATION,
    ActivityKind.S6: RecordedStep.ENFORCEMENT,
    ActivityKind.S7: RecordedStep.OTHER,
    ActivityKind.S8: RecordedStep.OTHER,
}


class CloseReason(models.TextChoices):
    """Why a case was closed (C5.5). Only ``REVIEWED`` is a case finished after
    legal review; the others close a case that never went through it, and need
    a written explanation."""

    REVIEWED = "reviewed", _("经法制审核后结案")
    NO_PENALTY = "no_penalty", _("不予处罚")
    REVOKED = "revoked", _("撤销立案")
    REFERRED = "referred", _("移送其他机关处理")
    OTHER = "other", _("其他原因")


class RetentionClass(models.TextChoices):
    """保管期限 of a case file; recordings used as evidence follow it (C5.6)."""

    PERMANENT = "permanent", _("永久")
    Y30 = "30y", _("30年")
    Y10 = "10y", _("10年")


RETENTION_YEARS = {RetentionClass.PERMANENT: None, RetentionClass.Y30: 30, RetentionClass.Y10: 10}
