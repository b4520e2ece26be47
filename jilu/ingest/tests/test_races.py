"""Races the database settles: the same bytes completing twice at once are one recording.

C6.5.3: a recording is never duplicated (or replaced) by a second copy of its
bytes; the unique (recorder, sha256) constraint decides, the loser answers
the winner's recording.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from jilu.evidence.models import Recording
from jilu.ingest import actions, spool, tus
from jilu.ingest.models import QuarantineItem, Upload
from jilu.ingest.tests.conftest import digests, hours_ago, mp4, name_for, open_docking

pytestmark = [pytest.mark.db_sensitive, pytest.mark.django_db(transaction=True)]


def _received(station, docking, data, name) -> Upload:
    sha256, sm3 = digests(data)
    upload = actions.create_upload(
        actor=actions.station_actor(station),
        station=station,
        person=None,
        docking=docking,
        length=len(data),
        filename=name,
        sha256=sha256,
        sm3=sm3,
    )
    spool.partial_path(upload.pk).write_bytes(data)
    Upload.objects.filter(pk=upload.pk).update(offset=len(data))
    upload.refresh_from_db()
    return upload


def _finish_at_once(uploads, station) -> list:
    who = tus.Uploader(station=station, person=None)
    barrier = threading.Barrier(len(uploads))
    results: list = [None] * len(uploads)

    def run(i, upload):
        try:
            barrier.wait(10)
            results[i] = tus.finalise(upload, who)
        except BaseException as exc:  # reported by the assertion below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, u)) for i, u in enumerate(uploads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_uploads_of_the_same_bytes_completing_at_once_make_one_recording(station, recorder):
    data = mp4(90)
    name = name_for(hours_ago(2))
    uploads = [_received(station, open_docking(station), data, name) for _ in range(3)]
    results = _finish_at_once(uploads, station)
    assert all(isinstance(r, Upload) for r in results), results
    assert Recording.objects.count() == 1
    rec = Recording.objects.get()
    assert {r.recording_id for r in results} == {rec.pk}
    assert set(Upload.objects.values_list("state", flat=True)) == {Upload.State.COMPLETE}


def test_the_same_unattributable_file_at_once_is_one_quarantine_item(station, tree):
    data = mp4(91)
    name = name_for(hours_ago(2), serial="Z999999")
    uploads = [
        _received(station, open_docking(station, serial="Z999999"), data, name) for _ in range(2)
    ]
    results = _finish_at_once(uploads, station)
    assert all(isinstance(r, Upload) for r in results), results
    assert QuarantineItem.objects.count() == 1
    assert {r.quarantine_id for r in results} == {QuarantineItem.objects.get().pk}
