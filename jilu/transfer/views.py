"""Pages: a case's disc packages and hand-over; the legal reviewer's queue and review (C5.5).

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.transfer.actions``. An object outside the user's view
scope is a 404; one the user sees but may not act on is a 403. An uploaded
ISO is streamed to a temporary file (never held in memory) and re-hashed
file by file against the manifest recorded at hand-over (C6.5.3).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from jilu.casework.models import Case
from jilu.casework.queries import case_recordings
from jilu.transfer import actions, labels, queries, verify
from jilu.transfer.builder import disc_file_names
from jilu.transfer.forms import (
    BuildForm,
    DecideForm,
    TransferForm,
    UploadIsoForm,
    row_marks,
)
from jilu.transfer.models import Disc, Package, Review, RowMark


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for m in exc.messages:
        messages.error(request, m)


def _get_case(request: HttpRequest, pk: int, action: str = "view") -> Case:
    case = (
        Case.objects.restrict(request.user, "view")
        .select_related("unit", "handler", "party")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404(_("没有这个案件，或它不在你的管辖范围内"))
    if action != "view" and not Case.objects.restrict(request.user, action).filter(pk=pk).exists():
        raise PermissionDenied(_("你可以查看这个案件，但不能为它制作或移送光盘包"))
    return case


def _get_package(request: HttpRequest, pk: int) -> Package:
    package = (
        Package.objects.restrict(request.user, "view").select_related("case").filter(pk=pk).first()
    )
    if package is None:
        raise Http404(_("没有这个光盘包，或它不在你的管辖范围内"))
    return package


def _get_review(request: HttpRequest, pk: int) -> Review:
    review = (
        Review.objects.restrict(request.user, "view")
        .select_related("transfer", "transfer__case", "transfer__package", "reviewer")
        .filter(pk=pk)
        .first()
    )
    if review is None:
        raise Http404(_("没有这项法制审核，或它不在你的管辖范围内"))
    if not Review.objects.restrict(request.user, "change").filter(pk=pk).exists():
        raise PermissionDenied(_("只有法制审核员可以审核移送的光盘包"))
    return review


@login_required
def case_packages(request: HttpRequest, pk: int) -> HttpResponse:
    """The case's package versions with progress, hand-over and the review's reasons."""
    case = _get_case(request, pk)
    can_change = Case.objects.restrict(request.user, "change").filter(pk=pk).exists()
    packages = list(queries.packages_of(case))
    newest = packages[0] if packages else None
    transfers = list(
        case.transfers.select_related("package", "transferred_by", "review", "review__reviewer")
    )
    latest = transfers[0] if transfers else None
    marks = []
    if latest is not None and hasattr(latest, "review"):
        marks = list(latest.review.marks.filter(verdict=RowMark.Verdict.PROBLEM))
    busy = any(p.state in (Package.State.QUEUED, Package.State.BUILDING) for p in packages)
    can_transfer = (
        can_change
        and case.status == Case.Status.OPEN
        and newest is not None
        and newest.state == Package.State.READY
    )
    return render(
        request,
        "transfer/case_packages.html",
        {
            "case": case,
            "packages": packages,
            "transfers": transfers,
            "latest": latest,
            "problem_marks": marks,
            "can_build": can_change and case.status in actions.BUILDABLE and not busy,
            "can_transfer": can_transfer,
            # C2.1, C4.3: what the handler is told before handing over.
            "coverage_warnings": queries.coverage_warnings(case) if can_transfer else [],
            "newest": newest,
            "busy": busy,
            "locked": queries.case_is_locked(case),
            "build_form": BuildForm(),
            "transfer_form": TransferForm(),
        },
    )


@login_required
@require_POST
def package_build(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk, "change")
    form = BuildForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择光盘类型"))
    else:
        try:
            package = actions.request_package(
                actor=request.user, case=case, disc=form.cleaned_data["disc"]
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(
                request, _("已开始制作第 %(v)s 版光盘包，进度见下方") % {"v": package.version}
            )
    return redirect("transfer:case_packages", pk=case.pk)


@login_required
def package_progress(request: HttpRequest, pk: int) -> JsonResponse:
    package = _get_package(request, pk)
    return JsonResponse(
        {
            "state": package.state,
            "state_label": package.get_state_display(),
            "done_bytes": package.done_bytes,
            "total_bytes": package.total_bytes,
            "percent": package.percent,
            "message": package.message_display,
            "error": package.error,
            "finished": package.finished,
        }
    )


@login_required
@require_POST
def package_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    package = _get_package(request, pk)
    _get_case(request, package.case_id, "change")
    form = TransferForm(request.POST)
    valid = form.is_valid()
    note = form.cleaned_data["note"] if valid else ""
    acknowledged = bool(valid and form.cleaned_data["coverage_ack"])
    warnings = queries.coverage_warnings(package.case)
    if warnings and not acknowledged:
        # The hand-over stays possible; the handler confirms having seen them (C2.1, C4.3).
        messages.error(
            request,
            _("有 %(n)s 项执法活动未全程录制：请核对下方提示，勾选确认后再移送")
            % {"n": len(warnings)},
        )
        return redirect("transfer:case_packages", pk=package.case_id)
    try:
        actions.transfer_case(
            actor=request.user, package=package, note=note, coverage_acknowledged=acknowledged
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("已移送法制审核：案件在审核期间不能修改"))
    return redirect("transfer:case_packages", pk=package.case_id)


@login_required
def disc_download(request: HttpRequest, pk: int, number: int) -> FileResponse:
    package = _get_package(request, pk)
    disc = Disc.objects.filter(package=package, number=number).first()
    if disc is None or not disc.iso_path or not Path(disc.iso_path).is_file():
        raise Http404(_("这张光盘的镜像不在服务器上"))
    actions.note_disc_download(actor=request.user, disc=disc)
    return FileResponse(
        open(disc.iso_path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=labels.iso_download_name(package.case.number, disc.number),
        content_type="application/x-iso9660-image",
    )


@login_required
def package_label_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """The package's full set of labels as text (C5.5): every disc's labels and the
    package block (package-manifest.txt's SHA-256 and lines) the hand-over is
    recorded by; the same text the builder writes to labels.txt. Printed labels
    stay Chinese whatever the page language."""
    package = _get_package(request, pk)
    sheet = package.label_sheet
    if not sheet:
        raise Http404(_("这个光盘包还没有制作完成"))
    response = HttpResponse(sheet, content_type="text/plain; charset=utf-8")
    name = f"{labels.file_name_part(package.case.number)}-v{package.version}-labels.txt"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    if not queries.is_reviewer(request.user):
        raise PermissionDenied(_("只有法制审核员可以查看待审核案件"))
    show_all = request.GET.get("all") == "1"
    return render(
        request,
        "transfer/review_queue.html",
        {"reviews": queries.review_queue(request.user, pending_only=not show_all), "all": show_all},
    )


def _render_review(request: HttpRequest, review: Review, upload_form=None, status: int = 200):
    verifications = list(review.verifications.order_by("-checked_at"))
    latest = verifications[0] if verifications else None
    check_files: dict[int, dict] = {}
    if latest is not None:
        bad = {a["path"]: a.get("reason", "") for a in latest.altered}
        for entry_path in latest.missing:
            bad.setdefault(entry_path, _("光盘包中没有这个文件"))
        check_files = {"bad": bad, "passed": set(latest.passed)}
    rows, activity_gaps = queries.review_rows_and_activities(review)
    on_disc = disc_file_names([item.row.file_name for item in rows])
    for item in rows:
        item.check = _row_check(f"data/{on_disc[item.row.file_name]}", check_files)
    # C5.5: what the reviewer compares with the labels of the discs they hold.
    # Each disc's manifest-sha256.txt hash is printed on its labels; the hand-over
    # is recorded by the SHA-256 of package-manifest.txt, whose lines are those
    # disc hashes, so it is rebuilt here and checked against the registered hash.
    package = review.transfer.package
    discs = list(package.discs.order_by("number"))
    pairs = [(d.number, d.manifest_sha256) for d in discs]
    return render(
        request,
        "transfer/review_detail.html",
        {
            "review": review,
            "transfer": review.transfer,
            "case": review.transfer.case,
            "package": package,
            "discs": discs,
            "package_manifest": labels.package_manifest_text(pairs),
            "package_manifest_ok": bool(discs)
            and labels.package_sha256(pairs) == review.transfer.manifest_sha256,
            "rows": rows,
            "activity_gaps": activity_gaps,
            "verdicts": RowMark.Verdict.choices,
            "verifications": verifications,
            "latest_check": latest,
            "upload_form": upload_form or UploadIsoForm(),
            "decide_form": DecideForm(),
            "pending": review.decision == Review.Decision.PENDING,
        },
        status=status,
    )


def _row_check(path: str, check_files: dict) -> dict | None:
    """The latest check's finding for the file at ``path`` (the row's name on the disc)."""
    if not check_files:
        return None
    reason = check_files["bad"].get(path)
    if reason is not None:
        return {"ok": False, "reason": reason or _("与清单不符")}
    if path in check_files["passed"]:
        return {"ok": True, "reason": ""}
    return {"ok": False, "reason": _("不在这次核验的光盘上")}


@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_review(request, _get_review(request, pk))


@login_required
@require_POST
def review_verify(request: HttpRequest, pk: int) -> HttpResponse:
    """Check the transferred package on the server against the stored originals."""
    review = _get_review(request, pk)
    package = review.transfer.package
    report = verify.check_originals(package)
    if package.manifest_sha256 != review.transfer.manifest_sha256:
        report.problems.append(_("光盘包清单与移送时登记的不一致"))
    actions.record_verification(actor=request.user, package=package, report=report, review=review)
    _say(request, report)
    return redirect("transfer:review_detail", pk=review.pk)


def _say(request: HttpRequest, report: verify.Report) -> None:
    if report.ok:
        messages.success(
            request,
            _("核验通过：%(n)s 个文件逐一重新计算哈希，与清单一致") % {"n": report.checked_files},
        )
    else:
        messages.error(request, _("核验未通过：见下方列出的文件"))


@csrf_exempt
@login_required
def review_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Check an uploaded ISO: streamed to a temporary file, never held in memory."""
    request.upload_handlers = [TemporaryFileUploadHandler(request)]
    return _review_upload(request, pk)


