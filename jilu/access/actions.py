"""Every state change of an access request (调用单, C6.3), each in one transaction
with its audit row.

create → pending; a covering leader approves (valid for ``valid_days()``) or
refuses (reason required); the requester may withdraw while pending; a
covering archivist copies each original (``record_copy``, one row and one audit
entry per download) and marks the request provided, which closes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jilu.access import scope
from jilu.access.models import AccessCopy, AccessRequest
from jilu.audit.chain import record

MAX_PURPOSE = 2000
MAX_ITEMS = 500
MAX_NOTE = 500
DEFAULT_VALID_DAYS = 7


def valid_days() -> int:
    return int(getattr(settings, "ACCESS_VALID_DAYS", DEFAULT_VALID_DAYS))


def _audit(action: str, *, actor: Any, req: AccessRequest, **details: Any) -> None:
    record(
        f"access.request.{action}",
        actor=actor,
        object_type="access.request",
        object_id=str(req.pk),
        details={"number": req.number, **details},
    )


def _next_number(now) -> str:
    year = timezone.localtime(now).year
    prefix = f"DY{year}-"
    last = (
        AccessRequest.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{n:06d}"


def create_request(
    *, actor: Any, purpose: str, recording_ids: Iterable[int], case: Any = None
) -> AccessRequest:
    """A new pending request for copies of recordings the requester can see (C6.3)."""
    from jilu.evidence.models import Recording

    purpose = (purpose or "").strip()
    ids = sorted(set(recording_ids))
    errors = []
    if not purpose:
        errors.append("请写明调用事由：为什么需要、用于哪项工作或哪个案件。")
    elif len(purpose) > MAX_PURPOSE:
        errors.append(f"调用事由不能超过 {MAX_PURPOSE} 字。")
    if not ids:
        errors.append("请至少选择一条声像记录。")
    elif len(ids) > MAX_ITEMS:
        errors.append(f"一张调用单最多 {MAX_ITEMS} 条声像记录，请分开申请。")
    if errors:
        raise ValidationError(errors)
    visible = set(
        Recording.objects.restrict(actor, "view").filter(pk__in=ids).values_list("pk", flat=True)
    )
    outside = [i for i in ids if i not in visible]
    if outside:
        listed = "、".join(str(i) for i in outside)
        raise ValidationError(f"以下声像记录不存在或不在你的权限范围内，不能申请调用：{listed}")
    if case is not None:
        from jilu.casework.models import Case

        if not Case.objects.restrict(actor, "view").filter(pk=case.pk).exists():
            raise ValidationError("所选案件不在你的权限范围内。")
    for _attempt in range(5):
        try:
            with transaction.atomic():
                now = timezone.now()
                req = AccessRequest.objects.create(
                    number=_next_number(now),
                    requester=actor,
                    unit=actor.unit,
                    purpose=purpose,
                    case=case,
                    created_at=now,
                )
                req.recordings.set(ids)
                _audit(
                    "create",
                    actor=actor,
                    req=req,
                    recordings=ids,
                    case=case.number if case is not None else "",
                    purpose=purpose,
                )
                return req
        except IntegrityError:  # two requests took the same number: take the next
            continue
    raise ValidationError("调用单号分配冲突，请重试。")


def _locked(req: AccessRequest) -> AccessRequest:
    return AccessRequest.objects.select_for_update().get(pk=req.pk)


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(f"意见不能超过 {MAX_NOTE} 字。")
    return note


def _require_leader(actor: Any, req: AccessRequest) -> None:
    if req.current_status != AccessRequest.Status.PENDING:
        raise ValidationError(
            f"调用单 {req.number} 当前为“{req.current_status_label}”，不能再审批。"
        )
    if actor.pk == req.requester_id:
        raise PermissionDenied("不能审批本人提出的调用申请（C6.3）。")
    if not scope.may_approve(actor, req):
        raise PermissionDenied(
            "只有管辖全部所调声像记录的中队长或大队长可以审批这张调用单（C6.3）。"
        )


def approve(*, actor: Any, request: AccessRequest, note: str = "") -> AccessRequest:
    note = _note(note)
    with transaction.atomic():
        req = _locked(request)
        _require_leader(actor, req)
        now = timezone.now()
        req.status = AccessRequest.Status.APPROVED
        req.approver = actor
        req.decided_at = now
        req.decision_note = note
        req.valid_until = now + timedelta(days=valid_days())
        req.save(update_fields=["status", "approver", "decided_at", "decision_note", "valid_until"])
        _audit("approve", actor=actor, req=req, note=note, valid_until=req.valid_until)
        return req


def refuse(*, actor: Any, request: AccessRequest, note: str) -> AccessRequest:
    note = _note(note)
    if not note:
        raise ValidationError("拒绝调用申请须写明理由。")
    with transaction.atomic():
        req = _locked(request)
        _require_leader(actor, req)
        req.status = AccessRequest.Status.REFUSED
        req.approver = actor
        req.decided_at = timezone.now()
        req.decision_note = note
        req.save(update_fields=["status", "approver", "decided_at", "decision_note"])
        _audit("refuse", actor=actor, req=req, reason=note)
        return req


def withdraw(*, actor: Any, request: AccessRequest) -> AccessRequest:
    with transaction.atomic():
        req = _locked(request)
        if actor.pk != req.requester_id:
            raise PermissionDenied("只有申请人本人可以撤回调用申请。")
        if req.current_status != AccessRequest.Status.PENDING:
            raise ValidationError(
                f"调用单 {req.number} 当前为“{req.current_status_label}”，不能撤回。"
            )
        req.status = AccessRequest.Status.WITHDRAWN
        req.withdrawn_at = timezone.now()
        req.save(update_fields=["status", "withdrawn_at"])
        _audit("withdraw", actor=actor, req=req)
        return req


def record_copy(
    *, actor: Any, request: AccessRequest, recording: Any, via: str = "web"
) -> AccessCopy:
    """One download of an original under ``request`` (checked by ``scope.copy_grant``)."""
    with transaction.atomic():
        req = _locked(request)
        if not scope.may_provide(actor, req) or not req.recordings.filter(pk=recording.pk).exists():
            raise PermissionDenied("复制原始文件须经负责领导审批调用单（C6.3）")
        copy = AccessCopy.objects.create(request=req, recording=recording, made_by=actor, via=via)
        _audit(
            "copy",
            actor=actor,
            req=req,
            recording=recording.pk,
            sha256=recording.sha256,
            via=via,
        )
        return copy


def mark_provided(
    *, actor: Any, request: AccessRequest, medium: str, recipient_note: str = ""
) -> AccessRequest:
    """The archivist hands the copies over: the request is closed (C6.3)."""
    recipient_note = (recipient_note or "").strip()
    if medium not in AccessRequest.Medium.values:
        raise ValidationError("请选择提供复制件的介质（光盘、U盘、移动硬盘或网络传输）。")
    if len(recipient_note) > 300:
        raise ValidationError("领取情况不能超过 300 字。")
    with transaction.atomic():
        req = _locked(request)
        if req.current_status != AccessRequest.Status.APPROVED:
            raise ValidationError(
                f"调用单 {req.number} 当前为“{req.current_status_label}”，不能登记提供。"
            )
        if not scope.may_provide(actor, req):
            raise PermissionDenied(
                "只有管辖全部所调声像记录的档案管理员可以提供复制件（申请人本人除外，C6.3）。"
            )
        missing = req.recordings.exclude(pk__in=req.copies.values("recording_id")).count()
        if missing:
            raise ValidationError(f"还有 {missing} 条声像记录尚未复制，请先逐条下载原始文件。")
        req.status = AccessRequest.Status.PROVIDED
        req.provided_by = actor
        req.provided_at = timezone.now()
        req.medium = medium
        req.recipient_note = recipient_note
        req.save(update_fields=["status", "provided_by", "provided_at", "medium", "recipient_note"])
        _audit(
            "provide",
            actor=actor,
            req=req,
            medium=medium,
            recipient_note=recipient_note,
            copies=req.copies.count(),
        )
        return req
