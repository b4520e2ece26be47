"""API: fixity alarms (固定性告警, C6.5.3, C6.5.4), as the alarm page.

Administrators and inspectors read them; only administrators acknowledge one
(inspectors see and change nothing, C6.4). Acknowledging keeps the alarm on
record with who, when and what was done, audited in the same transaction.
"""

from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from jilu.evidence import fixity
from jilu.evidence.models import FixityAlarm, Recording
from jilu.org.api_auth import person_only
from jilu.org.api_types import Error, FieldErrors, Id, Paginated

router = Router(tags=["recordings"])


class AlarmOut(Schema):
    id: int
    sha256: str = Field(..., description="告警所涉存储对象（原始文件或派生文件）的 SHA-256")
    problem: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None = Field(None, description="确认人姓名")
    note: str = Field(..., description="确认时写明的处理情况")
    recording_ids: list[int] = Field(..., description="字节为该对象的声像记录")

    @staticmethod
    def resolve_sha256(obj: FixityAlarm) -> str:
        return obj.stored_object_id

    @staticmethod
    def resolve_acknowledged_by(obj: FixityAlarm) -> str | None:
        return obj.acknowledged_by.name if obj.acknowledged_by_id else None

    @staticmethod
    def resolve_recording_ids(obj: FixityAlarm) -> list[int]:
        return list(
            Recording.objects.filter(sha256=obj.stored_object_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


class AcknowledgeIn(Schema):
    note: str = Field(
        ..., max_length=2000, description="处理情况（必填），例如已报告、已从备份恢复"
    )


def _reader(request: HttpRequest) -> None:
    if not person_only(request) or not fixity.may_read_alarms(request.user):
        raise HttpError(403, _("只有系统管理员和督察可以查看固定性告警"))


@router.get("/fixity-alarms", response={200: list[AlarmOut], 403: Error})
@paginate(Paginated)
def list_alarms(
    request: HttpRequest,
    show: Literal["open", "all"] = Query(  # noqa: B008
        "open", description="open 未确认；all 全部"
    ),
):
    """Altered or missing stored objects, newest first (C6.5.3, C6.5.4)."""
    _reader(request)
    alarms = FixityAlarm.objects.select_related("acknowledged_by")
    if show != "all":
        alarms = alarms.filter(acknowledged_at__isnull=True)
    return alarms.order_by("-raised_at", "-pk")


@router.post(
    "/fixity-alarms/{alarm_id}/acknowledge",
    response={200: AlarmOut, 400: FieldErrors, 403: Error, 404: Error, 409: Error},
)
def acknowledge(request: HttpRequest, alarm_id: Id, body: AcknowledgeIn):
    """An administrator notes they have seen the alarm and what is done; it stays on record."""
    _reader(request)
    if not fixity.may_acknowledge_alarms(request.user):
        raise HttpError(403, _("只有系统管理员可以确认固定性告警；督察可以查看"))
    alarm = FixityAlarm.objects.filter(pk=alarm_id).first()
    if alarm is None:
        raise HttpError(404, _("没有这条告警"))
    if alarm.acknowledged_at is not None:
        raise HttpError(409, _("这条告警已经确认过了"))
    try:
        fixity.acknowledge_alarm(actor=request.user, alarm=alarm, note=body.note)
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from None
    return FixityAlarm.objects.select_related("acknowledged_by").get(pk=alarm.pk)
