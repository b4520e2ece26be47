"""Typed readers for ``JILU_*`` environment variables.

Every reader fails loudly with :class:`ConfigError` naming the variable and
what is wrong with it, so a misconfigured deployment never starts half-right.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit


class ConfigError(Exception):
    """A ``JILU_*`` setting is malformed; the message names the variable."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean: use true/false, 1/0, yes/no or on/off")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name}={number} is too small: the minimum is {minimum}")
    if maximum is not None and number > maximum:
        raise ConfigError(f"{name}={number} is too large: the maximum is {maximum}")
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name)
    if value is None:
        return default
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(choices)}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_link_secret(name: str) -> str:
    """A secret shared with nginx (``secure_link_md5``); empty when unset.

    It is written into nginx's configuration, so it must be one token: at least
    24 characters of letters, digits, ``-``, ``_``, ``.``, ``+``, ``/`` or ``=``.
    """
    value = _raw(name)
    if value is None:
        return ""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+/=")
    bad = sorted({ch for ch in value if ch not in allowed})
    if bad:
        raise ConfigError(
            f"{name} contains {''.join(bad)!r}: use letters, digits and - _ . + / = only "
            "(e.g. the output of: openssl rand -base64 32)"
        )
    if len(value) < 24:
        raise ConfigError(f"{name} is {len(value)} characters long: use at least 24")
    return value


def env_networks(name: str, default: list[str]) -> list:
    """A comma-separated list of IP addresses or networks (``10.0.0.0/8``)."""
    import ipaddress

    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"{name}: {item!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)"
            ) from None
    return networks


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    return (Path(value) if value is not None else default).expanduser().resolve()


