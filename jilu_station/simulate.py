"""A recorder simulator: writes a volume in the reference layout (DESIGN.md contract 5).

Video segments are real H.264/AAC MP4 files made with PyAV at a small
resolution and a low frame rate, so an hour of footage takes seconds; each
frame carries the device's on-screen timestamp (C3.2). Segments of one
continuous recording follow each other with no gap; ``--gap`` leaves time
uncovered (what a "could not record" entry or a C2.1 finding is about).
``--bitrate`` makes the segments as large as real footage (intra-coded noise
frames, encoded once and repeated) so a multi-GiB volume is written quickly.
"""

from __future__ import annotations

import json
import math
import os
import random
import struct
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from jilu_station.volume import CHINA, INFO_NAME

AUDIO_RATE = 8000
AUDIO_FRAME = 1024  # samples per AAC frame; 500 Hz fits it exactly (64 cycles)
NOISE_BYTES_PER_PIXEL = 2.56  # x264 at qp 1 on uniform noise (measured)
STORAGE_TOTAL = 64 * 1024**3


@dataclass
class Plan:
    serial: str
    user_no: str
    start: datetime  # true (station) local time recording began, Beijing time
    hours: float = 1.0
    user_name: str = ""
    unit_no: str = ""
    unit_name: str = ""
    segment_minutes: float = 10.0
    clock_offset: float = 0.0  # device clock minus true time, seconds
    gaps: list[tuple[datetime, float]] = field(default_factory=list)  # (true start, minutes)
    battery: int = 72
    photos: int = 0
    audio: int = 0
    audio_seconds: float = 30.0
    bitrate_kbps: int | None = None
    fps: int = 1
    flat: bool = False


@dataclass(frozen=True)
class Made:
    rel_path: str
    kind: str
    true_start: datetime
    device_start: datetime
    seconds: float
    size: int

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.rel_path,
            "kind": self.kind,
            "true_start": self.true_start.isoformat(),
            "device_start": self.device_start.isoformat(),
            "seconds": self.seconds,
            "size": self.size,
        }


def parse_gap(text: str, day: datetime) -> tuple[datetime, float]:
    """``09:20+5`` (on the start day) or ``2026-11-26T09:20:00+5`` → (start, minutes)."""
    when, sep, minutes = text.rpartition("+")
    if not sep or not minutes.replace(".", "", 1).isdigit():
        raise ValueError(
            f"gap must look like HH:MM+MINUTES or YYYY-MM-DDTHH:MM:SS+MINUTES: {text!r}"
        )
    try:
        if "T" in when or " " in when:
            start = datetime.fromisoformat(when)
        else:
            parts = [int(p) for p in when.split(":")]
            start = day.replace(
                hour=parts[0], minute=parts[1], second=parts[2] if len(parts) > 2 else 0
            )
    except (ValueError, IndexError):
        raise ValueError(f"gap start is not a time: {when!r}") from None
    start = start.replace(tzinfo=CHINA) if start.tzinfo is None else start.astimezone(CHINA)
    return start, float(minutes)


def stretches(plan: Plan) -> list[tuple[datetime, datetime]]:
    """The covered (true-time) intervals: the window minus the gaps."""
    start = plan.start
    end = start + timedelta(hours=plan.hours)
    pieces = [(start, end)]
    for gap_start, minutes in sorted(plan.gaps):
        gap_end = gap_start + timedelta(minutes=minutes)
        out = []
        for a, b in pieces:
            if gap_end <= a or gap_start >= b:
                out.append((a, b))
                continue
            if a < gap_start:
                out.append((a, gap_start))
            if gap_end < b:
                out.append((gap_end, b))
        pieces = out
    return [(a, b) for a, b in pieces if (b - a).total_seconds() >= 1]


def segments(plan: Plan) -> list[tuple[datetime, float]]:
    """(true start, seconds) of each video segment, in order."""
    out = []
    step = plan.segment_minutes * 60
    for a, b in stretches(plan):
        t = a
        while (b - t).total_seconds() >= 1:
            seconds = min(step, round((b - t).total_seconds()))
            out.append((t, float(seconds)))
            t += timedelta(seconds=seconds)
    return out


