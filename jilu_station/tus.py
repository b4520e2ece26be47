"""A tus 1.0 client (core, creation, checksum, termination) for the station's uploads.

Every PATCH carries ``Upload-Checksum: sha256 <base64>`` of its own body, so a
chunk damaged on the way is refused (460) and sent again; the server's offset
(HEAD) is the only truth about what it holds, so an interrupted upload resumes
exactly where the server stopped and no confirmed byte is sent twice.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from jilu_station.http import Http, HttpError, Response

TUS = "1.0.0"
UPLOADS = "/api/v1/uploads/"


class UploadGone(Exception):
    """The upload no longer exists on the server (expired, terminated, unknown)."""


class OffsetMismatch(Exception):
    """409: the server holds a different offset than the client sent."""


class ChunkRejected(Exception):
    """460: the chunk's checksum did not match; the server discarded it."""


class HashMismatch(Exception):
    """422: the whole file's hashes did not match the declared ones; the upload is discarded."""


class TooLarge(Exception):
    """413: the chunk (or file) is larger than the server accepts."""


@dataclass(frozen=True)
class PatchResult:
    offset: int
    headers: dict[str, str]


def encode_metadata(metadata: dict[str, str]) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode('utf-8')).decode('ascii')}"
        for key, value in metadata.items()
    )


def chunk_checksum(data: bytes | memoryview) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


class TusClient:
    def __init__(self, http: Http) -> None:
        self.http = http

    def _fail(self, response: Response) -> None:
        status = response.status
        detail = response.detail()
        if status in (404, 410):
            raise UploadGone(detail)
        if status == 409:
            raise OffsetMismatch(detail)
        if status == 460:
            raise ChunkRejected(detail)
        if status == 422:
            raise HashMismatch(detail)
        if status == 413:
            raise TooLarge(detail)
        raise HttpError(status, detail, response.headers)

    def create(self, length: int, metadata: dict[str, str]) -> str:
        """POST a new upload; answers its absolute URL."""
        response = self.http.request(
            "POST",
            UPLOADS,
            body=b"",
            headers={
                "Tus-Resumable": TUS,
                "Upload-Length": str(length),
                "Upload-Metadata": encode_metadata(metadata),
            },
        )
        if response.status == 413:
            raise TooLarge(response.detail())
        if response.status != 201:
            raise HttpError(response.status, response.detail(), response.headers)
        location = response.headers.get("location", "")
        if not location:
            raise HttpError(response.status, "the server sent no Location for the upload", {})
        return self.http.url(location)

    def offset(self, url: str) -> int:
        """How many bytes the server holds for this upload (HEAD)."""
        response = self.http.request(
            "HEAD", url, headers={"Tus-Resumable": TUS, "Cache-Control": "no-store"}
        )
        if response.status not in (200, 204):
            self._fail(response)
        return int(response.headers.get("upload-offset", "0"))

    def patch(
        self, url: str, offset: int, data: bytes | memoryview, *, corrupt: bool = False
    ) -> PatchResult:
        """Send one chunk at ``offset``; answers the server's new offset and headers.

        ``corrupt`` (tests only) flips one byte after the chunk checksum is taken from the
        damaged bytes, so only the server's whole-file check can notice.
        """
        if corrupt and len(data):
            data = bytes([data[0] ^ 0xFF]) + bytes(data[1:])
        response = self.http.request(
            "PATCH",
            url,
            body=data,
            headers={
                "Tus-Resumable": TUS,
                "Content-Type": "application/offset+octet-stream",
                "Upload-Offset": str(offset),
                "Upload-Checksum": chunk_checksum(data),
            },
        )
        if response.status not in (200, 204):
            self._fail(response)
        new_offset = int(response.headers.get("upload-offset", str(offset + len(data))))
        return PatchResult(offset=new_offset, headers=response.headers)

    def delete(self, url: str) -> None:
        response = self.http.request("DELETE", url, headers={"Tus-Resumable": TUS})
        if response.status not in (200, 204, 404, 410):
            self._fail(response)
