"""Audit has no state changes of its own beyond appending; re-exported for callers."""

from jilu.audit.chain import record

__all__ = ["record"]
