"""The ``jilu`` console script: Django's management commands for this project."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jilu.settings")
    from jilu.conf import ConfigError

    try:
        from django.core.management import execute_from_command_line

        # Commands may be spelled with dashes (jilu seed-demo) or underscores.
        argv = list(sys.argv)
        if len(argv) > 1 and not argv[1].startswith("-"):
            argv[1] = argv[1].replace("-", "_")
        execute_from_command_line(argv)
    except ConfigError as exc:
        print(f"jilu: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