class Volume:
    def __init__(self, root: Path, plan: Plan) -> None:
        self.root = root
        self.plan = plan
        self.seq = 0
        self.made: list[Made] = []
        self.rng = random.Random(f"{plan.serial}/{plan.start.isoformat()}")

    def device(self, true_time: datetime) -> datetime:
        return (true_time + timedelta(seconds=self.plan.clock_offset)).replace(microsecond=0)

    def path_for(self, device_start: datetime, ext: str) -> tuple[Path, str]:
        self.seq = self.seq % 9999 + 1
        p = self.plan
        name = f"{p.serial}_{p.user_no}_{device_start:%Y%m%d%H%M%S}_{self.seq:04d}.{ext}"
        rel = f"DCIM/{name}" if p.flat else f"DCIM/{device_start:%Y%m%d}/{name}"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path, rel

    def finish(self, path: Path, rel: str, kind: str, true_start: datetime, seconds: float) -> None:
        device_start = self.device(true_start)
        end = device_start + timedelta(seconds=seconds)
        stamp = end.timestamp()  # the recorder writes its own wall clock as mtime
        os.utime(path, (stamp, stamp))
        self.made.append(Made(rel, kind, true_start, device_start, seconds, path.stat().st_size))


def _tone_frame() -> bytes:
    return struct.pack(
        f"<{AUDIO_FRAME}f",
        *(0.2 * math.sin(2 * math.pi * 500 * i / AUDIO_RATE) for i in range(AUDIO_FRAME)),
    )


def _add_audio(container: Any, stream: Any, seconds: float) -> None:
    """A steady 500 Hz tone: a few frames are encoded, then their packets repeat.

    AAC frames of a stationary tone are interchangeable once the encoder has
    settled, so the stream stays valid and decodable while an hour costs
    milliseconds instead of seconds of encoding.
    """
    import av

    tone = _tone_frame()
    total = math.ceil(seconds * AUDIO_RATE / AUDIO_FRAME)
    packets: list[Any] = []
    for i in range(min(total, 12)):
        frame = av.AudioFrame(format="fltp", layout="mono", samples=AUDIO_FRAME)
        frame.planes[0].update(tone)
        frame.sample_rate = AUDIO_RATE
        frame.pts = i * AUDIO_FRAME
        packets += stream.encode(frame)
    packets += stream.encode()
    steady = [bytes(p) for p in packets[4:8]] or [bytes(p) for p in packets[-1:]]
    tb = packets[0].time_base if packets else Fraction(1, AUDIO_RATE)
    tick = int(Fraction(AUDIO_FRAME, AUDIO_RATE) / tb)
    for packet in packets[:-1] if total > len(packets) else packets:
        container.mux(packet)
    start = len(packets) - 1 if total > len(packets) else total
    for i in range(start, total):
        packet = av.Packet(steady[i % len(steady)])
        packet.time_base = tb
        packet.pts = packet.dts = i * tick
        packet.duration = tick
        packet.stream = stream
        container.mux(packet)


