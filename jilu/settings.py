"""Jilu settings: one module, every deployment knob read from ``JILU_*`` variables.

The embedded default (no variables set) is SQLite in WAL mode and the
filesystem under ``./var/``; a city deployment sets ``JILU_DATABASE_URL`` to
PostgreSQL and ``JILU_STORAGE=s3``. A malformed value stops start-up with a
message naming the variable (see :mod:`jilu.conf`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import csp.constants as csp
from django.utils.translation import gettext_lazy as _

from jilu import conf

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = conf.env_path("JILU_DATA_DIR", Path.cwd() / "var")

DEBUG = conf.env_bool("JILU_DEBUG", False)
SECRET_KEY = conf.secret_key(DATA_DIR)
ALLOWED_HOSTS = conf.env_list("JILU_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = conf.env_list("JILU_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "jilu.schedule",
    "jilu.audit",
    "jilu.org",
    "jilu.devices",
    "jilu.evidence",
    "jilu.ingest",
    "jilu.casework",
    "jilu.transfer",
    "jilu.access",
    "jilu.dutylog",
    "jilu.retention",
    "jilu.oversight",
    "jilu.web",
    "jilu.deploy",
]

MIDDLEWARE = [
    "jilu.middleware.ClientAddressMiddleware",
    "jilu.middleware.SecureCookiesMiddleware",
    # Errors under /api/ as JSON; a query string that is not UTF-8 refused (jilu/errors.py).
    "jilu.errors.ApiErrorsAsJsonMiddleware",
    "jilu.errors.QueryEncodingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "jilu.middleware.SessionRefreshMiddleware",
    "jilu.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "jilu.middleware.MethodNotAllowedPageMiddleware",
    # Store, database or queue unreachable: 503 with Retry-After (jilu/outage.py).
    "jilu.outage.UnavailableMiddleware",
]

ROOT_URLCONF = "jilu.urls"
WSGI_APPLICATION = "jilu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "jilu.web.context.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": conf.parse_database_url(
        "JILU_DATABASE_URL", conf.env_str("JILU_DATABASE_URL", "sqlite:///jilu.sqlite3"), DATA_DIR
    )
}
# One test database per test process, so parallel runs never share one; on
# SQLite a file in WAL mode, as in production, so that concurrent connections
# (threads, the live server) see the same database.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"jilu-test-{os.getpid()}.sqlite3")
    }
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_jilu_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.Person"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in lockout (repeated failures) and idle session timeout.
LOGIN_MAX_FAILURES = conf.env_int("JILU_LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = conf.env_int("JILU_LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
SESSION_COOKIE_AGE = conf.env_int("JILU_SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# Cookies (session, CSRF, language) are Secure on every request that came over
# HTTPS (jilu.middleware.SecureCookiesMiddleware), so the embedded default on
# http://127.0.0.1 keeps working; JILU_SECURE_COOKIES=always makes them Secure
# on plain HTTP too.
SESSION_COOKIE_SECURE = conf.env_secure_cookies("JILU_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Password spraying: failed sign-ins (pages and API) counted per client address;
# after this many within the window, that address waits for the window to end.
SIGNIN_THROTTLE_FAILURES = conf.env_int("JILU_SIGNIN_THROTTLE_FAILURES", 20, minimum=1)
SIGNIN_THROTTLE_MINUTES = conf.env_int("JILU_SIGNIN_THROTTLE_MINUTES", 15, minimum=1)
API_TOKEN_DAYS = conf.env_int("JILU_API_TOKEN_DAYS", 30, minimum=1)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

# --- evidence store -------------------------------------------------------
STORAGE_KIND = conf.env_choice("JILU_STORAGE", "file", ("file", "s3"))
STORE_ROOT = conf.env_path("JILU_STORE_ROOT", DATA_DIR / "store")
SPOOL_DIR = conf.env_path("JILU_SPOOL_DIR", DATA_DIR / "spool")
S3 = conf.read_s3() if STORAGE_KIND == "s3" else None
# Unfinished tus uploads: on this machine's spool (embedded), on a volume every
# web process mounts, or as S3 multipart uploads in the bucket (the default with
# S3), so any web process can continue any upload (jilu/ingest/staging.py).
UPLOAD_STAGING = conf.read_upload_staging(STORAGE_KIND)

# How file bodies reach the browser: through Python (embedded default), handed
# to nginx by X-Accel-Redirect (location PREFIX { internal; alias STORE_ROOT/; }),
# or as a short-lived presigned S3 URL issued per request.
SERVE_MODE = conf.env_choice("JILU_SERVE_MODE", "python", ("python", "accel", "s3"))
SERVE_ACCEL_PREFIX = conf.env_str("JILU_SERVE_ACCEL_PREFIX", "/_jilu_store/")
SERVE_PRESIGN_SECONDS = conf.env_int("JILU_SERVE_PRESIGN_SECONDS", 60, minimum=1)
# Production: plays are authorised and audited once, then answered with a link
# that nginx checks itself (secure_link) and serves every Range request from;
# see jilu/evidence/links.py and `jilu nginx-conf`.
SERVE_LINK_SECRET = conf.env_link_secret("JILU_SERVE_LINK_SECRET")
SERVE_LINK_SECONDS = conf.env_int("JILU_SERVE_LINK_SECONDS", 600, minimum=10)
SERVE_LINK_PREFIX = conf.env_str("JILU_SERVE_LINK_PREFIX", "/_jilu_media/")
# Front servers whose X-Real-IP header names the client (audit log addresses).
TRUSTED_PROXIES = conf.env_networks("JILU_TRUSTED_PROXIES", [])
# Whether the browser's connection was HTTPS: a trusted front server says so in
# X-Forwarded-Proto (`jilu nginx-conf` sets it); from anyone else the header is
# dropped (jilu.middleware.ClientAddressMiddleware). HSTS is sent on HTTPS only.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
SECURE_HSTS_SECONDS = conf.env_int("JILU_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = conf.env_bool("JILU_HSTS_INCLUDE_SUBDOMAINS", False)

# --- Content-Security-Policy (django-csp) ------------------------------------
# Scripts only from this site's static files: no inline <script>, no on*=""
# handlers, no eval. Styles likewise, except the <style> of the two printable
# forms served as pages (the A5 script card, the printed 调用单), which carry a
# per-response nonce: WeasyPrint renders the same templates into PDFs from a
# string, without a server to fetch a stylesheet from. Media and images may
# also come from the object store when plays are served by presigned URLs.
_STORE_ORIGINS = conf.store_origins(S3) if SERVE_MODE == "s3" else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:", *_STORE_ORIGINS],
        "media-src": [csp.SELF, *_STORE_ORIGINS],
        "connect-src": [csp.SELF, *_STORE_ORIGINS],
        "font-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}

# C6.3: how long a leader's approval of an access request (调用单) lets the
# archivist make its copies.
ACCESS_VALID_DAYS = conf.env_int("JILU_ACCESS_VALID_DAYS", 7, minimum=1)

# Fixity (C6.5.3, C6.5.4): every stored object re-hashed at least once a period.
FIXITY_PERIOD_DAYS = conf.env_int("JILU_FIXITY_PERIOD_DAYS", 30, minimum=1)
FIXITY_INTERVAL_MINUTES = conf.env_int("JILU_FIXITY_INTERVAL_MINUTES", 60, minimum=1)
FIXITY_BATCH_SIZE = conf.env_int("JILU_FIXITY_BATCH_SIZE", 200, minimum=1)
# Batches run side by side each interval, each over its own share of the objects
# (by SHA-256), so several workers re-read the store at once.
FIXITY_PARALLEL = conf.env_int("JILU_FIXITY_PARALLEL", 1, minimum=1, maximum=16)

# --- audit chain (C6.5.3) ----------------------------------------------------
# Each entry is sealed with an HMAC under a key kept outside the database, and
# the head is checkpointed into an append-only log outside it (see
# jilu/audit/checkpoints.py and docs/inspector.md).
_audit_key = conf.audit_key(DATA_DIR)
AUDIT_KEY = _audit_key.key
AUDIT_KEY_SOURCE = _audit_key.source
AUDIT_CHECKPOINT_DIR = conf.env_path("JILU_AUDIT_CHECKPOINT_DIR", DATA_DIR / "audit-checkpoints")
AUDIT_CHECKPOINT_MINUTES = conf.env_int("JILU_AUDIT_CHECKPOINT_MINUTES", 10, minimum=1)

# --- deployment ----------------------------------------------------------------
# City mode (PostgreSQL or S3, or JILU_DEPLOYMENT=city): the web and worker
# processes refuse to start with an unsafe configuration (jilu/deploy/checks.py).
DEPLOYMENT = conf.deployment(DATABASES["default"]["ENGINE"], STORAGE_KIND)
SECRET_KEY_GENERATED = conf.env_str("JILU_SECRET_KEY", "") == ""
AUDIT_KEY_GENERATED = _audit_key.generated

# --- casework ---------------------------------------------------------------
# C5.3 standard name; fields: unit, party, date, step, kind, matter, case, place.
CASEWORK_NAME_TEMPLATE = conf.env_str("JILU_NAME_TEMPLATE", "")

# --- cache ------------------------------------------------------------------
# Sign-in throttling counters, audit de-duplication and alarm locks. One
# process's memory in the embedded default; Redis shared by every web process in
# a city deployment (JILU_CACHE_URL=redis://host:6379/0).
CACHES = {
    "default": conf.parse_cache_url("JILU_CACHE_URL", conf.env_str("JILU_CACHE_URL", "locmem://"))
}

# --- background tasks -----------------------------------------------------
# Embedded: the database queue (django-tasks-db). City: RQ on Redis
# (django-tasks-rq), whose workers re-run a task whose worker died; see
# jilu/schedule/rq_engine.py and docs/deploy-city.md.
TASKS_BACKEND = conf.env_choice("JILU_TASKS_BACKEND", "db", ("db", "rq"))
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
if TASKS_BACKEND == "rq":
    TASKS_RQ = conf.read_rq()
    INSTALLED_APPS.append("django_rq")
    _rq = conf.rq_django_settings(TASKS_RQ)
    TASKS, RQ_QUEUES, RQ = _rq["TASKS"], _rq["RQ_QUEUES"], _rq["RQ"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": conf.env_choice(
            "JILU_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        ),
    },
}
