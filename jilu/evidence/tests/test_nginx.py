"""The production configuration, for real: nginx (as ``jilu nginx-conf`` writes it)
in front of Jilu with ``JILU_SERVE_MODE=accel`` and signed play links.

A play is checked with ``restrict()`` and audited once by Django (C6.3,
C6.5.7), then nginx serves the ranges from a link bound to the session cookie
and an expiry; without that cookie, with a changed signature or after expiry
nginx refuses. Downloads pass each request through Django (X-Accel-Redirect).
The store itself is never reachable directly.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client

from jilu.audit.models import AuditEntry
from jilu.conf import S3Config
from jilu.evidence import links
from jilu.evidence.management.commands.nginx_conf import render
from jilu.evidence.tests.conftest import use_store
from jilu.evidence.tests.recordings import make_recording, officers_recording, recorder_for

NGINX = "/usr/sbin/nginx"
SECRET = "test-link-secret-0123456789abcdef"
DATA = bytes((i * 13 + 5) % 256 for i in range(200_003))
START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
RANGE = {"Range": "bytes=0-"}  # what a media element sends


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not start on port {port}")


@pytest.fixture(params=["file", "s3"])
def production(request, transactional_db, settings, tmp_path, live_server):
    """Settings as in production, and nginx from ``jilu nginx-conf`` in front of
    live_server; nginx reads the store directory, or proxies to the S3 store."""
    from conftest import _require

    _require(NGINX)
    cache.clear()
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        use_store(settings, tmp_path, "s3", endpoint=endpoint)
    else:
        use_store(settings, tmp_path, "file")
    settings.SERVE_MODE = "accel"
    settings.SERVE_LINK_SECRET = SECRET
    settings.SERVE_LINK_SECONDS = 600
    port = _free_port()
    work = tmp_path / "nginx"
    work.mkdir()
    upstream = urlsplit(live_server.url).netloc
    conf = work / "nginx.conf"
    conf.write_text(render(listen=f"127.0.0.1:{port}", upstreams=[upstream], standalone=work))
    check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_port(port)
        yield port
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def rec(production, people, tree):
    return officers_recording(people, tree, start=START, data=DATA)


def _session(person) -> str:
    client = Client()
    client.force_login(person)
    return client.cookies["sessionid"].value


def _get(port: int, path: str, *, session: str | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    sent = dict(headers or {})
    if session:
        sent["Cookie"] = f"sessionid={session}"
    conn.request("GET", path, headers=sent)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def _link(port: int, rec, session: str) -> str:
    # As a media element asks: always with a Range (a play is never a whole copy, C6.3).
    response, _ = _get(
        port, f"/recordings/{rec.pk}/play/", session=session, headers={"Range": "bytes=0-"}
    )
    assert response.status == 302, response.status
    location = response.getheader("Location")
    assert location.startswith("/_jilu_media/objects/")
    assert response.getheader("Cache-Control") == "no-store"
    return location


def test_play_is_authorised_once_then_nginx_serves_exact_ranges(production, rec, people):
    port = production
    session = _session(people["officer"])
    link = _link(port, rec, session)
    for start, end in [(0, 0), (0, 99), (12_345, 67_890), (199_000, 200_002)]:
        response, body = _get(
            port, link, session=session, headers={"Range": f"bytes={start}-{end}"}
        )
        assert response.status == 206
        assert body == DATA[start : end + 1]
        assert response.getheader("Content-Range") == f"bytes {start}-{end}/{len(DATA)}"
        assert response.getheader("Content-Type") == "video/mp4"
        assert "private" in response.getheader("Cache-Control")
    response, body = _get(port, link, session=session, headers={"Range": "bytes=0-"})
    assert response.status == 206 and body == DATA
    # One play, one audit entry, however many ranges followed (C6.5.7).
    plays = AuditEntry.objects.filter(action="evidence.recording.play", object_id=str(rec.pk))
    assert plays.count() == 1
    assert plays.get().actor_id == people["officer"].pk


def test_a_link_is_refused_without_its_session_or_when_changed_or_expired(production, rec, people):
    port = production
    session = _session(people["officer"])
    link = _link(port, rec, session)
    # Copied into another browser (no cookie, or someone else's session): refused.
    assert _get(port, link, headers=RANGE)[0].status == 403
    assert _get(port, link, session=_session(people["inspector"]), headers=RANGE)[0].status == 403
    # Any change to the path, the expiry or the signature: refused.
    path, query = link.split("?")
    expires = int(parse_qs(query)["e"][0])
    later = link.replace(f"&e={expires}", f"&e={expires + 3600}").replace(
        f"?e={expires}", f"?e={expires + 3600}"
    )
    assert later != link
    assert _get(port, later, session=session, headers=RANGE)[0].status == 403
    other = path[:-10] + ("0" if path[-10] != "0" else "1") + path[-9:] + "?" + query
    assert _get(port, other, session=session, headers=RANGE)[0].status == 403
    assert _get(port, path, session=session, headers=RANGE)[0].status == 403
    if "X-Amz-" in query or "Signature=" in query:
        # S3: the store's own signature covers the version; another is refused there.
        # (403 from a store that checks it; moto, which does not, has no such
        # version: 404). Never another version's bytes.
        forged = link.replace("versionId=", "versionId=0")
        assert _get(port, forged, session=session, headers=RANGE)[0].status in (403, 404)
    # Signed correctly but expired: 410, and the play address issues a fresh link.
    store = rec.sha256
    old = links.signed_link(
        sha256=store, content_type="video/mp4", session_key=session, now=time.time() - 3600
    )
    assert _get(port, old, session=session, headers=RANGE)[0].status == 410
    fresh = _link(port, rec, session)
    assert _get(port, fresh, session=session, headers={"Range": "bytes=0-"})[0].status == 206


def test_c6_3_a_link_serves_ranges_only_never_the_whole_file(production, rec, people):
    """C6.3: a valid link, its session's cookie, but no single byte range (as a script
    copying the file would ask): nginx refuses, like Django's play address."""
    port = production
    session = _session(people["officer"])
    link = _link(port, rec, session)
    for headers in ({}, {"Range": "bytes=0-1,5-6"}, {"Range": "items=0-1"}):
        response, body = _get(port, link, session=session, headers=headers)
        assert response.status == 403, headers
        assert DATA[:100] not in body
    response, body = _get(port, link, session=session, headers={"Range": "bytes=-100"})
    assert response.status == 206 and body == DATA[-100:]
    # Django's play address refuses the Range-less request itself, audited.
    response, _ = _get(port, f"/recordings/{rec.pk}/play/", session=session)
    assert response.status == 403
    assert AuditEntry.objects.filter(
        action="evidence.recording.refused", object_id=str(rec.pk), details__reason="whole_object"
    ).exists()


