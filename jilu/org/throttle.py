"""Sign-in attempts slowed per client address (password spraying).

The per-account lockout (``actions.login_failed``) stops guessing one
person's password; it does nothing against one address trying a common
password on many accounts. Here failed sign-ins, on the pages and on the API's
token endpoint alike, are counted per client address in Django's cache: after
``SIGNIN_THROTTLE_FAILURES`` failures within ``SIGNIN_THROTTLE_MINUTES`` of the
first one, every further attempt from that address is refused, without looking
at the password, until those minutes have passed. The moment an address is
stopped is written to the audit log.

The address is the one ``ClientAddressMiddleware`` settled on (a trusted
proxy's ``X-Real-IP``, else the connection's). IPv6 addresses count per /64,
the block one subscriber usually holds. Counters live in the ``default`` cache:
one process's memory in the embedded default, Redis shared by all web
processes when ``JILU_CACHE_URL`` says so.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from jilu.audit.chain import record

log = logging.getLogger(__name__)

_PREFIX = "jilu:signin-throttle:"


@dataclass(frozen=True)
class Throttled:
    """An address stopped until ``until``."""

    until: datetime

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait (the Retry-After header), at least 1."""
        return max(1, math.ceil(self.until.timestamp() - time.time()))


def _bucket(ip: str | None) -> str:
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _keys(ip: str | None) -> tuple[str, str]:
    bucket = _bucket(ip)
    return _PREFIX + "count:" + bucket, _PREFIX + "since:" + bucket


def _window() -> int:
    return settings.SIGNIN_THROTTLE_MINUTES * 60


def check(ip: str | None) -> Throttled | None:
    """Whether attempts from ``ip`` are refused now, and until when."""
    count_key, since_key = _keys(ip)
    state = cache.get_many([count_key, since_key])
    if state.get(count_key, 0) < settings.SIGNIN_THROTTLE_FAILURES or since_key not in state:
        return None
    until = state[since_key] + _window()
    if until <= time.time():
        return None
    return Throttled(until=datetime.fromtimestamp(until, tz=UTC))


def refused(ip: str | None, *, username: str, via: str) -> None:
    """An attempt refused while its address waits: logged, not audited (the
    audit log has the moment the address was stopped; a flood of refusals
    would only fill it)."""
    log.warning("sign-in refused: %s is throttled (username %r, via %s)", ip, username, via)


def failed(ip: str | None, *, via: str) -> Throttled | None:
    """Count one failed sign-in from ``ip``; the failure that reaches the limit
    stops the address, on the record, and is answered with when to retry."""
    count_key, since_key = _keys(ip)
    window = _window()
    now = time.time()
    since = cache.get(since_key)
    if since is not None and since + window <= now:
        # The window is over (a cache that keeps keys a little longer).
        cache.delete_many([count_key, since_key])
    cache.add(since_key, now, timeout=window)
    cache.add(count_key, 0, timeout=window)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between add() and incr()
        cache.set(since_key, now, timeout=window)
        cache.set(count_key, 1, timeout=window)
        count = 1
    if count != settings.SIGNIN_THROTTLE_FAILURES:
        return None
    since = cache.get(since_key, now)
    until = datetime.fromtimestamp(since + window, tz=UTC)
    address_throttled(ip=ip, failures=count, since=since, until=until, via=via)
    return Throttled(until=until)


@transaction.atomic
def address_throttled(
    *, ip: str | None, failures: int, since: float, until: datetime, via: str
) -> None:
    """The audit entry for an address stopped after too many failed sign-ins."""
    record(
        "auth.throttled",
        actor=f"address:{ip or 'unknown'}"[:200],
        details={
            "ip": ip,
            "counted_as": _bucket(ip),
            "failures": failures,
            "since": datetime.fromtimestamp(since, tz=UTC).isoformat(),
            "until": until.isoformat(),
            "via": via,
        },
    )
