"""Files derived from a recording: pictures and the browser playback copy (PyAV, Pillow).

Derived files are never evidence: they are made from the original, stored as
their own objects and labelled as derived; the original stays as it was
(C6.5.3). Every function reads the original from ``src`` and writes one new
file under ``out_dir``, working frame by frame so memory stays flat whatever
the recording's length.

Pictures are encoded deterministically (same original, same bytes), so a
re-run of processing finds them already in the content-addressed store.
"""

from __future__ import annotations

import io
from array import array
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

POSTER_WIDTH = 640
STRIP_FRAMES = 10
STRIP_WIDTH = 160
WAVEFORM_SIZE = (800, 120)
PREVIEW_MAX = 1280
PLAYBACK_MAX_HEIGHT = 1080
JPEG_QUALITY = 80
MAX_FORWARD = 300  # frames decoded past a key frame to reach the wanted time


class DeriveError(Exception):
    """The original's content does not allow this derivative (e.g. no decodable frame)."""


@dataclass(frozen=True)
class Derived:
    path: Path
    content_type: str
    width: int | None = None
    height: int | None = None


def _scaled(width: int, height: int, max_width: int) -> tuple[int, int]:
    if width <= max_width:
        return width, height
    return max_width, max(1, round(height * max_width / width))


def _save_jpeg(image, path: Path) -> Derived:
    image.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return Derived(path, "image/jpeg", image.width, image.height)


def _frame_at(container, stream, seconds: float):
    """The video frame shown at ``seconds``: seek to the key frame before it, then
    decode forward (at most ``MAX_FORWARD`` frames, one GOP of a recorder's file)."""
    import av

    if seconds > 0 and stream.time_base:
        try:
            container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
        except av.FFmpegError:
            container.seek(0, stream=stream)
    found = None
    try:
        for n, frame in enumerate(container.decode(stream)):
            found = frame
            if frame.time is None or frame.time >= seconds - 1e-3 or n >= MAX_FORWARD:
                break
    except av.FFmpegError as exc:
        if found is None:
            raise DeriveError(f"无法解码视频帧：{exc}") from exc
    return found


def poster(src: Path, out_dir: Path, *, duration: float | None = None) -> Derived:
    """A JPEG of one frame, a tenth of the way in (past a black first frame)."""
    import av

    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        frame = _frame_at(container, stream, min((duration or 0) / 10, 5.0))
        if frame is None:
            raise DeriveError("没有可解码的视频帧")
        image = frame.to_image()
    image = image.resize(_scaled(image.width, image.height, POSTER_WIDTH))
    return _save_jpeg(image, out_dir / "poster.jpg")


def strip(
    src: Path, out_dir: Path, *, duration: float | None, frames: int = STRIP_FRAMES
) -> Derived:
    """One JPEG sprite of ``frames`` thumbnails side by side, evenly spread over the recording."""
    import av
    from PIL import Image

    sprite = None
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        total = duration or 0
        for i in range(frames):
            frame = _frame_at(container, stream, total * (i + 0.5) / frames if total else 0)
            if frame is None:
                break
            image = frame.to_image()
            w, h = _scaled(image.width, image.height, STRIP_WIDTH)
            if sprite is None:
                sprite = Image.new("RGB", (w * frames, h))
            sprite.paste(image.resize((w, h)), (i * w, 0))
    if sprite is None:
        raise DeriveError("没有可解码的视频帧")
    return _save_jpeg(sprite, out_dir / "strip.jpg")


def waveform(src: Path, out_dir: Path, *, duration: float | None) -> Derived:
    """A PNG of the audio's peak levels over time (audio-only recordings).

    Audio is decoded frame by frame, resampled to 8 kHz mono, and each column
    of the picture keeps only its peak: memory is the picture, not the audio.
    """
    import av
    from PIL import Image, ImageDraw

    width, height = WAVEFORM_SIZE
    peaks = [0] * width
    rate = 8000
    total = max(duration or 0.0, 0.001)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    position = 0  # samples at ``rate`` so far
    with av.open(str(src)) as container:
        stream = container.streams.audio[0]
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    samples = array("h", bytes(out.planes[0])[: out.samples * 2])
                    _fold(samples, position, rate, total, peaks)
                    position += out.samples
        except av.FFmpegError as exc:
            if position == 0:
                raise DeriveError(f"无法解码音频：{exc}") from exc
    image = Image.new("RGB", (width, height), (248, 249, 251))
    draw = ImageDraw.Draw(image)
    middle = height / 2
    draw.line([(0, middle), (width, middle)], fill=(200, 205, 212))
    for x, peak in enumerate(peaks):
        half = max(1.0, peak / 32768 * (middle - 2))
        draw.line([(x, middle - half), (x, middle + half)], fill=(37, 99, 235))
    path = out_dir / "waveform.png"
    image.save(path, "PNG", optimize=True)
    return Derived(path, "image/png", width, height)


