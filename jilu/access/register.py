"""The copy register (复制件登记, C6.3) after hand-over: a copy returned or
destroyed, the package downloaded, and identifying a copy found outside
(C6.5.2: which request, which recipient).

Each change is one transaction with its audit row. Identifying is a read, but
who asked about which file is written to the audit log like every other view
of evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from jilu.access import scope
from jilu.access.models import CopyPackage, IssuedCopy
from jilu.access.watermark import COPY_ID
from jilu.audit.chain import record
from jilu.org.roles import Role

MAX_CLOSE_NOTE = 300
_HEX64 = re.compile(r"[0-9a-f]{64}")


def may_identify(user: Any) -> bool:
    """Only inspectors (督察, C6.4) and administrators trace a copy."""
    return scope.holds(user, Role.INSPECTOR, Role.ADMIN)


def may_manage(user: Any, copy: IssuedCopy) -> bool:
    """The archivists who could fulfil the request mark its copies returned or destroyed."""
    return scope.may_fulfil(user, copy.request)


def may_download(user: Any, package: CopyPackage) -> bool:
    return package.state == CopyPackage.State.READY and scope.may_fulfil(user, package.request)


def _close(*, actor: Any, copy: IssuedCopy, state: str, note: str, action: str) -> IssuedCopy:
    note = (note or "").strip()
    with transaction.atomic():
        locked = IssuedCopy.objects.select_for_update().select_related("request").get(pk=copy.pk)
        if not may_manage(actor, locked):
            raise PermissionDenied(
                _("只有能提供这张调用单复制件的档案管理员可以登记复制件收回或销毁。")
            )
        if locked.state != IssuedCopy.State.ISSUED:
            raise ValidationError(
                _("副本 %(id)s 已是“%(state)s”，不能再登记。")
                % {"id": locked.copy_id, "state": locked.get_state_display()}
            )
        if len(note) > MAX_CLOSE_NOTE:
            raise ValidationError(_("说明不能超过 %(max)d 字。") % {"max": MAX_CLOSE_NOTE})
        if state == IssuedCopy.State.DESTROYED and not note:
            raise ValidationError(_("登记销毁须写明销毁方式和见证人。"))
        locked.state = state
        locked.closed_by = actor
        locked.closed_at = timezone.now()
        locked.close_note = note
        locked.save(update_fields=["state", "closed_by", "closed_at", "close_note"])
        record(
            f"access.copy.{action}",
            actor=actor,
            object_type="access.request",
            object_id=str(locked.request_id),
            details={
                "number": locked.request.number,
                "copy_id": locked.copy_id,
                "sha256": locked.sha256,
                "note": note,
            },
        )
        return locked


def mark_returned(*, actor: Any, copy: IssuedCopy, note: str = "") -> IssuedCopy:
    return _close(
        actor=actor, copy=copy, state=IssuedCopy.State.RETURNED, note=note, action="return"
    )


def mark_destroyed(*, actor: Any, copy: IssuedCopy, note: str) -> IssuedCopy:
    return _close(
        actor=actor, copy=copy, state=IssuedCopy.State.DESTROYED, note=note, action="destroy"
    )


@transaction.atomic
def note_download(*, actor: Any, package: CopyPackage, via: str = "web") -> None:
    """The package leaves the server (who, when): checked and audited."""
    if not may_download(actor, package):
        raise PermissionDenied(
            _("只有能提供这张调用单复制件的档案管理员可以下载复制件包（C6.3）。")
        )
    record(
        "access.package.download",
        actor=actor,
        object_type="access.request",
        object_id=str(package.request_id),
        details={
            "number": package.request.number,
            "package": package.pk,
            "zip_sha256": package.zip_sha256,
            "via": via,
        },
    )


@dataclass
class Identification:
    """What a file, hash or ID names: the register rows it matches."""

    asked: str  # "file" | "hash" | "copy_id"
    copy_id: str = ""
    sha256: str = ""
    sm3: str = ""
    matches: list[IssuedCopy] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.matches)

    @property
    def traced(self) -> bool:
        """One copy made for one request: the recipient is named for sure."""
        return len({m.request_id for m in self.matches}) == 1


def _register() -> QuerySet:
    return IssuedCopy.objects.select_related(
        "request", "request__requester", "request__approver", "issued_by", "recording"
    ).order_by("issued_at", "pk")


def clean_copy_id(value: str) -> str:
    value = (value or "").strip().upper()
    return value if COPY_ID.fullmatch(value) else ""


def clean_hash(value: str) -> str:
    value = (value or "").strip().lower()
    return value if _HEX64.fullmatch(value) else ""


def identify(
    *, actor: Any, asked: str, copy_id: str = "", sha256: str = "", sm3: str = "", name: str = ""
) -> Identification:
    """Look the copy up in the register (the ID first: it names one copy; then
    the hashes) and write who asked to the audit log."""
    if not may_identify(actor):
        raise PermissionDenied(_("只有督察和系统管理员可以识别副本。"))
    result = Identification(asked=asked, copy_id=copy_id, sha256=sha256, sm3=sm3)
    if copy_id:
        result.matches = list(_register().filter(copy_id=copy_id))
    if not result.matches and (sha256 or sm3):
        q = Q()
        if sha256:
            q |= Q(sha256=sha256) | Q(sm3=sha256)
        if sm3:
            q |= Q(sm3=sm3)
        result.matches = list(_register().filter(q))
    with transaction.atomic():
        record(
            "access.copy.identify",
            actor=actor,
            details={
                "asked": asked,
                "name": name[:200],
                "copy_id": copy_id,
                "sha256": sha256,
                "found": [m.copy_id for m in result.matches][:50],
                "requests": sorted({m.request.number for m in result.matches})[:50],
            },
        )
    return result
