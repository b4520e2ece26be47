"""Read-only questions about packages, hand-overs and reviews, for views, the API and other apps.

``case_is_locked(case)`` is what casework asks before any change to a case,
its activities or its annotations: a case handed to legal (C5.5) is
read-only for its handlers until the reviewer returns it; only a new package
version can be made meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from jilu.casework.models import Case
from jilu.casework.recordlist import Row
from jilu.casework.recordlist import build as build_record_list
from jilu.transfer.models import REVIEWERS, Package, Review, RowMark, Transfer


def case_is_locked(case: Case) -> bool:
    """True while the case's newest hand-over is with legal or was accepted (C5.5)."""
    latest = (
        Transfer.objects.filter(case_id=case.pk)
        .select_related("review")
        .order_by("-transferred_at", "-pk")
        .first()
    )
    if latest is None:
        return case.status not in (Case.Status.OPEN,)
    review = getattr(latest, "review", None)
    return review is None or review.decision != Review.Decision.RETURNED


def latest_decision(case: Case):
    """The case's newest decided review with its note and row marks, as casework
    shows it to the handler (``jilu.casework.review_hook``, C5.5)."""
    from jilu.casework.review_hook import ReviewDecision, ReviewMark

    review = (
        Review.objects.filter(transfer__case_id=case.pk)
        .exclude(decision=Review.Decision.PENDING)
        .select_related("transfer", "transfer__package", "reviewer")
        .order_by("-transfer__transferred_at", "-transfer__pk")
        .first()
    )
    if review is None:
        return None
    resubmitted = Review.objects.filter(
        transfer__case_id=case.pk,
        decision=Review.Decision.PENDING,
        transfer__transferred_at__gte=review.transfer.transferred_at,
    ).exclude(pk=review.pk)
    return ReviewDecision(
        review_id=review.pk,
        decision=review.decision,
        decision_label=review.get_decision_display(),
        note=review.note,
        reviewer=review.reviewer.name if review.reviewer_id else "",
        decided_at=review.decided_at,
        package_version=review.transfer.package.version,
        transferred_at=review.transfer.transferred_at,
        resubmitted=resubmitted.exists(),
        marks=[
            ReviewMark(
                list_no=m.list_no,
                file_name=m.file_name,
                recording_id=m.recording_id,
                verdict=m.verdict,
                verdict_label=m.get_verdict_display(),
                reason=m.reason,
            )
            for m in review.marks.order_by("list_no")
        ],
    )


def returned_cases(user: Any) -> QuerySet[Case]:
    """Open cases the user handles (or handed over) whose newest review returned
    them for correction (退回补正, C5.5): what the handler must fix and re-submit."""
    from django.db.models import OuterRef, Q, Subquery

    newest = Review.objects.filter(transfer__case_id=OuterRef("pk")).order_by(
        "-transfer__transferred_at", "-transfer__pk"
    )
    return (
        Case.objects.restrict(user, "view")
        .filter(status=Case.Status.OPEN)
        .filter(Q(handler_id=user.pk) | Q(transfers__transferred_by_id=user.pk))
        .annotate(newest_decision=Subquery(newest.values("decision")[:1]))
        .filter(newest_decision=Review.Decision.RETURNED)
        .distinct()
    )


def packages_of(case: Case) -> QuerySet[Package]:
    return case.packages.prefetch_related("discs").select_related("created_by")


def latest_transfer(case: Case) -> Transfer | None:
    return (
        Transfer.objects.filter(case_id=case.pk)
        .select_related("package", "transferred_by", "review", "review__reviewer")
        .order_by("-transferred_at", "-pk")
        .first()
    )


def is_reviewer(user: Any) -> bool:
    return bool(user.is_superuser or user.has_role(*REVIEWERS))


def review_queue(user: Any, *, pending_only: bool = True) -> QuerySet[Review]:
    """The reviewer's queue: transfers of cases in their unit subtree."""
    qs = Review.objects.restrict(user, "change").select_related(
        "transfer",
        "transfer__case",
        "transfer__case__unit",
        "transfer__case__handler",
        "transfer__package",
        "transfer__transferred_by",
        "reviewer",
    )
    if pending_only:
        qs = qs.filter(decision=Review.Decision.PENDING)
    return qs.order_by("transfer__transferred_at")


