"""The watermarked viewing copy (C6.5.2): a frame differs from the original's
only where the watermark is drawn, and the copy's ID is in its metadata."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from jilu.access.tests.copies_data import FPS, HEIGHT, SECONDS, WIDTH, video_bytes
from jilu.access.watermark import WatermarkError, make_viewing_copy, read_copy_id

COPY_ID = "JC-7KQ2-M9XD-4HTP"
LINES = ["调用单 DY2026-000123 · 仅供查看", "领取人 王五 · 2026-11-26", f"副本 {COPY_ID}"]
# Pixels this close to a box may differ too: H.264 codes 16×16 macroblocks and
# its deblocking filter and 4:2:0 chroma reach a few pixels past an edge.
EDGE = 16


def luma(frame) -> tuple[bytes, int]:
    """The frame's Y plane (brightness) as bytes, and its row stride."""
    plane = frame.reformat(format="gray").planes[0]
    return bytes(plane), plane.line_size


def frame_at(path: Path, index: int):
    with av.open(str(path)) as container:
        for n, frame in enumerate(container.decode(video=0)):
            if n == index:
                return frame
    raise AssertionError(f"{path} has no frame {index}")


@pytest.fixture
def copy(tmp_path, settings):
    src = tmp_path / "original.mp4"
    src.write_bytes(video_bytes(tmp_path))
    dest = tmp_path / "viewing.mp4"
    made = make_viewing_copy(
        src, dest, lines=LINES, copy_id=COPY_ID, request_number="DY2026-000123"
    )
    return src, dest, made


def test_c6_5_2_frame_differs_only_under_the_watermark(copy):
    src, dest, made = copy
    assert (made.width, made.height) == (WIDTH, HEIGHT)
    assert made.frames == int(SECONDS * FPS)  # every frame kept, none added
    for index in (0, made.frames // 2, made.frames - 1):
        original, stride_o = luma(frame_at(src, index))
        viewing, stride_v = luma(frame_at(dest, index))
        inside, outside = [], []
        for y in range(HEIGHT):
            for x in range(WIDTH):
                d = abs(original[y * stride_o + x] - viewing[y * stride_v + x])
                if any(b.contains(x, y) for b in made.boxes):
                    inside.append(d)
                elif not any(b.contains(x, y, pad=EDGE) for b in made.boxes):
                    outside.append(d)
        # Under the boxes: dark ground and white text, far from the grey picture.
        assert sum(inside) / len(inside) > 20, index
        # Elsewhere: the original re-encoded (x264, CRF 23, both from the same
        # source picture): rounding of at most a few levels of 255 on average,
        # and no pixel far off.
        outside.sort()
        assert sum(outside) / len(outside) < 1.5, index
        assert outside[int(len(outside) * 0.999)] <= 8, index
        assert len(outside) > WIDTH * HEIGHT // 2


def test_c6_5_2_copy_id_in_the_metadata(copy):
    src, dest, _made = copy
    assert read_copy_id(dest) == COPY_ID
    assert read_copy_id(src) == ""
    with av.open(str(dest)) as container:
        assert container.metadata["jilu_request"] == "DY2026-000123"
        assert COPY_ID in container.metadata["comment"]
        assert [s.type for s in container.streams] == ["video", "audio"]


def test_a_file_without_video_is_refused(tmp_path):
    src = tmp_path / "not-media.mp4"
    src.write_bytes(b"not a video at all" * 100)
    with pytest.raises(WatermarkError):
        make_viewing_copy(
            src, tmp_path / "out.mp4", lines=LINES, copy_id=COPY_ID, request_number="x"
        )
    assert read_copy_id(src) == ""
