"""A stored object that should be there and is not (C6.5.4): say so, raise the alarm.

Serving (play, download, derived pictures, the API's content) and media
processing meet a missing object before the rolling fixity schedule may come
round to it. They raise ``StoredObjectMissing``; the page answers 410 Gone
with a plain message (the API ``{"detail": ...}``), and ``raise_alarm`` has
the fixity check record the loss and raise the ``FixityAlarm`` through
``fixity.check_object`` (one check, one alarm, audited together), once: while
an alarm on the object is open, nobody's retries add another.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from jilu.evidence import fixity
from jilu.evidence.models import StoredObject, Tombstone
from jilu.evidence.store import get_store

log = logging.getLogger(__name__)

ORIGINAL_MISSING = gettext_lazy(
    "原始文件在证据存储中缺失，无法播放或复制。系统已自动发出固定性告警，"
    "系统管理员和督察会核查处理（如从备份恢复）。"
)
DERIVED_MISSING = gettext_lazy(
    "这份派生文件（封面、缩略图或播放副本）在存储中缺失。系统已自动发出固定性告警，"
    "系统管理员会核查处理。"
)
# Two requests for the same missing object at once: one of them checks.
_LOCK_SECONDS = 60


class StoredObjectMissing(Exception):
    """The store has no object under ``sha256`` although the database says it has."""

    def __init__(self, sha256: str, *, original: bool = True) -> None:
        super().__init__(f"no stored object {sha256}")
        self.sha256 = sha256
        self.original = original

    @property
    def message(self) -> str:
        return str(ORIGINAL_MISSING if self.original else DERIVED_MISSING)


def raise_alarm(sha256: str) -> bool:
    """Record the loss of stored object ``sha256`` and raise its fixity alarm.

    Nothing new while an alarm on the object is still open (it is already being
    looked at) or when the object is there after all. True when an alarm was raised.
    """
    obj = StoredObject.objects.filter(pk=sha256).first()
    if obj is None:
        return False
    if Tombstone.objects.filter(pk=sha256).exists():
        return False  # disposed of as approved (C5.6): gone, not lost
    # An open alarm about this loss (its check found no size: nothing to read).
    if (
        fixity.open_alarms()
        .filter(stored_object_id=sha256, fixity_check__size_found__isnull=True)
        .exists()
    ):
        return False
    if not cache.add(f"jilu:evidence:missing:{sha256}", 1, _LOCK_SECONDS):
        return False
    if get_store().exists(sha256):
        return False
    log.error("stored object %s is missing: raising the fixity alarm", sha256)
    check = fixity.check_object(obj)
    return not check.ok


def missing_page(request: HttpRequest, recording: Any, exc: StoredObjectMissing) -> HttpResponse:
    """410 Gone with the plain message; the alarm is raised first."""
    raise_alarm(exc.sha256)
    return render(
        request,
        "evidence/object_missing.html",
        {"rec": recording, "message": exc.message},
        status=410,
    )
