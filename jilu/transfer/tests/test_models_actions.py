"""Packages, hand-over and legal review as actions (C5.5, C5.4, A2, C6.5.3).

C5.5: the handling unit burns the case's record to disc and sends it with the
AV record list to legal, whose reviewers check it against the list. Every
step here is one audited action; a transferred case is read-only for its
handlers until it is returned; a new package version keeps the old one.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jilu.audit.models import AuditEntry
from jilu.audit.verify import verify_chain
from jilu.casework import actions as casework_actions
from jilu.casework.models import Case
from jilu.casework.tests.conftest import _file_store, party, recorders  # noqa: F401
from jilu.casework.tests.documents_data import build_case
from jilu.transfer import actions, queries
from jilu.transfer.models import Package, Review, RowMark, Transfer, Verification
from jilu.transfer.verify import check_originals

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def data(people, tree, recorders, party, settings, tmp_path):  # noqa: F811
    settings.TASKS = IMMEDIATE
    settings.TRANSFER_PACKAGE_DIR = tmp_path / "packages"
    return build_case(people, tree, recorders, party)


def built(people, case, django_capture_on_commit_callbacks, disc="dvd") -> Package:
    with django_capture_on_commit_callbacks(execute=True):
        package = actions.request_package(actor=people["case_handler"], case=case, disc=disc)
    package.refresh_from_db()
    return package


def actions_logged() -> list[str]:
    return list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))


def test_package_is_built_in_the_background_with_progress(
    data, people, django_capture_on_commit_callbacks
):
    """C5.5: the package job builds every disc; progress reaches the total."""
    package = built(people, data["case"], django_capture_on_commit_callbacks)
    assert package.state == Package.State.READY, package.error
    assert package.version == 1
    assert package.total_bytes > 0 and package.done_bytes == package.total_bytes
    assert package.percent == 100
    assert len(package.manifest_sha256) == 64
    disc = package.discs.get()
    assert disc.count == 1 and disc.iso_size > 0 and disc.label_text
    assert data["case"].number in disc.label_text
    assert disc.file_count == 5 + 2  # five recordings (C5.4) + the record list PDF/XLSX (A2)
    names = actions_logged()
    assert "transfer.package.request" in names and "transfer.package.ready" in names
    assert verify_chain().ok


def test_job_is_idempotent(data, people, django_capture_on_commit_callbacks):
    from jilu.transfer.tasks import build_package_job

    package = built(people, data["case"], django_capture_on_commit_callbacks)
    assert build_package_job.call(package.pk) == "already ready"


def test_a_new_version_keeps_the_old_one(data, people, django_capture_on_commit_callbacks):
    first = built(people, data["case"], django_capture_on_commit_callbacks)
    second = built(people, data["case"], django_capture_on_commit_callbacks, disc="bd")
    assert (first.version, second.version) == (1, 2)
    assert Package.objects.filter(case=data["case"]).count() == 2
    first.refresh_from_db()
    assert first.state == Package.State.READY
    assert first.discs.get().iso_path != second.discs.get().iso_path


def test_failure_of_the_builder_is_kept_with_its_message(
    data, people, django_capture_on_commit_callbacks, monkeypatch
):
    from jilu.transfer import builder

    def broken(*args, **kwargs):
        raise builder.PackageError("存储副本与入库时的哈希不一致")

    monkeypatch.setattr(builder, "build_package", broken)
    package = built(people, data["case"], django_capture_on_commit_callbacks)
    assert package.state == Package.State.FAILED
    assert "哈希不一致" in package.error
    assert "transfer.package.failed" in actions_logged()


def test_an_unexpected_failure_shows_a_chinese_message_and_logs_the_detail(
    data, people, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    """C5.5: the handler reads what to do, not an exception class; the log has the rest."""
    import logging

    from jilu.transfer import builder, tasks

    def broken(*args, **kwargs):
        raise RuntimeError("PyCdlibInvalidInput: Input string too long!")

    monkeypatch.setattr(builder, "build_package", broken)
    with caplog.at_level(logging.ERROR):
        built(people, data["case"], django_capture_on_commit_callbacks)
    package = Package.objects.get(case=data["case"])
    assert package.state == Package.State.FAILED
    assert package.error == tasks.INTERNAL_ERROR
    assert "Error" not in package.error and "PyCdlib" not in package.error
    assert "Input string too long!" in caplog.text
    failed = AuditEntry.objects.filter(action="transfer.package.failed").get()
    assert "RuntimeError" in str(failed.details)


def test_transfer_records_who_what_when_and_locks_the_case(
    data, people, django_capture_on_commit_callbacks
):
    """C5.5 hand-over: by manifest hash; the case is then read-only for its handlers."""
    case = data["case"]
    package = built(people, case, django_capture_on_commit_callbacks)
    assert not queries.case_is_locked(case)
    transfer = actions.transfer_case(actor=people["case_handler"], package=package, note="请审核")
    case.refresh_from_db()
    assert case.status == Case.Status.TRANSFERRED
    assert transfer.manifest_sha256 == package.manifest_sha256
    assert transfer.transferred_by == people["case_handler"]
    assert transfer.review.decision == Review.Decision.PENDING
    assert queries.case_is_locked(case)
    # casework refuses changes to a transferred case
    with pytest.raises(ValidationError):
        casework_actions.update_case(actor=people["case_handler"], case=case, title="改")
    # transferring again is refused
    with pytest.raises(ValidationError):
        actions.transfer_case(actor=people["case_handler"], package=package)
    # …but a new package version can still be made
    newer = built(people, case, django_capture_on_commit_callbacks)
    assert newer.version == 2 and newer.state == Package.State.READY
    assert "transfer.case.transfer" in actions_logged()
    assert verify_chain().ok


def test_only_the_newest_ready_package_is_transferred(
    data, people, django_capture_on_commit_callbacks
):
    old = built(people, data["case"], django_capture_on_commit_callbacks)
    built(people, data["case"], django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="最新版本"):
        actions.transfer_case(actor=people["case_handler"], package=old)


def test_review_returned_with_reasons_unlocks_the_case(
    data, people, django_capture_on_commit_callbacks
):
    """C5.5: the reviewer marks each row (C5.4) and returns the case with reasons."""
    case = data["case"]
    package = built(people, case, django_capture_on_commit_callbacks)
    transfer = actions.transfer_case(actor=people["case_handler"], package=package)
    review = transfer.review
    reviewer = people["legal_reviewer"]
    with pytest.raises(ValidationError, match="原因"):
        actions.mark_row(actor=reviewer, review=review, list_no=2, verdict="problem")
    actions.mark_row(actor=reviewer, review=review, list_no=1, verdict="ok")
    actions.mark_row(
        actor=reviewer, review=review, list_no=2, verdict="problem", reason="画面中断，缺少开场"
    )
    with pytest.raises(ValidationError, match="有问题"):
        actions.decide(actor=reviewer, review=review, decision="accepted")
    actions.decide(actor=reviewer, review=review, decision="returned", note="请补正")
    case.refresh_from_db()
    review.refresh_from_db()
    assert case.status == Case.Status.OPEN
    assert review.decision == Review.Decision.RETURNED and review.reviewer == reviewer
    assert not queries.case_is_locked(case)
    problem = RowMark.objects.get(review=review, verdict="problem")
    assert (problem.list_no, problem.reason) == (2, "画面中断，缺少开场")
    with pytest.raises(ValidationError, match="审核已结束"):
        actions.mark_row(actor=reviewer, review=review, list_no=3, verdict="ok")
    assert {"transfer.review.mark", "transfer.review.decide"} <= set(actions_logged())
    assert verify_chain().ok


def test_acceptance_needs_every_row_ok_and_a_passing_check(
    data, people, django_capture_on_commit_callbacks
):
    case = data["case"]
    package = built(people, case, django_capture_on_commit_callbacks)
    review = actions.transfer_case(actor=people["case_handler"], package=package).review
    reviewer = people["legal_reviewer"]
    for no in range(1, 6):
        actions.mark_row(actor=reviewer, review=review, list_no=no, verdict="ok")
    with pytest.raises(ValidationError, match="核验"):
        actions.decide(actor=reviewer, review=review, decision="accepted")
    report = check_originals(package)
    assert report.ok, (report.missing, report.altered, report.extra, report.problems)
    v = actions.record_verification(actor=reviewer, package=package, report=report, review=review)
    assert v.ok and v.checked_files == 7
    actions.decide(actor=reviewer, review=review, decision="accepted", note="符合要求")
    case.refresh_from_db()
    assert case.status == Case.Status.REVIEWED
    assert queries.case_is_locked(case)
    assert Verification.objects.filter(review=review).count() == 1
    assert Transfer.objects.filter(case=case).count() == 1


def test_queue_and_access_are_scoped(data, people, make_person, django_capture_on_commit_callbacks):
    """Reviewers see transferred cases of their unit subtree; others do not act on reviews."""
    package = built(people, data["case"], django_capture_on_commit_callbacks)
    review = actions.transfer_case(actor=people["case_handler"], package=package).review
    assert list(queries.review_queue(people["legal_reviewer"])) == [review]
    elsewhere = make_person("reviewer_huli", unit="district2", roles=("legal_reviewer",))
    assert list(queries.review_queue(elsewhere)) == []
    assert list(queries.review_queue(people["case_handler"])) == []
    assert not Review.objects.restrict(people["officer"], "change").exists()
    # the handler sees the review (and its reasons) of their case
    assert Review.objects.restrict(people["case_handler"], "view").filter(pk=review.pk).exists()
    assert Package.objects.restrict(people["legal_reviewer"], "view").filter(pk=package.pk).exists()
    assert not Package.objects.restrict(elsewhere, "view").exists()
