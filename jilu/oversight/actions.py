"""Every state change of findings and of the rules' settings, each in one
transaction with its audit row.

``note_finding`` is what the rules call: it opens the finding of a subject,
rule and period, or adds new facts to it (idempotent: facts already on it are
not added twice, and nothing new writes nothing). People then explain a
finding (the responsible person or a leader over its unit) and an inspector
confirms or dismisses it, with a reason.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jilu.audit.chain import record
from jilu.org.roles import Role
from jilu.oversight import clock, keeping, thresholds
from jilu.oversight.finding_models import DECIDE, EXPLAIN, Finding, FindingFact, RuleSetting
from jilu.oversight.periods import Period
from jilu.oversight.rules import RULES

SYSTEM = "system:oversight"
MAX_EXPLANATION = 2000
MAX_REASON = 500
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# What an explanation may carry, recognised by its first bytes, not by its name.
ATTACHMENT_TYPES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}


@dataclass(frozen=True)
class Subject:
    kind: str
    id: int
    label: str


@dataclass(frozen=True)
class Fact:
    kind: str
    object_id: str | int
    at: datetime
    detail: dict = field(default_factory=dict)


def finding_key(rule: str, subject: Subject, period: Period) -> str:
    return f"{rule}:{subject.kind}:{subject.id}:{period.label}"


@transaction.atomic
def note_finding(
    *,
    actor: Any,
    rule: str,
    subject: Subject,
    period: Period,
    unit: Any,
    person: Any,
    facts: list[Fact],
) -> tuple[Finding, int]:
    """The finding of ``subject`` under ``rule`` in ``period``, with ``facts``
    added; returns it and how many facts were new."""
    info = RULES[rule]
    key = finding_key(rule, subject, period)
    now = clock.now()
    finding = Finding.objects.select_for_update().filter(key=key).first()
    created = False
    if finding is None:
        try:
            with transaction.atomic():
                finding = Finding.objects.create(
                    rule=rule,
                    clause=info.clause,
                    key=key,
                    subject_kind=subject.kind,
                    subject_id=subject.id,
                    subject_label=subject.label[:200],
                    period_start=period.start,
                    period_end=period.end,
                    period_label=period.label,
                    unit=unit,
                    person=person,
                    created_at=now,
                    last_fact_at=now,
                )
                created = True
        except IntegrityError:  # opened meanwhile by another run: add to it
            finding = Finding.objects.select_for_update().get(key=key)
    have = set(finding.facts.values_list("kind", "object_id"))
    new = []
    for fact in facts:
        ident = (fact.kind, str(fact.object_id))
        if ident in have:
            continue
        have.add(ident)
        new.append(
            FindingFact(
                finding=finding,
                kind=fact.kind,
                object_id=str(fact.object_id),
                at=fact.at,
                detail=fact.detail,
                added_at=now,
            )
        )
    if not new and not created:
        return finding, 0
    FindingFact.objects.bulk_create(new)
    finding.fact_count = len(have)
    finding.last_fact_at = now
    finding.save(update_fields=["fact_count", "last_fact_at"])
    record(
        "oversight.finding.open" if created else "oversight.finding.facts",
        actor=actor,
        obj=finding,
        object_type="oversight.finding",
        details={
            "rule": rule,
            "clause": info.clause,
            "subject": f"{subject.kind}:{subject.id}",
            "period": period.label,
            "unit": unit.pk,
            "person": getattr(person, "pk", None),
            "facts": [f"{f.kind}:{f.object_id}" for f in new],
        },
    )
    keeping.changed(finding.pk)  # its recordings are kept while it is open (C5.6)
    return finding, len(new)


def may_explain(user: Any, finding: Finding) -> bool:
    return (
        finding.state == Finding.State.OPEN
        and Finding.objects.restrict(user, EXPLAIN).filter(pk=finding.pk).exists()
    )


def may_decide(user: Any, finding: Finding) -> bool:
    return (
        finding.state in (Finding.State.OPEN, Finding.State.EXPLAINED)
        and Finding.objects.restrict(user, DECIDE).filter(pk=finding.pk).exists()
    )


@dataclass
class Attachment:
    """An uploaded file read whole into a spool, at most MAX_ATTACHMENT_BYTES."""

    stream: BinaryIO
    name: str
    content_type: str
    size: int


def read_attachment(upload: Any) -> Attachment:
    """Read an uploaded file (anything with ``name``, ``size`` and ``chunks()``)
    with a size limit, and recognise its type by its first bytes."""
    limit = MAX_ATTACHMENT_BYTES
    too_big = ValidationError(
        _("附件不能超过 %(mb)s MB，请压缩或拆分后再上传") % {"mb": limit // (1024 * 1024)}
    )
    if getattr(upload, "size", 0) and upload.size > limit:
        raise too_big
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
    size = 0
    for chunk in upload.chunks():
        size += len(chunk)
        if size > limit:  # the declared size lied
            spool.close()
            raise too_big
        spool.write(chunk)
    if size == 0:
        spool.close()
        raise ValidationError(_("附件是空文件"))
    spool.seek(0)
    head = spool.read(16)
    spool.seek(0)
    content_type = next((t for magic, t in ATTACHMENT_TYPES.items() if head.startswith(magic)), "")
    if not content_type:
        spool.close()
        raise ValidationError(_("附件只能是 PDF、JPEG 或 PNG 文件"))
    name = (getattr(upload, "name", "") or "attachment").replace("/", "_").replace("\\", "_")
    return Attachment(spool, name[-200:], content_type, size)


def explain_finding(
    finding: Finding, *, actor: Any, text: str, attachment: Attachment | None = None
) -> Finding:
    """The responsible person, or a leader over the finding's unit, explains it."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("请写明情况说明")]})
    if len(text) > MAX_EXPLANATION:
        raise ValidationError({"text": [_("情况说明不能超过 %(n)s 字") % {"n": MAX_EXPLANATION}]})
    if not Finding.objects.restrict(actor, EXPLAIN).filter(pk=finding.pk).exists():
        raise PermissionDenied(_("只有责任人或其所在单位的中队长、大队长可以说明这项发现"))
    stored = None
    if attachment is not None:
        # The store writes outside the transaction; an unused object is harmless
        # (content-addressed, recorded by its own audit row).
        from jilu.evidence.actions import store_object

        stored = store_object(actor=actor, stream=attachment.stream)
    with transaction.atomic():
        finding = Finding.objects.select_for_update().get(pk=finding.pk)
        if finding.state != Finding.State.OPEN:
            raise ValidationError({"state": [_("这项发现已经说明或已经认定，不能再说明")]})
        finding.state = Finding.State.EXPLAINED
        finding.explanation = text
        finding.explained_by = actor
        finding.explained_at = clock.now()
        if stored is not None:
            finding.attachment = stored
            finding.attachment_name = attachment.name
            finding.attachment_type = attachment.content_type
        finding.save()
        record(
            "oversight.finding.explain",
            actor=actor,
            obj=finding,
            object_type="oversight.finding",
            details={
                "rule": finding.rule,
                "clause": finding.clause,
                "text": text,
                "attachment": stored.sha256 if stored is not None else None,
            },
        )
    return finding


