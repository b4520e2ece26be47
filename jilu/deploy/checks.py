"""The checks that refuse to start an unsafe city deployment.

City mode is ``settings.DEPLOYMENT == "city"``: ``JILU_DEPLOYMENT=city``, or
with it unset a configuration on PostgreSQL or the S3 store (see
``jilu.conf.deployment``). There the web processes (``jilu.wsgi``,
``jilu.asgi``) and ``jilu worker`` run these checks before serving anything and
stop with every refusal listed, each naming its fix; ``jilu check --deploy``
prints the same list. In the embedded default they say nothing.

They are Django system checks tagged :data:`TAG` and registered for
``--deploy`` only, so ``jilu migrate`` (which runs as the owner role, which the
role check would refuse) is not affected.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from jilu.audit.triggers import TABLE as AUDIT_TABLE

TAG = "jilu_city"


def city() -> bool:
    return settings.DEPLOYMENT == "city"


def why_city() -> str:
    """What made this a city deployment, for the refusal's first line."""
    reasons = []
    if connection.vendor == "postgresql":
        reasons.append("JILU_DATABASE_URL is PostgreSQL")
    if settings.STORAGE_KIND == "s3":
        reasons.append("JILU_STORAGE=s3")
    return ", ".join(reasons) or "JILU_DEPLOYMENT=city"


def _refusal(number: int, message: str, fix: str) -> checks.Error:
    return checks.Error(message, hint=fix, id=f"jilu.E{number:03d}")


def _city_check(fn: Callable[[], list[checks.CheckMessage]]) -> Callable:
    """Register ``fn`` as a deploy check of :data:`TAG` that is silent outside city mode."""

    def check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
        return fn() if city() else []

    check.__name__ = check.__qualname__ = fn.__name__
    check.__doc__ = fn.__doc__
    checks.register(check, TAG, deploy=True)
    return check


@_city_check
def secret_key() -> list[checks.CheckMessage]:
    """A secret key generated into the data directory differs on every machine."""
    if not settings.SECRET_KEY_GENERATED:
        return []
    return [
        _refusal(
            1,
            f"the secret key was generated into {settings.DATA_DIR / 'secret_key'}, not "
            "configured: every machine would have its own, so sessions and signed links made "
            "by one web process fail on the next",
            "set JILU_SECRET_KEY to one key shared by every web and worker machine "
            "(openssl rand -base64 48)",
        )
    ]


@_city_check
def play_link_secret() -> list[checks.CheckMessage]:
    """nginx serves plays from signed links only with the shared link secret."""
    if settings.SERVE_MODE != "accel" or settings.SERVE_LINK_SECRET:
        return []
    return [
        _refusal(
            2,
            "JILU_SERVE_MODE=accel without JILU_SERVE_LINK_SECRET: nginx cannot check signed "
            "play links, so every range of every play would go through Jilu",
            "set JILU_SERVE_LINK_SECRET (openssl rand -base64 32) and write nginx's "
            "configuration again with `jilu nginx-conf`",
        )
    ]


def _behind_https() -> str:
    """Why the site is served over HTTPS, or '' when nothing says so."""
    https = [o for o in settings.CSRF_TRUSTED_ORIGINS if o.lower().startswith("https://")]
    if https:
        return f"JILU_CSRF_TRUSTED_ORIGINS names {', '.join(https)}"
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return "the front server's HTTPS header is trusted (SECURE_PROXY_SSL_HEADER)"
    if getattr(settings, "SECURE_SSL_REDIRECT", False):
        return "plain HTTP is redirected to HTTPS"
    return ""


@_city_check
def secure_cookies() -> list[checks.CheckMessage]:
    """Behind HTTPS the session and CSRF cookies must be Secure."""
    https = _behind_https()
    if not https or (settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE):
        return []
    return [
        _refusal(
            3,
            f"the site is served over HTTPS ({https}) but its session and CSRF cookies are "
            "not marked Secure: a browser would also send them over plain HTTP",
            "set JILU_SECURE_COOKIES=true",
        )
    ]


