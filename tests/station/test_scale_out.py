"""Scale-out (issue 15): two web machines behind a round-robin proxy take the
uploads of five stations at once, on PostgreSQL, RQ (Redis) and an S3 store.

Each web process has its own local directories; consecutive PATCHes of one
upload land on either. Mid-upload one web process is killed (its machine is
lost), and one ``jilu worker`` is killed in the middle of a task. Every file of
every volume is verified exactly once (C6.5.4: nothing acknowledged is lost;
C2.1: each recorder's recordings reach the server), there are no duplicate
recordings (C6.5.3), every task completes once, and nothing is left staged in
the bucket: no multipart upload, no staging object (any version).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.station import cluster
from tests.station.helpers import STATION, independent_digests, make_volume, media_files

STATIONS = 5

SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from jilu.devices import actions as devices
from jilu.org import actions as org

a = "system:test"
unit = None
for code, name, level in [
    ("350200000000", "厦门市城市管理行政执法局", "city"),
    ("350203000000", "思明区城市管理行政执法局", "district"),
    ("350203000001", "思明区城市管理行政执法大队", "brigade"),
    ("350203000101", "中华中队", "squad"),
]:
    unit = org.create_unit(
        actor=a, parent=unit, code=code, name=name, short_name=name, level=level
    )
out = []
for i in range(%(stations)d):
    person = org.create_person(
        actor=a, username=f"officer{i}", name=f"队员{i}", unit=unit, roles=["officer"],
        frontline=True, user_no=f"35020{i}", cert_no=f"C000000{i}",
    )
    _station, token = devices.create_workstation(actor=a, unit=unit, name=f"工作站{i}")
    recorder = devices.register_recorder(actor=a, serial=f"A00010{i}", unit=unit)
    devices.issue_recorder(
        actor=a, recorder=recorder, person=person, at=timezone.now() - timedelta(days=30)
    )
    out.append({"token": token, "serial": recorder.serial, "user_no": person.user_no})
print(json.dumps(out))
"""

REPORT = """
import json
from collections import Counter
from jilu.audit.models import AuditEntry
from jilu.evidence.models import Recording
from jilu.ingest.models import QuarantineItem, Upload

recordings = [
    {"id": r.pk, "sha256": r.sha256, "sm3": r.stored_object.sm3, "serial": r.recorder.serial,
     "media": getattr(getattr(r, "media", None), "integrity", None)}
    for r in Recording.objects.select_related("recorder", "stored_object")
]
processed = Counter(
    AuditEntry.objects.filter(action="evidence.media.processed").values_list("object_id", flat=True)
)
print(json.dumps({
    "recordings": recordings,
    "processed": dict(processed),
    "uploads": dict(Counter(Upload.objects.values_list("state", flat=True))),
    "quarantined": QuarantineItem.objects.count(),
}))
"""

RECEIVING_WITH_BYTES = (
    "SELECT count(*) FROM ingest_upload WHERE state = 'receiving' AND \"offset\" > 0"
)


def _reachable_or_skip(redis_base: str) -> None:
    import psycopg
    import redis

    try:
        psycopg.connect(cluster.PG_ADMIN_URL, connect_timeout=3).close()
    except Exception as exc:
        pytest.skip(f"PostgreSQL at {cluster.PG_ADMIN_URL} is unreachable ({exc})")
    try:
        redis.Redis.from_url(f"{redis_base}/0", socket_connect_timeout=3).ping()
    except Exception as exc:
        pytest.skip(f"Redis at {redis_base} is unreachable ({exc})")


