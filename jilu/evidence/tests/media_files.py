"""Tiny media files made with PyAV for the media tests (and the probe bench).

Every generator writes a real file of the kind a recorder makes: H.264/AAC or
H.265/AAC MP4, PCM WAV, JPEG; plus the broken ones: an MP4 whose index atom
(``moov``) was cut off and a text file renamed ``.MP4``.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from fractions import Fraction
from pathlib import Path

CREATION_TIME = "2026-11-26T01:02:03.000000Z"


def _video_frame(av, width: int, height: int, i: int):
    frame = av.VideoFrame(width, height, "yuv420p")
    # A moving bright bar over a grey field, so frames differ and pictures are not blank.
    y = bytearray([60 + (i * 7) % 40]) * (width * height)
    bar = (i * 4) % max(width - 16, 1)
    for row in range(height):
        y[row * width + bar : row * width + bar + 16] = b"\xeb" * 16
    planes = [bytes(y), bytes([128]) * (width * height // 4), bytes([128]) * (width * height // 4)]
    for plane, data in zip(frame.planes, planes, strict=True):
        stride = plane.line_size
        rows = plane.height
        w = plane.width
        if stride == w:
            plane.update(data)
        else:
            padded = b"".join(data[r * w : (r + 1) * w] + b"\0" * (stride - w) for r in range(rows))
            plane.update(padded)
    frame.pts = i
    frame.time_base = Fraction(1, 1)
    return frame


def _tone(start: int, count: int, rate: int) -> bytes:
    return struct.pack(
        f"<{count}f",
        *(0.4 * math.sin(2 * math.pi * 440 * (start + j) / rate) for j in range(count)),
    )


def make_mp4(
    path: Path,
    *,
    codec: str = "libx264",
    seconds: float = 2.5,
    width: int = 160,
    height: int = 120,
    fps: int = 10,
    audio: bool = True,
    sample_rate: int = 8000,
    creation_time: str | None = CREATION_TIME,
) -> Path:
    """An MP4 of ``seconds`` at ``width``x``height`` and ``fps`` (``moov`` at the end,
    as recorders write it), with an AAC tone when ``audio``."""
    import av

    with av.open(str(path), "w", format="mp4") as out:
        if creation_time:
            out.metadata["creation_time"] = creation_time
        video = out.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if codec == "libx265":
            video.options = {"x265-params": "log-level=error"}
        video.codec_context.time_base = Fraction(1, fps)
        sound = out.add_stream("aac", rate=sample_rate, layout="mono") if audio else None
        for i in range(int(seconds * fps)):
            frame = _video_frame(av, width, height, i)
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if sound is not None:
            total, pts = int(seconds * sample_rate), 0
            while pts < total:
                count = min(1024, total - pts)
                frame = av.AudioFrame(format="flt", layout="mono", samples=count)
                data = _tone(pts, count, sample_rate)
                frame.planes[0].update(data + b"\0" * (frame.planes[0].buffer_size - len(data)))
                frame.sample_rate, frame.pts, frame.time_base = (
                    sample_rate,
                    pts,
                    Fraction(1, sample_rate),
                )
                for packet in sound.encode(frame):
                    out.mux(packet)
                pts += count
            for packet in sound.encode():
                out.mux(packet)
    return path


def make_wav(path: Path, *, seconds: float = 2.0, rate: int = 8000) -> Path:
    """A 16-bit mono PCM WAV: a tone that swells, so the waveform has a shape."""
    frames = bytearray()
    total = int(seconds * rate)
    for j in range(total):
        level = 0.1 + 0.8 * j / total
        frames += struct.pack("<h", int(32767 * level * math.sin(2 * math.pi * 440 * j / rate)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


def make_jpg(path: Path, *, width: int = 320, height: int = 240) -> Path:
    """A JPEG photo with an EXIF capture time (device wall clock)."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (30, 90, 160))
    for x in range(0, width, 20):
        for y in range(height):
            image.putpixel((x, y), (250, 250, 250))
    exif = Image.Exif()
    exif[306] = "2026:11:26 09:02:03"  # DateTime
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, exif=exif)
    path.write_bytes(buffer.getvalue())
    return path


def moov_offset(data: bytes) -> int:
    """Where the top-level ``moov`` box starts in an MP4's bytes."""
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        if kind == b"moov":
            return pos
        pos += size
    raise ValueError("no moov box")


def make_truncated_mp4(path: Path, *, keep_of_moov: int = 0, **kwargs) -> Path:
    """An H.264 MP4 cut off where its index begins (``keep_of_moov`` bytes of it kept):
    what a recorder leaves when its battery dies mid-recording."""
    make_mp4(path, **kwargs)
    data = path.read_bytes()
    path.write_bytes(data[: moov_offset(data) + keep_of_moov])
    return path


def make_text_as_mp4(path: Path) -> Path:
    """A text file renamed ``.MP4``: not media at all."""
    path.write_text("这不是视频文件。\nThis is not a video file.\n" * 20, encoding="utf-8")
    return path


def make_recording(
    path: Path,
    *,
    recorder,
    officer=None,
    kind: str = "video",
    started_at=None,
    docked_at=None,
):
    """A Recording of the file at ``path``, stored in the configured store, as ingest
    would leave it (end unknown; C5.1 flag computed from the start)."""
    from datetime import UTC, datetime, timedelta

    from jilu.evidence.actions import store_object
    from jilu.evidence.models import Recording

    started_at = started_at or datetime(2026, 11, 26, 1, 0, 0, tzinfo=UTC)
    docked_at = docked_at or started_at + timedelta(hours=3)
    with open(path, "rb") as fh:
        stored = store_object(actor="system:test", stream=fh)
    return Recording.objects.create(
        stored_object=stored,
        recorder=recorder,
        officer=officer,
        kind=kind,
        original_name=f"DCIM/{path.name}",
        started_at=started_at,
        size=stored.size,
        sha256=stored.sha256,
        sm3=stored.sm3,
        docked_at=docked_at,
        collected_within_24h=docked_at - started_at <= timedelta(hours=24),
    )


def sample_media(directory: Path) -> dict[str, Path]:
    """One file of every kind the tests need, named as a recorder names them."""
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "h264": make_mp4(directory / "A000001_900001_20261126090000_0001.MP4"),
        "h265": make_mp4(directory / "A000001_900001_20261126091000_0002.MP4", codec="libx265"),
        "wav": make_wav(directory / "A000001_900001_20261126092000_0003.WAV"),
        "jpg": make_jpg(directory / "A000001_900001_20261126093000_0004.JPG"),
        "truncated": make_truncated_mp4(directory / "A000001_900001_20261126094000_0005.MP4"),
        "text": make_text_as_mp4(directory / "A000001_900001_20261126095000_0006.MP4"),
    }


def make_garbled_mp4(path: Path, **kwargs) -> Path:
    """An H.264 MP4 whose index is whole but whose media data was overwritten with
    zeros (a damaged card): the structure checks pass, decoding fails."""
    make_mp4(path, **kwargs)
    data = bytearray(path.read_bytes())
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"mdat":
            data[pos + 8 : pos + size] = bytes(size - 8)
        pos += size
    path.write_bytes(bytes(data))
    return path
