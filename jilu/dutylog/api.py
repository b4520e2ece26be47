"""API: the duty log (执勤日志, C6.2), the same list, note, edit, confirm and return as its pages.

Person tokens only. Notes are read through ``UnrecordedNote.objects.restrict(user,
"view")`` (a note out of scope is a 404); every change goes through
``jilu.dutylog.actions``, which checks who may act (403) and what is written
(400 naming each field). Times are ISO 8601; one without an offset is Beijing time.
"""

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from jilu.dutylog import actions
from jilu.dutylog.labels import reason_label, state_label
from jilu.dutylog.models import READERS, UnrecordedNote
from jilu.org.api_types import (
    Day,
    Error,
    FieldErrors,
    Id,
    Moment,
    Paginated,
    codes,
    describe_codes,
)
from jilu.org.models import Person
from jilu.org.roles import LEADERS, Role

router = Router(tags=["dutylog"])

SHANGHAI = ZoneInfo("Asia/Shanghai")


ReasonCode = codes(UnrecordedNote.Reason)
StateCode = codes(UnrecordedNote.State)

# --- schemas --------------------------------------------------------------------------


class NoteIn(Schema):
    start: Moment = Field(..., description="无法记录的开始时间")
    end: Moment = Field(..., description="结束时间；一条最长 24 小时，不能是将来")
    reason: ReasonCode = Field(..., description=describe_codes(UnrecordedNote.Reason))
    description: str = Field(
        ..., max_length=actions.MAX_DESCRIPTION, description="无法记录的具体情况"
    )
    recorder: str = Field("", max_length=32, description="当时持有的记录仪产品序号，可不填")


class NoteConfirmIn(Schema):
    note: str = Field("", max_length=actions.MAX_NOTE, description="确认意见，可不填")


class NoteReturnIn(Schema):
    reason: str = Field(..., max_length=actions.MAX_NOTE, description="退回理由（必填）")


class OfficerRef(Schema):
    id: int
    name: str
    user_no: str | None


class NoteOut(Schema):
    id: int
    officer: OfficerRef
    unit_code: str
    unit_name: str
    start: datetime
    end: datetime
    reason: ReasonCode
    reason_label: str
    description: str
    recorder_serial: str | None
    state: StateCode
    state_label: str
    created_at: datetime
    updated_at: datetime
    confirmed_by: str | None = Field(None, description="确认人姓名")
    confirmed_at: datetime | None
    leader_note: str
    returned_by: str | None = Field(None, description="退回人姓名")
    returned_at: datetime | None
    return_reason: str
    may_edit: bool = Field(..., description="调用者可以修改（本人、尚未确认）")
    may_decide: bool = Field(..., description="调用者可以确认或退回（管辖的中队长、大队长）")

    @staticmethod
    def resolve_unit_code(obj: UnrecordedNote) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj: UnrecordedNote) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_reason_label(obj: UnrecordedNote) -> str:
        return reason_label(obj.reason)

    @staticmethod
    def resolve_state_label(obj: UnrecordedNote) -> str:
        return state_label(obj.state)

    @staticmethod
    def resolve_recorder_serial(obj: UnrecordedNote) -> str | None:
        return obj.recorder.serial if obj.recorder_id else None

    @staticmethod
    def resolve_confirmed_by(obj: UnrecordedNote) -> str | None:
        return obj.confirmed_by.name if obj.confirmed_by_id else None

    @staticmethod
    def resolve_returned_by(obj: UnrecordedNote) -> str | None:
        return obj.returned_by.name if obj.returned_by_id else None

    @staticmethod
    def resolve_may_edit(obj: UnrecordedNote, context: dict) -> bool:
        return actions.may_edit(context["request"].user, obj)

    @staticmethod
    def resolve_may_decide(obj: UnrecordedNote, context: dict) -> bool:
        return actions.may_decide(context["request"].user, obj)


# --- helpers --------------------------------------------------------------------------


def _person(request: HttpRequest) -> Person:
    user = getattr(request, "user", None)
    if getattr(request, "station", None) is not None or not isinstance(user, Person):
        raise HttpError(403, _("此接口需要人员令牌，工作站令牌不可用"))
    return user


def _reads_scope(user: Person) -> bool:
    """Who sees the whole of their scope, as the list page's 全部 tab."""
    return user.is_superuser or user.has_role(Role.INSPECTOR, *READERS)


def _get(user: Person, pk: int) -> UnrecordedNote:
    note = (
        UnrecordedNote.objects.restrict(user, "view")
        .select_related("officer", "unit", "recorder", "confirmed_by", "returned_by")
        .filter(pk=pk)
        .first()
    )
    if note is None:
        raise HttpError(404, _("没有这条执勤日志，或它不在你的权限范围内"))
    return note