def _noise_size(plan: Plan) -> tuple[int, int, int]:
    """(width, height, fps) so that intra-coded noise frames give about ``--bitrate``."""
    assert plan.bitrate_kbps
    per_second = plan.bitrate_kbps * 1000 / 8
    fps = max(1, plan.fps)
    while True:
        pixels = per_second / fps / NOISE_BYTES_PER_PIXEL
        height = max(112, int(math.sqrt(pixels * 3 / 4)) // 16 * 16)
        width = max(160, int(height * 4 / 3) // 16 * 16)
        if width <= 1920:
            return width, height, fps
        fps += 1


def write_video(vol: Volume, true_start: datetime, seconds: float) -> None:
    import av
    from PIL import Image, ImageDraw

    plan = vol.plan
    device_start = vol.device(true_start)
    path, rel = vol.path_for(device_start, "MP4")
    container = av.open(str(path), "w", format="mp4")
    container.metadata["comment"] = f"{plan.serial} {plan.user_no} {device_start.isoformat()}"
    container.metadata["creation_time"] = device_start.astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000000Z"
    )
    noise = plan.bitrate_kbps is not None
    width, height, fps = _noise_size(plan) if noise else (160, 120, max(1, plan.fps))
    video = container.add_stream("libx264", rate=fps)
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    options = {"preset": "ultrafast", "bframes": "0"}
    options.update({"qp": "1", "keyint": "1"} if noise else {"crf": "30", "keyint": str(fps * 10)})
    video.options = options
    audio = container.add_stream("aac", rate=AUDIO_RATE)
    audio.layout = "mono"
    frames = max(1, round(seconds * fps))
    if noise:
        pool: list[bytes] = []
        for i in range(min(8, frames)):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(vol.rng.randbytes(plane.buffer_size))
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                pool.append(bytes(packet))
                container.mux(packet)
        for packet in video.encode():
            pool.append(bytes(packet))
            container.mux(packet)
        tb = video.time_base
        tick = int(Fraction(1, fps) / tb)
        for i in range(len(pool), frames):
            packet = av.Packet(pool[i % len(pool)])
            packet.time_base = tb
            packet.pts = packet.dts = i * tick
            packet.duration = tick
            packet.is_keyframe = True
            packet.stream = video
            container.mux(packet)
    else:
        for i in range(frames):
            now = device_start + timedelta(seconds=i / fps)
            img = Image.new("RGB", (width, height), (20 + (i * 7) % 200, 60, 90))
            draw = ImageDraw.Draw(img)
            draw.rectangle((0, 0, width, 26), fill=(0, 0, 0))
            draw.text((3, 2), f"{now:%Y-%m-%d %H:%M:%S}", fill=(255, 255, 255))
            draw.text((3, 13), f"{plan.serial} {plan.user_no}", fill=(255, 255, 0))
            x = (i * 5) % width
            draw.rectangle((x, 60, x + 12, 100), fill=(240, 240, 240))
            frame = av.VideoFrame.from_image(img).reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
    _add_audio(container, audio, seconds)
    container.close()
    vol.finish(path, rel, "video", true_start, seconds)


def write_wav(vol: Volume, true_start: datetime, seconds: float) -> None:
    """A 16-bit mono WAV: a tone under a little noise, so no two files have the same bytes."""
    path, rel = vol.path_for(vol.device(true_start), "WAV")
    samples = int(seconds * AUDIO_RATE)
    hz = 300 + vol.rng.randrange(600)
    noise = vol.rng.randbytes(AUDIO_RATE)
    period = [
        int(6000 * math.sin(2 * math.pi * hz * i / AUDIO_RATE)) + noise[i] - 128
        for i in range(AUDIO_RATE)
    ]
    second = struct.pack(f"<{AUDIO_RATE}h", *period)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(AUDIO_RATE)
        for _ in range(samples // AUDIO_RATE):
            w.writeframes(second)
        w.writeframes(second[: (samples % AUDIO_RATE) * 2])
    vol.finish(path, rel, "audio", true_start, seconds)


def write_jpg(vol: Volume, true_start: datetime) -> None:
    from PIL import Image, ImageDraw

    device_start = vol.device(true_start)
    path, rel = vol.path_for(device_start, "JPG")
    img = Image.new("RGB", (320, 240), (90, 120, 60))
    draw = ImageDraw.Draw(img)
    draw.text((6, 6), f"{device_start:%Y-%m-%d %H:%M:%S}", fill=(255, 255, 255))
    draw.text((6, 20), f"{vol.plan.serial} {vol.plan.user_no}", fill=(255, 255, 0))
    img.save(path, "JPEG", quality=80)
    vol.finish(path, rel, "photo", true_start, 0.0)


def _spread(plan: Plan, n: int) -> list[datetime]:
    window = plan.hours * 3600
    return [plan.start + timedelta(seconds=round(window * (i + 0.5) / n)) for i in range(n)]


def simulate(root: str | os.PathLike[str], plan: Plan) -> list[Made]:
    """Write the volume; answers what was made, in the order it was made."""
    vol = Volume(Path(root), plan)
    vol.root.mkdir(parents=True, exist_ok=True)
    (vol.root / "DCIM").mkdir(exist_ok=True)
    items: list[tuple[datetime, str, float]] = [(t, "video", s) for t, s in segments(plan)]
    items += [(t, "audio", plan.audio_seconds) for t in _spread(plan, plan.audio)]
    items += [(t, "photo", 0.0) for t in _spread(plan, plan.photos)]
    for t, kind, seconds in sorted(items, key=lambda x: (x[0], x[1])):
        if kind == "video":
            write_video(vol, t, seconds)
        elif kind == "audio":
            write_wav(vol, t, seconds)
        else:
            write_jpg(vol, t)
    used = sum(m.size for m in vol.made)
    info = {
        "serial": plan.serial,
        "user_no": plan.user_no,
        "user_name": plan.user_name,
        "unit_no": plan.unit_no,
        "unit_name": plan.unit_name,
        "clock": (datetime.now(CHINA) + timedelta(seconds=plan.clock_offset)).isoformat(
            timespec="seconds"
        ),
        "battery_pct": plan.battery,
        "storage_free_bytes": max(0, STORAGE_TOTAL - used),
        "storage_total_bytes": STORAGE_TOTAL,
    }
    (vol.root / INFO_NAME).write_text(json.dumps(info, ensure_ascii=False, indent=2), "utf-8")
    return vol.made
