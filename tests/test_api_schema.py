"""The OpenAPI document is the truth: Schemathesis calls every operation of the API
(the WSGI application itself, no server) with examples generated from the
document, as an administrator, an officer and a station, and checks that no
answer is a server error, that each status code is one the document lists for
the operation, and that each body and content type matches the document.

Generation is derandomized (the same examples on every run) and bounded per
operation, so the run is deterministic and takes about a minute on two cores.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import api_auth

EXAMPLES_PER_OPERATION = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def world(settings, tmp_path, tree, people):
    """A little of everything, so that lists have rows to check against the document:
    a held recorder and its recording, an activity, a case, a duty-log note, a fixity
    alarm and a workstation (whose token the station caller uses)."""
    from django.utils import timezone

    from jilu.casework import actions as casework
    from jilu.devices import actions as devices
    from jilu.dutylog import actions as dutylog
    from jilu.evidence import fixity
    from jilu.evidence.actions import store_object
    from jilu.evidence.models import Recording
    from jilu.evidence.store import get_store

    settings.STORE_ROOT = tmp_path / "store"
    settings.SPOOL_DIR = tmp_path / "spool"
    settings.STORAGE_KIND = "file"
    settings.S3 = None
    get_store.cache_clear()
    now = timezone.now().replace(microsecond=0)
    recorder = devices.register_recorder(actor="system:test", serial="A000001", unit=tree["squad1"])
    devices.issue_recorder(
        actor="system:test",
        recorder=recorder,
        person=people["officer"],
        at=now - timedelta(days=30),
    )
    stored = store_object(actor="system:test", stream=io.BytesIO(b"clip " * 200))
    start = now - timedelta(hours=6)
    Recording.objects.create(
        stored_object=stored,
        recorder=recorder,
        officer=people["officer"],
        kind="video",
        original_name=f"DCIM/A000001_{people['officer'].user_no}_20261126090000_0001.MP4",
        started_at=start,
        ended_at=start + timedelta(minutes=10),
        size=stored.size,
        sha256=stored.sha256,
        sm3=stored.sm3,
        docked_at=start + timedelta(hours=2),
        collected_within_24h=True,
    )
    case = casework.create_case(
        actor="system:test",
        number="思城执罚〔2026〕1号",
        category="penalty",
        unit=tree["brigade"],
        handler=people["case_handler"],
    )
    casework.create_activity(
        actor="system:test",
        officers=[people["officer"], people["officer_b"]],
        kind="S2",
        category="inspection",
        unit=tree["squad1"],
        matter_text="投诉件处置",
        actual_start=start,
        actual_end=start + timedelta(minutes=30),
        case=case,
    )
    dutylog.create_note(
        actor=people["officer"],
        start=now - timedelta(hours=30),
        end=now - timedelta(hours=28),
        reason="weather",
        description="暴雨",
    )
    missing = store_object(actor="system:test", stream=io.BytesIO(b"lost " * 100))
    get_store().path(missing.sha256).unlink()
    fixity.check_object(missing)
    _, token = devices.create_workstation(
        actor="system:test", unit=tree["squad1"], name="中华中队工作站"
    )
    yield {"station_token": token}
    get_store.cache_clear()


def _schema():
    """The document as the application serves it (read once, when the tests are
    collected). Django's own WSGI handler: the suite's PostgreSQL pass is not a
    city deployment, so ``jilu.wsgi``'s start-up refusal does not apply to it."""
    from django.core.wsgi import get_wsgi_application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


schema = _schema()


@pytest.fixture(params=["admin", "officer", "station"])
def caller(request, client, world, db):
    """The Authorization header of the caller (a person's or the station's token)."""
    if request.param == "station":
        header = f"Bearer {world['station_token']}"
    else:
        header = api_auth(client, request.param)["HTTP_AUTHORIZATION"]
    # Django closes the database connection around each WSGI request; the test client
    # stops that while it calls (the test's transaction lives on that connection), so do
    # the same for the requests Schemathesis makes to the application.
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {"Authorization": header}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_in_the_document(case, caller):
    case.call_and_validate(headers=caller, checks=CHECKS)
