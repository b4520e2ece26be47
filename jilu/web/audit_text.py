"""The audit log in words (C6.4): each entry's object by name and its details as
a sentence, for the audit page, its XLSX export and ``GET /api/v1/audit``.

The audit app knows no domain: ``jilu.audit.labels`` has the phrases for codes,
and the names of recordings, people, cases and the rest are looked up here, in
bulk for a whole page: one query per object type among the page's entries,
never one per row. ``OBJECT_KINDS`` is the registry, keyed by ``object_type``;
each kind names its ids and may be searched by name (the object filter).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jilu.audit import labels
from jilu.web import audit_oversight  # noqa: F401 - registers oversight's object types
from jilu.web.audit_details import OBJECT_KINDS, UNIT_BY_CODE, Names, kind, refs
from jilu.web.audit_details import ints as _ints
from jilu.web.audit_sentences import render

SEARCH_LIMIT = 500  # ids per object type an object search may match


def _local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(moment).strftime(fmt) if moment else ""


def _ids(qs: Any) -> list[str]:
    return [str(pk) for pk in qs.values_list("pk", flat=True)[:SEARCH_LIMIT]]


# --- people and units ------------------------------------------------------------------


def _person_search(text: str) -> list[str]:
    from jilu.org.models import Person

    q = Q(name__icontains=text) | Q(username=text) | Q(user_no=text)
    return _ids(Person.objects.filter(q).order_by("pk"))


@kind("org.person", gettext_lazy("人员"), _person_search)
def _people(ids: list[str]) -> dict[str, str]:
    from jilu.org.models import Person

    rows = Person.objects.filter(pk__in=_ints(ids)).values_list("pk", "name", "user_no")
    return {
        str(pk): _("%(name)s（警号 %(no)s）") % {"name": name, "no": no} if no else name
        for pk, name, no in rows
    }


def _unit_search(text: str) -> list[str]:
    from jilu.org.models import Unit

    q = Q(name__icontains=text) | Q(short_name__icontains=text) | Q(code=text)
    return _ids(Unit.objects.filter(q).order_by("path"))


@kind("org.unit", gettext_lazy("单位"), _unit_search)
def _units(ids: list[str]) -> dict[str, str]:
    from jilu.org.models import Unit

    return {
        str(pk): name
        for pk, name in Unit.objects.filter(pk__in=_ints(ids)).values_list("pk", "name")
    }


@kind(UNIT_BY_CODE, gettext_lazy("单位"))
def _units_by_code(codes: list[str]) -> dict[str, str]:
    from jilu.org.models import Unit

    return dict(Unit.objects.filter(code__in=codes).values_list("code", "name"))


@kind("org.workbookupload", gettext_lazy("名册工作簿"))
def _workbooks(ids: list[str]) -> dict[str, str]:
    from jilu.org.models import WorkbookUpload

    rows = WorkbookUpload.objects.filter(pk__in=_ints(ids)).values_list("pk", "name")
    return {str(pk): name for pk, name in rows}


# --- devices and ingest ----------------------------------------------------------------


def _recorder_search(text: str) -> list[str]:
    from jilu.devices.models import Recorder

    return _ids(Recorder.objects.filter(serial__icontains=text).order_by("pk"))


@kind("devices.recorder", gettext_lazy("记录仪"), _recorder_search)
def _recorders(ids: list[str]) -> dict[str, str]:
    from jilu.devices.models import Recorder

    rows = Recorder.objects.filter(pk__in=_ints(ids)).values_list("pk", "serial")
    return {str(pk): serial for pk, serial in rows}


def _station_search(text: str) -> list[str]:
    from jilu.devices.models import Workstation

    return _ids(Workstation.objects.filter(name__icontains=text).order_by("pk"))


@kind("devices.workstation", gettext_lazy("采集工作站"), _station_search)
def _stations(ids: list[str]) -> dict[str, str]:
    from jilu.devices.models import Workstation

    rows = Workstation.objects.filter(pk__in=_ints(ids)).values_list("pk", "name")
    return {str(pk): name for pk, name in rows}


@kind("ingest.dockingsession", gettext_lazy("对接"))
def _dockings(ids: list[str]) -> dict[str, str]:
    from jilu.ingest.models import DockingSession

    rows = DockingSession.objects.filter(pk__in=_ints(ids)).values_list(
        "pk", "serial", "started_at"
    )
    return {str(pk): f"{serial or '?'} {_local(at)}".strip() for pk, serial, at in rows}


@kind("ingest.upload", gettext_lazy("上传"))
def _uploads(ids: list[str]) -> dict[str, str]:
    from jilu.ingest.models import Upload

    rows = Upload.objects.filter(pk__in=_ints(ids)).values_list("pk", "filename")
    return {str(pk): name for pk, name in rows}


def _quarantine_search(text: str) -> list[str]:
    from jilu.ingest.models import QuarantineItem

    return _ids(QuarantineItem.objects.filter(original_name__icontains=text).order_by("pk"))


@kind("ingest.quarantineitem", gettext_lazy("待处理文件"), _quarantine_search)
def _quarantine(ids: list[str]) -> dict[str, str]:
    from jilu.ingest.models import QuarantineItem

    rows = QuarantineItem.objects.filter(pk__in=_ints(ids)).values_list("pk", "original_name")
    return {str(pk): name for pk, name in rows}


# --- evidence --------------------------------------------------------------------------


def _recording_search(text: str) -> list[str]:
    from jilu.evidence.models import Recording

    q = Q(original_name__icontains=text) | Q(annotation__standard_name__icontains=text)
    return _ids(Recording.objects.filter(q).order_by("pk"))


@kind("evidence.recording", gettext_lazy("声像记录"), _recording_search)
def _recordings(ids: list[str]) -> dict[str, str]:
    """The standard name (C5.3) once annotated, else the recorder's file name."""
    from jilu.evidence.models import Recording

    rows = Recording.objects.filter(pk__in=_ints(ids)).values_list(
        "pk", "original_name", "annotation__standard_name"
    )
    return {str(pk): standard or original for pk, original, standard in rows}