@dataclass
class ReviewRow:
    """One record-list row (C5.4, A2) on the review page, with the reviewer's mark.

    ``coverage_gaps`` holds only the unrecorded stretches of the row's activity
    that touch this recording (end where it starts, start where it ends, or lie
    within it); the activity's full list of gaps is shown once per activity,
    labelled as the activity's (``ActivityGaps``), never repeated on rows it
    does not concern (C4.3, C2.1).
    """

    row: Row
    mark: RowMark | None
    coverage_gaps: list[str] = field(default_factory=list)
    check: Any = None  # verify.FileResult of the latest check, when there is one


@dataclass
class ActivityGaps:
    """An activity's coverage on the review page (C4.3, C2.1): label, percent and gaps."""

    activity: Any
    label: str
    status: str
    percent: int | None
    gaps: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    # (span, GapExplanation) per gap: what the duty log says of it (C6.2).
    explained: list[tuple[str, Any]] = field(default_factory=list)
    coverage: Any = None  # casework.coverage.Coverage


def _span(a, b) -> str:
    from django.utils import timezone

    return f"{timezone.localtime(a):%H:%M:%S}–{timezone.localtime(b):%H:%M:%S}"


def review_rows(review: Review, check_files: dict[int, Any] | None = None) -> list[ReviewRow]:
    return review_rows_and_activities(review, check_files)[0]


def _activity_gaps(activity: Any) -> ActivityGaps:
    from jilu.casework.coverage import activity_coverage

    cov = activity_coverage(activity)
    return ActivityGaps(
        activity=activity,
        label=cov.label,
        status=cov.status,
        percent=cov.percent,
        gaps=[_span(a, b) for a, b in cov.gaps],
        explained=[(_span(g.start, g.end), g) for g in cov.explained_gaps],
        coverage=cov,
    )


def case_activity_coverage(case: Case) -> list[ActivityGaps]:
    """Every activity of the case, in case order, with its coverage (C4.3, C2.1):
    an activity with no recording at all is listed at 0 %, never left out."""
    from jilu.casework.queries import case_activities

    return [_activity_gaps(a) for a in case_activities(case)]


def coverage_warnings(case: Case) -> list[ActivityGaps]:
    """The case's activities not recorded in full: no recording (C2.1), gaps
    (C4.3) or not yet ended. Shown before the hand-over and kept in its audit row."""
    return [ag for ag in case_activity_coverage(case) if ag.status != "complete"]


def warning_details(warnings: list[ActivityGaps]) -> list[dict[str, Any]]:
    """The warnings as the audit row keeps them (plain values, no translation)."""
    return [
        {
            "activity": ag.activity.pk,
            "kind": ag.activity.kind,
            "status": ag.status,
            "percent": ag.percent,
            "gaps": ag.gaps,
        }
        for ag in warnings
    ]


def review_rows_and_activities(
    review: Review, check_files: dict[int, Any] | None = None
) -> tuple[list[ReviewRow], list[ActivityGaps]]:
    """The record-list rows with their marks, and every activity of the case with
    its coverage, including those no row comes from (C2.1: 0 % is shown)."""
    from jilu.casework.models import Annotation
    from jilu.casework.queries import SEGMENT_TOLERANCE, recording_end
    from jilu.evidence.models import Recording

    case = review.transfer.case
    record_list = build_record_list(case)
    marks = {m.list_no: m for m in review.marks.all()}
    annotations = {a.pk: a for a in Annotation.objects.filter(case=case).select_related("activity")}
    recordings = Recording.objects.select_related("media").in_bulk(
        [r.recording_id for r in record_list.rows if r.recording_id]
    )
    by_activity: dict[int, ActivityGaps] = {
        ag.activity.pk: ag for ag in case_activity_coverage(case)
    }
    out = []
    for row in record_list.rows:
        ann = annotations.get(row.annotation_id)
        gaps: list[str] = []
        if ann is not None and ann.activity_id:
            if ann.activity_id not in by_activity:
                by_activity[ann.activity_id] = _activity_gaps(ann.activity)
            cov = by_activity[ann.activity_id].coverage
            if row.no is not None:
                by_activity[ann.activity_id].rows.append(row.no)
            rec = recordings.get(row.recording_id)
            if rec is not None:
                lo = rec.started_at - SEGMENT_TOLERANCE
                end = recording_end(rec)
                hi = (end or rec.started_at) + SEGMENT_TOLERANCE
                gaps = [_span(a, b) for a, b in cov.gaps if b >= lo and a <= hi]
        out.append(
            ReviewRow(
                row=row,
                mark=marks.get(row.no),
                coverage_gaps=gaps,
                check=(check_files or {}).get(row.no),
            )
        )
    return out, list(by_activity.values())