def parse_database_url(name: str, url: str, data_dir: Path) -> dict:
    """Turn ``sqlite:///path`` or ``postgres://user:pw@host:port/db`` into a DATABASES entry."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "sqlite":
        raw_path = unquote(parts.path)
        if parts.netloc:
            raise ConfigError(
                f"{name}={url!r}: a SQLite URL has no host; write sqlite:///relative.db "
                "or sqlite:////absolute/path.db"
            )
        path = raw_path[1:] if raw_path.startswith("/") else raw_path
        if not path:
            raise ConfigError(f"{name}={url!r}: the SQLite file path is missing")
        db_path = Path(path) if Path(path).is_absolute() else data_dir / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(db_path),
            "OPTIONS": {
                # Writers queue instead of failing on lock upgrades; WAL lets
                # readers run beside the one writer.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    if scheme in {"postgres", "postgresql"}:
        if not parts.path.strip("/"):
            raise ConfigError(f"{name}={url!r}: the database name is missing (…/dbname)")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"{name}={url!r}: the port is not a number") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.strip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ConfigError(
        f"{name}={url!r}: unsupported database; use sqlite:///file.db or postgres://user@host/db"
    )


def database_url(db: dict) -> str:
    """The ``JILU_DATABASE_URL`` of a DATABASES entry: the inverse of
    ``parse_database_url``, for starting another process on the same database."""
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass(frozen=True)
class S3Config:
    endpoint_url: str | None
    bucket: str
    access_key: str | None
    secret_key: str | None
    region: str
    object_lock_days: int


def read_s3(prefix: str = "JILU_S3_") -> S3Config:
    bucket = _raw(prefix + "BUCKET")
    if bucket is None:
        raise ConfigError(f"JILU_STORAGE=s3 needs {prefix}BUCKET (the bucket name)")
    endpoint = _raw(prefix + "ENDPOINT")
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError(
                f"{prefix}ENDPOINT={endpoint!r} must be a URL such as https://minio.example:9000"
            )
        try:
            _ = parts.port  # raises on a non-numeric or out-of-range port
        except ValueError:
            raise ConfigError(f"{prefix}ENDPOINT={endpoint!r}: the port is not a number") from None
    access_key, secret = _raw(prefix + "ACCESS_KEY"), _raw(prefix + "SECRET_KEY")
    if (access_key is None) != (secret is None):
        missing = prefix + ("SECRET_KEY" if secret is None else "ACCESS_KEY")
        raise ConfigError(
            f"{missing} is missing: set {prefix}ACCESS_KEY and {prefix}SECRET_KEY together "
            "(or neither, to use the machine's AWS credentials)"
        )
    return S3Config(
        endpoint_url=endpoint,
        bucket=bucket,
        access_key=access_key,
        secret_key=secret,
        region=env_str(prefix + "REGION", "us-east-1"),
        object_lock_days=env_int(prefix + "OBJECT_LOCK_DAYS", 0, minimum=0),
    )


UPLOAD_STAGINGS = ("local", "shared-dir", "store")
MIB = 1024 * 1024


@dataclass(frozen=True)
class UploadStaging:
    """Where the bytes of unfinished tus uploads wait (``JILU_UPLOAD_STAGING``)."""

    kind: str  # local | shared-dir | store
    directory: Path | None  # shared-dir only: the volume every web process mounts
    part_size: int  # store only: bytes per S3 multipart part (all but the last)


def read_upload_staging(storage: str) -> UploadStaging:
    """``local`` (this machine's ``JILU_SPOOL_DIR``, the embedded default),
    ``shared-dir`` (``JILU_UPLOAD_STAGING_DIR``, one volume every web process
    mounts) or ``store`` (one S3 multipart upload per tus upload in the
    evidence bucket, the default with ``JILU_STORAGE=s3``)."""
    kind = env_choice(
        "JILU_UPLOAD_STAGING", "store" if storage == "s3" else "local", UPLOAD_STAGINGS
    )
    if kind == "store" and storage != "s3":
        raise ConfigError(
            "JILU_UPLOAD_STAGING=store stages uploads in the S3 bucket and needs JILU_STORAGE=s3; "
            "with the filesystem store use local (one machine) or shared-dir"
        )
    directory = None
    if kind == "shared-dir":
        if _raw("JILU_UPLOAD_STAGING_DIR") is None:
            raise ConfigError(
                "JILU_UPLOAD_STAGING=shared-dir needs JILU_UPLOAD_STAGING_DIR: a directory on a "
                "volume every web process mounts (e.g. /srv/jilu/staging on NFS)"
            )
        directory = env_path("JILU_UPLOAD_STAGING_DIR", Path("."))
    part_mib = env_int("JILU_UPLOAD_PART_MIB", 8, minimum=5, maximum=5120)
    return UploadStaging(kind, directory, part_mib * MIB)


@dataclass(frozen=True)
class RQConfig:
    """Background tasks on RQ (Redis), ``JILU_TASKS_BACKEND=rq``."""

    redis_url: str
    job_timeout: int  # a task running longer is stopped (and retried)
    retries: int  # re-runs of a task whose worker died or that overran its timeout
    retry_delay: int  # seconds before each re-run
    abandoned_after: int  # a task whose worker sent no heartbeat this long is re-run


def env_redis_url(name: str) -> str:
    """``redis://[user:pw@]host[:port][/db]``, ``rediss://…`` (TLS) or ``unix:///path.sock``."""
    value = _raw(name)
    if value is None:
        raise ConfigError(
            f"JILU_TASKS_BACKEND=rq needs {name} (e.g. redis://redis.internal:6379/0)"
        )
    parts = urlsplit(value)
    if parts.scheme == "unix":
        if not parts.path:
            raise ConfigError(f"{name}={value!r}: the socket path is missing (unix:///path.sock)")
        return value
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ConfigError(
            f"{name}={value!r} must be a URL such as redis://host:6379/0, rediss://host:6380/0 "
            "or unix:///run/redis/redis.sock"
        )
    try:
        _ = parts.port
    except ValueError:
        raise ConfigError(f"{name}={value!r}: the port is not a number") from None
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise ConfigError(f"{name}={value!r}: the database ({db!r}) is not a number")
    return value


def read_rq() -> RQConfig:
    return RQConfig(
        redis_url=env_redis_url("JILU_REDIS_URL"),
        job_timeout=env_int("JILU_RQ_JOB_TIMEOUT_SECONDS", 6 * 3600, minimum=60),
        retries=env_int("JILU_RQ_RETRIES", 3, minimum=0, maximum=20),
        retry_delay=env_int("JILU_RQ_RETRY_DELAY_SECONDS", 60, minimum=0),
        abandoned_after=env_int("JILU_RQ_ABANDONED_AFTER_SECONDS", 120, minimum=3),
    )


def rq_django_settings(rq: RQConfig) -> dict:
    """TASKS, RQ_QUEUES and RQ for django-tasks-rq on one queue, ``default``."""
    return {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        "RQ_QUEUES": {"default": {"URL": rq.redis_url, "DEFAULT_TIMEOUT": rq.job_timeout}},
        "RQ": {
            "JOB_CLASS": "django_tasks_rq.backend.Job",
            "QUEUE_CLASS": "jilu.schedule.rq_engine.Queue",
            "WORKER_CLASS": "jilu.schedule.rq_engine.Worker",
        },
    }


SECRET_KEY_MIN_LENGTH = 32


def parse_cache_url(name: str, url: str) -> dict:
    """A CACHES entry: ``locmem://`` (one process's memory, the embedded
    default) or ``redis://[:password@]host[:port][/db]`` (``rediss://`` for
    TLS), shared by every web process of a city deployment."""
    parts = urlsplit(url)
    if parts.scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "jilu"}
    if parts.scheme in {"redis", "rediss"}:
        if not parts.hostname:
            raise ConfigError(f"{name}={url!r}: the Redis host is missing (redis://host:6379/0)")
        try:
            _ = parts.port
        except ValueError:
            raise ConfigError(f"{name}={url!r}: the port is not a number") from None
        database = parts.path.strip("/")
        if database and not database.isdigit():
            raise ConfigError(f"{name}={url!r}: the Redis database must be a number (…/0)")
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "jilu",
        }
    raise ConfigError(f"{name}={url!r}: unsupported cache; use locmem:// or redis://host:6379/0")


