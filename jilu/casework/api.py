"""API: activities (S1–S8), cases, and linking recordings to activities (C5.2, C5.3).

Person tokens only. Every list goes through ``restrict()``; every change
through ``jilu.casework.actions``. Errors are ``{"detail": "…"}`` in Chinese.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from jilu.casework import actions, queries, recordlist
from jilu.casework import views_documents as documents
from jilu.casework.api_schemas import (
    ActivityDetailOut,
    ActivityIn,
    ActivityOut,
    AnnotationOut,
    CaseDetailOut,
    CaseIn,
    CaseOut,
    Error,
    LinkIn,
    QueueItemOut,
)
from jilu.casework.forms import may_write_activities, officers_for, units_for
from jilu.casework.models import (
    CASE_EDITORS,
    Activity,
    Case,
    Party,
    Power,
)
from jilu.org.api_types import Id, Moment, Paginated, codes, describe_codes
from jilu.org.models import Person, Unit

router = Router(tags=["casework"])


# --- helpers --------------------------------------------------------------------


def _person(request: HttpRequest) -> Person:
    user = getattr(request, "user", None)
    if getattr(request, "station", None) is not None or not isinstance(user, Person):
        raise HttpError(403, "此接口需要人员令牌，工作站令牌不可用")
    return user


def _invalid(exc: ValidationError) -> HttpError:
    return HttpError(400, "；".join(exc.messages))


def _unit(user: Person, code: str) -> Unit:
    unit = units_for(user).filter(code=code).first()
    if unit is None:
        raise HttpError(400, f"单位编号 {code} 不存在，或你不能在该单位名下登记")
    return unit


def _activity(user: Person, pk: int, action: str = "view") -> Activity:
    activity = (
        Activity.objects.restrict(user, "view")
        .select_related("unit", "party", "case", "power")
        .filter(pk=pk)
        .first()
    )
    if activity is None:
        raise HttpError(404, "没有这项执法活动，或它不在你的管辖范围内")
    if action != "view" and not Activity.objects.restrict(user, action).filter(pk=pk).exists():
        raise HttpError(403, "你可以查看这项执法活动，但不能修改它")
    return activity


# --- activities -------------------------------------------------------------------


CaseStatusCode = codes(Case.Status)

STATUS_FILTER = Query(None, description=describe_codes(Case.Status))


@router.get("/activities", response={200: list[ActivityOut], 403: Error})
@paginate(Paginated)
def list_activities(
    request: HttpRequest,
    mine: bool = False,
    case_id: Id | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
):
    """Activities in the caller's scope, newest first. ``mine``: only those the caller took part in."""
    user = _person(request)
    qs = (
        Activity.objects.restrict(user, "view")
        .select_related("unit", "party", "case")
        .prefetch_related("officers")
    )
    if mine:
        qs = qs.filter(
            pk__in=Activity.officers.through.objects.filter(person_id=user.pk).values("activity_id")
        )
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    if since is not None:
        qs = qs.filter(span_start__gte=since)
    if until is not None:
        qs = qs.filter(span_start__lt=until)
    return qs.order_by("-span_start", "-pk")


@router.post("/activities", response={201: ActivityDetailOut, 400: Error, 403: Error})
def create_activity(request: HttpRequest, body: ActivityIn):
    """Write down an activity. On-site kinds (S1, S3–S6) need two officers (C4.1)."""
    user = _person(request)
    if not may_write_activities(user):
        raise HttpError(403, "你的角色不能登记执法活动（督察、法制审核员、档案管理员只能查看）")
    unit = _unit(user, body.unit_code)
    # Only the people within the caller's own scope (never merely visible ones).
    officers = list(officers_for(user).filter(pk__in=body.officer_ids))
    if len(officers) != len(set(body.officer_ids)):
        raise HttpError(400, "执法人员中有不存在、不在岗或不在你可见范围内的人员")
    power = None
    if body.power_id is not None:
        power = Power.objects.restrict(user, "view").filter(pk=body.power_id).first()
        if power is None:
            raise HttpError(400, f"权责清单中没有编号为 {body.power_id} 的事项")
    case = None
    if body.case_id is not None:
        case = Case.objects.restrict(user, "change").filter(pk=body.case_id).first()
        if case is None:
            raise HttpError(400, "没有这个案件，或你不能修改它")
    fields = body.dict(
        exclude={
            "unit_code",
            "officer_ids",
            "power_id",
            "party_id",
            "party",
            "case_id",
            "kind",
            "category",
        }
    )
    try:
        with transaction.atomic():
            party = None
            if body.party_id is not None:
                party = Party.objects.restrict(user, "view").filter(pk=body.party_id).first()
                if party is None:
                    raise HttpError(400, f"没有编号为 {body.party_id} 的相对人")
            elif body.party is not None:
                party = actions.find_or_create_party(
                    actor=user,
                    unit=unit,
                    kind=body.party.kind,
                    name=body.party.name,
                    id_number=body.party.id_number,
                )
            activity = actions.create_activity(
                actor=user,
                officers=officers,
                kind=body.kind,
                category=body.category,
                unit=unit,
                power=power,
                party=party,
                case=case,
                **fields,
            )
    except ValidationError as exc:
        raise _invalid(exc) from None
    return Status(201, activity)


@router.get("/activities/{activity_id}", response={200: ActivityDetailOut, 403: Error, 404: Error})
def get_activity(request: HttpRequest, activity_id: Id):
    """One activity with its coverage (C4.3 gaps, C2.1 none) and linked recordings."""
    user = _person(request)
    return _activity(user, activity_id)


