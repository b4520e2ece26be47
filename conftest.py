"""Shared fixtures: named people in a small unit tree, fast hashing, a browser."""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery"


def _allow_flush_of_audit_log() -> None:
    """Transactional tests empty every table afterwards; the append-only
    triggers would refuse that for the audit log, so they are lifted for the
    flush alone and put back at once (test databases only)."""
    from django.db import connections
    from django.test import TransactionTestCase

    from jilu.audit import triggers

    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        for alias in self._databases_names(include_mirrors=False):
            triggers.remove(connections[alias])
        try:
            original(self)
        finally:
            for alias in self._databases_names(include_mirrors=False):
                triggers.install(connections[alias])

    TransactionTestCase._fixture_teardown = teardown


_allow_flush_of_audit_log()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Sign-in throttling counters, audit de-duplication and alarm locks live in
    the cache: every test starts with none of another test's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _audit_checkpoints_in_tmp(settings, tmp_path):
    """Each test's audit checkpoints go to its own directory: the log under
    ./var/ belongs to the development database, not to the test database."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request made in English (the
    footer's language cookie) activates English for the thread, which would
    otherwise carry over into the next test run by the same worker."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture
def tree(db):
    """市局 → 区局 → 大队 → two 中队, plus a second district with its own squad."""
    from jilu.org import actions

    a = "system:test"
    city = actions.create_unit(
        actor=a,
        parent=None,
        code="350200000000",
        name="厦门市城市管理行政执法局",
        short_name="厦门市城管执法局",
        level="city",
    )
    district = actions.create_unit(
        actor=a,
        parent=city,
        code="350203000000",
        name="思明区城市管理行政执法局",
        short_name="思明区城管执法局",
        level="district",
    )
    brigade = actions.create_unit(
        actor=a,
        parent=district,
        code="350203000001",
        name="思明区城市管理行政执法大队",
        short_name="思明区城管执法大队",
        level="brigade",
    )
    squad1 = actions.create_unit(
        actor=a,
        parent=brigade,
        code="350203000101",
        name="中华中队",
        short_name="中华中队",
        level="squad",
    )
    squad2 = actions.create_unit(
        actor=a,
        parent=brigade,
        code="350203000102",
        name="鹭江中队",
        short_name="鹭江中队",
        level="squad",
    )
    district2 = actions.create_unit(
        actor=a,
        parent=city,
        code="350206000000",
        name="湖里区城市管理行政执法局",
        short_name="湖里区城管执法局",
        level="district",
    )
    brigade2 = actions.create_unit(
        actor=a,
        parent=district2,
        code="350206000001",
        name="湖里区城市管理行政执法大队",
        short_name="湖里区城管执法大队",
        level="brigade",
        independently_housed=True,
    )
    squad3 = actions.create_unit(
        actor=a,
        parent=brigade2,
        code="350206000101",
        name="湖里中队",
        short_name="湖里中队",
        level="squad",
    )
    return {
        "city": city,
        "district": district,
        "brigade": brigade,
        "squad1": squad1,
        "squad2": squad2,
        "district2": district2,
        "brigade2": brigade2,
        "squad3": squad3,
    }


@pytest.fixture
def make_person(tree):
    from jilu.org import actions

    counter = {"n": 0}

    def make(
        username: str,
        *,
        unit: str = "squad1",
        roles: tuple[str, ...] = ("officer",),
        frontline: bool | None = None,
        **extra,
    ):
        counter["n"] += 1
        n = counter["n"]
        return actions.create_person(
            actor="system:test",
            username=username,
            name=extra.pop("name", username),
            unit=tree[unit],
            roles=list(roles),
            frontline=("officer" in roles) if frontline is None else frontline,
            user_no=extra.pop("user_no", f"9{n:05d}"),
            cert_no=extra.pop("cert_no", f"C{n:07d}"),
            password=PASSWORD,
            **extra,
        )

    return make


@pytest.fixture
def people(make_person):
    """One named person per role; officers in squad1 and squad3."""
    return {
        "officer": make_person("officer", name="王五"),
        "officer_b": make_person("officer_b", name="李四"),
        "officer_other": make_person("officer_other", unit="squad3", name="韩一"),
        "squad_leader": make_person(
            "squad_leader", roles=("squad_leader", "officer"), name="何中队"
        ),
        "brigade_leader": make_person("brigade_leader", unit="brigade", roles=("brigade_leader",)),
        "archivist": make_person("archivist", unit="brigade", roles=("archivist",)),
        "case_handler": make_person("case_handler", unit="brigade", roles=("case_handler",)),
        "legal_reviewer": make_person("legal_reviewer", unit="city", roles=("legal_reviewer",)),
        "inspector": make_person("inspector", unit="city", roles=("inspector",)),
        "admin": make_person("admin", unit="city", roles=("admin",)),
        "squad_admin": make_person("squad_admin", unit="squad3", roles=("admin",)),
    }


REDIS = os.environ.get("JILU_TEST_REDIS", "redis://127.0.0.1:6379")


@pytest.fixture
def redis_url():
    """A Redis database (1–15) of this test's own, empty, as a ``redis://`` URL.

    Tests in parallel, also other checkouts' runs on the same Redis, each take
    a free database number by setting a key in database 0 only if it is absent;
    the database is emptied before and after the test. Redis is started by
    ``.ci/run``; a missing one is a failure, never a silent skip.
    """
    import socket

    import redis

    try:
        registry = redis.Redis.from_url(f"{REDIS}/0")
        registry.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"no Redis at {REDIS} ({exc}): run .ci/run, which starts it")
    owner = f"{socket.gethostname()}:{os.getpid()}"
    for number in range(1, 16):
        key = f"jilu-test:redis-db:{number}"
        if registry.set(key, owner, nx=True, ex=3600):
            break
    else:
        pytest.fail("all 15 test databases of Redis are taken")
    url = f"{REDIS}/{number}"
    db = redis.Redis.from_url(url)
    db.flushdb()
    try:
        yield url
    finally:
        db.flushdb()
        db.close()
        registry.delete(key)
        registry.close()


@pytest.fixture
def rq_backend(settings, redis_url):
    """This process enqueues on RQ (``JILU_TASKS_BACKEND=rq``) in the test's own
    Redis database; ``rq_backend.env`` is the same for a ``jilu worker``."""
    from jilu import conf

    config = conf.RQConfig(
        redis_url=redis_url, job_timeout=600, retries=3, retry_delay=0, abandoned_after=3
    )
    settings.TASKS_BACKEND = "rq"
    settings.TASKS_RQ = config
    for name, value in conf.rq_django_settings(config).items():
        setattr(settings, name, value)

    class Backend:
        url = redis_url
        retries = config.retries
        env = {
            "JILU_TASKS_BACKEND": "rq",
            "JILU_REDIS_URL": redis_url,
            "JILU_RQ_JOB_TIMEOUT_SECONDS": str(config.job_timeout),
            "JILU_RQ_RETRIES": str(config.retries),
            "JILU_RQ_RETRY_DELAY_SECONDS": str(config.retry_delay),
            "JILU_RQ_ABANDONED_AFTER_SECONDS": str(config.abandoned_after),
        }

        @staticmethod
        def queue():
            import django_rq

            return django_rq.get_queue("default")

    return Backend


def _require(*tools: str) -> None:
    """The Makefile installs every tool the tests use; a missing one is a failure
    that says what to install, never a silent skip."""
    import shutil
    from pathlib import Path

    missing = [t for t in tools if shutil.which(t) is None and not Path(t).exists()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run `make test`, which installs it")


@pytest.fixture
def poppler():
    _require("pdftotext", "pdftoppm")


@pytest.fixture
def xorriso():
    _require("xorriso")


@pytest.fixture
def chromium():
    _require("/usr/bin/chromium")


BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    pg.base_url = live_server.url
    yield pg
    context.close()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    # The page's deferred script has run: controls that act on change work.
    page.wait_for_load_state("load")


def api_auth(client, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Headers with a bearer token for ``username`` (API tests), as a person gets it."""
    response = client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}


def streamed(response) -> bytes:
    """The whole body of a (streaming) response."""
    return b"".join(response.streaming_content)
