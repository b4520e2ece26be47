"""API: finding recordings, one recording, and its bytes (C6.3, C6.5.7).

Person tokens only (a station uploads, it does not browse). Lists go through
the same restricted query as the list page; a recording outside the person's
scope is a 404 and the refusal is audited, as is every fetch of its bytes.
The content endpoint speaks HTTP Range (or, with ``JILU_SERVE_MODE=s3``,
redirects to a presigned URL valid for 60 seconds).
"""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from jilu.evidence import playback
from jilu.evidence.hooks import copy_gate
from jilu.evidence.missing import StoredObjectMissing, raise_alarm
from jilu.evidence.models import MediaInfo, Recording
from jilu.evidence.queries import RecordingFilters, find_recordings, media_of
from jilu.evidence.timeline import FIRST_DAY, LAST_DAY
from jilu.org.api_auth import person_only
from jilu.org.api_types import MAX_ID, Error, Id, Limit, codes, describe_codes
from jilu.org.models import Unit

router = Router(tags=["recordings"])

# A recording's bytes: whatever its kind (MP4, MOV, WAV, JPG).
BYTES = {"*/*": {"schema": {"type": "string", "format": "binary"}}}


KindFilter = codes(("", *Recording.Kind.values))
IntegrityFilter = codes(("", *MediaInfo.Integrity.values))


class RecordingOut(Schema):
    id: int
    original_name: str
    kind: str
    started_at: datetime
    ended_at: datetime | None
    officer_id: int | None
    officer_name: str | None
    user_no: str | None
    recorder_serial: str
    size: int
    sha256: str
    sm3: str
    docked_at: datetime
    collected_within_24h: bool
    integrity: str = Field(
        description="pending 待检测 / complete 完整 / incomplete 不完整 / unparseable 无法解析"
    )
    integrity_reason: str
    content_url: str
    download_url: str

    @staticmethod
    def resolve_officer_name(obj: Recording) -> str | None:
        return obj.officer.name if obj.officer_id else None

    @staticmethod
    def resolve_user_no(obj: Recording) -> str | None:
        return obj.officer.user_no if obj.officer_id else None

    @staticmethod
    def resolve_recorder_serial(obj: Recording) -> str:
        return obj.recorder.serial

    @staticmethod
    def resolve_integrity(obj: Recording) -> str:
        info = media_of(obj)
        return info.integrity if info else MediaInfo.Integrity.PENDING

    @staticmethod
    def resolve_integrity_reason(obj: Recording) -> str:
        info = media_of(obj)
        return info.integrity_reason if info else ""

    @staticmethod
    def resolve_content_url(obj: Recording) -> str:
        return f"/api/v1/recordings/{obj.pk}/content"

    @staticmethod
    def resolve_download_url(obj: Recording) -> str:
        return f"/api/v1/recordings/{obj.pk}/content?download=true"


class RecordingPage(Schema):
    items: list[RecordingOut]
    next_cursor: str | None = Field(
        None, description="pass as ?cursor= for the next page; null on the last page"
    )


class ListParams(Schema):
    q: str = ""
    unit: str = Field("", description="单位编号 (12 digits); includes the units below it")
    officer: Id | None = Field(None, description="执法队员的人员编号")
    recorder: str = Field("", description="记录仪产品序号")
    date_from: date | None = Field(None, description="Asia/Shanghai date, inclusive")
    date_to: date | None = Field(None, description="Asia/Shanghai date, inclusive")
    kind: KindFilter = Field("", description="空为全部；" + describe_codes(Recording.Kind))
    integrity: IntegrityFilter = Field(
        "", description="空为全部；" + describe_codes(MediaInfo.Integrity)
    )
    late: bool | None = Field(None, description="collected more than 24 h after recording (C5.1)")
    annotated: bool | None = None
    overdue: bool = Field(False, description="not annotated 48 h after collection (C5.2)")
    cursor: str = Field("", description="from next_cursor of the previous page")
    limit: Limit = 50


def _cursor(rec: Recording) -> str:
    return f"{rec.started_at.isoformat()}|{rec.pk}"