@_city_check
def audit_key() -> list[checks.CheckMessage]:
    """The audit key must be configured, the same on every machine, apart from the data."""
    if not settings.AUDIT_KEY_GENERATED:
        return []
    return [
        _refusal(
            4,
            f"the audit key was generated into {settings.AUDIT_KEY_SOURCE}, not configured: "
            "every machine would seal the audit chain with a key of its own, kept beside "
            "the data it protects",
            "create one key (openssl rand -base64 48 > /etc/jilu/audit_key; chmod 600), copy "
            "it to every web and worker machine and set JILU_AUDIT_KEY_FILE=/etc/jilu/audit_key "
            "(or JILU_AUDIT_KEY); see docs/deploy-city.md",
        )
    ]


def _database_problem() -> str:
    try:
        connection.ensure_connection()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return ""


@_city_check
def database() -> list[checks.CheckMessage]:
    """The database answers."""
    problem = _database_problem()
    if not problem:
        return []
    db = connection.settings_dict
    where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db.get('NAME')}"
    return [
        _refusal(
            5,
            f"the database {where} cannot be reached: {problem}",
            "check JILU_DATABASE_URL, that PostgreSQL is running and that it accepts this "
            "role from this machine (pg_hba.conf)",
        )
    ]


def _store_problem() -> str:
    if settings.STORAGE_KIND == "s3":
        from jilu.evidence.store import get_store

        store = get_store()
        try:
            store.client.head_bucket(Bucket=store.bucket)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return ""
    root = Path(settings.STORE_ROOT)
    existing = next((p for p in (root, *root.parents) if p.exists()), None)
    if existing is None or not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing or root} is not writable by this user"
    return ""


@_city_check
def store() -> list[checks.CheckMessage]:
    """The evidence store answers (the bucket exists and these keys may use it)."""
    problem = _store_problem()
    if not problem:
        return []
    if settings.STORAGE_KIND == "s3":
        s3 = settings.S3
        return [
            _refusal(
                6,
                f"the evidence store {s3.endpoint_url or 'S3'} (bucket {s3.bucket}) cannot be "
                f"reached: {problem}",
                "check JILU_S3_ENDPOINT, JILU_S3_BUCKET, JILU_S3_ACCESS_KEY and "
                "JILU_S3_SECRET_KEY, that the store is running, and that the bucket exists "
                "(`jilu create-bucket` makes it with versioning and Object Lock)",
            )
        ]
    return [
        _refusal(
            6,
            f"the evidence store directory cannot be used: {problem}",
            "set JILU_STORE_ROOT to a directory this user may write (a shared mount for "
            "several machines)",
        )
    ]


def _versioning_problem() -> str:
    """What is wrong with the bucket's versioning and Object Lock ("" when
    nothing is, or when the store is the filesystem or unreachable: the check
    above says so)."""
    if settings.STORAGE_KIND != "s3" or _store_problem():
        return ""
    from jilu.evidence.store import get_store

    store = get_store()
    try:
        status = store.client.get_bucket_versioning(Bucket=store.bucket).get("Status")
    except Exception as exc:
        return f"its versioning cannot be read ({type(exc).__name__}: {exc})"
    if status != "Enabled":
        return f"versioning is {'suspended' if status else 'off'}"
    if settings.S3.object_lock_days:
        try:
            lock = store.client.get_object_lock_configuration(Bucket=store.bucket)
            enabled = lock["ObjectLockConfiguration"].get("ObjectLockEnabled") == "Enabled"
        except Exception:
            enabled = False
        if not enabled:
            return (
                f"JILU_S3_OBJECT_LOCK_DAYS={settings.S3.object_lock_days} but the bucket has "
                "no Object Lock"
            )
    return ""


@_city_check
def store_versioning() -> list[checks.CheckMessage]:
    """The bucket keeps versions, so reads pin the version recorded at ingest (C6.5.3)."""
    problem = _versioning_problem()
    if not problem:
        return []
    return [
        _refusal(
            9,
            f"the evidence store's bucket {settings.S3.bucket}: {problem}. Without versions an "
            "overwrite with the application's own key replaces a recording's bytes, and Jilu "
            "cannot pin the bytes it verified at ingest",
            "create the bucket with `jilu create-bucket` (versioning, and Object Lock with "
            "--object-lock-days N), or enable versioning on this one (mc version enable "
            "ALIAS/BUCKET; aws s3api put-bucket-versioning --versioning-configuration "
            "Status=Enabled); see docs/storage.md",
        )
    ]


