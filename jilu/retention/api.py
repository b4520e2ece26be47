"""API: a recording's keep-until and why (C5.6), holds, disposal lists.

Person tokens only; every list goes through ``restrict()``, every change
through ``jilu.retention.actions``. Errors are ``{"detail": "…"}``.
"""

from datetime import date, datetime
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import HttpError

from jilu.casework.models import Activity, Case
from jilu.evidence.models import Recording
from jilu.org.api_auth import person_only
from jilu.org.api_types import Error, Id, Limit, Offset
from jilu.retention import actions, rules
from jilu.retention.models import DISPOSAL_READERS, HOLD_PLACERS, Disposal, Hold, KeepUntil

router = Router(tags=["retention"])

HoldKind = Literal[tuple(Hold.Kind.values)]  # type: ignore[valid-type]
HoldState = Literal[tuple(Hold.State.values)]  # type: ignore[valid-type]
DisposalState = Literal[tuple(Disposal.State.values)]  # type: ignore[valid-type]


class ReasonOut(Schema):
    rule: Literal[tuple(rules.RULES)]  # type: ignore[valid-type]
    clause: str
    until: date | None = Field(description="该规则要求保存至此日；空：该原因存在期间无期限")
    detail: str
    text: str


class KeepUntilOut(Schema):
    recording_id: int
    until: date | None = Field(description="保存至；空：无期限（不会销毁）")
    rule: str
    reasons: list[ReasonOut]
    disposed: bool = Field(description="已按销毁清单销毁（有销毁记录）")


class HoldIn(Schema):
    kind: HoldKind
    reason: str = Field(min_length=1, max_length=300)
    recording_id: Id | None = None
    activity_id: Id | None = None
    case_id: Id | None = None


class HoldOut(Schema):
    id: int
    kind: HoldKind
    state: HoldState
    target: str
    recording_id: int | None
    activity_id: int | None
    case_id: int | None
    reason: str
    placed_by: str
    placed_at: datetime
    release_reason: str
    released_at: datetime | None

    @staticmethod
    def resolve_target(obj: Hold) -> str:
        return obj.target_label()

    @staticmethod
    def resolve_placed_by(obj: Hold) -> str:
        return obj.placed_by.name


class ReleaseIn(Schema):
    reason: str = Field("", max_length=300, description="申请解除时必填；批准解除时不用")


class DisposalItemOut(Schema):
    id: int
    recording_id: int
    keep_until: date
    rule: str
    outcome: str
    note: str


class DisposalOut(Schema):
    id: int
    number: str
    unit_code: str
    state: DisposalState
    cutoff: date
    proposed_at: datetime
    reviewed_by: str | None
    approved_by: str | None
    executed_at: datetime | None
    items: list[DisposalItemOut]

    @staticmethod
    def resolve_unit_code(obj: Disposal) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_reviewed_by(obj: Disposal) -> str | None:
        return obj.reviewed_by.name if obj.reviewed_by_id else None

    @staticmethod
    def resolve_approved_by(obj: Disposal) -> str | None:
        return obj.approved_by.name if obj.approved_by_id else None

    @staticmethod
    def resolve_items(obj: Disposal) -> list:
        return list(obj.items.all())


def _person(request: HttpRequest):
    if not person_only(request):
        raise HttpError(403, "工作站令牌不能使用此接口")
    return request.user


@router.get(
    "/recordings/{recording_id}/keep-until",
    response={200: KeepUntilOut, 403: Error, 404: Error},
    summary="声像记录的保存期限及其依据（C5.6）",
)
def keep_until(request: HttpRequest, recording_id: Path[Id]):
    from jilu.evidence.models import Tombstone

    user = _person(request)
    rec = Recording.objects.restrict(user, "view").filter(pk=recording_id).first()
    if rec is None:
        raise HttpError(404, "没有这条声像记录，或它不在你的权限范围内")
    keep = KeepUntil.objects.filter(pk=rec.pk).first()
    if keep is None:
        decision = rules.decide([rec.pk])[rec.pk]
        until, rule = decision.until, decision.deciding.rule
        reasons = [r.as_dict() for r in decision.reasons]
    else:
        until, rule, reasons = keep.until, keep.rule, keep.reasons
    return {
        "recording_id": rec.pk,
        "until": until,
        "rule": rule,
        "reasons": rules.explain(reasons),
        "disposed": Tombstone.objects.filter(pk=rec.sha256).exists(),
    }


