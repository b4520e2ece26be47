"""A second independent tus client, tus-js-client under Node, against a live server.

Interoperability of the upload endpoint (docs/station-protocol.md §4): a client
we did not write creates an upload, is interrupted after its first confirmed
chunk, and a new process resumes from the server's offset; the recording holds
exactly the declared bytes (C6.5.4).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from jilu.evidence.models import Recording
from jilu.ingest.models import Upload
from jilu.ingest.tests.conftest import digests, hours_ago, name_for
from jilu.ingest.tests.test_tus_interop import _big_media, _open_docking

pytestmark = pytest.mark.django_db(transaction=True)

INTEROP = Path(__file__).resolve().parents[3] / "tests" / "interop"
NODE = shutil.which("node")


def _node_upload(base, token, path, metadata, mode, url=None) -> dict:
    assert NODE, (
        "Node.js is needed for the tus-js-client interoperability test (make test installs it)"
    )
    assert (INTEROP / "node_modules" / "tus-js-client").is_dir(), (
        "tus-js-client is not installed: run `npm ci --prefix tests/interop` (make test does)"
    )
    args = [NODE, str(INTEROP / "tus_upload.mjs"), f"{base}/api/v1/uploads/", token, str(path)]
    args += [json.dumps(metadata), mode] + ([url] if url else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_tus_js_client_uploads_and_resumes_after_an_interruption(
    live_server, token, recorder, tmp_path
):
    data = _big_media(7)
    path = tmp_path / "segment.mp4"
    path.write_bytes(data)
    sha256, sm3 = digests(data)
    metadata = {
        "docking": str(_open_docking(live_server.url, token)),
        "filename": name_for(hours_ago(2)),
        "sha256": sha256,
        "sm3": sm3,
    }
    first = _node_upload(live_server.url, token, path, metadata, "interrupt")
    assert first["done"] is False and first["url"]
    assert 0 < first["offset"] < len(data)
    assert Upload.objects.get().state == Upload.State.RECEIVING
    assert not Recording.objects.exists()  # nothing half-received is visible

    second = _node_upload(live_server.url, token, path, metadata, "finish", url=first["url"])
    assert second["done"] is True
    rec = Recording.objects.get()
    assert second["headers"]["jilu-recording-id"] == str(rec.pk)
    assert rec.sha256 == hashlib.sha256(data).hexdigest() == second["headers"]["jilu-sha256"]
    assert rec.sm3 == hashlib.new("sm3", data).hexdigest()
    assert rec.size == len(data)
    assert Upload.objects.count() == 1  # resumed, not uploaded again