@pytest.fixture
def database():
    """A fresh PostgreSQL database of this test's own, dropped afterwards."""
    import psycopg

    name = f"jilu_scaleout_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(cluster.PG_ADMIN_URL, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    base = cluster.PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def moto_s3(tmp_path):
    """An S3 server in a process of its own, with a versioned bucket (as a city's)."""
    import boto3

    port = cluster.free_port()
    with open(tmp_path / "moto.log", "ab") as log:
        proc = subprocess.Popen(
            [str(cluster.BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        cluster.wait_until(lambda: cluster.answers(endpoint), "the S3 server to answer", 30)
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        bucket = "jilu-scaleout"
        client.create_bucket(Bucket=bucket)
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        yield (
            client,
            bucket,
            {
                "JILU_S3_ENDPOINT": endpoint,
                "JILU_S3_BUCKET": bucket,
                "JILU_S3_ACCESS_KEY": "testing",
                "JILU_S3_SECRET_KEY": "testing",
                "JILU_S3_REGION": "us-east-1",
            },
        )
    finally:
        cluster.stop(proc)


def _patches_by_upload(logs: list[Path]) -> dict[str, set[int]]:
    """Which web process (by index) answered PATCHes of each upload."""
    seen: dict[str, set[int]] = {}
    pattern = re.compile(r'"PATCH /api/v1/uploads/([0-9a-f-]{36})')
    for index, log in enumerate(logs):
        if not log.exists():
            continue
        for match in pattern.finditer(log.read_text(errors="replace")):
            seen.setdefault(match.group(1), set()).add(index)
    return seen


def test_two_web_machines_five_stations_one_web_and_one_worker_lost(tmp_path, request, moto_s3):
    _reachable_or_skip(cluster.REDIS)
    started = time.monotonic()
    redis_url = request.getfixturevalue("redis_url")
    database = request.getfixturevalue("database")
    client, bucket, s3_env = moto_s3
    city = cluster.Cluster(tmp_path, database, s3_env, redis_url)
    try:
        city.migrate()
        stations = city.django(SETUP % {"stations": STATIONS})
        volumes = []
        for i, st in enumerate(stations):
            volume = make_volume(
                tmp_path / f"volume{i}",
                serial=st["serial"],
                user_no=st["user_no"],
                hours=0.05,
                segment_minutes=1.5,
                bitrate_kbps=900,
            )
            volumes.append(volume)
        files = [f for v in volumes for f in media_files(v)]
        expected = {independent_digests(f) for f in files}
        assert len(expected) == len(files) == 2 * STATIONS

        ports = [cluster.free_port() for _ in range(3)]
        webs = [city.web(f"web{i}", ports[i]) for i in range(2)]
        for port in ports[:2]:
            cluster.wait_until(
                lambda p=port: cluster.answers(f"http://127.0.0.1:{p}/api/v1/uploads/"),
                f"web process on port {port}",
            )
        city.nginx(ports[2], ports[0], ports[1])
        proxy = f"http://127.0.0.1:{ports[2]}"
        cluster.wait_until(lambda: cluster.answers(f"{proxy}/api/v1/uploads/"), "nginx")
        workers = [city.worker(f"worker{i}") for i in range(2)]

        runs = []
        for i, (st, volume) in enumerate(zip(stations, volumes, strict=True)):
            argv = [
                STATION, "ingest", str(volume), "--server", proxy, "--token", st["token"],
                "--spool", str(tmp_path / f"station{i}"), "--chunk-mib", "2",
                "--retry-for", "90",
            ]  # fmt: skip
            with open(tmp_path / f"station{i}.err", "wb") as err:
                runs.append(
                    subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, env=city.env("st"))
                )

        import psycopg
        from redis import Redis
        from rq import Queue, Worker

        db = psycopg.connect(database, autocommit=True)
        # The first web machine is lost while uploads are under way.
        cluster.wait_until(
            lambda: db.execute(RECEIVING_WITH_BYTES).fetchone()[0] >= 3, "uploads under way"
        )
        time.sleep(1.0)
        cluster.kill_hard(webs[0])

        # A worker is lost in the middle of a task.
        queue = Queue("default", connection=Redis.from_url(redis_url))

        def freeze_a_busy_worker():
            """Stop (SIGSTOP) a worker and its work horse while its task is still
            running, so the kill below lands mid-task and not just after it."""
            for w in Worker.all(queue=queue):
                job_id = w.get_current_job_id()
                proc = next((p for p in workers if p.pid == w.pid), None)
                if not job_id or proc is None:
                    continue
                pids = [proc.pid, *cluster.descendants(proc.pid)]
                cluster.signal_all(pids, signal.SIGSTOP)
                if job_id in queue.started_job_registry.get_job_ids():
                    return proc, job_id
                cluster.signal_all(pids, signal.SIGCONT)  # it finished meanwhile
            return None

        lost, killed_job = cluster.wait_until(freeze_a_busy_worker, "a worker to run a task", 120)
        cluster.kill_hard(lost)

        outputs = []
        for run in runs:
            out, _ = run.communicate(timeout=150)
            outputs.append(out.decode())
        errors = [(tmp_path / f"station{i}.err").read_text()[-3000:] for i in range(STATIONS)]
        assert [r.returncode for r in runs] == [0] * STATIONS, errors
        summaries = [json.loads(o.strip().splitlines()[-1]) for o in outputs]
        assert sum(s["verified"] for s in summaries) == len(files), summaries

        # Every task completes, once.
        def settled():
            return (
                queue.count == 0
                and queue.started_job_registry.count == 0
                and queue.scheduled_job_registry.count == 0
                and queue.finished_job_registry.count >= len(files)
            )

        cluster.wait_until(settled, "every task to finish", 120)
        assert queue.failed_job_registry.count == 0
        # The task whose worker died was found abandoned and run again, to the end.
        assert killed_job in queue.finished_job_registry.get_job_ids()
        job = queue.fetch_job(killed_job)
        # One retry spent on it; when the backend noted why, it was the abandonment.
        assert job.retries_left == 2, job.meta
        assert job.meta.get("_django_tasks_rq_exceptions", []) in (
            [],
            ["rq.exceptions.AbandonedJobError"],
        ), job.meta
        report = city.django(REPORT)
    finally:
        city.stop_all()
    logs = {p.name: p.read_text(errors="replace")[-2000:] for p in tmp_path.glob("*.log")}

    recordings = report["recordings"]
    got = {(r["sha256"], r["sm3"]) for r in recordings}
    assert got == expected, logs
    assert len(recordings) == len(files)  # no duplicates
    assert report["quarantined"] == 0
    assert all(r["media"] == "complete" for r in recordings), recordings
    assert Counter(report["processed"].values()) == Counter({1: len(files)}), report["processed"]
    # One upload per file completed; an upload cut off by the lost web machine may
    # have failed and been started again by its station (its staging is checked
    # below: nothing is left).
    assert report["uploads"].get("complete") == len(files), report["uploads"]
    assert set(report["uploads"]) <= {"complete", "failed"}, report["uploads"]

    # PATCHes of one upload were answered by both web processes.
    by_upload = _patches_by_upload([tmp_path / f"web{i}.access.log" for i in range(2)])
    assert any(len(nodes) == 2 for nodes in by_upload.values()), by_upload

    # Nothing left staged in the bucket, in any version.
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    staged = client.list_object_versions(Bucket=bucket, Prefix="uploads/")
    assert staged.get("Versions", []) == [] and staged.get("DeleteMarkers", []) == []
    # The surviving web machine's own spool is empty too.
    spool = tmp_path / "web1" / "spool"
    assert not spool.exists() or not [p for p in spool.rglob("*") if p.is_file()]
    print(f"scale-out test: {time.monotonic() - started:.0f} s")
