"""Every state change of packages, hand-overs and legal reviews: atomic, audited.

C5.5: the handling unit burns the case's full-process record to disc and
sends it with the AV record list (A2, C5.4) to the legal department, whose
reviewers check completeness and conformity against the list. A transferred
case is read-only for its handlers (``queries.case_is_locked``) until the
reviewer returns it; a new package version never replaces an older one. The
package check re-hashes every file against the manifest (C6.5.3).

Access (who may call which action on which object) is decided by the caller
through ``restrict()``; the rules here are those of the work itself.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jilu.audit.chain import record
from jilu.casework.actions import set_case_status
from jilu.casework.models import Case
from jilu.casework.queries import case_recordings
from jilu.transfer.models import (
    DiscType,
    Package,
    Review,
    RowMark,
    Transfer,
    Verification,
)
from jilu.transfer.queries import coverage_warnings, warning_details
from jilu.transfer.tasks import enqueue_build
from jilu.transfer.verify import Report

# A package may be (re)built while the case is open, or transferred/reviewed
# (a new version is the only way anything changes then); never once closed.
BUILDABLE = {Case.Status.OPEN, Case.Status.TRANSFERRED, Case.Status.REVIEWED}


def _locked_case(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


@transaction.atomic
def request_package(*, actor: Any, case: Case, disc: str = DiscType.DVD) -> Package:
    """Queue a new version of the case's disc package (built in the background)."""
    case = _locked_case(case)
    if disc not in DiscType.values:
        raise ValidationError(
            _("不支持的光盘类型“%(disc)s”：请选择 DVD、DVD DL 或 BD") % {"disc": disc}
        )
    if case.status not in BUILDABLE:
        raise ValidationError(
            _("案件已“%(status)s”，不能再制作光盘包") % {"status": case.get_status_display()}
        )
    if not case_recordings(case):
        raise ValidationError(_("案件还没有登记任何声像记录（C5.4）：请先把记录关联到本案件"))
    if case.packages.filter(state__in=[Package.State.QUEUED, Package.State.BUILDING]).exists():
        raise ValidationError(_("已有一个版本正在制作：请等它完成后再制作新版本"))
    version = (case.packages.aggregate(m=Max("version"))["m"] or 0) + 1
    package = Package.objects.create(
        case=case,
        version=version,
        disc=disc,
        created_by=actor if hasattr(actor, "pk") else None,
        message=gettext_noop("排队等待制作"),
    )
    record(
        "transfer.package.request",
        actor=actor,
        obj=package,
        details={"case": case.number, "version": version, "disc": disc},
    )
    enqueue_build(package.pk)
    return package


@transaction.atomic
def transfer_case(
    *, actor: Any, package: Package, note: str = "", coverage_acknowledged: bool = False
) -> Transfer:
    """移送法制审核: hand the package (by its manifest hash) to legal (C5.5).

    Activities of the case not recorded in full (none at all, C2.1; gaps or not
    yet ended, C4.3) do not stop the hand-over: the handler is shown them first
    and they are kept in the audit row with whether the handler confirmed them
    (``coverage_acknowledged``), for the reviewer and the inspectors.
    """
    case = _locked_case(package.case)
    package = Package.objects.select_for_update().get(pk=package.pk)
    if package.state != Package.State.READY:
        raise ValidationError(_("光盘包尚未制作完成，不能移送"))
    newest = case.packages.aggregate(m=Max("version"))["m"]
    if package.version != newest:
        raise ValidationError(
            _("第 %(v)s 版不是最新版本（最新为第 %(newest)s 版）：请移送最新版本")
            % {"v": package.version, "newest": newest}
        )
    if case.status != Case.Status.OPEN:
        raise ValidationError(
            _("案件已“%(status)s”，不能再次移送") % {"status": case.get_status_display()}
        )
    set_case_status(actor=actor, case=case, status=Case.Status.TRANSFERRED, note=note)
    transfer = Transfer.objects.create(
        case=case,
        package=package,
        manifest_sha256=package.manifest_sha256,
        note=note.strip()[:300],
        transferred_by=actor,
    )
    Review.objects.create(transfer=transfer)
    warnings = coverage_warnings(case)
    record(
        "transfer.case.transfer",
        actor=actor,
        obj=transfer,
        details={
            "case": case.number,
            "version": package.version,
            "manifest_sha256": package.manifest_sha256,
            "discs": list(package.discs.values_list("number", "manifest_sha256")),
            "coverage_warnings": warning_details(warnings),
            "coverage_acknowledged": bool(coverage_acknowledged and warnings),
        },
    )
    transfer.coverage_warnings = warnings
    return transfer


def _pending(review: Review) -> Review:
    review = Review.objects.select_for_update().select_related("transfer").get(pk=review.pk)
    if review.decision != Review.Decision.PENDING:
        raise ValidationError(
            _("审核已结束（%(decision)s），不能再修改")
            % {"decision": review.get_decision_display()}
        )
    return review


