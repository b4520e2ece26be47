"""Fixtures for ingest: a workstation and its token, a held recorder, real media bytes, a tus client."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import wave
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import pytest
from django.test import Client
from django.utils import timezone

from jilu.ingest.naming import DEVICE_TZ

SERIAL = "A000123"


@pytest.fixture(autouse=True)
def _isolated_store(settings, tmp_path):
    """Every test gets its own file store and spool."""
    from jilu.evidence.store import get_store

    settings.STORE_ROOT = tmp_path / "store"
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    get_store.cache_clear()
    yield
    get_store.cache_clear()


# --- media ----------------------------------------------------------------


@lru_cache(maxsize=64)
def mp4(seed: int = 0, frames: int = 3) -> bytes:
    """A tiny, playable H.264 MP4 whose bytes differ with ``seed``."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        rng = random.Random(seed)
        for i in range(frames):
            frame = av.VideoFrame(64, 48, "yuv420p")
            for n, plane in enumerate(frame.planes):
                if frames > 10:  # noise: a file large enough for several upload chunks
                    plane.update(rng.randbytes(plane.buffer_size))
                else:
                    plane.update(bytes([(seed * 37 + i * 11 + n * 5) % 256]) * plane.buffer_size)
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


@lru_cache(maxsize=16)
def wav(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes([seed % 256, 0]) * 800)
    return buf.getvalue()


def digests(data: bytes) -> tuple[str, str]:
    return hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest()


def name_for(
    start_local: datetime,
    *,
    serial: str = SERIAL,
    user_no: str = "900001",
    seq: int = 1,
    ext: str = "MP4",
) -> str:
    local = start_local.astimezone(DEVICE_TZ)
    return f"DCIM/{local:%Y%m%d}/{serial}_{user_no}_{local:%Y%m%d%H%M%S}_{seq:04d}.{ext}"


def hours_ago(h: float) -> datetime:
    """A whole-second device-local time ``h`` hours ago."""
    return (timezone.now() - timedelta(hours=h)).astimezone(DEVICE_TZ).replace(microsecond=0)


# --- the workstation and the recorder -------------------------------------


@pytest.fixture
def station_and_token(tree):
    from jilu.devices import actions

    return actions.create_workstation(
        actor="system:test", unit=tree["squad1"], name="中华中队工作站"
    )


@pytest.fixture
def station(station_and_token):
    return station_and_token[0]


@pytest.fixture
def token(station_and_token):
    return station_and_token[1]


@pytest.fixture
def recorder(tree, people):
    """A000123 of squad 1, held by 王五 (officer) for the last 30 days (C1.3)."""
    from jilu.devices import actions

    rec = actions.register_recorder(actor="system:test", serial=SERIAL, unit=tree["squad1"])
    actions.issue_recorder(
        actor="system:test",
        recorder=rec,
        person=people["officer"],
        at=timezone.now() - timedelta(days=30),
    )
    return rec


def open_docking(station, *, serial=SERIAL, clock_offset_seconds=0.0, **extra):
    from jilu.ingest import actions

    return actions.open_docking(
        actor=actions.station_actor(station),
        station=station,
        serial=serial,
        clock_offset_seconds=clock_offset_seconds,
        **extra,
    )


@pytest.fixture
def docking(station, recorder):
    return open_docking(station, battery_pct=80, files_found=3)


# --- a tus client on the Django test client -------------------------------


def metadata(**values) -> str:
    return ",".join(
        f"{k} {base64.b64encode(str(v).encode()).decode()}"
        for k, v in values.items()
        if v is not None
    )


@dataclass
class Tus:
    client: Client
    token: str

    def headers(self, **extra) -> dict:
        h = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {self.token}"}
        h.update({k.replace("_", "-"): v for k, v in extra.items()})
        return h

    def create(
        self,
        data: bytes,
        filename: str,
        *,
        docking=None,
        sha256=None,
        sm3=None,
        length=None,
        **meta,
    ):
        s, m = digests(data)
        md = metadata(
            docking=docking.pk if docking is not None else None,
            filename=filename,
            sha256=sha256 or s,
            sm3=sm3 or m,
            **meta,
        )
        return self.client.post(
            "/api/v1/uploads/",
            headers=self.headers(
                Upload_Length=str(len(data) if length is None else length), Upload_Metadata=md
            ),
        )

    def patch(
        self,
        url: str,
        offset: int,
        chunk: bytes,
        *,
        checksum: str | None = None,
        content_type="application/offset+octet-stream",
        **extra,
    ):
        headers = self.headers(Upload_Offset=str(offset), **extra)
        if checksum:
            headers["Upload-Checksum"] = checksum
        return self.client.generic(
            "PATCH", url, data=chunk, content_type=content_type, headers=headers
        )

    def head(self, url: str):
        return self.client.head(url, headers=self.headers())

    def delete(self, url: str):
        return self.client.delete(url, headers=self.headers())

    def upload(self, data: bytes, filename: str, *, docking=None, chunk: int = 0, **kw):
        """Create and send the whole file; returns the last response."""
        created = self.create(data, filename, docking=docking, **kw)
        assert created.status_code == 201, created.content
        if not data:
            return created
        url = created["Location"]
        step = chunk or len(data)
        resp = None
        for offset in range(0, len(data), step):
            piece = data[offset : offset + step]
            resp = self.patch(url, offset, piece, checksum=sha1_header(piece))
            if resp.status_code != 204:
                return resp
        return resp


def sha1_header(chunk: bytes, algo: str = "sha1") -> str:
    return f"{algo} {base64.b64encode(hashlib.new(algo, chunk).digest()).decode()}"


@pytest.fixture
def tus(token):
    return Tus(Client(), token)