def env_secure_cookies(name: str) -> bool:
    """Whether cookies are Secure on plain HTTP too.

    ``auto`` (the default; ``false`` means the same): cookies are Secure on
    every request that arrived over HTTPS, directly or through a trusted proxy
    that says so, and plain on plain HTTP (the embedded default on
    http://127.0.0.1). ``always`` (or ``true``): Secure whatever the request, for
    a front server that ends TLS without telling Jilu.
    """
    value = _raw(name)
    if value is None:
        return False
    lowered = value.lower()
    if lowered in {"auto", "false", "0", "no", "off"}:
        return False
    if lowered in {"always", "true", "1", "yes", "on"}:
        return True
    raise ConfigError(f"{name}={value!r} is not one of: auto, always")


def store_origins(s3: S3Config | None) -> list[str]:
    """Where a browser fetches media when plays are answered with presigned URLs:
    the object store's origin (scheme, host and port), for the page's
    Content-Security-Policy. Empty without an S3 store."""
    if s3 is None:
        return []
    if s3.endpoint_url:
        parts = urlsplit(s3.endpoint_url)
        port = f":{parts.port}" if parts.port else ""
        return [f"{parts.scheme}://{parts.hostname}{port}"]
    # AWS itself: virtual-hosted and path-style addresses of the region.
    return [
        f"https://{s3.bucket}.s3.{s3.region}.amazonaws.com",
        f"https://s3.{s3.region}.amazonaws.com",
    ]


def _generated_once(key_file: Path, data_dir: Path, what: str, variable: str) -> str:
    """The text of ``key_file``, which the first process to start creates with a
    new random key (exclusively and mode 600, so processes starting together
    agree on one key and no other user can read it); every later start reads it."""
    try:
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = key_file.parent / f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, secrets.token_urlsafe(50).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                # link() fails if another process created the key meanwhile.
                os.link(tmp, key_file)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        key = key_file.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"JILU_DATA_DIR={str(data_dir)!r}: cannot read or create the {what} file "
            f"{key_file} ({exc.strerror or exc}); make the directory writable or set {variable}"
        ) from None
    if len(key) < SECRET_KEY_MIN_LENGTH:
        raise ConfigError(
            f"JILU_DATA_DIR={str(data_dir)!r}: the {what} file {key_file} is empty or too short; "
            f"delete it to have a new key generated, or set {variable}"
        )
    return key


