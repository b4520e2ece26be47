"""Typed readers for ``JILU_*`` environment variables.

Every reader fails loudly with :class:`ConfigError` naming the variable and
what is wrong with it, so a misconfigured deployment never starts half-right.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit


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


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name}={number} is too small: the minimum is {minimum}")
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
    if endpoint is not None and urlsplit(endpoint).scheme not in {"http", "https"}:
        raise ConfigError(f"{prefix}ENDPOINT={endpoint!r} must start with http:// or https://")
    return S3Config(
        endpoint_url=endpoint,
        bucket=bucket,
        access_key=_raw(prefix + "ACCESS_KEY"),
        secret_key=_raw(prefix + "SECRET_KEY"),
        region=env_str(prefix + "REGION", "us-east-1"),
        object_lock_days=env_int(prefix + "OBJECT_LOCK_DAYS", 0, minimum=0),
    )


def secret_key(data_dir: Path) -> str:
    """``JILU_SECRET_KEY``, or one generated once into the data directory."""
    value = _raw("JILU_SECRET_KEY")
    if value is not None:
        if len(value) < 32:
            raise ConfigError("JILU_SECRET_KEY is too short: use at least 32 characters")
        return value
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    tmp = key_file.with_suffix(".tmp")
    tmp.write_text(key)
    os.chmod(tmp, 0o600)
    os.replace(tmp, key_file)
    return key