@transaction.atomic
def decide_finding(finding: Finding, *, actor: Any, outcome: str, reason: str) -> Finding:
    """An inspector confirms the finding or dismisses it, with the reason (C6.4)."""
    if outcome not in (Finding.State.CONFIRMED, Finding.State.DISMISSED):
        raise ValidationError({"outcome": [_("认定结果只能是属实或不成立")]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请写明认定理由")]})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": [_("认定理由不能超过 %(n)s 字") % {"n": MAX_REASON}]})
    if not Finding.objects.restrict(actor, DECIDE).filter(pk=finding.pk).exists():
        raise PermissionDenied(_("只有督察可以认定发现"))
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if finding.state not in (Finding.State.OPEN, Finding.State.EXPLAINED):
        raise ValidationError({"state": [_("这项发现已经认定")]})
    finding.state = outcome
    finding.decided_by = actor
    finding.decided_at = clock.now()
    finding.decision_reason = reason
    finding.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
    record(
        f"oversight.finding.{'confirm' if outcome == Finding.State.CONFIRMED else 'dismiss'}",
        actor=actor,
        obj=finding,
        object_type="oversight.finding",
        details={"rule": finding.rule, "clause": finding.clause, "reason": reason},
    )
    keeping.changed(finding.pk)  # decided: no longer a reason to keep them
    return finding


def may_change_settings(user: Any) -> bool:
    """The bureau's administrators (of the top unit) and superusers: the
    thresholds hold for every unit."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Role.ADMIN in user.roles and user.unit_id is not None and user.unit.parent_id is None


@transaction.atomic
def change_setting(*, actor: Any, key: str, value: str, note: str = "") -> RuleSetting:
    """A new value for one threshold or grace period; the old stays in the history."""
    if not may_change_settings(actor):
        raise PermissionDenied(_("只有市局系统管理员可以修改规则阈值"))
    threshold = thresholds.THRESHOLDS.get(key)
    if threshold is None:
        raise ValidationError({"key": [_("没有这项设置")]})
    parsed = threshold.parse(value)
    old = thresholds.current()[key]
    if parsed == old:
        raise ValidationError({"value": [_("新值与当前值相同")]})
    note = (note or "").strip()[:300]
    row = RuleSetting.objects.create(
        key=key,
        value=threshold.text(parsed),
        note=note,
        changed_by=actor,
        changed_at=clock.now(),
    )
    record(
        "oversight.setting.change",
        actor=actor,
        obj=row,
        object_type="oversight.setting",
        object_id=key,
        details={"key": key, "old": threshold.text(old), "new": row.value, "note": note},
    )
    return row