def test_store_is_never_reachable_directly(production, rec, people):
    port = production
    session = _session(people["officer"])
    relative = f"objects/{rec.sha256[:2]}/{rec.sha256[2:4]}/{rec.sha256}"
    assert _get(port, f"/_jilu_store/{relative}", session=session)[0].status == 404
    assert (
        _get(port, f"/_jilu_media/{relative}.mp4", session=session, headers=RANGE)[0].status == 403
    )


def test_out_of_scope_play_is_refused_by_django_and_audited(production, rec, make_person):
    port = production
    outsider = make_person("outsider", unit="squad3", roles=("officer",))
    response, body = _get(port, f"/recordings/{rec.pk}/play/", session=_session(outsider))
    assert response.status == 404
    assert b"_jilu_media" not in body
    assert AuditEntry.objects.filter(
        action="evidence.recording.refused", object_id=str(rec.pk)
    ).exists()


def test_download_goes_through_django_each_time(production, rec, people):
    """C6.3: an archivist's copy under an approved 调用单, checked by Django each time."""
    from jilu.access.testing import grant_copy

    port = production
    grant_copy(people["archivist"], [rec])
    session = _session(people["archivist"])
    response, body = _get(port, f"/recordings/{rec.pk}/download/", session=session)
    assert response.status == 200 and body == DATA
    assert response.getheader("Content-Disposition").startswith("attachment;")
    response, body = _get(
        port,
        f"/recordings/{rec.pk}/download/",
        session=session,
        headers={"Range": "bytes=100-199"},
    )
    assert response.status == 206 and body == DATA[100:200]
    assert AuditEntry.objects.filter(
        action="evidence.recording.download", object_id=str(rec.pk)
    ).exists()


