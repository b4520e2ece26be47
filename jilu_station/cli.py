"""``jilu-station``: the workstation agent's command line."""

from __future__ import annotations

import argparse
import sys

from jilu_station import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jilu-station",
        description="Jilu workstation agent: ingest recorder volumes into the Jilu server.",
    )
    parser.add_argument("--version", action="version", version=f"jilu-station {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help(sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
