"""Audit has no state changes of its own beyond appending; re-exported for callers."""

from __future__ import annotations

import getpass

from jilu.audit.chain import record

__all__ = ["cli_actor", "record"]


def cli_actor() -> str:
    """The actor label of a command run at a shell: ``cli:<operating-system user>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = "unknown"
    return f"cli:{user}"
