"""Annotation: tie recordings to the activity they show (C5.2, C6.5.3).

See ``jilu.casework.actions``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from jilu.audit.chain import record
from jilu.casework.actions_activities import create_activity
from jilu.casework.actions_common import _person
from jilu.casework.actions_numbering import _rename_scope
from jilu.casework.models import Activity, Annotation, Case, RecordedStep
from jilu.evidence.hooks import keep_until_changed
from jilu.evidence.models import Recording
from jilu.org.models import Person

# --- annotation (C5.2) -----------------------------------------------------------


def _check_annotation(recording: Recording, activity: Activity, step: str) -> None:
    if step not in RecordedStep.values:
        raise ValidationError({"step": gettext("请选择记录事项")})
    # A recording belongs to an activity its officer took part in (C4.1, C5.2):
    # the web form offers only those; the API and bulk paths are held to the same.
    if recording.officer_id and not activity.officers.filter(pk=recording.officer_id).exists():
        raise ValidationError(
            gettext(
                "声像记录 %(name)s 的执法队员不在执法活动“%(activity)s”的执法人员中；"
                "请选择其参加的执法活动，或先在活动中补上该执法队员"
            )
            % {"name": recording.original_name, "activity": activity}
        )
    if activity.case_id and not activity.case.editable:
        raise ValidationError(
            gettext("案件 %(number)s 已移送或结案，不能再关联声像记录")
            % {"number": activity.case.number}
        )
    existing = getattr(recording, "annotation", None) if _annotated(recording) else None
    if existing is not None and existing.case_id and not existing.case.editable:
        raise ValidationError(
            gettext("该声像记录已列入案件 %(number)s 的清单，案件已移送或结案，不能改标")
            % {"number": existing.case.number}
        )


def _annotated(recording: Recording) -> bool:
    return Annotation.objects.filter(recording_id=recording.pk).exists()


@transaction.atomic
def annotate(
    *,
    actor: Any,
    recording: Recording,
    activity: Activity,
    step: str,
    note: str = "",
    at: datetime | None = None,
) -> Annotation:
    """Tie a recording to the activity it shows with its recorded step (C5.2);
    re-annotating replaces the link and is audited with what it was before.
    The recording itself is never changed (C6.5.3)."""
    return _annotate_many(
        actor=actor, recordings=[recording], activity=activity, step=step, note=note, at=at
    )[0]


@transaction.atomic
def annotate_run(
    *,
    actor: Any,
    recordings: Sequence[Recording],
    activity: Activity,
    step: str,
    note: str = "",
    at: datetime | None = None,
) -> list[Annotation]:
    """Bulk-link a run of segments to one activity with one step (one audit row each)."""
    if not recordings:
        raise ValidationError(gettext("请选择要关联的声像记录"))
    return _annotate_many(
        actor=actor, recordings=recordings, activity=activity, step=step, note=note, at=at
    )


def _annotate_many(
    *,
    actor: Any,
    recordings: Sequence[Recording],
    activity: Activity,
    step: str,
    note: str,
    at: datetime | None,
) -> list[Annotation]:
    at = at or timezone.now()
    activity = Activity.objects.select_related("case", "unit").get(pk=activity.pk)
    touched_cases: dict[int | None, Case | None] = {}
    touched_activities: dict[int, Activity] = {activity.pk: activity}
    results = []
    before_rows = {}
    for recording in recordings:
        _check_annotation(recording, activity, step)
        ann = (
            Annotation.objects.select_related("activity", "case")
            .filter(recording_id=recording.pk)
            .first()
        )
        if ann is not None:
            before_rows[recording.pk] = {
                "activity": ann.activity_id,
                "step": ann.step,
                "standard_name": ann.standard_name,
                "list_no": ann.list_no,
            }
            if ann.case_id != activity.case_id:
                touched_cases[ann.case_id] = ann.case
            touched_activities[ann.activity_id] = ann.activity
            ann.activity = activity
            ann.case = activity.case
            ann.step = step
            ann.note = note.strip()
            ann.annotated_by = _person(actor)
            ann.annotated_at = at
            ann.list_no = None
            ann.standard_name = f"~r{recording.pk}"
            ann.save()
        else:
            ann = Annotation.objects.create(
                recording=recording,
                activity=activity,
                case=activity.case,
                step=step,
                note=note.strip(),
                standard_name=f"~r{recording.pk}",
                annotated_by=_person(actor),
                annotated_at=at,
                first_annotated_at=at,
            )
        results.append(ann)
    renamed = _rename_scope(case=activity.case, activity=activity)
    for case_id, case in touched_cases.items():
        if case_id is not None:
            renamed += _rename_scope(case=case)
    for pk, other in touched_activities.items():
        if pk != activity.pk and other.case_id is None:
            renamed += _rename_scope(case=None, activity=other)
    for ann in results:
        ann.refresh_from_db()
        before = before_rows.get(ann.recording_id)
        record(
            "casework.reannotate" if before else "casework.annotate",
            actor=actor,
            obj=ann.recording,
            details={
                "annotation": ann.pk,
                "activity": activity.pk,
                "case": activity.case_id,
                "step": step,
                "standard_name": ann.standard_name,
                "list_no": ann.list_no,
                "before": before,
                "sha256": ann.recording.sha256,
                "bulk": len(results) > 1,
            },
        )
    if renamed:
        record(
            "casework.rename",
            actor=actor,
            obj=activity,
            details={"renamed": renamed},
        )
    # C5.6: a link to a case changes how long the recordings must be kept.
    keep_until_changed(ann.recording_id for ann in results)
    return results


@transaction.atomic
def create_activity_for_recording(
    *,
    actor: Any,
    recording: Recording,
    step: str,
    officers: Iterable[Person],
    run: Sequence[Recording] | None = None,
    **fields: Any,
) -> tuple[Activity, list[Annotation]]:
    """Write down the activity on the spot from the recording(s) and annotate them."""
    from jilu.casework.queries import recording_end

    recs = list(run or [recording])
    starts = [r.started_at for r in recs]
    ends = [e for e in (recording_end(r) for r in recs) if e is not None]
    fields.setdefault("actual_start", min(starts))
    fields.setdefault("actual_end", max(ends) if ends else None)
    if recording.officer_id:
        officers = [recording.officer, *officers]
    activity = create_activity(actor=actor, officers=officers, **fields)
    return activity, annotate_run(actor=actor, recordings=recs, activity=activity, step=step)
