"""Every state change of an access request (调用单, C6.3), each in one transaction
with its audit row.

create → pending; a covering leader approves (valid for ``valid_days()``) or
refuses (reason required); the requester may withdraw while pending; a
covering archivist fulfils it in one step (``fulfil``: the copy package is
built in the background, then every copy is registered and the request is
provided). A single download of an original under an approved request
(``record_copy``, from the recording page) is recorded against it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from jilu.access import scope
from jilu.access.models import AccessCopy, AccessRequest, CopyPackage
from jilu.audit.chain import record
from jilu.evidence.hooks import keep_until_changed
from jilu.org.roles import Role

MAX_PURPOSE = 2000
MAX_ITEMS = 500
MAX_NOTE = 500
MAX_RECIPIENT_NOTE = 300
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
    # C5.6 with C6.3: a recording named by an open request is kept while it is open.
    keep_until_changed(req.recordings.values_list("pk", flat=True))


def joined(items: Iterable[Any]) -> str:
    return pgettext("list separator", "、").join(str(i) for i in items)


def _no_provider(recording_ids: Iterable[int], requester: Any) -> str | None:
    """Why nobody could provide copies of these recordings to ``requester``, and
    what to do about it; None when some archivist can (C6.3)."""
    ids = list(recording_ids)
    if scope.providers_for(ids, requester=requester):
        return None
    units = joined(scope.recording_units(ids)) or "—"
    if scope.holds(requester, Role.ARCHIVIST) and scope.providers_for(ids, requester=None):
        return _(
            "无人能提供这张调用单的复制件：申请人本人不能提供自己申请的复制件，"
            "而除申请人外没有在岗的档案管理员管辖全部所调声像记录（%(units)s）。"
            "请联系系统管理员为 %(units)s 另行指定一名档案管理员（C6.3）。"
        ) % {"units": units}
    return _(
        "无人能提供这张调用单的复制件：没有在岗的档案管理员管辖全部所调声像记录"
        "（%(units)s）。请联系系统管理员为 %(units)s 指定档案管理员；"
        "声像记录分属不同单位的，也可按单位分开申请（C6.3）。"
    ) % {"units": units}


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
    *,
    actor: Any,
    purpose: str,
    recording_ids: Iterable[int],
    case: Any = None,
    use: str = AccessRequest.Use.EVIDENCE,
) -> AccessRequest:
    """A new pending request for copies of recordings the requester can see (C6.3)."""
    from jilu.evidence.models import Recording

    purpose = (purpose or "").strip()
    ids = sorted(set(recording_ids))
    errors = []
    if not purpose:
        errors.append(_("请写明调用事由：为什么需要、用于哪项工作或哪个案件。"))
    elif len(purpose) > MAX_PURPOSE:
        errors.append(_("调用事由不能超过 %(max)d 字。") % {"max": MAX_PURPOSE})
    if not ids:
        errors.append(_("请至少选择一条声像记录。"))
    elif len(ids) > MAX_ITEMS:
        errors.append(_("一张调用单最多 %(max)d 条声像记录，请分开申请。") % {"max": MAX_ITEMS})
    if use not in AccessRequest.Use.values:
        errors.append(_("请选择调用用途：作为证据或办案使用，或仅供查看。"))
    if errors:
        raise ValidationError(errors)
    visible = set(
        Recording.objects.restrict(actor, "view").filter(pk__in=ids).values_list("pk", flat=True)
    )
    outside = [i for i in ids if i not in visible]
    if outside:
        raise ValidationError(
            _("以下声像记录不存在或不在你的权限范围内，不能申请调用：%(ids)s")
            % {"ids": joined(outside)}
        )
    if case is not None:
        from jilu.casework.models import Case

        if not Case.objects.restrict(actor, "view").filter(pk=case.pk).exists():
            raise ValidationError(_("所选案件不在你的权限范围内。"))
    why = _no_provider(ids, actor)
    if why:
        raise ValidationError(why)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                now = timezone.now()
                req = AccessRequest.objects.create(
                    number=_next_number(now),
                    requester=actor,
                    unit=actor.unit,
                    purpose=purpose,
                    use=use,
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
                    use=use,
                )
                return req
        except IntegrityError:  # two requests took the same number: take the next
            continue
    raise ValidationError(_("调用单号分配冲突，请重试。"))


def _locked(req: AccessRequest) -> AccessRequest:
    return AccessRequest.objects.select_for_update().get(pk=req.pk)


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(_("意见不能超过 %(max)d 字。") % {"max": MAX_NOTE})
    return note


def _status_error(req: AccessRequest, doing: str) -> ValidationError:
    return ValidationError(
        _("调用单 %(number)s 当前为“%(status)s”，%(doing)s")
        % {"number": req.number, "status": req.current_status_label, "doing": doing}
    )


def _require_leader(actor: Any, req: AccessRequest) -> None:
    """Who may act first (403), then the request's state."""
    if actor.pk == req.requester_id:
        raise PermissionDenied(_("不能审批本人提出的调用申请（C6.3）。"))
    if not scope.may_decide(actor, req):
        raise PermissionDenied(
            _("只有管辖全部所调声像记录的中队长或大队长可以审批这张调用单（C6.3）。")
        )
    if req.current_status != AccessRequest.Status.PENDING:
        raise _status_error(req, _("不能再审批。"))


