"""Test data for copy packages: a real H.264/AAC recording (made with PyAV) in
squad 1, annotated so it has a standard name (C5.3), and an approved request."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from jilu.access import actions
from jilu.evidence.tests.media_files import make_mp4
from jilu.evidence.tests.recordings import make_recording

VIDEO_START = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 10, 3.0


def video_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "source.mp4"
    make_mp4(path, seconds=SECONDS, width=WIDTH, height=HEIGHT, fps=FPS, sample_rate=16000)
    return path.read_bytes()


def video_recording(people, recorder, tmp_path: Path):
    """The recording as media processing leaves it: probed, with a picture."""
    from django.utils import timezone

    from jilu.evidence.models import MediaInfo

    rec = make_recording(
        officer=people["officer"],
        recorder=recorder,
        start=VIDEO_START,
        seconds=SECONDS,
        data=video_bytes(tmp_path),
        name="A000001_900001_20261120110000_0007.MP4",
        integrity="complete",
    )
    MediaInfo.objects.filter(recording=rec).update(
        has_video=True, video_codec="h264", width=WIDTH, height=HEIGHT, probed_at=timezone.now()
    )
    return rec


def not_media(recording) -> None:
    """Probed and found not to be media (a file renamed .MP4)."""
    from django.utils import timezone

    from jilu.evidence.models import MediaInfo

    MediaInfo.objects.create(recording=recording, integrity="unparseable", probed_at=timezone.now())


def annotate(people, recording, make_activity) -> str:
    """Tie ``recording`` to an activity; returns its standard file name (C5.3)."""
    from jilu.casework.actions_annotation import annotate as annotate_action

    activity = make_activity(start=VIDEO_START)
    annotation = annotate_action(
        actor=people["officer"], recording=recording, activity=activity, step="site_check"
    )
    return annotation.file_name


def approved(people, recordings, *, use: str = "viewing"):
    req = actions.create_request(
        actor=people["officer"],
        purpose="市民投诉核查，仅供查看",
        recording_ids=[r.pk for r in recordings],
        use=use,
    )
    return actions.approve(actor=people["squad_leader"], request=req, note="同意")


def extract(zip_path: Path, into: Path) -> Path:
    """Unzip the package with the standard library's reader (as any unzip tool)."""
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.testzip() is None
        zf.extractall(into)
        (top,) = {n.split("/", 1)[0] for n in zf.namelist()}
    return into / top


def zip_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.namelist()
