"""Benchmark: the watermarked viewing copy (C6.5.2) as a multiple of real time,
for 1-hour 720p and 1080p H.264 recordings (target: >= 2x real time at 720p).

The source is what a recorder writes: H.264 High at 25 fps with AAC sound, a
picture that moves and has texture everywhere (a scrolling gradient, moving
shapes and noise, so the encoder has real work in every macroblock). A
10-second clip is encoded once per size and its packets muxed again and again
(``media_probe.make_long``) up to ``--minutes``; so the copy decodes and
encodes a full-length recording while the source takes seconds to make.

Timed: ``jilu.access.watermark.make_viewing_copy`` (decode, the overlay of the
two label boxes, x264 encode, audio copied), against the plain-tools baseline
of the same PyAV decode → x264 encode with the same settings and no overlay
(what any re-encoding copy costs). Printed: seconds of recording per second of
work (the multiple of real time) for each, and copy_time / plain_time (the
watermark's own cost). ``--presets`` and ``--threads`` try other encoder
settings (threads 0 = x264's own choice).

    .venv/bin/python bench/watermark.py [--minutes 60] [--sizes 720p 1080p]
        [--presets veryfast] [--threads 0] [--dir DIR] [--keep]

Exit status 0 when the 720p copy with the default preset runs at >= 2x real time.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jilu.settings")

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
FPS = 25
CLIP_SECONDS = 10
LINES = ["调用单 DY2026-000123 · 仅供查看", "领取人 王五 · 2026-11-26", "副本 JC-7KQ2-M9XD-4HTP"]


def make_clip(path: Path, width: int, height: int) -> Path:
    """A 10-second H.264/AAC clip with texture and motion everywhere."""
    import math
    import struct

    import av
    from PIL import Image, ImageDraw

    rng = random.Random(7)
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "medium", "crf": "21", "g": str(FPS * 2)}
        sound = out.add_stream("aac", rate=48000, layout="mono")
        shapes = [
            (rng.randrange(width), rng.randrange(height), rng.randrange(20, 160)) for _ in range(12)
        ]
        for i in range(CLIP_SECONDS * FPS):
            shift = (i * 6) % width
            frame_img = Image.blend(base, noise, 0.35)
            rolled = Image.new("RGB", (width, height))
            rolled.paste(frame_img.crop((shift, 0, width, height)), (0, 0))
            rolled.paste(frame_img.crop((0, 0, shift, height)), (width - shift, 0))
            draw = ImageDraw.Draw(rolled)
            for n, (x, y, r) in enumerate(shapes):
                cx = (x + i * (n + 2) * 3) % width
                cy = (y + int(40 * math.sin(i / 10 + n))) % height
                draw.ellipse(
                    (cx - r, cy - r, cx + r, cy + r), fill=(40 * n % 255, 90, 200 - 10 * n)
                )
            frame = av.VideoFrame.from_image(rolled)
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        samples = 1024
        for k in range(CLIP_SECONDS * 48000 // samples):
            pcm = struct.pack(
                f"<{samples}f",
                *(
                    0.3 * math.sin(2 * math.pi * 440 * (k * samples + j) / 48000)
                    for j in range(samples)
                ),
            )
            frame = av.AudioFrame(format="flt", layout="mono", samples=samples)
            frame.planes[0].update(pcm)
            frame.sample_rate = 48000
            frame.pts = k * samples
            for packet in sound.encode(frame):
                out.mux(packet)
        for packet in sound.encode():
            out.mux(packet)
    return path


def plain_transcode(src: Path, dest: Path, preset: str, threads: int) -> None:
    """The baseline: decode and encode with the same settings, no overlay, audio copied."""
    import av

    from jilu.access.watermark import CRF

    with av.open(str(src)) as source, av.open(str(dest), "w", format="mp4") as out:
        in_video, in_audio = source.streams.video[0], source.streams.audio[0]
        in_video.thread_type = "AUTO"
        video = out.add_stream("libx264", rate=in_video.average_rate)
        video.width, video.height, video.pix_fmt = in_video.width, in_video.height, "yuv420p"
        video.time_base = in_video.time_base
        video.options = {"preset": preset, "crf": CRF}
        if threads:
            video.codec_context.thread_count = threads
        audio = out.add_stream_from_template(in_audio)
        for packet in source.demux(in_video, in_audio):
            if packet.stream is in_video:
                for frame in packet.decode():
                    frame.pict_type = av.video.frame.PictureType.NONE
                    for p in video.encode(frame):
                        out.mux(p)
            elif packet.dts is not None:
                packet.stream = audio
                out.mux(packet)
        for p in video.encode():
            out.mux(p)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--sizes", nargs="+", default=["720p", "1080p"], choices=list(SIZES))
    parser.add_argument("--presets", nargs="+", default=["veryfast"])
    parser.add_argument("--threads", type=int, nargs="+", default=[0])
    parser.add_argument("--no-baseline", action="store_true", help="time the copy only")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    import django

    django.setup()
    from media_probe import make_long

    from jilu.access.watermark import PRESET, make_viewing_copy

    workdir = Path(tempfile.mkdtemp(prefix="jilu-watermark-", dir=args.dir))
    seconds = args.minutes * 60
    rows, ok = [], True
    try:
        for size in args.sizes:
            width, height = SIZES[size]
            clip = make_clip(workdir / f"clip-{size}.mp4", width, height)
            src = workdir / f"{size}-{args.minutes:g}min.mp4"
            make_long(clip, src, seconds)
            print(f"source {src.name}: {src.stat().st_size / 1e6:.0f} MB", flush=True)
            for preset in args.presets:
                for threads in args.threads:
                    dest = workdir / f"copy-{size}-{preset}-{threads}.mp4"
                    start = time.perf_counter()
                    made = make_viewing_copy(
                        src,
                        dest,
                        lines=LINES,
                        copy_id="JC-7KQ2-M9XD-4HTP",
                        request_number="DY2026-000123",
                        preset=preset,
                        threads=threads or None,
                    )
                    copy_time = time.perf_counter() - start
                    plain_time = float("nan")
                    if not args.no_baseline:
                        start = time.perf_counter()
                        plain_transcode(src, workdir / "plain.mp4", preset, threads)
                        plain_time = time.perf_counter() - start
                        (workdir / "plain.mp4").unlink()
                    duration = made.frames / FPS
                    gb_per_hour = dest.stat().st_size / duration * 3600 / 1e9
                    rows.append(
                        (size, preset, threads, duration, copy_time, plain_time, gb_per_hour)
                    )
                    print(
                        f"{size} {preset} threads={threads or 'auto'}: "
                        f"copy {duration / copy_time:.2f}x real time ({copy_time:.1f} s for "
                        f"{duration / 60:.1f} min), plain {duration / plain_time:.2f}x, "
                        f"copy/plain {copy_time / plain_time:.2f}, "
                        f"{gb_per_hour:.2f} GB/h",
                        flush=True,
                    )
                    dest.unlink()
                    if size == "720p" and preset == PRESET and threads == args.threads[0]:
                        ok = ok and duration / copy_time >= 2
            src.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\n{'size':<7}{'preset':<11}{'threads':>8}{'x real time':>13}{'plain':>8}{'copy/plain':>12}"
    )
    for size, preset, threads, duration, copy_time, plain_time, gb_per_hour in rows:
        print(
            f"{size:<7}{preset:<11}{threads or 'auto':>8}{duration / copy_time:>12.2f}x"
            f"{duration / plain_time:>7.2f}x{copy_time / plain_time:>12.2f}{gb_per_hour:>7.2f}"
        )
    print(f"\ntarget: 720p viewing copy >= 2x real time -> {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
