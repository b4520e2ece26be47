"""Named errors of the evidence store."""

from __future__ import annotations

from typing import Any

from jilu.outage import Unavailable


class StoreError(Exception):
    """Something went wrong storing or reading an object; the message says what."""


class StoreUnavailable(StoreError, Unavailable):
    """The store cannot be reached (connection refused or timed out, or it answers
    5xx after the client's own retries): a request answers 503, a task retries."""

    what = "store"


class InvalidKey(StoreError, ValueError):
    """A key or expected value is not well-formed (e.g. not 64 hex digits)."""


class ObjectMissing(StoreError, KeyError):
    """No object is stored under the key."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "object missing"


class HashMismatch(StoreError):
    """The bytes received differ from what the sender said they were; nothing was stored."""

    def __init__(self, message: str, *, expected: dict[str, Any], actual: Any) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class ObjectRetained(StoreError):
    """The store refuses to delete the object before its retain-until (Object Lock)."""
