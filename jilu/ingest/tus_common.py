"""What the tus server's resources share: protocol constants, responses, the uploader."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from jilu.devices.models import Workstation
from jilu.ingest import actions
from jilu.ingest.models import Upload
from jilu.org.models import Person

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "checksum", "termination", "expiration")
CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")
READ_CHUNK = 1024 * 1024
DEFAULT_MAX_SIZE = 64 * 1024**3  # 64 GiB: far above one recorder file
HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
METADATA_KEY = re.compile(r"^[^\s,]+$")


def max_size() -> int:
    return int(getattr(settings, "TUS_MAX_SIZE", DEFAULT_MAX_SIZE))


# --- responses ------------------------------------------------------------


def reply(status: int, detail: str | None = None, **headers: Any) -> HttpResponse:
    if detail is not None:
        resp: HttpResponse = JsonResponse(
            {"detail": detail}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    else:
        resp = HttpResponse(status=status)
        del resp["Content-Type"]
    if status == 460:
        resp.reason_phrase = "Checksum Mismatch"
    resp["Tus-Resumable"] = TUS_VERSION
    resp["Cache-Control"] = "no-store"
    for key, value in headers.items():
        if value is not None:
            resp[key.replace("_", "-")] = str(value)
    return resp


def expires_header(upload: Upload) -> str | None:
    if upload.state != Upload.State.RECEIVING:
        return None
    return http_date(upload.expires_at.timestamp())


def outcome_headers(upload: Upload) -> dict[str, Any]:
    if upload.state != Upload.State.COMPLETE:
        return {}
    return {
        "Jilu_Sha256": upload.sha256,
        "Jilu_Recording_Id": upload.recording_id,
        "Jilu_Quarantine_Id": upload.quarantine_id,
    }


def location_of(upload: Upload) -> str:
    return reverse("tus:upload", kwargs={"upload_id": upload.pk})


@dataclass
class Uploader:
    station: Workstation | None
    person: Person | None

    @property
    def actor(self) -> Any:
        return actions.station_actor(self.station) if self.station else self.person

    def owns(self, upload: Upload) -> bool:
        if self.station is not None:
            return upload.station_id == self.station.pk
        return self.person is not None and upload.person_id == self.person.pk


def parse_length(value: str | None) -> int | None:
    if value is None or not value.isdigit():
        return None
    return int(value)


def gone(upload: Upload) -> HttpResponse:
    if upload.state == Upload.State.FAILED:
        return reply(410, f"该上传已因校验失败而丢弃：{upload.failure}；请重新创建上传")
    return reply(410, f"该上传已{upload.get_state_display()}，请重新创建上传")


def expire_if_due(upload: Upload) -> Upload:
    if upload.state == Upload.State.RECEIVING and upload.expires_at < timezone.now():
        actions.expire_upload(actor="system:ingest", upload_id=upload.pk)
        upload.refresh_from_db()
    return upload