def approve(*, actor: Any, request: AccessRequest, note: str = "") -> AccessRequest:
    with transaction.atomic():
        req = _locked(request)
        _require_leader(actor, req)
        why = _no_provider(req.recordings.values_list("pk", flat=True), req.requester)
        if why:
            raise ValidationError(
                _("不能批准：%(why)s也可以拒绝这张调用单并说明原因。") % {"why": why}
            )
        note = _note(note)
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
    with transaction.atomic():
        req = _locked(request)
        _require_leader(actor, req)
        note = _note(note)
        if not note:
            raise ValidationError(_("拒绝调用申请须写明理由。"))
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
            raise PermissionDenied(_("只有申请人本人可以撤回调用申请。"))
        if req.current_status != AccessRequest.Status.PENDING:
            raise _status_error(req, _("不能撤回。"))
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
            raise PermissionDenied(_("复制原始文件须经负责领导审批调用单（C6.3）"))
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


MAX_RECIPIENT = 100


def fulfil(
    *,
    actor: Any,
    request: AccessRequest,
    recipient: str,
    medium: str,
    recipient_note: str = "",
) -> CopyPackage:
    """The archivist's one step (C6.3): queue the request's copy package for
    ``recipient``; when it is built the copies are registered and the request
    is provided (``build_actions.finish_build``).

    Who may act first (403), then the request's state, then the input."""
    from jilu.access.tasks import enqueue_build

    recipient = " ".join((recipient or "").split())
    recipient_note = (recipient_note or "").strip()
    with transaction.atomic():
        req = _locked(request)
        if not scope.may_fulfil(actor, req):
            raise PermissionDenied(
                _("只有管辖全部所调声像记录的档案管理员可以提供复制件（申请人本人除外，C6.3）。")
            )
        if req.current_status != AccessRequest.Status.APPROVED:
            raise _status_error(req, _("不能制作复制件。"))
        errors = []
        if not recipient:
            errors.append(
                _("请填写领取人：复制件交给谁（姓名），会写入查看副本的水印和复制件登记。")
            )
        elif len(recipient) > MAX_RECIPIENT:
            errors.append(_("领取人不能超过 %(max)d 字。") % {"max": MAX_RECIPIENT})
        if medium not in AccessRequest.Medium.values:
            errors.append(_("请选择提供复制件的介质（光盘、U盘、移动硬盘或网络传输）。"))
        if len(recipient_note) > MAX_RECIPIENT_NOTE:
            errors.append(_("领取情况不能超过 %(max)d 字。") % {"max": MAX_RECIPIENT_NOTE})
        if errors:
            raise ValidationError(errors)
        package = CopyPackage.objects.create(
            request=req,
            recipient=recipient,
            medium=medium,
            created_by=actor,
            total_bytes=sum(req.recordings.values_list("size", flat=True)),
        )
        req.status = AccessRequest.Status.PREPARING
        req.recipient = recipient
        req.medium = medium
        req.recipient_note = recipient_note
        req.save(update_fields=["status", "recipient", "medium", "recipient_note"])
        _audit(
            "fulfil",
            actor=actor,
            req=req,
            package=package.pk,
            recipient=recipient,
            medium=medium,
            use=req.use,
        )
        enqueue_build(package.pk)
        return package