def test_api_play_uses_accel_not_links(production, rec, people):
    """An API client has no session cookie: each request is checked by Django."""
    from datetime import timedelta

    from django.utils import timezone

    from jilu.org.api_auth import token_digest
    from jilu.org.models import ApiToken

    port = production
    token = "jpt_test-token-for-the-nginx-api-check"
    ApiToken.objects.create(
        person=people["officer"],
        digest=token_digest(token),
        prefix=token[:8],
        expires_at=timezone.now() + timedelta(days=1),
    )
    response, body = _get(
        port,
        f"/api/v1/recordings/{rec.pk}/content",
        headers={"Authorization": f"Bearer {token}", "Range": "bytes=5-14"},
    )
    assert response.status == 206 and body == DATA[5:15]


# --- the configuration command -----------------------------------------------


def test_nginx_conf_refuses_settings_it_cannot_serve(settings, tmp_path):
    settings.SERVE_MODE = "python"
    with pytest.raises(CommandError, match="JILU_SERVE_MODE=accel"):
        call_command("nginx_conf")
    settings.SERVE_MODE = "accel"
    settings.STORAGE_KIND = "s3"
    # AWS itself (no endpoint): nginx has no store address to proxy to.
    settings.S3 = S3Config(None, "evidence", None, None, "cn-north-1", 0)
    with pytest.raises(CommandError, match="JILU_S3_ENDPOINT is unset.*JILU_SERVE_MODE=s3"):
        call_command("nginx_conf")


def test_nginx_conf_proxies_to_the_s3_store(settings, capsys):
    settings.SERVE_MODE = "accel"
    settings.STORAGE_KIND = "s3"
    settings.S3 = S3Config("https://minio.city.example:9000", "evidence", "k", "s", "r", 0)
    settings.SERVE_LINK_SECRET = SECRET
    call_command("nginx_conf")
    out = capsys.readouterr().out
    assert "upstream jilu_store {\n    server minio.city.example:9000;" in out
    assert "proxy_pass http://jilu_store/evidence/$obj?$jilu_store_args;" in out
    assert "proxy_set_header Host minio.city.example:9000;" in out
    assert 'proxy_set_header Authorization "";' in out and "proxy_ssl_server_name on;" in out
    assert "alias" not in out  # nothing is read from a directory


def test_nginx_conf_without_secret_serves_accel_only(settings, tmp_path, capsys):
    settings.SERVE_MODE = "accel"
    settings.STORAGE_KIND = "file"
    settings.STORE_ROOT = tmp_path / "store"
    settings.SERVE_LINK_SECRET = ""
    call_command("nginx_conf", "--listen", "8080", "--upstream", "10.0.0.5:8000")
    out = capsys.readouterr().out
    assert "server 10.0.0.5:8000;" in out and "listen 8080;" in out
    assert f"alias {tmp_path / 'store'}/;" in out and "internal;" in out
    assert "secure_link" not in out


