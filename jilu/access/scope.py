"""Who may approve, copy and read access requests (C6.3): the unit-tree rules.

A recording belongs to its recorder's unit and to its officer's unit (as in
``Recording.access_q``); a leader or archivist *covers* it when either unit lies
in their own unit subtree. Approving and copying need the role granted
explicitly (a superuser account is for system administration, not for signing
调用单) and are never done by the requester themself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from jilu.access.models import AccessRequest
from jilu.evidence.scope import recordings_of_unit
from jilu.org.roles import LEADERS, Role

Link = AccessRequest.recordings.through


def holds(user: Any, *roles: str) -> bool:
    """The person holds one of ``roles`` by an explicit grant."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.roles.intersection(roles))


# A leader or archivist covers the recordings of their unit subtree.
covered_recordings = recordings_of_unit


def covers_all(user: Any, request: AccessRequest) -> bool:
    if not user.unit_id:
        return False
    covered = covered_recordings(user.unit).values("pk")
    return not request.recordings.exclude(pk__in=covered).exists()


def _fully_covered(user: Any, qs: QuerySet) -> QuerySet:
    """Requests of ``qs`` every recording of which ``user`` covers, not their own."""
    if not user.unit_id:
        return qs.none()
    covered = covered_recordings(user.unit).values("pk")
    uncovered = Link.objects.filter(accessrequest_id__in=qs.values("pk")).exclude(
        recording_id__in=covered
    )
    return qs.exclude(requester_id=user.pk).exclude(pk__in=uncovered.values("accessrequest_id"))


def awaiting_approval(user: Any) -> QuerySet:
    """Pending requests this leader may decide."""
    if not holds(user, *LEADERS):
        return AccessRequest.objects.none()
    return _fully_covered(user, AccessRequest.objects.filter(status=AccessRequest.Status.PENDING))


def open_approved() -> QuerySet:
    return AccessRequest.objects.filter(
        status=AccessRequest.Status.APPROVED, valid_until__gt=timezone.now()
    )


def awaiting_copy(user: Any) -> QuerySet:
    """Approved, unexpired requests this archivist may fulfil."""
    if not holds(user, Role.ARCHIVIST):
        return AccessRequest.objects.none()
    return _fully_covered(user, open_approved())


def may_decide(user: Any, request: AccessRequest) -> bool:
    """``user`` is a leader who may decide ``request`` whatever its status: a
    squad or brigade leader covering every recording, not the requester."""
    return holds(user, *LEADERS) and user.pk != request.requester_id and covers_all(user, request)


def may_approve(user: Any, request: AccessRequest) -> bool:
    return request.current_status == AccessRequest.Status.PENDING and may_decide(user, request)


def may_fulfil(user: Any, request: AccessRequest) -> bool:
    """``user`` is an archivist who may provide ``request`` whatever its status:
    covering every recording, not the requester."""
    return (
        holds(user, Role.ARCHIVIST)
        and user.pk != request.requester_id
        and covers_all(user, request)
    )


def may_provide(user: Any, request: AccessRequest) -> bool:
    return request.open_for_copy and may_fulfil(user, request)


def _recording_paths(recording_ids: Iterable[int]) -> list[tuple[str, ...]]:
    """For each recording, the paths of the units it belongs to (its officer's
    and its recorder's, as in ``covered_recordings``)."""
    from jilu.evidence.models import Recording

    rows = Recording.objects.filter(pk__in=list(recording_ids)).values_list(
        "officer__unit__path", "recorder__unit__path"
    )
    return [tuple(p for p in row if p) for row in rows]


def _covering(path: str, paths: list[tuple[str, ...]]) -> bool:
    return all(any(p.startswith(path) for p in rec) for rec in paths)


def providers_for(recording_ids: Iterable[int], *, requester: Any) -> list[Any]:
    """The active archivists (by explicit grant) whose unit subtree covers every
    one of the recordings, the requester excepted: who could provide the copies
    (C6.3). Empty means an approved request would sit unfulfilled."""
    from jilu.org.models import Person

    paths = _recording_paths(recording_ids)
    if not paths:
        return []
    archivists = (
        Person.objects.filter(is_active=True, unit__isnull=False, role_grants__role=Role.ARCHIVIST)
        .exclude(pk=getattr(requester, "pk", None))
        .select_related("unit")
        .distinct()
        .order_by("unit__path", "name", "pk")
    )
    return [p for p in archivists if _covering(p.unit.path, paths)]


def providers(request: AccessRequest) -> list[Any]:
    """Who could provide ``request``'s copies (see ``providers_for``)."""
    return providers_for(
        request.recordings.values_list("pk", flat=True), requester=request.requester
    )


def recording_units(recording_ids: Iterable[int]) -> list[str]:
    """The names of the units the recordings belong to (their recorders' units,
    else their officers'), for telling who should be given an archivist."""
    from jilu.evidence.models import Recording

    rows = Recording.objects.filter(pk__in=list(recording_ids)).values_list(
        "recorder__unit__name", "officer__unit__name"
    )
    return sorted({rec or off for rec, off in rows if rec or off})


def may_withdraw(user: Any, request: AccessRequest) -> bool:
    return request.current_status == AccessRequest.Status.PENDING and (
        user.pk == request.requester_id
    )


def copy_grant(user: Any, recording: Any, request_id: int | None = None) -> AccessRequest | None:
    """The approved, unexpired, open request under which ``user`` may copy the
    original of ``recording`` (C6.3), or None. Only an archivist covering the
    recording, never the requester, and only for a request that includes it."""
    if not holds(user, Role.ARCHIVIST) or not user.unit_id:
        return None
    if not covered_recordings(user.unit).filter(pk=recording.pk).exists():
        return None
    qs = open_approved().filter(recordings=recording.pk).exclude(requester_id=user.pk)
    if request_id is not None:
        qs = qs.filter(pk=request_id)
    for candidate in qs.order_by("valid_until", "pk"):
        if covers_all(user, candidate):
            return candidate
    return None
