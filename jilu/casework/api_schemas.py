"""The casework API's request and response bodies (``jilu.casework.api``)."""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from jilu.casework import queries, review_hook
from jilu.casework.coverage import activity_coverage
from jilu.casework.models import (
    Activity,
    ActivityKind,
    Annotation,
    Case,
    Category,
    Party,
    RecordedStep,
    RetentionClass,
)
from jilu.org.api_types import Error, Id, Moment, codes, describe_codes
from jilu.org.models import Person

__all__ = ["Error"]  # the API's error body, as casework's API names it

# At most this many ids in one request (officers of an activity, recordings of a run).
MAX_IDS = 1000

PartyKindCode = codes(Party.Kind)
ActivityKindCode = codes(ActivityKind)
CategoryCode = codes(Category)
StepCode = codes(RecordedStep)
RetentionCode = codes(RetentionClass)

# --- schemas --------------------------------------------------------------------


class PartyIn(Schema):
    kind: PartyKindCode = Field(..., description=describe_codes(Party.Kind))
    name: str
    id_number: str = Field("", description="公民身份号码或统一社会信用代码")


class PartyOut(Schema):
    id: int
    kind: str
    name: str
    id_number: str


class OfficerOut(Schema):
    id: int
    name: str
    cert_no: str | None
    user_no: str | None


class ActivityIn(Schema):
    kind: ActivityKindCode = Field(..., description=describe_codes(ActivityKind))
    category: CategoryCode = Field(..., description="执法类别：" + describe_codes(Category))
    unit_code: str = Field(..., description="执法部门的单位编号")
    officer_ids: list[Id] = Field(
        ..., max_length=MAX_IDS, description="执法人员；现场执法至少两名（C4.1）"
    )
    power_id: Id | None = None
    matter_text: str = ""
    party_id: Id | None = None
    party: PartyIn | None = Field(None, description="新的相对人（不填 party_id 时）")
    address: str = ""
    place_name: str = ""
    planned_start: Moment | None = None
    planned_end: Moment | None = None
    actual_start: Moment | None = None
    actual_end: Moment | None = None
    case_id: Id | None = None
    present_person: str = ""
    party_notified_on: date | None = None
    party_refused: bool = False
    witness1_name: str = ""
    witness1_unit: str = ""
    witness2_name: str = ""
    witness2_unit: str = ""
    legal_basis: str = ""
    decision_no: str = ""
    inspection_items: str = ""
    notes: str = ""


class ActivityOut(Schema):
    id: int
    kind: str
    kind_label: str
    category: str
    category_label: str
    matter: str
    power_id: int | None
    party: PartyOut | None
    address: str
    place_name: str
    unit_code: str
    unit_name: str
    officers: list[OfficerOut]
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    case_id: int | None
    case_number: str | None
    case_order: int | None

    @staticmethod
    def resolve_kind_label(obj: Activity) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_category_label(obj: Activity) -> str:
        return obj.get_category_display()

    @staticmethod
    def resolve_unit_code(obj: Activity) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj: Activity) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_officers(obj: Activity) -> list[Person]:
        return list(obj.officers.all())

    @staticmethod
    def resolve_case_number(obj: Activity) -> str | None:
        return obj.case.number if obj.case_id else None


class GapOut(Schema):
    start: datetime
    end: datetime


class CoverageOut(Schema):
    status: str = Field(..., description="none（C2.1）/ gaps（C4.3）/ open / complete")
    label: str
    percent: int | None
    recording_ids: list[int]
    gaps: list[GapOut]


class AnnotationOut(Schema):
    id: int
    recording_id: int
    activity_id: int
    case_id: int | None
    step: str
    step_label: str
    standard_name: str
    file_name: str
    list_no: int | None
    annotated_at: datetime

    @staticmethod
    def resolve_step_label(obj: Annotation) -> str:
        return obj.get_step_display()