def secret_key(data_dir: Path) -> str:
    """``JILU_SECRET_KEY``, or one generated once into ``JILU_DATA_DIR/secret_key``."""
    value = _raw("JILU_SECRET_KEY")
    if value is not None:
        if len(value) < SECRET_KEY_MIN_LENGTH:
            raise ConfigError(
                f"JILU_SECRET_KEY is too short ({len(value)} characters): "
                f"use at least {SECRET_KEY_MIN_LENGTH}"
            )
        return value
    return _generated_once(data_dir / "secret_key", data_dir, "secret key", "JILU_SECRET_KEY")


@dataclass(frozen=True)
class AuditKey:
    key: bytes
    source: str  # where it came from, for messages: the variable or the file
    generated: bool = False  # made by Jilu into the data directory, not configured


def audit_key(data_dir: Path) -> AuditKey:
    """The key that seals the audit chain (HMAC-SHA256), kept outside the database.

    ``JILU_AUDIT_KEY`` (the key itself) or ``JILU_AUDIT_KEY_FILE`` (a file
    holding it, readable by Jilu's user only); with neither, one generated once
    into ``JILU_DATA_DIR/audit_key`` (mode 600), so the embedded default needs
    no configuration. A named key file that cannot be read stops start-up: a
    new key would make every sealed entry look forged.
    """
    value, file_name = _raw("JILU_AUDIT_KEY"), _raw("JILU_AUDIT_KEY_FILE")
    if value is not None and file_name is not None:
        raise ConfigError("set JILU_AUDIT_KEY or JILU_AUDIT_KEY_FILE, not both")
    if value is not None:
        if len(value) < SECRET_KEY_MIN_LENGTH:
            raise ConfigError(
                f"JILU_AUDIT_KEY is too short ({len(value)} characters): use at least "
                f"{SECRET_KEY_MIN_LENGTH} (e.g. the output of: openssl rand -base64 48)"
            )
        return AuditKey(value.encode(), "JILU_AUDIT_KEY")
    if file_name is None:
        path = data_dir / "audit_key"
        return AuditKey(
            _generated_once(path, data_dir, "audit key", "JILU_AUDIT_KEY_FILE").encode(),
            str(path),
            generated=True,
        )
    path = Path(file_name).expanduser().resolve()
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"JILU_AUDIT_KEY_FILE={file_name!r}: cannot read the audit key "
            f"({exc.strerror or exc}). Restore the key file the audit chain was sealed with: "
            "with another key every sealed entry fails `jilu verify`"
        ) from None
    if mode & 0o007:
        raise ConfigError(
            f"JILU_AUDIT_KEY_FILE={file_name!r}: the key file can be read or written by every "
            f"user on this machine; make it readable by Jilu's user only (chmod 600 {path})"
        )
    if len(text) < SECRET_KEY_MIN_LENGTH:
        raise ConfigError(
            f"JILU_AUDIT_KEY_FILE={file_name!r}: the key in the file is empty or too short "
            f"({len(text)} characters); use at least {SECRET_KEY_MIN_LENGTH}"
        )
    return AuditKey(text.encode(), str(path))


DEPLOYMENTS = ("embedded", "city")


def deployment(database_engine: str, storage: str) -> str:
    """``JILU_DEPLOYMENT``: ``city`` or ``embedded``. Unset, a configuration with
    PostgreSQL or the S3 store is a city deployment, whose unsafe settings
    ``jilu.deploy.checks`` refuses at start-up; ``embedded`` states that this is
    one machine (or a development or test machine) whatever its database."""
    city = database_engine.endswith("postgresql") or storage == "s3"
    return env_choice("JILU_DEPLOYMENT", "city" if city else "embedded", DEPLOYMENTS)