@router.post(
    "/activities/{activity_id}/recordings",
    response={200: list[AnnotationOut], 400: Error, 403: Error, 404: Error},
)
def link_recordings(request: HttpRequest, activity_id: Id, body: LinkIn):
    """Link recordings (e.g. a run of segments) to the activity with the recorded step (C5.2).

    The caller must be the recordings' officer, or a leader/case handler of their
    unit. Re-linking a recording replaces its previous link (audited).
    """
    user = _person(request)
    activity = _activity(user, activity_id)
    recordings = list(
        queries.visible_recordings(user)
        .filter(pk__in=body.recording_ids)
        .select_related("officer", "officer__unit", "recorder", "recorder__unit")
        .order_by("started_at", "pk")
    )
    if len(recordings) != len(set(body.recording_ids)):
        raise HttpError(404, "有声像记录不存在，或不在你的管辖范围内")
    for r in recordings:
        if not queries.may_annotate(user, r):
            raise HttpError(403, f"你不能标注声像记录 {r.pk}")
    try:
        return actions.annotate_run(
            actor=user, recordings=recordings, activity=activity, step=body.step, note=body.note
        )
    except ValidationError as exc:
        raise _invalid(exc) from None


@router.get("/annotation-queue", response={200: list[QueueItemOut], 403: Error})
def annotation_queue(request: HttpRequest):
    """The caller's recordings still to annotate, with the 48-hour deadline (C5.2)."""
    user = _person(request)
    now = timezone.now()
    out = []
    for r in queries.annotation_queue(user)[:500]:
        d = queries.deadline(r, now)
        out.append(
            {
                "recording_id": r.pk,
                "original_name": r.original_name,
                "started_at": r.started_at,
                "docked_at": r.docked_at,
                "due": d.due,
                "seconds_left": int(d.left.total_seconds()),
                "overdue": d.overdue,
            }
        )
    return out


# --- cases --------------------------------------------------------------------------


def _case(user: Person, pk: int) -> Case:
    case = (
        Case.objects.restrict(user, "view")
        .select_related("unit", "party", "handler", "power")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise HttpError(404, "没有这个案件，或它不在你的管辖范围内")
    return case


@router.get("/cases", response={200: list[CaseOut], 403: Error})
@paginate(Paginated)
def list_cases(
    request: HttpRequest,
    status: CaseStatusCode | None = STATUS_FILTER,
    q: str | None = None,
):
    user = _person(request)
    qs = Case.objects.restrict(user, "view").select_related("unit", "party", "handler", "power")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(number__icontains=q)
    return qs.order_by("-created_at", "-pk")


@router.post("/cases", response={201: CaseDetailOut, 400: Error, 403: Error})
def create_case(request: HttpRequest, body: CaseIn):
    user = _person(request)
    if not user.has_role(*CASE_EDITORS):
        raise HttpError(403, "只有案件承办人、中队长、大队长和系统管理员可以立案登记")
    unit = units_for(user, above=False).filter(code=body.unit_code).first()
    if unit is None:
        raise HttpError(403, f"单位编号 {body.unit_code} 不存在，或不在你的本单位及下级单位之中")
    handler = None
    if body.handler_id is not None:
        handler = officers_for(user).filter(pk=body.handler_id).first()
        if handler is None:
            raise HttpError(400, f"没有编号为 {body.handler_id} 的人员")
    power = Power.objects.filter(pk=body.power_id).first() if body.power_id else None
    party = (
        Party.objects.restrict(user, "view").filter(pk=body.party_id).first()
        if body.party_id
        else None
    )
    try:
        case = actions.create_case(
            actor=user,
            number=body.number,
            category=body.category,
            unit=unit,
            handler=handler,
            retention=body.retention,
            power=power,
            matter_text=body.matter_text,
            party=party,
            title=body.title,
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    return Status(201, case)


@router.get("/cases/{case_id}", response={200: CaseDetailOut, 403: Error, 404: Error})
def get_case(request: HttpRequest, case_id: Id):
    """One case with its activities in order and its recordings in list order (C5.4)."""
    user = _person(request)
    return _case(user, case_id)


# --- the AV record list (A2) ------------------------------------------------------


def _file_response(mime: str, description: str) -> dict:
    return {
        "description": description,
        "content": {mime: {"schema": {"type": "string", "format": "binary"}}},
    }


@router.get("/cases/{case_id}/record-list", response={200: dict, 403: Error, 404: Error})
def record_list(request: HttpRequest, case_id: Id):
    """The case's AV record list (行政执法音像记录事项清单, A2): the same cells as the
    printed list, with 记录保存情况 per row."""
    case = _case(_person(request), case_id)
    return recordlist.to_json(recordlist.build(case))


@router.get(
    "/cases/{case_id}/record-list.pdf",
    response={200: None, 403: Error, 404: Error},
    openapi_extra={"responses": {200: _file_response(documents.PDF, "清单 PDF")}},
)
def record_list_pdf(request: HttpRequest, case_id: Id):
    """The record list as the A4 landscape PDF printed into the case file (C5.4)."""
    case = _case(_person(request), case_id)
    body = recordlist.render_pdf(recordlist.build(case))
    return documents.download(body, documents.PDF, documents.list_file_name(case, "pdf"))


@router.get(
    "/cases/{case_id}/record-list.xlsx",
    response={200: None, 403: Error, 404: Error},
    openapi_extra={"responses": {200: _file_response(documents.XLSX, "清单 XLSX")}},
)
def record_list_xlsx(request: HttpRequest, case_id: Id):
    """The record list as XLSX with the attachment's columns."""
    case = _case(_person(request), case_id)
    body = recordlist.render_xlsx(recordlist.build(case))
    return documents.download(body, documents.XLSX, documents.list_file_name(case, "xlsx"))