@csrf_protect
@require_POST
def _review_upload(request: HttpRequest, pk: int) -> HttpResponse:
    review = _get_review(request, pk)
    form = UploadIsoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_review(request, review, upload_form=form, status=400)
    upload = form.cleaned_data["iso"]
    package = review.transfer.package
    expected = set(package.discs.values_list("manifest_sha256", flat=True)) - {""}
    try:
        report = verify.check_iso(
            upload.temporary_file_path(),
            expected_manifest_sha256=expected,
            expected=verify.expected_for(package),
        )
    except verify.PackageUnreadable as exc:
        form.add_error("iso", str(exc))
        return _render_review(request, review, upload_form=form, status=400)
    finally:
        upload.close()
    report.source_name = upload.name
    actions.record_verification(actor=request.user, package=package, report=report, review=review)
    _say(request, report)
    return redirect("transfer:review_detail", pk=review.pk)


@login_required
@require_POST
def review_mark(request: HttpRequest, pk: int) -> HttpResponse:
    review = _get_review(request, pk)
    list_nos = [r.list_no for r in case_recordings(review.transfer.case)]
    marks = row_marks(request.POST, list_nos)
    if not marks:
        messages.error(request, _("请至少为一条记录选择“无误”或“有问题”"))
        return redirect("transfer:review_detail", pk=review.pk)
    try:
        with transaction.atomic():
            for no, verdict, reason in marks:
                actions.mark_row(
                    actor=request.user, review=review, list_no=no, verdict=verdict, reason=reason
                )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("已保存 %(n)s 条逐项结论") % {"n": len(marks)})
    return redirect("transfer:review_detail", pk=review.pk)


@login_required
@require_POST
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    review = _get_review(request, pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审核结论"))
        return redirect("transfer:review_detail", pk=review.pk)
    try:
        actions.decide(
            actor=request.user,
            review=review,
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("transfer:review_detail", pk=review.pk)
    messages.success(request, _("审核结论已记录"))
    return redirect("transfer:review_queue")
