"""The evidence store goes down in the middle of an ingest and comes back.

The server's S3 store (a moto server on its own port) is stopped for about
30 s after the station has verified two files, then started again on the same
port. Meanwhile the server answers 503 with Retry-After; the station keeps
retrying (saying so), never gives up on the files still on the recorder, and
exits 0 once every file is verified. Nothing that was complete before the
outage is sent again: each file has exactly one upload and the PATCH bodies add
up to the volume's bytes exactly (C6.5.4: nothing lost, nothing sent twice).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from jilu.evidence.tests.conftest import Behind, _free_port, use_store
from tests.station.helpers import independent_digests, make_volume, media_files

OUTAGE_SECONDS = 30


class MotoOnPort:
    """An S3-protocol server that can be stopped and started again on one port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.server = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket: connections are refused."""
        if self.server is not None:
            self.server.stop()
            self.server._server.server_close()
            self.server = None


@pytest.fixture
def s3_server():
    moto = MotoOnPort()
    moto.start()
    yield moto
    moto.stop()


def _wait_for(condition, what: str, limit: float = 300.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def test_store_outage_during_ingest_is_waited_out(jilu_server, s3_server, settings, tmp_path: Path):
    from jilu.evidence.models import Recording
    from jilu.evidence.store import get_store
    from jilu.ingest.models import Upload

    get_store.cache_clear()
    store = use_store(settings, tmp_path / "server", "s3", endpoint=s3_server.endpoint)
    volume = make_volume(
        tmp_path / "vol",
        user_no=jilu_server.officer.user_no,
        hours=0.05,
        segment_minutes=1,
        bitrate_kbps=330,
        audio=1,
        photos=1,
    )
    digests = {
        p.relative_to(volume).as_posix(): independent_digests(p) for p in media_files(volume)
    }
    marker = tmp_path / "paused"
    proc = jilu_server.popen(
        "ingest",
        str(volume),
        "--uploads",
        "1",
        "--chunk-mib",
        "1",
        "--retry-for",
        "0",  # the default: never give up on a file that is still on the recorder
        JILU_STATION_PAUSE_AT="verified:2",
        JILU_STATION_PAUSE_FILE=str(marker),
    )
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        _wait_for(marker.exists, "the station to verify two files")
        before = set(
            Upload.objects.filter(state=Upload.State.COMPLETE).values_list("sha256", flat=True)
        )
        assert len(before) == 2

        s3_server.stop()
        stopped = time.monotonic()
        marker.unlink()  # the station goes on with the third file while the store is down
        _wait_for(
            lambda: (
                sum("server not available" in line for line in stderr) >= 2
                and time.monotonic() - stopped >= OUTAGE_SECONDS
            ),
            "the station to retry through the outage",
        )
        assert proc.poll() is None, "the station gave up while the store was down"
        s3_server.start()
        stdout = proc.stdout.read()  # stderr is read by the reader thread
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    log = "".join(stderr)
    summary = json.loads(stdout.strip().splitlines()[-1])

    assert proc.returncode == 0, log
    assert summary["files_found"] == len(digests) == 5
    assert summary["verified"] == 5 and summary["failed"] == 0
    # The outage was seen and waited out: 503 from the server, then back.
    assert "HTTP 503 证据存储暂时" in log and "server not available" in log, log
    assert "server available again" in log, log
    # Nothing complete was sent again: one upload per file, every byte sent once.
    uploads = list(Upload.objects.values_list("sha256", "state"))
    assert sorted(sha for sha, _ in uploads) == sorted(sha for sha, _ in digests.values())
    assert {state for _, state in uploads} == {Upload.State.COMPLETE}
    assert before <= {sha for sha, _ in uploads}
    # No byte went twice: the PATCH answered 503 (its bytes kept, completion pending)
    # is not counted as acknowledged, every other one is, once.
    assert summary["bytes"] == sum((volume / rel).stat().st_size for rel in digests)
    assert summary["bytes"] - 1024 * 1024 <= summary["bytes_sent"] <= summary["bytes"]
    # Every file is held once, with the SM3 computed independently, and is in the bucket.
    for sha, sm3 in digests.values():
        assert Recording.objects.get(sha256=sha).sm3 == sm3
    assert set(Behind(store).objects()) == {sha for sha, _ in digests.values()}