@router.get(
    "/holds",
    response={200: list[HoldOut], 403: Error},
    summary="保全列表（本单位及下级；督察、系统管理员全部）",
)
def list_holds(
    request: HttpRequest,
    state: HoldState | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    user = _person(request)
    if not (user.is_superuser or user.has_role(*HOLD_PLACERS)):
        raise HttpError(403, "你不能查看保全")
    holds = Hold.objects.restrict(user, "view").select_related("placed_by", "recording")
    if state:
        holds = holds.filter(state=state)
    return list(holds[offset : offset + limit])


@router.post(
    "/holds",
    response={201: HoldOut, 400: Error, 403: Error, 404: Error},
    summary="设置保全（声像记录、执法活动或案件之一）",
)
def create_hold(request: HttpRequest, body: HoldIn):
    user = _person(request)
    targets = {}
    for name, model, value in (
        ("recording", Recording, body.recording_id),
        ("activity", Activity, body.activity_id),
        ("case", Case, body.case_id),
    ):
        if value is not None:
            found = model.objects.restrict(user, "view").filter(pk=value).first()
            if found is None:
                raise HttpError(404, f"没有这个{name}，或它不在你的权限范围内")
            targets[name] = found
    try:
        hold = actions.place_hold(actor=user, kind=body.kind, reason=body.reason, **targets)
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from None
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return Status(201, hold)


@router.post(
    "/holds/{hold_id}/release",
    response={200: HoldOut, 400: Error, 403: Error, 404: Error},
    summary="申请解除保全；已申请的，由另一人批准解除",
)
def release_hold(request: HttpRequest, hold_id: Path[Id], body: ReleaseIn):
    user = _person(request)
    hold = Hold.objects.restrict(user, "view").filter(pk=hold_id).first()
    if hold is None:
        raise HttpError(404, "没有这项保全，或它不在你的权限范围内")
    try:
        if hold.state == Hold.State.ACTIVE:
            hold = actions.request_release(actor=user, hold=hold, reason=body.reason)
        else:
            hold = actions.approve_release(actor=user, hold=hold)
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from None
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return hold


@router.get(
    "/disposals",
    response={200: list[DisposalOut], 403: Error},
    summary="销毁清单（C5.6）",
)
def list_disposals(
    request: HttpRequest,
    state: DisposalState | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
):
    user = _person(request)
    if not (user.is_superuser or user.has_role(*DISPOSAL_READERS)):
        raise HttpError(403, "你不能查看销毁清单")
    disposals = Disposal.objects.restrict(user, "view").select_related(
        "unit", "reviewed_by", "approved_by"
    )
    if state:
        disposals = disposals.filter(state=state)
    return list(disposals[offset : offset + limit])


@router.get(
    "/disposals/{disposal_id}",
    response={200: DisposalOut, 403: Error, 404: Error},
    summary="一份销毁清单及其各项",
)
def get_disposal(request: HttpRequest, disposal_id: Path[Id]):
    user = _person(request)
    if not (user.is_superuser or user.has_role(*DISPOSAL_READERS)):
        raise HttpError(403, "你不能查看销毁清单")
    found = (
        Disposal.objects.restrict(user, "view")
        .select_related("unit", "reviewed_by", "approved_by")
        .filter(pk=disposal_id)
        .first()
    )
    if found is None:
        raise HttpError(404, "没有这份销毁清单，或它不在你的权限范围内")
    return found
