"""What casework asks of the legal review above it, without importing it.

The legal review (C5.5) lives in ``jilu.transfer``, a layer above casework, yet
the case page and the case API must show the handler what the reviewer
decided: a case returned for correction (退回补正) comes back to 办理中 with the
reviewer's note and a mark per record-list row (C5.4), and the handler has to
read them where they work on the case. Transfer registers the answer from its
``AppConfig.ready()``; with nothing registered a case has no review.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ReviewMark:
    """The reviewer's mark on one record-list row: ok, or a problem with its reason."""

    list_no: int
    file_name: str
    recording_id: int | None
    verdict: str  # "ok" | "problem"
    verdict_label: str
    reason: str


@dataclass(frozen=True)
class ReviewDecision:
    """The newest decided legal review of a case (accepted or returned)."""

    review_id: int
    decision: str  # "accepted" | "returned"
    decision_label: str
    note: str
    reviewer: str
    decided_at: datetime | None
    package_version: int
    transferred_at: datetime
    # A newer hand-over of the case is waiting for review (the handler re-submitted).
    resubmitted: bool = False
    marks: list[ReviewMark] = field(default_factory=list)

    @property
    def returned(self) -> bool:
        return self.decision == "returned"

    @property
    def problems(self) -> list[ReviewMark]:
        return [m for m in self.marks if m.verdict == "problem"]


_provider: Callable[[Any], ReviewDecision | None] | None = None


def register_latest_review(provider: Callable[[Any], ReviewDecision | None]) -> None:
    global _provider
    _provider = provider


def latest_review(case: Any) -> ReviewDecision | None:
    """The case's newest decided legal review, or None (never reviewed, or no review app)."""
    return _provider(case) if _provider is not None else None
