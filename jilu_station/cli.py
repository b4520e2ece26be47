"""``jilu-station``: the workstation agent's command line.

    jilu-station ingest VOLUME --server URL --token TOKEN [--spool DIR] [--wipe-verified]
    jilu-station watch DIR [--server URL --token TOKEN --spool DIR --wipe-verified] [--once]
    jilu-station simulate VOLUME --serial A000123 --user-no 350201 --start … --hours 1 …

Exit status of ``ingest`` (and ``watch --once``): 0 when every media file on
the volume is verified on the server; 1 when not (the journal and the spool
keep everything for the next run); 2 for a usage error; 3 when the server
refuses the station's token.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from jilu_station import __version__
from jilu_station.ingest import EXIT_USAGE, Options, ingest
from jilu_station.progress import Console

MIB = 1024 * 1024


def default_spool() -> Path:
    env = os.environ.get("JILU_STATION_SPOOL")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local/share")
    return Path(base) / "jilu-station" / "spool"


def _server_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server",
        default=os.environ.get("JILU_SERVER", ""),
        help="the Jilu server, e.g. http://10.0.0.5:8000 (default: $JILU_SERVER)",
    )
    p.add_argument(
        "--token",
        default=os.environ.get("JILU_STATION_TOKEN", ""),
        help="this workstation's token, jst_… (default: $JILU_STATION_TOKEN)",
    )
    p.add_argument(
        "--spool",
        type=Path,
        default=None,
        help="local spool and journal directory (default: $JILU_STATION_SPOOL or "
        "~/.local/share/jilu-station/spool)",
    )
    p.add_argument(
        "--wipe-verified",
        action="store_true",
        help="delete each file from the recorder once the server has confirmed its SHA-256, "
        "SM3 and size",
    )
    p.add_argument(
        "--retry-for",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="give up after the server has been unreachable this long (default: 0, never: "
        "retry with growing, jittered waits up to 30 s until it is back)",
    )
    p.add_argument(
        "--chunk-mib", type=int, default=16, help="size of each upload PATCH (default: 16 MiB)"
    )
    p.add_argument(
        "--uploads", type=int, default=2, help="parallel uploads per volume (default: 2)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jilu-station",
        description="Jilu workstation agent: ingest recorder volumes into the Jilu server.",
        epilog="Exit status: 0 every media file on the volume is verified on the server; "
        "1 not (the journal and the spool keep everything for the next run); "
        "2 usage error; 3 the server refused the station's token.",
    )
    parser.add_argument("--version", action="version", version=f"jilu-station {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="ingest one mounted recorder volume")
    p.add_argument("volume", type=Path, metavar="VOLUME")
    _server_args(p)

    p = sub.add_parser("watch", help="ingest every recorder volume that appears under DIR")
    p.add_argument("dir", type=Path, metavar="DIR")
    _server_args(p)
    p.add_argument("--once", action="store_true", help="ingest the volumes present now, then exit")
    p.add_argument("--max-volumes", type=int, default=10, help="volumes ingested at once")
    p.add_argument(
        "--settle", type=float, default=2.0, help="seconds a volume must stay unchanged first"
    )
    p.add_argument("--poll", type=float, default=1.0, help="seconds between looks at DIR")
    p.add_argument(
        "--copies",
        type=int,
        default=0,
        help="volumes copied into the spool at once (default: half the CPUs, at least 1)",
    )

    p = sub.add_parser("simulate", help="write a simulated recorder volume (for tests and demos)")
    p.add_argument("volume", type=Path, metavar="VOLUME")
    p.add_argument("--serial", required=True, help="recorder serial (产品序号), e.g. A000123")
    p.add_argument("--user-no", required=True, help="officer's number (警号), e.g. 350201")
    p.add_argument("--user-name", default="")
    p.add_argument("--unit-no", default="")
    p.add_argument("--unit-name", default="")
    p.add_argument(
        "--start",
        required=True,
        help="when recording began (true Beijing time), e.g. 2026-11-26T09:00:00",
    )
    p.add_argument("--hours", type=float, default=1.0)
    p.add_argument("--segment-minutes", type=float, default=10.0)
    p.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="device clock minus true time (file names and ZFY_INFO carry the device clock)",
    )
    p.add_argument(
        "--gap",
        action="append",
        default=[],
        metavar="START+MINUTES",
        help="time not recorded, e.g. 09:20+5 (repeatable)",
    )
    p.add_argument("--battery", type=int, default=72)
    p.add_argument("--photos", type=int, default=0)
    p.add_argument("--audio", type=int, default=0, help="number of WAV audio-only files")
    p.add_argument("--audio-seconds", type=float, default=30.0)
    p.add_argument("--fps", type=int, default=1)
    p.add_argument(
        "--bitrate",
        type=int,
        default=None,
        metavar="KBPS",
        help="make video segments about this large (real footage is 3000–6000 kbps)",
    )
    p.add_argument("--flat", action="store_true", help="files directly in DCIM/, no date folders")
    return parser


def _options(args: argparse.Namespace) -> Options | str:
    if not args.server:
        return "--server (or JILU_SERVER) is required: the Jilu server's address"
    if not args.token:
        return "--token (or JILU_STATION_TOKEN) is required: this workstation's token"
    if args.chunk_mib < 1 or args.uploads < 1:
        return "--chunk-mib and --uploads must be at least 1"
    from jilu_station.http import normalise_server

    try:
        server = normalise_server(args.server)
    except ValueError as exc:
        return str(exc)
    return Options(
        server=server,
        token=args.token.strip(),
        spool=args.spool or default_spool(),
        wipe=args.wipe_verified,
        retry_for=args.retry_for,
        chunk_size=args.chunk_mib * MIB,
        uploads=args.uploads,
        console=Console(),
    )


def _simulate(args: argparse.Namespace) -> int:
    from jilu_station.simulate import Plan, parse_gap, simulate
    from jilu_station.volume import CHINA

    try:
        start = datetime.fromisoformat(args.start)
        start = start.replace(tzinfo=CHINA) if start.tzinfo is None else start.astimezone(CHINA)
        gaps = [parse_gap(g, start) for g in args.gap]
    except ValueError as exc:
        print(f"jilu-station simulate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    plan = Plan(
        serial=args.serial,
        user_no=args.user_no,
        user_name=args.user_name,
        unit_no=args.unit_no,
        unit_name=args.unit_name,
        start=start,
        hours=args.hours,
        segment_minutes=args.segment_minutes,
        clock_offset=args.clock_offset,
        gaps=gaps,
        battery=args.battery,
        photos=args.photos,
        audio=args.audio,
        audio_seconds=args.audio_seconds,
        bitrate_kbps=args.bitrate,
        fps=args.fps,
        flat=args.flat,
    )
    began = time.monotonic()
    made = simulate(args.volume, plan)
    print(
        json.dumps(
            {
                "volume": str(args.volume),
                "files": len(made),
                "bytes": sum(m.size for m in made),
                "seconds": round(time.monotonic() - began, 2),
                "made": [m.as_json() for m in made],
            },
            ensure_ascii=False,
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print(
            "jilu-station: interrupted; nothing was wiped that the server had not verified, "
            "and the journal lets the next run continue",
            file=sys.stderr,
        )
        return 130


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    if args.command == "simulate":
        return _simulate(args)
    options = _options(args)
    if isinstance(options, str):
        print(f"jilu-station {args.command}: {options}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "ingest":
        summary = ingest(args.volume, options)
        print(summary.json_line(), flush=True)
        return summary.exit_code
    from jilu_station.watch import Watcher

    watcher = Watcher(
        root=args.dir,
        options=options,
        once=args.once,
        max_volumes=max(1, args.max_volumes),
        settle=max(0.0, args.settle),
        poll=max(0.1, args.poll),
        copies=max(0, args.copies),
    )
    return watcher.run()


if __name__ == "__main__":
    raise SystemExit(main())