@router.get(
    "/recordings",
    response={200: RecordingPage, 400: Error, 403: Error},
    summary="声像记录列表",
)
def list_recordings(request: HttpRequest, params: Query[ListParams]) -> dict:
    _person(request)
    _check_dates(params)
    unit = None
    if params.unit:
        unit = Unit.objects.filter(code=params.unit).first()
        if unit is None:
            raise HttpError(400, f"没有编号为 {params.unit} 的单位")
    limit = params.limit
    qs = find_recordings(
        request.user,
        RecordingFilters(
            q=params.q.strip(),
            unit=unit,
            officer_id=params.officer,
            serial=params.recorder,
            date_from=params.date_from,
            date_to=params.date_to,
            kind=params.kind,
            integrity=params.integrity,
            late=params.late,
            annotated=params.annotated,
            overdue=params.overdue,
        ),
    )
    if params.cursor:
        # Keyset pagination on (started_at, id) descending: fast at any depth.
        try:
            at_text, pk_text = params.cursor.rsplit("|", 1)
            at, pk = parse_datetime(at_text), int(pk_text)
        except ValueError:
            at = None
        if at is None or not 1 <= pk <= MAX_ID:
            raise HttpError(400, "cursor 无效：请使用上一页返回的 next_cursor")
        qs = qs.filter(Q(started_at__lt=at) | Q(started_at=at, pk__lt=pk))
    items = list(qs[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": _cursor(items[-1]) if more else None}


def _check_dates(params: ListParams) -> None:
    """Dates outside what a recording can have are a 400 with the allowed range."""
    for name in ("date_from", "date_to"):
        value = getattr(params, name)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise HttpError(
                400,
                f"{name} 超出范围：应在 {FIRST_DAY.isoformat()} 至 {LAST_DAY.isoformat()} 之间"
                f"（收到 {value.isoformat()}）",
            )
    if params.date_from and params.date_to and params.date_from > params.date_to:
        raise HttpError(400, "date_from 不能晚于 date_to")


def _person(request: HttpRequest) -> None:
    if not person_only(request) or not getattr(request.user, "is_authenticated", False):
        raise HttpError(403, "只有人员令牌可以查询声像记录")


def _get(request: HttpRequest, pk: int, wanted: str) -> Recording:  # pk within Id's bounds
    _person(request)
    rec = (
        Recording.objects.restrict(request.user, "view")
        .select_related("officer", "recorder", "media")
        .filter(pk=pk)
        .first()
    )
    if rec is None:
        playback.note_access(
            actor=request.user,
            recording_id=pk,
            action="refused",
            details={
                "wanted": wanted,
                "via": "api",
                "exists": Recording.objects.filter(pk=pk).exists(),
            },
        )
        raise HttpError(404, "没有这条声像记录，或它不在你的权限范围内")
    return rec


@router.get(
    "/recordings/{pk}",
    response={200: RecordingOut, 403: Error, 404: Error},
    summary="一条声像记录",
)
def get_recording(request: HttpRequest, pk: Id) -> Recording:
    rec = _get(request, pk, "view")
    playback.note_access(
        actor=request.user, recording_id=rec.pk, action="view", details={"via": "api"}
    )
    return rec


@router.get(
    "/recordings/{pk}/content",
    summary="声像记录内容（支持 Range；S3 模式重定向到 60 秒有效的预签名地址）",
    response={
        200: None,
        206: None,
        302: None,
        304: None,
        403: Error,
        404: Error,
        410: Error,
        416: None,
    },
    openapi_extra={
        "responses": {
            200: {"description": "整个文件（复制原件，download=true）", "content": BYTES},
            206: {"description": "所请求的字节范围（播放）", "content": BYTES},
            302: {"description": "S3 模式：预签名地址（Location）"},
            304: {"description": "未改变（If-None-Match）"},
            416: {"description": "Range 超出文件"},
        }
    },
)
def recording_content(request: HttpRequest, pk: Id, download: bool = False) -> HttpResponse:
    """Without ``download`` a play: byte ranges only (``Range`` header; the whole
    file in one response is a copy, refused with 403). ``download=true`` copies
    the original: only an archivist covering the recording under an approved,
    unexpired access request (C6.3, C6.5.7); ``request`` may name that request.
    A file missing from the store is 410 and raises the fixity alarm (C6.5.4)."""
    rec = _get(request, pk, "download" if download else "play")
    extra = None
    if download:
        gate = copy_gate()
        grant = gate.authorise(request, rec, via="api")
        if grant is None:
            playback.note_access(
                actor=request.user,
                recording_id=rec.pk,
                action="refused",
                details={"wanted": "download", "via": "api", "reason": "no_approved_request"},
            )
            raise HttpError(403, str(gate.refusal))
        extra = {"request": grant.number}
    try:
        return playback.serve_recording(request, rec, download=download, via="api", extra=extra)
    except playback.WholeObjectRefused as exc:
        raise HttpError(403, str(exc.message)) from None
    except StoredObjectMissing as exc:
        raise_alarm(exc.sha256)
        raise HttpError(410, exc.message) from None