def _invalid(exc: ValidationError) -> Status:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {}
    return Status(400, {"detail": "；".join(exc.messages), "fields": fields})


# --- operations ------------------------------------------------------------------------


STATE_FILTER = Query(None, description=describe_codes(UnrecordedNote.State))


@router.get("/duty-log", response={200: list[NoteOut], 403: Error})
@paginate(Paginated)
def list_notes(
    request: HttpRequest,
    tab: Literal["mine", "confirm", "all"] = Query(  # noqa: B008
        "mine",
        description="mine 我的执勤日志；confirm 待我确认（中队长、大队长）；"
        "all 全部（中队长、大队长、档案管理员、系统管理员、督察）",
    ),
    state: StateCode | None = STATE_FILTER,
    day: Day | None = Query(None, description="只列出与这一天（北京时间）重叠的"),  # noqa: B008
):
    """Notes newest first, as the duty-log page's tabs (C6.2)."""
    user = _person(request)
    visible = UnrecordedNote.objects.restrict(user, "view")
    if tab == "confirm":
        if not user.roles.intersection(LEADERS):
            raise HttpError(403, _("只有中队长和大队长有待确认的执勤日志"))
        qs = visible.filter(pk__in=actions.awaiting_confirmation(user).values("pk"))
    elif tab == "all":
        if not _reads_scope(user):
            raise HttpError(403, _("你的角色只能查看自己的执勤日志（tab=mine）"))
        qs = visible
    else:
        qs = visible.filter(officer_id=user.pk)
    if state:
        qs = qs.filter(state=state)
    if day is not None:
        lo = datetime.combine(day, time(0), tzinfo=SHANGHAI)
        qs = qs.filter(start__lt=lo + timedelta(days=1), end__gt=lo)
    notes = qs.select_related("officer", "unit", "recorder", "confirmed_by", "returned_by")
    return notes.order_by("-start", "-pk")


@router.post("/duty-log", response={201: NoteOut, 400: FieldErrors, 403: Error})
def create_note(request: HttpRequest, body: NoteIn):
    """The caller notes a period they could not record and why; it awaits their leader (C6.2)."""
    user = _person(request)
    try:
        note = actions.create_note(
            actor=user,
            start=body.start,
            end=body.end,
            reason=body.reason,
            description=body.description,
            recorder=body.recorder,
        )
    except ValidationError as exc:
        return _invalid(exc)
    return Status(201, _get(user, note.pk))


@router.get("/duty-log/{note_id}", response={200: NoteOut, 403: Error, 404: Error})
def get_note(request: HttpRequest, note_id: Id):
    user = _person(request)
    return _get(user, note_id)


@router.put(
    "/duty-log/{note_id}", response={200: NoteOut, 400: FieldErrors, 403: Error, 404: Error}
)
def edit_note(request: HttpRequest, note_id: Id, body: NoteIn):
    """The officer corrects their note not yet confirmed; it goes back to the leader (C6.2)."""
    user = _person(request)
    note = _get(user, note_id)
    if not actions.may_edit(user, note):
        raise HttpError(403, _("只有本人可以修改尚未确认的执勤日志"))
    try:
        actions.update_note(
            note,
            actor=user,
            start=body.start,
            end=body.end,
            reason=body.reason,
            description=body.description,
            recorder=body.recorder,
        )
    except ValidationError as exc:
        return _invalid(exc)
    return _get(user, note_id)


@router.post(
    "/duty-log/{note_id}/confirm",
    response={200: NoteOut, 400: FieldErrors, 403: Error, 404: Error},
)
def confirm_note(request: HttpRequest, note_id: Id, body: NoteConfirmIn):
    """C6.2: the leader covering the officer's unit (never the officer) confirms the note."""
    user = _person(request)
    note = _get(user, note_id)
    try:
        actions.confirm_note(note, actor=user, leader_note=body.note)
    except ValidationError as exc:
        return _invalid(exc)
    return _get(user, note_id)


@router.post(
    "/duty-log/{note_id}/return",
    response={200: NoteOut, 400: FieldErrors, 403: Error, 404: Error},
)
def return_note(request: HttpRequest, note_id: Id, body: NoteReturnIn):
    """The leader sends the note back to the officer, with the reason (C6.2)."""
    user = _person(request)
    note = _get(user, note_id)
    try:
        actions.return_note(note, actor=user, reason=body.reason)
    except ValidationError as exc:
        return _invalid(exc)
    return _get(user, note_id)
