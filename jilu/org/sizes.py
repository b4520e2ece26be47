"""Sizes in one convention on every page, printout and command: decimal units
(1 GB = 10^9 bytes), as recorder screens show storage and discs state their
capacity (DVD 4.7 GB), with two decimals above a kilobyte."""

from __future__ import annotations


def human_size(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover (the loop always returns)