@kind("evidence.storedobject", gettext_lazy("存储对象"))
def _objects(ids: list[str]) -> dict[str, str]:
    """A stored object by the file it holds; a disposed one by its tombstone."""
    from jilu.evidence.models import Recording, Tombstone

    found = {sha: f"SHA-256 {sha[:16]}…" for sha in ids}
    names: dict[str, str] = {}
    for sha, name in Recording.objects.filter(sha256__in=ids).values_list(
        "sha256", "original_name"
    ):
        names.setdefault(sha, name)
    for sha, stone in Tombstone.objects.filter(sha256__in=ids).values_list("sha256", "names"):
        if isinstance(stone, list) and stone:
            names.setdefault(sha, str(stone[0]))
    for sha, name in names.items():
        found[sha] = f"{name}（SHA-256 {sha[:16]}…）"
    return found


@kind("evidence.fixityalarm", gettext_lazy("固定性告警"))
def _alarms(ids: list[str]) -> dict[str, str]:
    from jilu.evidence.media_models import FixityAlarm

    rows = FixityAlarm.objects.filter(pk__in=_ints(ids)).values_list("pk", "stored_object_id")
    return {str(pk): f"#{pk}（SHA-256 {sha[:16]}…）" for pk, sha in rows}


# --- casework, transfer, access, duty log, retention -----------------------------------


def _activity_search(text: str) -> list[str]:
    from jilu.casework.models import Activity

    q = Q(place_name__icontains=text) | Q(address__icontains=text)
    return _ids(Activity.objects.filter(q).order_by("pk"))


@kind("casework.activity", gettext_lazy("执法活动"), _activity_search)
def _activities(ids: list[str]) -> dict[str, str]:
    from jilu.casework.models import Activity

    kinds = dict(Activity._meta.get_field("kind").flatchoices)
    rows = Activity.objects.filter(pk__in=_ints(ids)).values_list(
        "pk", "kind", "place_name", "address", "span_start"
    )
    return {
        str(pk): " ".join(p for p in (str(kinds.get(k, k)), place or address, _local(start)) if p)
        for pk, k, place, address, start in rows
    }


def _case_search(text: str) -> list[str]:
    from jilu.casework.models import Case

    q = Q(number__icontains=text) | Q(title__icontains=text)
    return _ids(Case.objects.filter(q).order_by("pk"))


@kind("casework.case", gettext_lazy("案件"), _case_search)
def _cases(ids: list[str]) -> dict[str, str]:
    from jilu.casework.models import Case

    rows = Case.objects.filter(pk__in=_ints(ids)).values_list("pk", "number", "title")
    return {str(pk): f"{number} {title}".strip() for pk, number, title in rows}


@kind("casework.party", gettext_lazy("当事人"))
def _parties(ids: list[str]) -> dict[str, str]:
    from jilu.casework.models import Party

    return {
        str(pk): name
        for pk, name in Party.objects.filter(pk__in=_ints(ids)).values_list("pk", "name")
    }


def _case_version(number: str, version: Any) -> str:
    return _("案件 %(case)s 第 %(v)s 版") % {"case": number, "v": version}


@kind("transfer.package", gettext_lazy("光盘包"))
def _packages(ids: list[str]) -> dict[str, str]:
    from jilu.transfer.models import Package

    rows = Package.objects.filter(pk__in=_ints(ids)).values_list("pk", "case__number", "version")
    return {str(pk): _case_version(number, v) for pk, number, v in rows}


@kind("transfer.transfer", gettext_lazy("移送"))
def _transfers(ids: list[str]) -> dict[str, str]:
    from jilu.transfer.models import Transfer

    rows = Transfer.objects.filter(pk__in=_ints(ids)).values_list(
        "pk", "case__number", "package__version"
    )
    return {str(pk): _case_version(number, v) for pk, number, v in rows}


@kind("transfer.review", gettext_lazy("案审"))
def _reviews(ids: list[str]) -> dict[str, str]:
    from jilu.transfer.models import Review

    rows = Review.objects.filter(pk__in=_ints(ids)).values_list(
        "pk", "transfer__case__number", "transfer__package__version"
    )
    return {str(pk): _case_version(number, v) for pk, number, v in rows}


