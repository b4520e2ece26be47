"""``jilu create-bucket``: the S3 bucket the evidence store needs, made once.

Reads the same ``JILU_S3_*`` settings as the web and worker processes and
creates the bucket with versioning (every read pins the version recorded at
ingest, C6.5.3) and, where the store supports it, Object Lock with a default
retention (``--object-lock-days``, ``--mode``). Run again, it changes nothing
that is already as asked (idempotent). It refuses an existing bucket without
versioning, and Object Lock for a bucket created without it, since stores let
Object Lock be turned on only when a bucket is created.

See docs/storage.md.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

MODES = ("governance", "compliance")
_NO_BUCKET = {"404", "NoSuchBucket", "NotFound"}
_NO_LOCK = {"ObjectLockConfigurationNotFoundError", "NotImplemented", "InvalidRequest"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Command(BaseCommand):
    help = (
        "Create the evidence store's S3 bucket with versioning and, where the store supports "
        "it, Object Lock with a default retention (JILU_S3_* settings; idempotent)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--object-lock-days",
            type=int,
            default=None,
            metavar="N",
            help="default Object Lock retention in days for new objects; 0 for a bucket "
            "without Object Lock (default: JILU_S3_OBJECT_LOCK_DAYS)",
        )
        parser.add_argument(
            "--mode",
            choices=MODES,
            default=None,
            help="the default retention's mode: compliance (nobody, not even the bucket's "
            "owner, can shorten it; the default) or governance (holders of a special "
            "permission can)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.STORAGE_KIND != "s3" or settings.S3 is None:
            raise CommandError(
                "JILU_STORAGE is not s3: set JILU_STORAGE=s3 and JILU_S3_BUCKET (with "
                "JILU_S3_ENDPOINT for MinIO or Ceph RGW) first; the filesystem store needs "
                "no bucket"
            )
        configured = settings.S3.object_lock_days
        days = configured if opts["object_lock_days"] is None else opts["object_lock_days"]
        if days < 0:
            raise CommandError(f"--object-lock-days {days}: give 0 (no Object Lock) or more")
        if days == 0 and opts["mode"]:
            raise CommandError(
                f"--mode {opts['mode']} needs --object-lock-days N (N >= 1): without Object "
                "Lock there is no retention to give a mode"
            )
        if configured and not days:
            raise CommandError(
                f"JILU_S3_OBJECT_LOCK_DAYS={configured}: Jilu writes every object under Object "
                "Lock, so the bucket needs it; give --object-lock-days 1 or more (or set "
                "JILU_S3_OBJECT_LOCK_DAYS=0)"
            )
        mode = (opts["mode"] or "compliance").upper()

        from jilu.evidence.store import get_store

        store = get_store()
        client, bucket = store.client, store.bucket
        try:
            self._make(client, bucket, days, mode)
        except ClientError as exc:
            raise CommandError(f"the store refused: {exc}") from exc
        except BotoCoreError as exc:
            where = settings.S3.endpoint_url or "S3"
            raise CommandError(f"the store {where} cannot be reached: {exc}") from exc

    def _exists(self, client: Any, bucket: str) -> bool:
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if _code(exc) in _NO_BUCKET:
                return False
            raise
        return True

    def _make(self, client: Any, bucket: str, days: int, mode: str) -> None:
        if self._exists(client, bucket):
            status = client.get_bucket_versioning(Bucket=bucket).get("Status") or "never enabled"
            if status != "Enabled":
                raise CommandError(
                    f"bucket {bucket} exists without versioning ({status}): an overwrite with "
                    "the application's key would replace a recording's bytes (C6.5.3). Enable "
                    "versioning on it (mc version enable ALIAS/" + bucket + ", or aws s3api "
                    "put-bucket-versioning --bucket " + bucket + " --versioning-configuration "
                    "Status=Enabled) and run `jilu create-bucket` again, or name a new bucket "
                    "in JILU_S3_BUCKET"
                )
            self.stdout.write(f"bucket {bucket}: exists, versioning enabled")
        else:
            args: dict[str, Any] = {"Bucket": bucket}
            region = settings.S3.region
            if not settings.S3.endpoint_url and region and region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": region}
            if days:
                args["ObjectLockEnabledForBucket"] = True
            try:
                client.create_bucket(**args)
            except ClientError as exc:
                if not days or _code(exc) not in _NO_LOCK:
                    raise
                raise CommandError(
                    f"the store does not support Object Lock ({exc}); nothing was created. "
                    "Run with --object-lock-days 0 (and JILU_S3_OBJECT_LOCK_DAYS=0) for a "
                    "versioned bucket without it"
                ) from exc
            client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
            self.stdout.write(f"bucket {bucket}: created with versioning")
        if days:
            self._lock(client, bucket, days, mode)

    def _lock(self, client: Any, bucket: str, days: int, mode: str) -> None:
        try:
            config = client.get_object_lock_configuration(Bucket=bucket)
        except ClientError as exc:
            if _code(exc) not in _NO_LOCK:
                raise
            config = {}
        lock = config.get("ObjectLockConfiguration", {})
        if lock.get("ObjectLockEnabled") != "Enabled":
            raise CommandError(
                f"bucket {bucket} was created without Object Lock, which can only be turned on "
                "when a bucket is created: name a new bucket in JILU_S3_BUCKET and run "
                "`jilu create-bucket` again, or run with --object-lock-days 0 (and "
                "JILU_S3_OBJECT_LOCK_DAYS=0)"
            )
        have = lock.get("Rule", {}).get("DefaultRetention", {})
        wanted = {"Mode": mode, "Days": days}
        if {"Mode": have.get("Mode"), "Days": have.get("Days")} == wanted:
            self.stdout.write(
                f"bucket {bucket}: Object Lock on, default retention {mode} {days} days (as asked)"
            )
            return
        client.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": wanted},
            },
        )
        before = f"{have.get('Mode')} {have.get('Days')} days" if have else "none"
        self.stdout.write(
            f"bucket {bucket}: Object Lock on, default retention {mode} {days} days (was {before})"
        )
