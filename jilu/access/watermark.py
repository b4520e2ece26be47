"""The watermarked viewing copy of a video (C6.5.2: a copy that leaks can be traced).

The text (调用单号, 领取人, date and the per-copy ID) is drawn once with Pillow
into a small RGBA picture in a CJK font (Debian's fonts-noto-cjk); the PyAV
wheel's FFmpeg has no ``drawtext`` filter, so FFmpeg's ``overlay`` filter lays
that picture over every frame, twice, in opposite corners (cropping one away
leaves the other). Only the pixels under the two boxes change; the rest of the
picture is the original's, re-encoded (H.264, so it differs by the encoder's
rounding only).

The per-copy ID also goes into the MP4 metadata (``comment`` and the
``jilu_copy_id`` key), which :func:`read_copy_id` reads back. Audio is copied
as is when it is AAC, else encoded to AAC. Frame by frame: memory stays flat
whatever the length.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from django.conf import settings

FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FONT_INDEX = 2  # Noto Sans CJK SC in the collection (simplified Chinese glyphs)
MAX_HEIGHT = 1080
MARGIN_RATIO = 0.02
# Encoder settings of the viewing copy (bench/watermark.py measures them: on
# 2 shared cores veryfast makes a 720p copy at ~2.1x real time and 1080p at
# ~1x; settings.ACCESS_WATERMARK_PRESET = "superfast" trades ~1.5–2x larger
# copies for ~1.3–1.6x the speed).
PRESET = "veryfast"
CRF = "23"
COPY_ID_KEY = "jilu_copy_id"
REQUEST_KEY = "jilu_request"
COPY_ID = re.compile(r"\bJC-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")

Progress = Callable[[float], None]


class WatermarkError(Exception):
    """The original cannot be made into a viewing copy (no video, undecodable)."""


@dataclass(frozen=True)
class Box:
    """Where a watermark box is drawn in the picture (pixels)."""

    x: int
    y: int
    width: int
    height: int

    def contains(self, x: int, y: int, pad: int = 0) -> bool:
        return (
            self.x - pad <= x < self.x + self.width + pad
            and self.y - pad <= y < self.y + self.height + pad
        )


@dataclass(frozen=True)
class ViewingCopy:
    path: Path
    width: int
    height: int
    frames: int
    seconds: float
    boxes: tuple[Box, ...]


def _font(size: int):
    from PIL import ImageFont

    path = getattr(settings, "ACCESS_WATERMARK_FONT", FONT_PATH)
    try:
        return ImageFont.truetype(path, size, index=FONT_INDEX if path.endswith(".ttc") else 0)
    except OSError as exc:
        raise WatermarkError(
            f"找不到水印字体 {path}：请安装 fonts-noto-cjk（make 会安装）。"
        ) from exc


def label_image(lines: list[str], frame_height: int):
    """The watermark box: white text on a half-transparent dark ground (RGBA)."""
    from PIL import Image, ImageDraw

    size = max(12, frame_height // 40)
    font = _font(size)
    pad = max(4, size // 3)
    gap = max(2, size // 4)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    boxes = [probe.textbbox((0, 0), line, font=font) for line in lines]
    width = max(b[2] for b in boxes) + 2 * pad
    line_height = max(b[3] for b in boxes)
    height = len(lines) * line_height + (len(lines) - 1) * gap + 2 * pad
    width, height = width + width % 2, height + height % 2  # whole chroma samples
    image = Image.new("RGBA", (width, height), (0, 0, 0, 140))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text(
            (pad, pad + i * (line_height + gap)),
            line,
            font=font,
            fill=(255, 255, 255, 235),
            stroke_width=max(1, size // 16),
            stroke_fill=(0, 0, 0, 235),
        )
    return image


def place(width: int, height: int, label_size: tuple[int, int]) -> tuple[Box, ...]:
    """The two boxes: top left and bottom right, inside a small margin."""
    lw, lh = min(label_size[0], width), min(label_size[1], height)
    mx = max(2, round(width * MARGIN_RATIO)) & ~1
    my = max(2, round(height * MARGIN_RATIO)) & ~1
    right = max(0, (width - lw - mx) & ~1)
    bottom = max(0, (height - lh - my) & ~1)
    return (Box(min(mx, right), min(my, bottom), lw, lh), Box(right, bottom, lw, lh))


def _rgba_frame(image):
    import av

    frame = av.VideoFrame(image.width, image.height, "rgba")
    plane = frame.planes[0]
    row = image.width * 4
    data = image.tobytes()
    if plane.line_size == row:
        plane.update(data)
    else:
        pad = b"\0" * (plane.line_size - row)
        plane.update(b"".join(data[r * row : (r + 1) * row] + pad for r in range(image.height)))
    return frame


def _output_size(width: int, height: int) -> tuple[int, int]:
    if height > MAX_HEIGHT:
        width, height = round(width * MAX_HEIGHT / height), MAX_HEIGHT
    return width - width % 2, height - height % 2


class _Overlay:
    """A filter graph: the frame, with the label laid over it at each box."""

    def __init__(self, stream, image, boxes: tuple[Box, ...], size: tuple[int, int]) -> None:
        import av

        self.graph = graph = av.filter.Graph()
        self.source = graph.add_buffer(
            width=size[0], height=size[1], format="yuv420p", time_base=stream.time_base
        )
        previous = self.source
        labels = []
        for box in boxes:
            label = graph.add_buffer(
                width=image.width, height=image.height, format="rgba", time_base=stream.time_base
            )
            over = graph.add("overlay", f"x={box.x}:y={box.y}:format=yuv420:eof_action=repeat")
            previous.link_to(over, 0, 0)
            label.link_to(over, 0, 1)
            previous = over
            labels.append(label)
        self.sink = graph.add("buffersink")
        previous.link_to(self.sink)
        graph.configure()
        for label in labels:  # one frame each, repeated over the whole video
            frame = _rgba_frame(image)
            frame.pts = 0
            frame.time_base = stream.time_base
            label.push(frame)
            label.push(None)

    def push(self, frame):
        import av

        self.source.push(frame)
        out = []
        while True:
            try:
                out.append(self.sink.pull())
            except (av.BlockingIOError, av.EOFError):
                return out


def make_viewing_copy(
    src: Path,
    dest: Path,
    *,
    lines: list[str],
    copy_id: str,
    request_number: str,
    preset: str | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
) -> ViewingCopy:
    """Write the watermarked H.264 MP4 of ``src`` to ``dest`` (see the module
    docstring); ``progress(seconds_done)`` is called as frames are encoded."""
    import av

    try:
        source = av.open(str(src))
    except av.FFmpegError as exc:
        raise WatermarkError(f"无法读取原始文件：{exc}") from exc
    with source:
        in_video = next(iter(source.streams.video), None)
        if in_video is None:
            raise WatermarkError("原始文件没有视频，不制作查看副本")
        in_audio = next(iter(source.streams.audio), None)
        in_video.thread_type = "AUTO"
        width, height = _output_size(in_video.codec_context.width, in_video.codec_context.height)
        image = label_image(lines, height)
        boxes = place(width, height, image.size)
        options = {"movflags": "+faststart+use_metadata_tags"}
        with av.open(str(dest), "w", format="mp4", options=options) as out:
            created = source.metadata.get("creation_time")
            if created:
                out.metadata["creation_time"] = created
            out.metadata["comment"] = f"Jilu 查看副本 {copy_id}（调用单 {request_number}）"
            out.metadata[COPY_ID_KEY] = copy_id
            out.metadata[REQUEST_KEY] = request_number
            rate = in_video.average_rate or in_video.guessed_rate or Fraction(25)
            out_video = out.add_stream("libx264", rate=rate)
            out_video.width, out_video.height, out_video.pix_fmt = width, height, "yuv420p"
            out_video.time_base = in_video.time_base
            preset = preset or getattr(settings, "ACCESS_WATERMARK_PRESET", PRESET)
            out_video.options = {"preset": preset, "crf": CRF}
            if threads:
                out_video.codec_context.thread_count = threads
            out_audio = resampler = None
            if in_audio is not None and in_audio.codec_context.name == "aac":
                out_audio = out.add_stream_from_template(in_audio)
            elif in_audio is not None:
                sample_rate = in_audio.codec_context.sample_rate or 48000
                layout = "stereo" if in_audio.codec_context.channels > 1 else "mono"
                out_audio = out.add_stream("aac", rate=sample_rate, layout=layout)
                resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
            overlay = _Overlay(in_video, image, boxes, (width, height))
            frames = 0
            last = 0.0

            def encode(frame) -> None:
                nonlocal frames, last
                for done in overlay.push(frame):
                    done.pict_type = av.video.frame.PictureType.NONE
                    for packet in out_video.encode(done):
                        out.mux(packet)
                    frames += 1
                    if done.time is not None:
                        last = max(last, done.time)
                        if progress is not None and frames % 50 == 0:
                            progress(last)

            streams = [s for s in (in_video, in_audio) if s is not None]
            try:
                for packet in source.demux(*streams):
                    if packet.stream is in_video:
                        for frame in packet.decode():
                            if (frame.width, frame.height, frame.format.name) != (
                                width,
                                height,
                                "yuv420p",
                            ):
                                frame = frame.reformat(width=width, height=height, format="yuv420p")
                            encode(frame)
                    elif resampler is None:
                        if packet.dts is not None:
                            packet.stream = out_audio
                            out.mux(packet)
                    else:
                        for decoded in packet.decode():
                            for resampled in resampler.resample(decoded):
                                for p in out_audio.encode(resampled):
                                    out.mux(p)
            except av.FFmpegError as exc:
                raise WatermarkError(f"转码失败：{exc}") from exc
            encode(None)
            for packet in out_video.encode():
                out.mux(packet)
            if resampler is not None:
                for resampled in resampler.resample(None):
                    for p in out_audio.encode(resampled):
                        out.mux(p)
                for p in out_audio.encode():
                    out.mux(p)
    if frames == 0:
        raise WatermarkError("原始文件没有可解码的视频帧")
    return ViewingCopy(dest, width, height, frames, last, boxes)


def read_copy_id(path: Path) -> str:
    """The per-copy ID in a file's metadata ("" when none): container metadata
    only, never the frames; a file that is not media gives ""."""
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            tags = dict(container.metadata)
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError):
        return ""
    found = tags.get(COPY_ID_KEY, "")
    if COPY_ID.fullmatch(found or ""):
        return found
    match = COPY_ID.search(tags.get("comment", "") or "")
    return match.group(0) if match else ""
