"""Progress per file and overall: bytes, rate, time left; the server's view (protocol §6)."""

from __future__ import annotations

import io
import time

from jilu_station.progress import Console, Ticker, VolumeProgress, human_bytes, human_seconds


def test_line_and_server_view():
    out = io.StringIO()
    p = VolumeProgress("A000123", Console(out, interval=0.01))
    p.add(1, "DCIM/a.MP4", 100 * 2**20)
    p.add(2, "DCIM/b.MP4", 100 * 2**20)
    p.add(3, "DCIM/c.JPG", 10)
    p.copied(1, 50 * 2**20)
    time.sleep(0.3)
    line = p.line()
    assert line.startswith("[A000123] 0/3 files · 25.0 MiB of 200.0 MiB")
    assert "MB/s" in line and "left" in line and "copying a.MP4 50%" in line
    p.state(1, "spooled")
    p.state(1, "uploading")
    p.uploaded(1, 99 * 2**20, last=True)
    assert "server verifying a.MP4" in p.line()
    p.state(1, "verified")
    p.state(3, "failed")
    assert p.line().startswith("[A000123] 2/3 files")
    assert p.for_server() == [
        {"name": "DCIM/a.MP4", "size": 100 * 2**20, "done": 100 * 2**20, "state": "verified"},
        {"name": "DCIM/b.MP4", "size": 100 * 2**20, "done": 0, "state": "found"},
        {"name": "DCIM/c.JPG", "size": 10, "done": 0, "state": "failed"},
    ]


def test_ticker_posts_only_changes_and_survives_a_failing_post():
    out = io.StringIO()
    p = VolumeProgress("A000123", Console(out, interval=0.05))
    p.add(1, "DCIM/a.MP4", 10)
    posts: list[list[dict]] = []

    def post(files: list[dict]) -> None:
        posts.append(files)
        if len(posts) == 1:
            raise OSError("server away")

    ticker = Ticker(p, post=post, post_every=0.05)
    ticker.start()
    time.sleep(0.3)
    p.copied(1, 10)
    time.sleep(0.3)
    ticker.stop()
    # The failed post is tried again at the next tick, then one more after the change only.
    assert [f[0]["done"] for f in posts] == [0, 0, 10]
    assert "could not report progress" in out.getvalue()
    assert "[A000123] 0/1 files" in out.getvalue()


def test_human_units():
    assert human_bytes(512) == "512 B"
    assert human_bytes(3 * 2**30) == "3.0 GiB"
    assert human_seconds(59) == "59 s"
    assert human_seconds(125) == "2 min 05 s"
    assert human_seconds(7300) == "2 h 01 min"
