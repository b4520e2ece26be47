"""Test helper: an approved access request so an archivist may copy originals (C6.3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jilu.access import actions, scope
from jilu.access.models import AccessRequest
from jilu.org.models import Person
from jilu.org.roles import LEADERS


def grant_copy(
    archivist: Any,
    recordings: Sequence[Any],
    *,
    requester: Any = None,
    approver: Any = None,
    purpose: str = "测试：按审批调用复制",
) -> AccessRequest:
    """Create and approve a request for ``recordings`` that ``archivist`` can fulfil.

    The requester defaults to the first recording's officer, the approver to a
    squad or brigade leader covering every recording."""
    requester = requester or recordings[0].officer
    req = actions.create_request(
        actor=requester, purpose=purpose, recording_ids=[r.pk for r in recordings]
    )
    if approver is None:
        leaders = Person.objects.filter(role_grants__role__in=list(LEADERS), is_active=True)
        approver = next(
            (p for p in leaders.distinct() if scope.may_approve(p, req)),
            None,
        )
        if approver is None:
            raise LookupError("no squad or brigade leader covers these recordings")
    req = actions.approve(actor=approver, request=req, note="同意")
    if not scope.may_provide(archivist, req):
        raise LookupError(f"{archivist} cannot fulfil {req.number}")
    return req


def provide(
    archivist: Any,
    request: AccessRequest,
    *,
    recipient: str = "王五",
    medium: str = "disc",
    recipient_note: str = "",
):
    """Fulfil ``request`` and run its package build at once (as the worker would)."""
    from jilu.access.tasks import build_copy_package_job

    package = actions.fulfil(
        actor=archivist,
        request=request,
        recipient=recipient,
        medium=medium,
        recipient_note=recipient_note,
    )
    build_copy_package_job.call(package.pk)
    package.refresh_from_db()
    return package
