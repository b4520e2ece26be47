"""A case with annotated recordings whose bytes the tests choose, for the package tests.

Recorders, the party, the case, activities and annotations go through the
actions of ``jilu.devices`` and ``jilu.casework``; recordings are made through
the ORM over objects put in the evidence store with ``store_object``. A couple
of real MP4 clips come from PyAV so the disc page has something to play.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from functools import lru_cache

from django.utils import timezone

from jilu.casework import actions
from jilu.evidence.actions import store_object
from jilu.evidence.models import Recording

SYSTEM = "system:test"
T0 = datetime(2026, 11, 26, 1, 0, 0, tzinfo=UTC)  # 09:00 in Xiamen
CASE_NUMBER = "思城执罚〔2026〕12号"
PARTY = "厦门市思明区中山路某某餐饮管理有限公司第一分公司"


@lru_cache(maxsize=4)
def mp4_clip(seconds: int = 1, colour: int = 0) -> bytes:
    """A small real H.264 MP4 (64×48, 10 fps) that Chromium plays."""
    import av

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 10)
        for i in range(seconds * 10):
            frame = av.VideoFrame(64, 48, "yuv420p")
            shade = (colour * 60 + i * 5) % 256
            for plane, value in zip(frame.planes, (shade, 128, 128 + colour), strict=True):
                plane.update(bytes([value % 256]) * plane.buffer_size)
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def random_bytes(size: int) -> bytes:
    return os.urandom(size)


def make_recorders(tree, people) -> dict:
    from jilu.devices.actions import issue_recorder, register_recorder

    out = {}
    for serial, holder in (("A000001", "officer"), ("A000002", "officer_b")):
        rec = register_recorder(actor=SYSTEM, serial=serial, unit=tree["squad1"])
        issue_recorder(
            actor=SYSTEM, recorder=rec, person=people[holder], at=T0 - timedelta(days=30)
        )
        out[holder] = rec
    return out


def _recording(recorder, officer, *, payload: bytes, start: datetime, seq: int, ext: str):
    stored = store_object(actor=SYSTEM, stream=io.BytesIO(payload))
    local = timezone.localtime(start)
    return Recording.objects.create(
        stored_object=stored,
        recorder=recorder,
        officer=officer,
        kind="video" if ext in ("MP4", "MOV") else "audio" if ext == "WAV" else "photo",
        original_name=f"DCIM/{recorder.serial}_{officer.user_no}_{local:%Y%m%d%H%M%S}_{seq:04d}.{ext}",
        started_at=start,
        ended_at=start + timedelta(minutes=5),
        size=stored.size,
        sha256=stored.sha256,
        sm3=stored.sm3,
        docked_at=start + timedelta(hours=3),
    )


def build_case(tree, people, payloads: list[bytes], *, number: str = CASE_NUMBER, ext="MP4"):
    """A penalty case whose record list holds one recording per payload, in order."""
    recorders = make_recorders(tree, people)
    party = actions.create_party(actor=SYSTEM, unit=tree["squad1"], kind="organisation", name=PARTY)
    case = actions.create_case(
        actor=SYSTEM,
        number=number,
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
        party=party,
        matter_text="未经批准占道经营",
        title="厦门某某餐饮有限公司占道经营案",
    )
    activity = actions.create_activity(
        actor=SYSTEM,
        officers=[people["officer"], people["officer_b"]],
        kind="S1",
        party=party,
        unit=tree["squad1"],
        category="penalty",
        matter_text="未经批准占道经营",
        place_name="某某餐厅",
        address="思明区中山路1号",
        planned_start=T0,
        planned_end=T0 + timedelta(hours=4),
        case=case,
    )
    recordings = []
    for n, payload in enumerate(payloads, 1):
        holder = "officer" if n % 2 else "officer_b"
        rec = _recording(
            recorders[holder],
            people[holder],
            payload=payload,
            start=T0 + timedelta(minutes=5 * n),
            seq=n,
            ext=ext,
        )
        actions.annotate(actor=people[holder], recording=rec, activity=activity, step="site_survey")
        recordings.append(rec)
    case.refresh_from_db()
    return case, recordings