def _fold(samples: array, position: int, rate: int, total: float, peaks: list[int]) -> None:
    width = len(peaks)
    per_column = max(1, int(total * rate / width))
    start = 0
    while start < len(samples):
        column = min(width - 1, (position + start) // per_column)
        end = min(len(samples), (column + 1) * per_column - position)
        if end <= start:
            end = len(samples)
        chunk = samples[start:end]
        peak = max(max(chunk), -min(chunk))
        if peak > peaks[column]:
            peaks[column] = peak
        start = end


def preview(src: Path, out_dir: Path) -> Derived:
    """A downscaled JPEG of a photo, turned upright by its EXIF orientation."""
    from PIL import Image, ImageOps

    try:
        with Image.open(src) as original:
            image = ImageOps.exif_transpose(original).convert("RGB")
    except (OSError, ValueError) as exc:
        raise DeriveError(f"无法读取照片：{exc}") from exc
    image.thumbnail((PREVIEW_MAX, PREVIEW_MAX))
    return _save_jpeg(image, out_dir / "preview.jpg")


def playback(src: Path, out_dir: Path) -> Derived:
    """An H.264/AAC MP4 (``+faststart``) that Chromium plays, for originals it cannot
    (H.265 and others). Encoded frame by frame: memory stays flat at any length."""
    import av

    path = out_dir / "playback.mp4"
    with av.open(str(src)) as source:
        in_video = next(iter(source.streams.video), None)
        in_audio = next(iter(source.streams.audio), None)
        if in_video is None and in_audio is None:
            raise DeriveError("没有可转码的音视频流")
        with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            out_video = out_audio = resampler = None
            width = height = None
            if in_video is not None:
                in_video.thread_type = "AUTO"
                rate = in_video.average_rate or in_video.guessed_rate or Fraction(25)
                out_video = out.add_stream("libx264", rate=rate)
                width, height = in_video.codec_context.width, in_video.codec_context.height
                if height > PLAYBACK_MAX_HEIGHT:
                    width, height = round(width * PLAYBACK_MAX_HEIGHT / height), PLAYBACK_MAX_HEIGHT
                width, height = width - width % 2, height - height % 2
                out_video.width, out_video.height, out_video.pix_fmt = width, height, "yuv420p"
                out_video.options = {"preset": "veryfast", "crf": "23"}
            if in_audio is not None:
                sample_rate = in_audio.codec_context.sample_rate or 48000
                out_audio = out.add_stream("aac", rate=sample_rate)
                layout = "stereo" if in_audio.codec_context.channels > 1 else "mono"
                out_audio.layout = layout
                resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
            streams = [s for s in (in_video, in_audio) if s is not None]
            try:
                for packet in source.demux(*streams):
                    for frame in packet.decode():
                        if packet.stream is in_video:
                            frame = frame.reformat(width=width, height=height, format="yuv420p")
                            frame.pict_type = av.video.frame.PictureType.NONE
                            for p in out_video.encode(frame):
                                out.mux(p)
                        else:
                            for resampled in resampler.resample(frame):
                                for p in out_audio.encode(resampled):
                                    out.mux(p)
            except av.FFmpegError as exc:
                raise DeriveError(f"转码失败：{exc}") from exc
            if out_video is not None:
                for p in out_video.encode():
                    out.mux(p)
            if out_audio is not None:
                for resampled in resampler.resample(None):
                    for p in out_audio.encode(resampled):
                        out.mux(p)
                for p in out_audio.encode():
                    out.mux(p)
    return Derived(path, "video/mp4", width, height)


def to_bytes_io(derived: Derived) -> io.BufferedReader:
    """The derived file opened for storing."""
    return open(derived.path, "rb")  # noqa: SIM115 - the caller closes it
