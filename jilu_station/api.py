"""The station API of the Jilu server (docs/station-protocol.md §1–3, §5, §6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jilu_station.http import AuthRefused, Http, HttpError

API = "/api/v1"


@dataclass(frozen=True)
class Held:
    """What the server answers for ``GET /station/files/{sha256}``: it holds these bytes."""

    sha256: str
    sm3: str
    size: int
    recording_id: int | None
    quarantine_id: int | None

    def matches(self, sha256: str, sm3: str, size: int) -> bool:
        return (self.sha256, self.sm3, self.size) == (sha256, sm3, size)


class StationApi:
    def __init__(self, http: Http) -> None:
        self.http = http

    def me(self) -> dict[str, Any]:
        """Who this token belongs to; a token that is not a workstation's is refused here."""
        response = self.http.request("GET", f"{API}/station/me")
        if response.status == 403:
            raise AuthRefused(403, response.detail())
        if response.status != 200:
            raise HttpError(response.status, response.detail(), response.headers)
        return response.json()

    def open_docking(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Open a docking session for one volume (§2); the reply has ``id``."""
        return self.http.json("POST", f"{API}/station/dockings", ok=(200, 201), json_body=payload)

    def held(self, sha256: str, serial: str = "") -> Held | None:
        """The server's verified copy of these bytes from recorder ``serial``, or None (§3)."""
        query = f"?serial={quote(serial)}" if serial else ""
        response = self.http.request("GET", f"{API}/station/files/{sha256}{query}")
        if response.status == 404:
            return None
        if response.status != 200:
            raise HttpError(response.status, response.detail(), response.headers)
        data = response.json()
        return Held(
            sha256=str(data.get("sha256", "")).lower(),
            sm3=str(data.get("sm3", "")).lower(),
            size=int(data.get("size", -1)),
            recording_id=data.get("recording_id"),
            quarantine_id=data.get("quarantine_id"),
        )

    def finish(self, docking_id: int, counts: dict[str, int]) -> None:
        self.http.json(
            "POST",
            f"{API}/station/dockings/{docking_id}/finish",
            ok=(200, 201, 204),
            json_body=counts,
        )

    def progress(self, docking_id: int, files: list[dict[str, Any]]) -> None:
        self.http.json(
            "POST",
            f"{API}/station/dockings/{docking_id}/progress",
            ok=(200, 201, 204),
            json_body={"files": files},
        )
