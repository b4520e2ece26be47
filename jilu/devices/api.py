"""API: recorders, their holders (C1.3) and workstations; station-side checks (C1.4).

Person tokens set ``request.user``; station tokens set ``request.station``
(``request.user`` stays anonymous). Every list goes through ``restrict()``.
Errors are ``{"detail": "…"}`` in Chinese.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from jilu.devices import actions, queries
from jilu.devices.models import DeviceEvent, Holding, Recorder, Workstation
from jilu.org.api_types import MAX_BYTES, Error, Id, Moment, Paginated, codes, describe_codes
from jilu.org.models import Person

router = Router(tags=["devices"])


# --- schemas --------------------------------------------------------------


class StationOut(Schema):
    id: int
    name: str
    unit_code: str
    unit_name: str


class PersonBrief(Schema):
    id: int
    username: str
    name: str
    user_no: str | None
    unit_code: str | None

    @staticmethod
    def resolve_unit_code(obj: Person) -> str | None:
        return obj.unit.code if obj.unit_id else None


class HoldingOut(Schema):
    person: PersonBrief
    started_at: datetime
    ended_at: datetime | None
    issued_by: str | None = Field(None, description="配发人姓名")
    returned_to: str | None = Field(None, description="接收归还的人姓名")
    note: str

    @staticmethod
    def resolve_issued_by(obj: Holding) -> str | None:
        return obj.issued_by.name if obj.issued_by_id else None

    @staticmethod
    def resolve_returned_to(obj: Holding) -> str | None:
        return obj.returned_to.name if obj.returned_to_id else None


class EventOut(Schema):
    id: int
    kind: str
    kind_label: str
    at: datetime
    battery_pct: int | None
    storage_free_bytes: int | None
    storage_total_bytes: int | None
    clock_offset_seconds: float | None
    workstation_id: int | None
    reported_by: str | None
    note: str

    @staticmethod
    def resolve_kind_label(obj: DeviceEvent) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_reported_by(obj: DeviceEvent) -> str | None:
        return obj.reported_by.name if obj.reported_by_id else None


class RecorderOut(Schema):
    serial: str
    vendor: str
    model: str
    unit_code: str
    unit_name: str
    status: str
    status_label: str
    holder: PersonBrief | None = Field(None, description="当前持有人（C1.3）")
    held_since: datetime | None = None

    @staticmethod
    def resolve_unit_code(obj: Recorder) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj: Recorder) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_status_label(obj: Recorder) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_holder(obj: Recorder) -> Person | None:
        current = _current(obj)
        return current.person if current else None

    @staticmethod
    def resolve_held_since(obj: Recorder) -> datetime | None:
        current = _current(obj)
        return current.started_at if current else None


class RecorderDetailOut(RecorderOut):
    registered_at: datetime
    holdings: list[HoldingOut] = Field(..., description="持有记录，新的在前（C1.3）")
    recent_events: list[EventOut] = Field(..., description="最近 50 条检查与事件")

    @staticmethod
    def resolve_holdings(obj: Recorder) -> list[Holding]:
        return obj.holding_rows

    @staticmethod
    def resolve_recent_events(obj: Recorder) -> list[DeviceEvent]:
        return obj.event_rows


class HolderAtOut(Schema):
    serial: str
    at: datetime
    holder: PersonBrief | None = Field(None, description="该时刻的持有人，无人持有时为 null")
    started_at: datetime | None = None
    ended_at: datetime | None = None


class IssueIn(Schema):
    """Name the person by exactly one of: id, username, user_no (警号)."""

    person_id: Id | None = None
    username: str | None = None
    user_no: str | None = None
    at: Moment | None = Field(None, description="配发时间，省略为现在")
    note: str = ""


class ReturnIn(Schema):
    at: Moment | None = Field(None, description="归还时间，省略为现在")
    note: str = ""


class WorkstationOut(Schema):
    id: int
    name: str
    unit_code: str
    unit_name: str
    location: str
    active: bool
    token_prefix: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def resolve_unit_code(obj: Workstation) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj: Workstation) -> str:
        return obj.unit.name


class StationCheckIn(Schema):
    """What a station reads from a docked recorder (ZFY_INFO.json, C1.4)."""

    serial: str = Field(..., description="产品序号（7位）")
    at: Moment | None = Field(None, description="读取时间，省略为现在")
    # Bounds keep the database safe; the action explains a reading outside 0–100.
    battery_pct: int | None = Field(None, ge=-30000, le=30000, description="电量百分比 0–100")
    storage_free_bytes: int | None = Field(None, ge=-MAX_BYTES, le=MAX_BYTES)
    storage_total_bytes: int | None = Field(None, ge=-MAX_BYTES, le=MAX_BYTES)
    clock_offset_seconds: float | None = Field(
        None,
        ge=-1e9,
        le=1e9,
        allow_inf_nan=False,
        description="记录仪时钟减标准时间（秒），快为正",
    )
    device_clock: Moment | None = Field(
        None, description="记录仪报告的时钟；给出时由服务器算出时钟偏差"
    )


class StationCheckOut(Schema):
    serial: str
    status: str
    holder: PersonBrief | None
    events: list[EventOut]


# --- helpers --------------------------------------------------------------


def _current(recorder: Recorder) -> Holding | None:
    prefetched = getattr(recorder, "current_holdings", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return queries.current_holding(recorder)


def _person(request: HttpRequest) -> Person:
    user = getattr(request, "user", None)
    if getattr(request, "station", None) is not None or not isinstance(user, Person):
        raise HttpError(403, "此接口需要人员令牌，工作站令牌不可用")
    return user


def _station(request: HttpRequest) -> Workstation:
    station = getattr(request, "station", None)
    if station is None:
        raise HttpError(403, "此接口需要工作站令牌")
    return station


def _invalid(exc: ValidationError) -> HttpError:
    return HttpError(400, "；".join(exc.messages))


def _recorder(user: Person, serial: str, action: str = "view") -> Recorder:
    """404 outside the view scope, 403 when seen but not to be acted on."""
    recorder = (
        Recorder.objects.restrict(user, "view")
        .select_related("unit")
        .filter(serial=serial.strip().upper())
        .first()
    )
    if recorder is None:
        raise HttpError(404, f"没有产品序号为 {serial} 的记录仪，或它不在你的管辖范围内")
    if (
        action != "view"
        and not Recorder.objects.restrict(user, action).filter(pk=recorder.pk).exists()
    ):
        raise HttpError(403, f"你可以查看记录仪 {recorder.serial}，但无权配发或归还")
    return recorder


def _parse_at(raw: str) -> datetime:
    """ISO 8601; a time without offset is Beijing time. A '+' sent unencoded in a
    query string arrives as a space, so a space before the offset is read as '+'."""
    text = (raw or "").strip()
    if " " in text and "T" in text:
        text = text.replace(" ", "+")
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None:
        raise HttpError(
            400, f"时间格式不正确：“{raw}”。请使用 ISO 8601，例如 2026-11-26T09:00:00+08:00"
        )
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _detail(recorder: Recorder, user: Person) -> Recorder:
    """The recorder with its history and recent events attached for RecorderDetailOut."""
    recorder.holding_rows = list(
        Holding.objects.restrict(user, "view")
        .filter(recorder=recorder)
        .select_related("person", "person__unit", "issued_by", "returned_to")
        .order_by("-started_at", "-pk")
    )
    recorder.event_rows = list(
        DeviceEvent.objects.restrict(user, "view")
        .filter(recorder=recorder)
        .select_related("reported_by")
        .order_by("-at", "-pk")[:50]
    )
    recorder.current_holdings = [h for h in recorder.holding_rows if h.ended_at is None]
    return recorder


# --- stations -------------------------------------------------------------


RecorderStatusCode = codes(Recorder.Status)

STATUS_FILTER = Query(None, description=describe_codes(Recorder.Status))


@router.get("/station/me", response={200: StationOut, 403: Error})
def station_me(request: HttpRequest):
    """The workstation this token belongs to."""
    station = _station(request)
    actions.note_station_seen(station, ip=request.META.get("REMOTE_ADDR"))
    return StationOut(
        id=station.pk, name=station.name, unit_code=station.unit.code, unit_name=station.unit.name
    )


@router.post(
    "/station/checks",
    response={201: StationCheckOut, 400: Error, 403: Error, 404: Error},
    summary="Report a docked recorder's battery, storage and clock",
)
def station_checks(request: HttpRequest, body: StationCheckIn):
    """C1.4: a station reports what it read from a docked recorder.

    A recorder of any unit may dock at any station (officers work across
    squads), so any registered serial is accepted; each reading becomes one
    event (battery, storage, clock) linked to this workstation.
    """
    station = _station(request)
    actions.note_station_seen(station, ip=request.META.get("REMOTE_ADDR"))
    serial = body.serial.strip().upper()
    recorder = Recorder.objects.filter(serial=serial).first()
    if recorder is None:
        raise HttpError(
            404, f"未登记的记录仪：产品序号 {serial}。请系统管理员先在平台登记这台记录仪"
        )
    offset = body.clock_offset_seconds
    if offset is None and body.device_clock is not None:
        device_clock = body.device_clock
        if timezone.is_naive(device_clock):
            device_clock = timezone.make_aware(device_clock)
        read_at = body.at or timezone.now()
        if timezone.is_naive(read_at):
            read_at = timezone.make_aware(read_at)
        offset = (device_clock - read_at).total_seconds()
    try:
        events = actions.record_check(
            actor=f"station:{station.pk}",
            recorder=recorder,
            at=body.at,
            workstation=station,
            battery_pct=body.battery_pct,
            storage_free_bytes=body.storage_free_bytes,
            storage_total_bytes=body.storage_total_bytes,
            clock_offset_seconds=offset,
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    current = queries.current_holding(recorder)
    return Status(
        201,
        {
            "serial": recorder.serial,
            "status": recorder.status,
            "holder": current.person if current else None,
            "events": events,
        },
    )


# --- recorders ------------------------------------------------------------


@router.get("/recorders", response={200: list[RecorderOut], 403: Error})
@paginate(Paginated)
def list_recorders(
    request: HttpRequest,
    unit: str | None = None,
    status: RecorderStatusCode | None = STATUS_FILTER,
    q: str | None = None,
    held: bool | None = None,
):
    """Recorders in the caller's scope, with their current holder.

    Filters: ``unit`` (unit code, with its subunits), ``status``, ``q`` (serial,
    vendor, model or holder), ``held`` (true/false).
    """
    user = _person(request)
    qs = Recorder.objects.restrict(user, "view").select_related("unit")
    unit_obj = queries.visible_units(user).filter(code=unit).first() if unit else None
    if unit and unit_obj is None:
        return Recorder.objects.none()
    held_flag = "" if held is None else ("yes" if held else "no")
    qs = queries.filter_recorders(qs, unit=unit_obj, status=status or "", q=q or "", held=held_flag)
    return queries.with_current_holder(qs).order_by("serial")


@router.get("/recorders/{serial}", response={200: RecorderDetailOut, 403: Error, 404: Error})
def get_recorder(request: HttpRequest, serial: str):
    """One recorder: current holder, full holder history (C1.3), recent checks and incidents."""
    user = _person(request)
    return _detail(_recorder(user, serial), user)


@router.get(
    "/recorders/{serial}/holder",
    response={200: HolderAtOut, 400: Error, 403: Error, 404: Error},
)
def holder_at(request: HttpRequest, serial: str, at: str):
    """C1.3: who held recorder ``serial`` at ``at`` (ISO 8601; no offset = Beijing time)."""
    user = _person(request)
    recorder = _recorder(user, serial)
    when = _parse_at(at)
    holding = queries.holding_at(recorder, when)
    return HolderAtOut(
        serial=recorder.serial,
        at=when,
        holder=holding.person if holding else None,
        started_at=holding.started_at if holding else None,
        ended_at=holding.ended_at if holding else None,
    )


@router.post(
    "/recorders/{serial}/issue",
    response={200: RecorderDetailOut, 400: Error, 403: Error, 404: Error},
)
def issue(request: HttpRequest, serial: str, body: IssueIn):
    """Issue the recorder to a person in scope (C1.3); refused while someone holds it."""
    user = _person(request)
    recorder = _recorder(user, serial, "change")
    given = [v for v in (body.person_id, body.username, body.user_no) if v not in (None, "")]
    if len(given) != 1:
        raise HttpError(400, "请用 person_id、username、user_no 中的一项指明持有人")
    people = queries.issuable_people(user, recorder)
    if body.person_id is not None:
        person = people.filter(pk=body.person_id).first()
    elif body.username:
        person = people.filter(username=body.username).first()
    else:
        person = people.filter(user_no=body.user_no).first()
    if person is None:
        raise HttpError(
            400,
            f"找不到可配发的人员：须为在岗人员，且属于“{recorder.unit.name}”或其下级单位",
        )
    try:
        actions.issue_recorder(
            actor=user, recorder=recorder, person=person, at=body.at, note=body.note
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    recorder.refresh_from_db()
    return _detail(recorder, user)


@router.post(
    "/recorders/{serial}/return",
    response={200: RecorderDetailOut, 400: Error, 403: Error, 404: Error},
)
def return_(request: HttpRequest, serial: str, body: ReturnIn):
    """End the current holding (C1.3)."""
    user = _person(request)
    recorder = _recorder(user, serial, "change")
    try:
        actions.return_recorder(actor=user, recorder=recorder, at=body.at, note=body.note)
    except ValidationError as exc:
        raise _invalid(exc) from None
    recorder.refresh_from_db()
    return _detail(recorder, user)


# --- workstations ---------------------------------------------------------


@router.get("/workstations", response={200: list[WorkstationOut], 403: Error})
@paginate(Paginated)
def list_workstations(request: HttpRequest, active: bool | None = None):
    """Workstations in the caller's scope (C1.2), with last seen and status."""
    user = _person(request)
    qs = Workstation.objects.restrict(user, "view").select_related("unit")
    if active is not None:
        qs = qs.filter(revoked_at__isnull=active)
    return qs.order_by("unit__path", "name", "pk")
