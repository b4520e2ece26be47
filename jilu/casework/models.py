"""Enforcement activities, cases and the annotation that ties recordings to them.

An *activity* (执法活动, kinds S1–S8) is what the officers did: who, where,
when, against whom. A *case* (案件) gathers activities in order. An
*annotation* ties one recording to one activity with the recorded step
(记录事项) and gives it its standard name (C5.3) and, inside a case, its
number in the AV record list (Attachment 2). Recordings themselves are never
changed (C6.5.3): everything about them lives here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jilu.casework.choices import (  # noqa: F401 (read from here too)
    DEFAULT_STEP,
    MIN_ON_SITE_OFFICERS,
    ON_SITE_KINDS,
    RETENTION_YEARS,
    ActivityKind,
    Category,
    CloseReason,
    RecordedStep,
    RetentionClass,
)
from jilu.evidence.deadlines import ANNOTATION_DEADLINE  # C5.2; others read it from here
from jilu.org import access
from jilu.org.access import RestrictedQuerySet
from jilu.org.roles import LEADERS, UNIT_READERS, Role

# Who edits activities and parties of their unit subtree (besides the officers
# who took part); who opens and edits cases.
ACTIVITY_EDITORS = frozenset({Role.ADMIN, Role.CASE_HANDLER, *LEADERS})
CASE_EDITORS = frozenset({Role.ADMIN, Role.CASE_HANDLER, *LEADERS})
POWER_EDITORS = frozenset({Role.ADMIN})
# Who may be named a case's handler (承办人): case handlers, and the leaders who
# open and edit cases too (CASE_EDITORS without the system administrator, who
# keeps the system, not cases). Never archivists, inspectors or legal reviewers.
CASE_HANDLER_ROLES = frozenset({Role.CASE_HANDLER, *LEADERS})
# Who writes activities down at all: the officers who carry them out and those
# who organise enforcement (the editors above), each within their own scope.
# Inspectors, legal reviewers and archivists read but never write (C6.4, C5.5,
# C6.3): "督察可查看所有单位，但不做修改".
ACTIVITY_CREATORS = frozenset({Role.OFFICER, *ACTIVITY_EDITORS})


def _participant_activity_ids(user: Any) -> models.QuerySet:
    return Activity.officers.through.objects.filter(person_id=user.pk).values("activity_id")


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _either(a: Q | None, b: Q | None) -> Q | None:
    if a is None:
        return b
    if b is None:
        return a
    if not a or not b:  # an empty Q is "all rows": Q() | x would narrow it to x
        return access.ALL
    return a | b


class Power(models.Model):
    """One item of a unit's list of powers (权责清单): the enforcement matter (执法事项)."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="powers")
    code = models.CharField(_("事项编码"), max_length=60)
    name = models.CharField(_("事项名称"), max_length=300)
    category = models.CharField(_("执法类别"), max_length=20, choices=Category.choices)
    basis = models.TextField(_("设定依据"), blank=True)
    active = models.BooleanField(_("在用"), default=True)
    imported_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["unit__path", "code"]
        verbose_name = _("权责清单事项")
        constraints = [
            models.UniqueConstraint(fields=["unit", "code"], name="casework_power_unit_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        # The list of powers is public information: everyone signed in reads it
        # (officers pick matters from it); administrators maintain their subtree's.
        if action == access.VIEW and _signed_in(user):
            return access.ALL
        return access.role_scope(
            user, action, read_roles=frozenset(), write_roles=POWER_EDITORS, field="unit"
        )


class Party(models.Model):
    """行政执法相对人: a natural person or an organisation."""

    class Kind(models.TextChoices):
        PERSON = "person", _("自然人")
        ORGANISATION = "organisation", _("法人或其他组织")

    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("名称或姓名"), max_length=200)
    # 公民身份号码 for a person, 统一社会信用代码 for an organisation.
    id_number = models.CharField(_("证件号码或统一社会信用代码"), max_length=40, blank=True)
    representative = models.CharField(_("法定代表人或负责人"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="parties")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("行政执法相对人")
        indexes = [models.Index(fields=["unit", "name"], name="casework_party_name_idx")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = access.role_scope(
            user, action, read_roles=UNIT_READERS, write_roles=ACTIVITY_EDITORS, field="unit"
        )
        if _signed_in(user) and not user.is_superuser:
            if action == access.VIEW:
                # Officers pick the parties of their own unit and those of
                # the activities they took part in.
                own = Q(created_by_id=user.pk) | Q(
                    pk__in=Activity.objects.filter(
                        pk__in=_participant_activity_ids(user), party__isnull=False
                    ).values("party_id")
                )
                if user.unit_id:
                    own |= Q(unit_id=user.unit_id)
                q = _either(q, own)
            elif action == access.CHANGE:
                q = _either(q, Q(created_by_id=user.pk))
        return q


class Case(models.Model):
    """案件: the activities of one matter against one party, handled by one unit."""

    class Status(models.TextChoices):
        OPEN = "open", _("办理中")
        TRANSFERRED = "transferred", _("已移送法制审核")
        REVIEWED = "reviewed", _("已审核")
        CLOSED = "closed", _("已结案")

    number = models.CharField(_("案件编号"), max_length=60, unique=True)
    title = models.CharField(_("案由"), max_length=200, blank=True)
    category = models.CharField(_("执法类别"), max_length=20, choices=Category.choices)
    power = models.ForeignKey(
        Power,
        verbose_name=_("执法事项"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    matter_text = models.CharField(_("执法事项（清单外）"), max_length=300, blank=True)
    party = models.ForeignKey(
        Party,
        verbose_name=_("相对人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("承办单位"), on_delete=models.PROTECT, related_name="cases"
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_cases",
    )
    retention = models.CharField(_("保管期限"), max_length=10, choices=RetentionClass.choices)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    # Once someone orders the record list by hand, new recordings are appended
    # to it instead of the list being renumbered in case order (A2 rule 4).
    list_order_manual = models.BooleanField(_("清单顺序已手工调整"), default=False)
    # C5.5: how the case was closed; a case closed without legal review keeps
    # the reason and the written explanation (also in the audit log).
    close_reason = models.CharField(
        _("结案原因"), max_length=20, choices=CloseReason.choices, blank=True
    )
    close_note = models.CharField(_("结案说明"), max_length=300, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("案件")
        indexes = [models.Index(fields=["unit", "status"], name="casework_case_unit_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def matter(self) -> str:
        """执法事项 as printed: the list-of-powers item's name, or the free text."""
        return self.power.name if self.power_id else self.matter_text

    @property
    def editable(self) -> bool:
        """Only an open case changes; once transferred its record list is fixed."""
        return self.status == self.Status.OPEN

    @property
    def closed_without_review(self) -> bool:
        return self.status == self.Status.CLOSED and self.close_reason not in (
            "",
            CloseReason.REVIEWED,
        )

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = access.role_scope(
            user, action, read_roles=UNIT_READERS, write_roles=CASE_EDITORS, field="unit"
        )
        if _signed_in(user) and not user.is_superuser:
            if action == access.VIEW:
                # Officers see the cases of the activities they took part in.
                mine = Q(handler_id=user.pk) | Q(
                    pk__in=Activity.objects.filter(
                        pk__in=_participant_activity_ids(user), case__isnull=False
                    ).values("case_id")
                )
                q = _either(q, mine)
            elif action == access.CHANGE and user.has_role(*ACTIVITY_CREATORS):
                # The handler changes their case, if they hold a role that
                # handles enforcement at all (never inspectors or reviewers).
                q = _either(q, Q(handler_id=user.pk))
        return q


class Activity(models.Model):
    """执法活动: one on-site (or office) activity that must be recorded (C2)."""

    kind = models.CharField(_("活动类型"), max_length=2, choices=ActivityKind.choices)
    category = models.CharField(_("执法类别"), max_length=20, choices=Category.choices)
    power = models.ForeignKey(
        Power,
        verbose_name=_("执法事项"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
    )
    matter_text = models.CharField(_("执法事项（清单外）"), max_length=300, blank=True)
    party = models.ForeignKey(
        Party,
        verbose_name=_("相对人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
    )
    address = models.CharField(_("地址"), max_length=300, blank=True)
    place_name = models.CharField(_("地点名称"), max_length=200, blank=True)
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("执法人员"), related_name="activities"
    )
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("执法部门"), on_delete=models.PROTECT, related_name="activities"
    )
    planned_start = models.DateTimeField(_("计划开始"), null=True, blank=True)
    planned_end = models.DateTimeField(_("计划结束"), null=True, blank=True)
    actual_start = models.DateTimeField(_("实际开始"), null=True, blank=True)
    actual_end = models.DateTimeField(_("实际结束"), null=True, blank=True)
    # The span used for matching and coverage: actual when known, else planned.
    # Kept by save() so overlap queries are one indexed range test.
    span_start = models.DateTimeField(editable=False, db_index=True)
    span_end = models.DateTimeField(editable=False, null=True)
    case = models.ForeignKey(
        Case,
        verbose_name=_("所属案件"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
    )
    case_order = models.PositiveIntegerField(_("案件内顺序"), null=True, blank=True)
    # What the opening scripts (Attachment 1) need beyond the above.
    present_person = models.CharField(_("在场当事人或代理人"), max_length=100, blank=True)
    party_notified_on = models.DateField(_("通知当事人日期"), null=True, blank=True)
    party_refused = models.BooleanField(_("当事人拒不到场"), default=False)
    witness1_name = models.CharField(_("见证人一"), max_length=50, blank=True)
    witness1_unit = models.CharField(_("见证人一单位"), max_length=100, blank=True)
    witness2_name = models.CharField(_("见证人二"), max_length=50, blank=True)
    witness2_unit = models.CharField(_("见证人二单位"), max_length=100, blank=True)
    legal_basis = models.CharField(_("法律依据"), max_length=300, blank=True)
    decision_no = models.CharField(_("决定书文号"), max_length=100, blank=True)
    inspection_items = models.TextField(_("检查事项"), blank=True)
    notes = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-span_start"]
        verbose_name = _("执法活动")
        indexes = [
            models.Index(fields=["unit", "-span_start"], name="casework_activity_unit_idx"),
            models.Index(fields=["case", "case_order"], name="casework_activity_case_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gte=models.F("planned_start")),
                name="casework_activity_planned_order",
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_end__gte=models.F("actual_start")),
                name="casework_activity_actual_order",
            ),
            models.UniqueConstraint(
                fields=["case", "case_order"],
                condition=Q(case__isnull=False, case_order__isnull=False),
                name="casework_activity_case_order_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.place_name or self.address}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.sync_span()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "span_start", "span_end"}
        super().save(*args, **kwargs)

    def sync_span(self) -> None:
        start = self.actual_start or self.planned_start
        if start is None:
            raise ValueError("an activity needs a planned or an actual start")
        self.span_start = start
        if self.actual_start:
            self.span_end = self.actual_end
        else:
            self.span_end = self.planned_end

    @property
    def on_site(self) -> bool:
        return self.kind in ON_SITE_KINDS

    @property
    def matter(self) -> str:
        return self.power.name if self.power_id else self.matter_text

    def window(self) -> tuple[datetime, datetime | None]:
        """The time span the activity covers: actual when known, else planned."""
        return self.span_start, self.span_end

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = access.role_scope(
            user, action, read_roles=UNIT_READERS, write_roles=ACTIVITY_EDITORS, field="unit"
        )
        if _signed_in(user) and not user.is_superuser and action in (access.VIEW, access.CHANGE):
            # An officer sees and edits the activities they took part in or wrote
            # down; only those who write activities at all edit them.
            if action == access.VIEW or user.has_role(*ACTIVITY_CREATORS):
                q = _either(q, Q(pk__in=_participant_activity_ids(user)) | Q(created_by_id=user.pk))
        if (
            action == access.VIEW
            and _signed_in(user)
            and user.unit_id
            and user.has_role(*UNIT_READERS)
        ):
            # Readers of a unit also see the activities its people took part
            # in, whichever (higher) unit the activity was written under.
            q = _either(
                q,
                Q(
                    pk__in=Activity.officers.through.objects.filter(
                        person__unit__path__startswith=user.unit.path
                    ).values("activity_id")
                ),
            )
        return q


class Annotation(models.Model):
    """A recording tied to the activity it shows, with its recorded step and standard name.

    One per recording (``recording.annotation``). ``case`` follows the
    activity's case (kept by the actions) so that the record-list number
    ``list_no`` and the standard name are unique within a case (A2 rule 4).
    """

    recording = models.OneToOneField(
        "evidence.Recording", on_delete=models.PROTECT, related_name="annotation"
    )
    activity = models.ForeignKey(
        Activity, verbose_name=_("执法活动"), on_delete=models.PROTECT, related_name="annotations"
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="annotations"
    )
    step = models.CharField(_("记录事项"), max_length=20, choices=RecordedStep.choices)
    standard_name = models.CharField(_("标准文件名"), max_length=255)
    list_no = models.PositiveIntegerField(_("清单序号"), null=True, blank=True)
    annotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    annotated_at = models.DateTimeField(_("标注时间"))
    # When the recording was first annotated: what the 48-hour deadline is
    # judged by (C5.2); a later correction does not make it late.
    first_annotated_at = models.DateTimeField(_("首次标注时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["case", "list_no", "recording__started_at"]
        verbose_name = _("标注")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "list_no"],
                condition=Q(case__isnull=False, list_no__isnull=False),
                name="casework_annotation_list_no_unique",
            ),
            models.UniqueConstraint(
                fields=["case", "standard_name"],
                condition=Q(case__isnull=False),
                name="casework_annotation_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.standard_name

    @property
    def late(self) -> bool:
        """Annotated after the 48-hour deadline counted from docking (C5.2)."""
        first = self.first_annotated_at or self.annotated_at
        return first > self.recording.docked_at + ANNOTATION_DEADLINE

    @property
    def file_name(self) -> str:
        """The standard name with the original file's extension."""
        original = self.recording.original_name.rsplit("/", 1)[-1]
        ext = original.rsplit(".", 1)[-1].lower() if "." in original else ""
        return f"{self.standard_name}.{ext}" if ext else self.standard_name

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        if not _signed_in(user):
            return None
        if user.is_superuser:
            return access.ALL
        if action == access.VIEW:
            q = Q(recording__officer_id=user.pk) | Q(
                activity_id__in=_participant_activity_ids(user)
            )
            if access.is_inspector(user):
                return access.ALL
            if user.has_role(*UNIT_READERS) and user.unit_id:
                q |= (
                    access.unit_q(user, "recording__officer__unit")
                    | access.unit_q(user, "recording__recorder__unit")
                    | access.unit_q(user, "activity__unit")
                )
            return q
        # The recording's officer annotates it (C5.2); leaders and case
        # handlers of the unit correct it.
        q = Q(recording__officer_id=user.pk)
        if user.has_role(*ACTIVITY_EDITORS) and user.unit_id:
            q |= access.unit_q(user, "recording__officer__unit") | access.unit_q(
                user, "activity__unit"
            )
        return q