@kind("transfer.verification", gettext_lazy("光盘包核验"))
def _verifications(ids: list[str]) -> dict[str, str]:
    from jilu.transfer.models import Verification

    rows = Verification.objects.filter(pk__in=_ints(ids)).values_list(
        "pk", "package__case__number", "package__version"
    )
    return {str(pk): _case_version(number, v) for pk, number, v in rows}


def _request_search(text: str) -> list[str]:
    from jilu.access.models import AccessRequest

    return _ids(AccessRequest.objects.filter(number__icontains=text).order_by("pk"))


@kind("access.request", gettext_lazy("调用申请"), _request_search)
def _requests(ids: list[str]) -> dict[str, str]:
    from jilu.access.models import AccessRequest

    rows = AccessRequest.objects.filter(pk__in=_ints(ids)).values_list("pk", "number")
    return {str(pk): number for pk, number in rows}


@kind("dutylog.note", gettext_lazy("执勤日志无法记录情况"))
def _notes(ids: list[str]) -> dict[str, str]:
    from jilu.dutylog.models import UnrecordedNote

    rows = UnrecordedNote.objects.filter(pk__in=_ints(ids)).values_list(
        "pk", "officer__name", "start", "end"
    )
    return {
        str(pk): f"{name} {_local(start)}–{_local(end, '%H:%M')}" for pk, name, start, end in rows
    }


@kind("retention.hold", gettext_lazy("保全"))
def _holds(ids: list[str]) -> dict[str, str]:
    from jilu.retention.models import Hold

    holds = Hold.objects.filter(pk__in=_ints(ids)).select_related("recording", "activity", "case")
    return {str(h.pk): h.target_label() for h in holds}


def _disposal_search(text: str) -> list[str]:
    from jilu.retention.models import Disposal

    return _ids(Disposal.objects.filter(number__icontains=text).order_by("pk"))


@kind("retention.disposal", gettext_lazy("销毁清单"), _disposal_search)
def _disposals(ids: list[str]) -> dict[str, str]:
    from jilu.retention.models import Disposal

    rows = Disposal.objects.filter(pk__in=_ints(ids)).values_list("pk", "number")
    return {str(pk): number for pk, number in rows}


# Oversight's object types (registered first, from ``jilu.web.audit_oversight``)
# come after the rest in the object filter, as the families list them.
for _key in [k for k in OBJECT_KINDS if k.startswith(("oversight.", "audit."))]:
    OBJECT_KINDS[_key] = OBJECT_KINDS.pop(_key)


# --- a page of entries in words ---------------------------------------------------------


def resolve(pairs: Iterable[tuple[str, str]]) -> Names:
    """Names for (object type, id) pairs: one query per object type."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for object_type, object_id in pairs:
        if object_type in OBJECT_KINDS and object_id:
            wanted[object_type].add(str(object_id))
    found: dict[tuple[str, str], str] = {}
    for object_type, ids in wanted.items():
        for object_id, name in OBJECT_KINDS[object_type].names(sorted(ids)).items():
            found[(object_type, object_id)] = name
    return Names(found)


def type_text(object_type: str) -> str:
    found = OBJECT_KINDS.get(object_type)
    return str(found.label) if found is not None else object_type


@dataclass
class Row:
    """One entry as people read it; the codes stay for tools."""

    seq: int
    at: datetime
    action: str
    action_text: str
    family: str
    family_text: str
    actor_id: int | None
    actor_label: str
    actor_text: str
    object_type: str
    object_id: str
    object_text: str
    detail_text: str
    hash: str
    prev_hash: str
    details: dict = field(default_factory=dict)


def object_text(object_type: str, object_id: str, names: Names) -> str:
    if not object_type:
        return ""
    if not object_id:
        return type_text(object_type)
    return f"{type_text(object_type)} {names.get(object_type, object_id)}"


def describe(entries: Iterable[Any]) -> list[Row]:
    """The entries in words; every name they need looked up in one go."""
    entries = list(entries)
    wanted: list[tuple[str, str]] = []
    for entry in entries:
        wanted.append((entry.object_type, entry.object_id))
        wanted.extend(refs(entry.details))
    names = resolve(wanted)
    rows = []
    for e in entries:
        family = labels.family_of(e.action)
        rows.append(
            Row(
                seq=e.seq,
                at=e.at,
                action=e.action,
                action_text=labels.action_label(e.action, e.details),
                family=family,
                family_text=str(labels.FAMILIES[family][0]) if family else "",
                actor_id=e.actor_id,
                actor_label=e.actor_label,
                actor_text=labels.actor_text(e.actor_label),
                object_type=e.object_type,
                object_id=e.object_id,
                object_text=object_text(e.object_type, e.object_id, names),
                detail_text=render(e.action, e.details, names),
                hash=e.hash,
                prev_hash=e.prev_hash,
                details=e.details if isinstance(e.details, dict) else {},
            )
        )
    return rows