class ActivityDetailOut(ActivityOut):
    coverage: CoverageOut
    annotations: list[AnnotationOut]

    @staticmethod
    def resolve_coverage(obj: Activity) -> dict:
        cov = activity_coverage(obj)
        return {
            "status": cov.status,
            "label": cov.label,
            "percent": cov.percent,
            "recording_ids": [r.pk for r in cov.recordings],
            "gaps": [{"start": a, "end": b} for a, b in cov.gaps],
        }

    @staticmethod
    def resolve_annotations(obj: Activity, context: dict) -> list[Annotation]:
        visible = queries.visible_recordings(context["request"].user).values("pk")
        return list(
            obj.annotations.filter(recording__in=visible)
            .select_related("recording")
            .order_by("list_no", "recording__started_at")
        )


class LinkIn(Schema):
    recording_ids: list[Id] = Field(..., min_length=1, max_length=MAX_IDS)
    step: StepCode = Field(..., description="记录事项：" + describe_codes(RecordedStep))
    note: str = ""


class CaseIn(Schema):
    number: str
    category: CategoryCode = Field(..., description="执法类别：" + describe_codes(Category))
    unit_code: str
    title: str = ""
    handler_id: Id | None = None
    retention: RetentionCode | None = Field(
        None, description=describe_codes(RetentionClass) + "；不填按保管期限表"
    )
    power_id: Id | None = None
    matter_text: str = ""
    party_id: Id | None = None


class CaseOut(Schema):
    id: int
    number: str
    title: str
    category: str
    category_label: str
    matter: str
    party: PartyOut | None
    unit_code: str
    unit_name: str
    handler: OfficerOut | None
    retention: str
    retention_label: str
    status: str
    status_label: str
    created_at: datetime

    @staticmethod
    def resolve_category_label(obj: Case) -> str:
        return obj.get_category_display()

    @staticmethod
    def resolve_unit_code(obj: Case) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj: Case) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_retention_label(obj: Case) -> str:
        return obj.get_retention_display()

    @staticmethod
    def resolve_status_label(obj: Case) -> str:
        return obj.get_status_display()


class CaseRecordingOut(Schema):
    list_no: int | None
    recording_id: int
    activity_id: int
    standard_name: str
    file_name: str
    step: str
    officer: str
    start: datetime
    end: datetime | None
    integrity: str


class ReviewMarkOut(Schema):
    """The legal reviewer's mark on one record-list row (C5.4)."""

    list_no: int
    file_name: str
    recording_id: int | None
    verdict: Literal["ok", "problem"]
    reason: str = Field(..., description="有问题时的原因（退回补正的依据）")


class ReviewDecisionOut(Schema):
    """The newest decided legal review of the case (C5.5)."""

    review_id: int
    decision: Literal["accepted", "returned"] = Field(
        ..., description="accepted 审核通过 / returned 退回补正"
    )
    decision_label: str
    note: str = Field(..., description="审核意见")
    reviewer: str
    decided_at: datetime | None
    package_version: int
    resubmitted: bool = Field(..., description="退回后已重新移送、等待审核")
    marks: list[ReviewMarkOut]


class CaseDetailOut(CaseOut):
    activities: list[ActivityOut]
    recordings: list[CaseRecordingOut]
    latest_review: ReviewDecisionOut | None = Field(
        None, description="最近一次审核结论（审核意见与逐项结论）；未审核过为 null"
    )

    @staticmethod
    def resolve_latest_review(obj: Case) -> review_hook.ReviewDecision | None:
        return review_hook.latest_review(obj)

    @staticmethod
    def resolve_activities(obj: Case) -> list[Activity]:
        return list(queries.case_activities(obj))

    @staticmethod
    def resolve_recordings(obj: Case) -> list[dict]:
        return [
            {
                "list_no": r.list_no,
                "recording_id": r.recording.pk,
                "activity_id": r.activity.pk,
                "standard_name": r.standard_name,
                "file_name": r.file_name,
                "step": r.step,
                "officer": r.officer,
                "start": r.start,
                "end": r.end,
                "integrity": r.integrity,
            }
            for r in queries.case_recordings(obj)
        ]


class QueueItemOut(Schema):
    recording_id: int
    original_name: str
    started_at: datetime
    docked_at: datetime
    due: datetime
    seconds_left: int
    overdue: bool
