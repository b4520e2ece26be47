"""An independent tus client (tuspy) against a live server; interruptions and a killed server.

C6.5.4: an interrupted upload resumes from the last acknowledged byte and the
result is the exact bytes the station declared; nothing half-received is
ever visible.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from tusclient import client as tus_client

from jilu.conf import database_url
from jilu.evidence.models import Recording
from jilu.ingest.models import Upload
from jilu.ingest.tests.conftest import digests, hours_ago, mp4, name_for

pytestmark = pytest.mark.django_db(transaction=True)


def _big_media(seed: int) -> bytes:
    """A real MP4 of a few hundred kilobytes (enough for several chunks)."""
    return mp4(seed, frames=60)


def _open_docking(base: str, token: str) -> int:
    resp = requests.post(
        f"{base}/api/v1/station/dockings",
        json={
            "serial": "A000123",
            "user_no": "900001",
            "device_clock": "2026-11-26T09:00:03+08:00",
            "station_clock": "2026-11-26T01:00:00.512Z",
            "clock_offset_seconds": 2.488,
            "battery_pct": 72,
            "storage_free_bytes": 1234,
            "storage_total_bytes": 5678,
            "files_found": 1,
            "info_problem": "",
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _uploader(base, token, data, docking_id, filename, url=None, chunk=64 * 1024):
    sha256, sm3 = digests(data)
    c = tus_client.TusClient(
        f"{base}/api/v1/uploads/", headers={"Authorization": f"Bearer {token}"}
    )
    return c.uploader(
        file_stream=io.BytesIO(data),
        url=url,
        chunk_size=chunk,
        upload_checksum=True,
        metadata={"docking": str(docking_id), "filename": filename, "sha256": sha256, "sm3": sm3},
    )


def _interrupted_patch(url: str, token: str, offset: int, body: bytes, send: int) -> None:
    """A PATCH whose connection drops after ``send`` of ``len(body)`` bytes."""
    parts = urlsplit(url)
    head = (
        f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head + body[:send])
        time.sleep(0.3)
        sock.shutdown(socket.SHUT_WR)
        try:
            sock.recv(4096)
        except OSError:
            pass


def _wait_offset(url: str, token: str, at_least: int) -> int:
    deadline = time.monotonic() + 10
    while True:
        resp = requests.head(
            url, headers={"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}, timeout=5
        )
        offset = int(resp.headers["Upload-Offset"])
        if offset >= at_least or time.monotonic() > deadline:
            return offset
        time.sleep(0.1)


def test_tuspy_uploads_with_checksums_and_the_station_api_confirms(live_server, token, recorder):
    data = _big_media(1)
    base = live_server.url
    docking_id = _open_docking(base, token)
    name = name_for(hours_ago(2))
    up = _uploader(base, token, data, docking_id, name)
    up.upload()
    headers = up.request.response_headers
    rec = Recording.objects.get(pk=int(headers["jilu-recording-id"]))
    assert headers["jilu-sha256"] == hashlib.sha256(data).hexdigest() == rec.sha256
    assert rec.sm3 == hashlib.new("sm3", data).hexdigest()
    held = requests.get(
        f"{base}/api/v1/station/files/{rec.sha256}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert held.status_code == 200
    assert held.json() == {
        "sha256": rec.sha256,
        "sm3": rec.sm3,
        "size": len(data),
        "recording_id": rec.pk,
        "quarantine_id": None,
    }


def test_tuspy_resumes_with_a_new_client_after_an_interruption(live_server, token, recorder):
    data = _big_media(2)
    base = live_server.url
    docking_id = _open_docking(base, token)
    name = name_for(hours_ago(2))
    first = _uploader(base, token, data, docking_id, name)
    first.upload_chunk()  # one confirmed chunk, then the station goes away
    url = first.url
    assert first.offset == 64 * 1024
    # The next chunk is cut off mid-way with no checksum: the server keeps what arrived.
    _interrupted_patch(url, token, first.offset, data[first.offset : first.offset + 50_000], 20_000)
    kept = _wait_offset(url, token, first.offset + 1)
    assert first.offset <= kept <= first.offset + 20_000
    upload = Upload.objects.get()
    assert upload.state == Upload.State.RECEIVING and not Recording.objects.exists()
    # A new client instance learns the offset with HEAD and sends only the rest.
    second = _uploader(base, token, data, docking_id, name, url=url)
    assert second.offset == kept
    second.upload()
    rec = Recording.objects.get()
    assert rec.sha256 == hashlib.sha256(data).hexdigest()
    assert rec.size == len(data)
    assert Upload.objects.get().state == Upload.State.COMPLETE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(tmp: Path, port: int, settings) -> subprocess.Popen:
    from django.db import connection

    env = {
        **os.environ,
        "JILU_DATA_DIR": str(tmp / "data"),
        "JILU_DATABASE_URL": database_url(connection.settings_dict),
        "JILU_STORE_ROOT": str(settings.STORE_ROOT),
        "JILU_SPOOL_DIR": str(settings.SPOOL_DIR),
        "JILU_SECRET_KEY": "x" * 50,
        # A test machine, on PostgreSQL in that pass: not a city's roles and keys.
        "JILU_DEPLOYMENT": "embedded",
        "DJANGO_SETTINGS_MODULE": "jilu.settings",
    }
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "jilu.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--timeout",
            "60",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.options(f"http://127.0.0.1:{port}/api/v1/uploads/", timeout=5)
            return proc
        except requests.RequestException:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("gunicorn did not start")


def test_a_server_killed_mid_upload_resumes_from_the_last_acknowledged_byte(
    tmp_path, settings, token, recorder, transactional_db
):
    """SIGKILL the server while a PATCH is half received; after a restart the upload resumes."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data = _big_media(3)
    proc = _start_server(tmp_path, port, settings)
    try:
        docking_id = _open_docking(base, token)
        name = name_for(hours_ago(2))
        first = _uploader(base, token, data, docking_id, name)
        first.upload_chunk()
        acknowledged = first.offset
        # Half a chunk is on the wire when the server dies.
        parts = urlsplit(first.url)
        body = data[acknowledged : acknowledged + 60_000]
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(
            (
                f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Authorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n"
                f"Upload-Offset: {acknowledged}\r\n"
                "Content-Type: application/offset+octet-stream\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body[:30_000]
        )
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        sock.close()
        proc = _start_server(tmp_path, port, settings)
        second = _uploader(base, token, data, docking_id, name, url=first.url)
        assert second.offset == acknowledged
        second.upload()
        headers = second.request.response_headers
        assert headers["jilu-sha256"] == hashlib.sha256(data).hexdigest()
        rec = Recording.objects.get()
        assert (rec.sha256, rec.sm3, rec.size) == (*digests(data), len(data))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)
