"""Benchmark: the media probe on 1-hour and 4-hour recordings (target < 100 ms each,
independent of length).

A 10-second H.264/AAC clip is encoded once with PyAV; the long recordings are
made by muxing its packets again and again with increasing timestamps (no
re-encoding), so they have the sample tables (``moov``) of real 1-hour and
4-hour recordings at the chosen frame rate (25 fps video and 48 kHz AAC by
default, as recorders write) while staying small on disk at tiny resolution.

Timed: ``jilu.evidence.media.probe(path)`` (box walk, container open, one
frame decoded at each end), best and median of ``--rounds`` runs, against the
plain-tools baseline ``av.open(path).duration`` (the least any PyAV-based
prober does: open the container and read its index). Prints milliseconds and
probe_time / baseline_time.

    .venv/bin/python bench/media_probe.py [--hours 1 4] [--fps 25] [--rounds 7] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jilu.settings")


def make_long(clip: Path, dest: Path, seconds: float) -> None:
    """Mux the clip's packets repeatedly, shifting timestamps, until ``seconds`` long."""
    import av

    with av.open(str(clip)) as source:
        streams = list(source.streams)
        packets = [
            (p.stream.index, p.pts, p.dts, p.duration, p.is_keyframe, bytes(p))
            for p in source.demux()
            if p.dts is not None
        ]
        # Each repeat starts one clip-length (in decoding order) after the previous one.
        clip_len = {
            s.index: max(d + (dur or 0) for i, _p, d, dur, _k, _b in packets if i == s.index)
            - min(d for i, _p, d, _dur, _k, _b in packets if i == s.index)
            for s in streams
        }
        with av.open(str(dest), "w", format="mp4") as out:
            outs = {s.index: out.add_stream_from_template(s) for s in streams}
            repeats = int(seconds / float(source.duration / 1_000_000)) or 1
            for r in range(repeats):
                for index, pts, dts, dur, key, data in packets:
                    packet = av.Packet(data)
                    shift = clip_len[index] * r
                    packet.pts = None if pts is None else pts + shift
                    packet.dts, packet.duration = dts + shift, dur
                    packet.is_keyframe = key
                    packet.time_base = streams[index].time_base
                    packet.stream = outs[index]
                    out.mux(packet)


def timed(fn, rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, nargs="+", default=[1, 4])
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--sample-rate", type=int, default=48000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    import django

    django.setup()
    import av

    from jilu.evidence.media import probe
    from jilu.evidence.tests.media_files import make_mp4

    workdir = Path(tempfile.mkdtemp(prefix="jilu-probe-", dir=args.dir))
    clip = make_mp4(
        workdir / "clip.mp4",
        seconds=10,
        width=64,
        height=48,
        fps=args.fps,
        sample_rate=args.sample_rate,
    )

    def baseline(path: Path) -> None:
        with av.open(str(path)) as container:
            assert container.duration

    cases = [("10 s clip", clip, 10.0)]
    for hours in args.hours:
        dest = workdir / f"{hours:g}h.mp4"
        start = time.perf_counter()
        make_long(clip, dest, hours * 3600)
        made = time.perf_counter() - start
        print(f"made {dest.name}: {dest.stat().st_size / 1e6:.1f} MB in {made:.1f} s", flush=True)
        cases.append((f"{hours:g} h recording", dest, hours * 3600))

    print(
        f"\n{'file':<16}{'duration':>10}{'probe best':>12}{'median':>10}"
        f"{'av.open':>10}{'probe/av.open':>15}"
    )
    ok = True
    for label, path, _seconds in cases:
        result = probe(path)
        assert result.integrity == "complete", result.integrity_reason
        best, median = timed(lambda p=path: probe(p), args.rounds)
        base_best, _ = timed(lambda p=path: baseline(p), args.rounds)
        print(
            f"{label:<16}{result.duration_seconds:>9.0f}s{best * 1000:>10.2f}ms"
            f"{median * 1000:>8.2f}ms{base_best * 1000:>8.1f}ms{best / base_best:>15.4f}"
        )
        ok = ok and median < 0.1
    print(f"\ntarget: every median under 100 ms -> {'met' if ok else 'NOT met'}")
    if args.keep:
        print(f"files kept in {workdir}")
    else:
        shutil.rmtree(workdir)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