def test_link_secret_is_checked_at_start_up(monkeypatch):
    from jilu import conf

    monkeypatch.setenv("JILU_SERVE_LINK_SECRET", "short")
    with pytest.raises(conf.ConfigError, match="at least 24"):
        conf.env_link_secret("JILU_SERVE_LINK_SECRET")
    monkeypatch.setenv("JILU_SERVE_LINK_SECRET", 'abc"; return 200; #' + "x" * 30)
    with pytest.raises(conf.ConfigError, match="JILU_SERVE_LINK_SECRET contains"):
        conf.env_link_secret("JILU_SERVE_LINK_SECRET")
    monkeypatch.setenv("JILU_SERVE_LINK_SECRET", SECRET)
    assert conf.env_link_secret("JILU_SERVE_LINK_SECRET") == SECRET


def test_plays_use_links_only_in_the_production_configuration(settings, tmp_path):
    use_store(settings, tmp_path, "file")
    settings.SERVE_MODE = "python"
    settings.SERVE_LINK_SECRET = SECRET
    assert not links.links_enabled()
    settings.SERVE_MODE = "accel"
    assert links.links_enabled()
    settings.SERVE_LINK_SECRET = ""
    assert not links.links_enabled()


def test_signature_is_what_nginx_computes():
    # nginx: base64url(md5("$secure_link_expires$uri$cookie_sessionid secret")), unpadded.
    import base64
    import hashlib

    expected = base64.urlsafe_b64encode(
        hashlib.md5(b"1700000000/_jilu_media/a.mp4sess secret").digest()
    )
    assert links.signature("/_jilu_media/a.mp4", 1_700_000_000, "sess", "secret") == (
        expected.decode().rstrip("=")
    )
    assert Path(NGINX).name == "nginx"


# --- in a real browser ----------------------------------------------------------


@pytest.mark.browser
def test_browser_plays_through_nginx_and_renews_an_expired_link(
    production, browser, people, tree, settings
):
    """The officer's player gets its bytes from nginx by a signed link; when a link
    has expired the page asks the play address for a new one and plays on."""
    from conftest import sign_in
    from jilu.evidence.tests.test_browser import small_mp4

    port = production
    officer = people["officer"]
    rec = make_recording(
        officer=officer,
        recorder=recorder_for(officer, tree["squad1"], "A000001"),
        start=START,
        seconds=4,
        data=small_mp4(),
        integrity="complete",
        name="A000001_900001_20261120090000_0001.MP4",
    )
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.base_url = f"http://127.0.0.1:{port}"
    media_requests: list[tuple[str, int]] = []
    page.on("response", lambda r: media_requests.append((urlsplit(r.url).path, r.status)))
    try:
        sign_in(page, "officer")
        page.wait_for_url(page.base_url + "/")
        page.goto(f"{page.base_url}/recordings/{rec.pk}/")
        page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; }")
        page.evaluate("() => document.querySelector('video').play()")
        page.wait_for_function("() => document.querySelector('video').readyState >= 3")
        page.evaluate("() => { document.querySelector('video').currentTime = 2.0; }")
        page.wait_for_function(
            "() => { const v = document.querySelector('video');"
            " return !v.seeking && v.readyState >= 3 && v.currentTime > 2.05; }"
        )
        assert any(p.startswith("/_jilu_media/") and s == 206 for p, s in media_requests)
        # A link that has expired (as after a long pause): the page renews it.
        session = next(c["value"] for c in context.cookies() if c["name"] == "sessionid")
        expired = links.signed_link(
            sha256=rec.sha256,
            content_type="video/mp4",
            session_key=session,
            now=time.time() - 3600,
        )
        media_requests.clear()
        page.evaluate(
            "(src) => { const v = document.querySelector('video'); v.src = src; v.load(); }",
            expired,
        )
        page.wait_for_function(
            "() => { const v = document.querySelector('video');"
            " return v.readyState >= 3 && v.src.indexOf('renew=') >= 0; }"
        )
        statuses = [s for p, s in media_requests if p.startswith("/_jilu_media/")]
        assert statuses[0] == 410 and 206 in statuses[1:]
        assert any(p == f"/recordings/{rec.pk}/play/" for p, _ in media_requests)
    finally:
        context.close()