def _queue_problems() -> list[str]:
    """The Redis queues of an RQ task backend that do not answer (a database-backed
    queue is the database, checked above)."""
    problems = []
    for alias, config in settings.TASKS.items():
        if "rq" not in config.get("BACKEND", "").lower():
            continue
        queues = getattr(settings, "RQ_QUEUES", {}) or {}
        if not queues:
            problems.append(f"task backend {alias!r} uses RQ but no queue is configured")
        for name, queue in queues.items():
            try:
                import redis

                if queue.get("URL"):
                    client = redis.Redis.from_url(queue["URL"], socket_connect_timeout=5)
                else:
                    client = redis.Redis(
                        host=queue.get("HOST", "localhost"),
                        port=queue.get("PORT", 6379),
                        db=queue.get("DB", 0),
                        password=queue.get("PASSWORD"),
                        socket_connect_timeout=5,
                    )
                client.ping()
            except Exception as exc:
                problems.append(f"queue {name!r}: {type(exc).__name__}: {exc}")
    return problems


@_city_check
def queue() -> list[checks.CheckMessage]:
    """The task queue answers."""
    return [
        _refusal(
            7,
            f"the task queue cannot be reached ({problem})",
            "check the Redis address in the queue settings and that Redis is running",
        )
        for problem in _queue_problems()
    ]


@_city_check
def upload_staging() -> list[checks.CheckMessage]:
    """Unfinished uploads wait where every web process sees them."""
    if settings.UPLOAD_STAGING.kind != "local":
        return []
    return [
        _refusal(
            10,
            "unfinished uploads are staged on each machine's own disk "
            f"(JILU_UPLOAD_STAGING=local, {settings.SPOOL_DIR}/uploads): a station's next "
            "PATCH that reaches another web process finds nothing there, its upload is "
            "refused and started again, and partial files pile up on every machine",
            "stage uploads in the bucket (JILU_UPLOAD_STAGING=store, the default with "
            "JILU_STORAGE=s3), or set JILU_UPLOAD_STAGING=shared-dir and "
            "JILU_UPLOAD_STAGING_DIR to a volume every web process mounts",
        )
    ]


ROLE_QUERY = """
SELECT current_user, pg_get_userbyid(c.relowner),
       pg_has_role(current_user, c.relowner, 'USAGE'), r.rolsuper, r.rolcreaterole
FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass(%s)
WHERE r.rolname = current_user
"""


@_city_check
def application_role() -> list[checks.CheckMessage]:
    """The application's PostgreSQL role owns nothing it could use to undo the audit log."""
    if connection.vendor != "postgresql" or _database_problem():
        return []
    with connection.cursor() as cur:
        cur.execute(ROLE_QUERY, [AUDIT_TABLE])
        role, owner, owns, superuser, createrole = cur.fetchone()
    fix = (
        "run `jilu migrate` as the owner role, then the web and worker processes as a role "
        f"that owns nothing, given only what it needs by `jilu grant-app-role {role}` (run as "
        "the owner; docs/deploy-city.md)"
    )
    if owner is None:
        return [
            _refusal(
                8,
                f"the audit table {AUDIT_TABLE} does not exist in this database",
                "run `jilu migrate` as the owner role first",
            )
        ]
    if superuser or createrole:
        what = "a superuser" if superuser else "allowed to create roles (CREATEROLE)"
        return [
            _refusal(
                8,
                f"the application connects as {role}, which is {what}: it could disable the "
                "audit table's triggers and rewrite the audit log",
                fix,
            )
        ]
    if owns:
        return [
            _refusal(
                8,
                f"the application connects as {role}, which "
                + ("owns" if owner == role else f"has the rights of {owner}, the owner of")
                + f" the audit table {AUDIT_TABLE}: it could disable its triggers or alter it",
                fix,
            )
        ]
    return []


def refusals() -> list[checks.CheckMessage]:
    """Every serious problem of this city configuration (none outside city mode)."""
    found = checks.run_checks(tags=[TAG], include_deployment_checks=True)
    return [m for m in found if m.is_serious()]


def refusal_text(found: list[checks.CheckMessage]) -> str:
    lines = [f"Jilu refuses to start this city deployment ({why_city()}):"]
    for message in found:
        lines.append(f"  {message.id}: {message.msg}")
        lines.append(f"    fix: {message.hint}")
    return "\n".join(lines)


def enforce() -> None:
    """Stop start-up (``ImproperlyConfigured``) when city mode finds a problem."""
    if not city():
        return
    found = refusals()
    if found:
        raise ImproperlyConfigured(refusal_text(found))