@transaction.atomic
def record_verification(
    *, actor: Any, package: Package, report: Report, review: Review | None = None
) -> Verification:
    """Keep the result of a package check (C6.5.3), naming every file that failed."""
    if review is not None:
        review = Review.objects.select_related("transfer").get(pk=review.pk)
    verification = Verification.objects.create(
        package=package,
        review=review,
        source=report.source,
        source_name=report.source_name[:500],
        ok=report.ok,
        checked_files=report.checked_files,
        checked_bytes=report.checked_bytes,
        missing=report.missing,
        extra=report.extra,
        altered=[
            {"path": f.path, "reason": f.reason} for f in report.files if f.status == "altered"
        ]
        or [{"path": p, "reason": ""} for p in report.altered],
        problems=report.problems,
        passed=[f.path for f in report.files if f.status == "ok"],
        checked_by=actor if hasattr(actor, "pk") else None,
    )
    record(
        "transfer.package.verify",
        actor=actor,
        obj=verification,
        details={
            "package": package.pk,
            "source": report.source,
            "ok": report.ok,
            "manifest_sha256": report.manifest_sha256,
            "missing": report.missing,
            "extra": report.extra,
            "altered": report.altered,
            "problems": report.problems,
        },
    )
    return verification


@transaction.atomic
def mark_row(
    *, actor: Any, review: Review, list_no: int, verdict: str, reason: str = ""
) -> RowMark:
    """The reviewer's mark on one record-list row (C5.4): ok, or a problem with its reason."""
    review = _pending(review)
    reason = reason.strip()
    if verdict not in RowMark.Verdict.values:
        raise ValidationError(_("请选择“无误”或“有问题”"))
    if verdict == RowMark.Verdict.PROBLEM and not reason:
        raise ValidationError(_("序号 %(no)s：标为“有问题”时请写明原因") % {"no": list_no})
    rows = {r.list_no: r for r in case_recordings(review.transfer.case)}
    row = rows.get(list_no)
    if row is None:
        raise ValidationError(_("清单中没有序号 %(no)s") % {"no": list_no})
    mark, _created = RowMark.objects.update_or_create(
        review=review,
        list_no=list_no,
        defaults={
            "recording": row.recording,
            "file_name": row.file_name,
            "verdict": verdict,
            "reason": reason if verdict == RowMark.Verdict.PROBLEM else "",
            "marked_by": actor,
        },
    )
    if review.reviewer_id is None:
        review.reviewer = actor
        review.save(update_fields=["reviewer"])
    record(
        "transfer.review.mark",
        actor=actor,
        obj=review,
        details={"list_no": list_no, "verdict": verdict, "reason": mark.reason},
    )
    return mark


@transaction.atomic
def decide(*, actor: Any, review: Review, decision: str, note: str = "") -> Review:
    """Accept the transfer, or return it to the handler with reasons per row."""
    review = _pending(review)
    note = note.strip()
    marks = list(review.marks.all())
    problems = [m for m in marks if m.verdict == RowMark.Verdict.PROBLEM]
    if decision == Review.Decision.ACCEPTED:
        listed = {r.list_no for r in case_recordings(review.transfer.case)}
        unmarked = sorted(listed - {m.list_no for m in marks})
        if problems:
            raise ValidationError(_("有标为“有问题”的记录，不能审核通过：请退回补正"))
        if unmarked:
            raise ValidationError(
                _("还有未逐项核对的记录（序号 %(nos)s）") % {"nos": "、".join(map(str, unmarked))}
            )
        checked = review.verifications.order_by("-checked_at").first()
        if checked is None or not checked.ok:
            raise ValidationError(_("光盘包还没有通过完整性核验：请先核验"))
        status = Case.Status.REVIEWED
    elif decision == Review.Decision.RETURNED:
        if not problems and not note:
            raise ValidationError(_("退回时请至少对一条记录写明问题，或填写退回意见"))
        status = Case.Status.OPEN
    else:
        raise ValidationError(_("请选择“审核通过”或“退回补正”"))
    review.decision = decision
    review.note = note
    review.reviewer = actor
    review.decided_at = timezone.now()
    review.save()
    set_case_status(actor=actor, case=review.transfer.case, status=status, note=f"法制审核：{note}")
    record(
        "transfer.review.decide",
        actor=actor,
        obj=review,
        details={
            "decision": decision,
            "note": note,
            "manifest_sha256": review.transfer.manifest_sha256,
            "problems": [{"list_no": m.list_no, "reason": m.reason} for m in problems],
        },
    )
    return review


@transaction.atomic
def note_disc_download(*, actor: Any, disc: Any) -> None:
    """A disc image holds copies of recordings: every download is audited."""
    record(
        "transfer.disc.download",
        actor=actor,
        obj=disc.package,
        details={
            "disc": disc.number,
            "iso_sha256": disc.iso_sha256,
            "manifest_sha256": disc.manifest_sha256,
        },
    )
