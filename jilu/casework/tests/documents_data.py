"""A small case with its recordings, for the record-list (A2) and script (A1) tests.

Recordings are made through the ORM with file names of the reference volume
layout (``<serial>_<user_no>_<YYYYMMDDhhmmss>_<NNNN>.MP4``), so the file
numbers (NNNN) are under the test's control; activities, cases and
annotations through ``jilu.casework.actions``.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from jilu.casework import actions
from jilu.evidence.actions import store_object
from jilu.evidence.media_models import MediaInfo
from jilu.evidence.models import Recording

SYSTEM = "system:test"
T0 = datetime(2026, 11, 26, 1, 0, 0, tzinfo=UTC)  # 09:00 in Xiamen
CASE_NUMBER = "思城执罚〔2026〕12号"


def recording(
    recorder,
    officer,
    *,
    start: datetime,
    minutes: float,
    seq: int,
    integrity: str | None = "complete",
    reason: str = "",
    kind: str = "video",
) -> Recording:
    stored = store_object(
        actor=SYSTEM, stream=io.BytesIO(f"{recorder.serial}-{seq}-{start.isoformat()}".encode())
    )
    local = timezone.localtime(start)
    ext = {"audio": "WAV", "photo": "JPG"}.get(kind, "MP4")  # the reference layout's extensions
    rec = Recording.objects.create(
        stored_object=stored,
        recorder=recorder,
        officer=officer,
        kind=kind,
        original_name=(
            f"DCIM/{recorder.serial}_{officer.user_no}_{local:%Y%m%d%H%M%S}_{seq:04d}.{ext}"
        ),
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        size=stored.size,
        sha256=stored.sha256,
        sm3=stored.sm3,
        docked_at=start + timedelta(hours=3),
    )
    if integrity is not None:
        MediaInfo.objects.create(
            recording=rec,
            integrity=integrity,
            integrity_reason=reason,
            duration_seconds=minutes * 60,
            probed_at=start + timedelta(hours=4),
        )
    return rec


def activity(people, tree, party, *, kind: str, start: datetime, case=None, **fields):
    fields.setdefault("unit", tree["squad1"])
    fields.setdefault("category", "penalty")
    fields.setdefault("matter_text", "未经批准占道经营")
    fields.setdefault("place_name", "某某餐厅")
    fields.setdefault("address", "思明区中山路1号")
    return actions.create_activity(
        actor=SYSTEM,
        officers=[people["officer"], people["officer_b"]],
        kind=kind,
        party=party,
        planned_start=start,
        planned_end=start + timedelta(hours=1),
        case=case,
        **fields,
    )


def build_case(people, tree, recorders, party) -> dict:
    """Three activities of one penalty case, five recordings, all complete.

    list order: 1–3 site survey (A000001 #1, #2 contiguous; A000002 #1),
    4 inquiry (A000001 #3), 5 service (A000002 #2).
    """
    case = actions.create_case(
        actor=SYSTEM,
        number=CASE_NUMBER,
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
        party=party,
        matter_text="未经批准占道经营",
        title="厦门某某餐饮有限公司占道经营案",
    )
    a1 = activity(people, tree, party, kind="S1", start=T0, case=case)
    a2 = activity(people, tree, party, kind="S3", start=T0 + timedelta(days=1), case=case)
    a3 = activity(
        people,
        tree,
        party,
        kind="S4",
        start=T0 + timedelta(days=2),
        case=case,
        address="思明区中山路1号之2",
        place_name="",
    )
    a, b = recorders["officer"], recorders["officer_b"]
    o, ob = people["officer"], people["officer_b"]
    r1 = recording(a, o, start=T0, minutes=10, seq=1)
    r2 = recording(a, o, start=T0 + timedelta(minutes=10), minutes=10, seq=2)
    r3 = recording(b, ob, start=T0, minutes=20, seq=1)
    r4 = recording(a, o, start=T0 + timedelta(days=1), minutes=30, seq=3)
    r5 = recording(b, ob, start=T0 + timedelta(days=2), minutes=5, seq=2)
    actions.annotate_run(actor=o, recordings=[r1, r2], activity=a1, step="site_survey")
    actions.annotate(actor=ob, recording=r3, activity=a1, step="site_survey")
    actions.annotate(actor=o, recording=r4, activity=a2, step="inquiry")
    actions.annotate(actor=ob, recording=r5, activity=a3, step="service")
    case.refresh_from_db()
    return {
        "case": case,
        "activities": [a1, a2, a3],
        "recordings": [r1, r2, r3, r4, r5],
    }
