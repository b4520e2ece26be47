"""The audit key and the MACs it makes (C6.5.3).

The key lives outside the database (``JILU_AUDIT_KEY``, ``JILU_AUDIT_KEY_FILE``
or the generated ``JILU_DATA_DIR/audit_key``). Whoever can write the database
but does not hold the key can recompute hashes, but not MACs: a rewritten
entry, or any entry after a rewritten one, no longer matches its MAC.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from django.conf import settings

# Each kind of MAC gets its own prefix, so that one can never stand in for another.
_ENTRY = b"jilu.audit.entry\x00"
_CHECKPOINT = b"jilu.audit.checkpoint\x00"
_KEY_ID = b"jilu.audit.key-id"


def current_key() -> bytes | None:
    return getattr(settings, "AUDIT_KEY", None) or None


def key_source() -> str:
    return getattr(settings, "AUDIT_KEY_SOURCE", "") or "JILU_AUDIT_KEY"


@lru_cache(maxsize=8)
def key_id(key: bytes) -> str:
    """A short name for a key that reveals nothing of it: told apart from
    forgery, a changed or lost key is named as such."""
    return hmac.new(key, _KEY_ID, hashlib.sha256).hexdigest()[:16]


def _mac(key: bytes, prefix: bytes, data: bytes) -> str:
    return hmac.new(key, prefix + data, hashlib.sha256).hexdigest()


def entry_mac(key: bytes, entry_hash: str) -> str:
    """The MAC of an entry: over its hash, which covers its content, its
    sequence number and the hash of the entry before it."""
    return _mac(key, _ENTRY, entry_hash.encode("ascii"))


def checkpoint_mac(key: bytes, body: bytes) -> str:
    return _mac(key, _CHECKPOINT, body)


def matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected, given)
