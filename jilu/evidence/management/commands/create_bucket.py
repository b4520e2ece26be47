"""``jilu create-bucket``: the S3 bucket the evidence store needs, made once.

Reads the same ``JILU_S3_*`` settings as the web and worker processes and
creates the bucket with versioning (every read pins the version recorded at
ingest, C6.5.3) and, where the store supports it, Object Lock
(``--object-lock-days N``). The bucket gets no default retention: Jilu writes
every evidence object and audit checkpoint with its own COMPLIANCE retention
(``JILU_S3_OBJECT_LOCK_DAYS``, then each recording's keep-until), while the
staging objects of unfinished uploads under ``uploads/`` must stay deletable,
or every upload would leave its parts behind. Run again, it changes nothing
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

_NO_BUCKET = {"404", "NoSuchBucket", "NotFound"}
_NO_LOCK = {"ObjectLockConfigurationNotFoundError", "NotImplemented", "InvalidRequest"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Command(BaseCommand):
    help = (
        "Create the evidence store's S3 bucket with versioning and, where the store supports "
        "it, Object Lock (JILU_S3_* settings; idempotent)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--object-lock-days",
            type=int,
            default=None,
            metavar="N",
            help="turn Object Lock on for the retention Jilu writes each object with (must "
            "match JILU_S3_OBJECT_LOCK_DAYS); 0 for a bucket without Object Lock "
            "(default: JILU_S3_OBJECT_LOCK_DAYS)",
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
        if configured and not days:
            raise CommandError(
                f"JILU_S3_OBJECT_LOCK_DAYS={configured}: Jilu writes every object under Object "
                "Lock, so the bucket needs it; give --object-lock-days 1 or more (or set "
                "JILU_S3_OBJECT_LOCK_DAYS=0)"
            )

        from jilu.evidence.store import get_store

        store = get_store()
        client, bucket = store.client, store.bucket
        try:
            self._make(client, bucket, days)
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

    def _make(self, client: Any, bucket: str, days: int) -> None:
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
            self._lock(client, bucket)

    def _lock(self, client: Any, bucket: str) -> None:
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
        if not have:
            self.stdout.write(
                f"bucket {bucket}: Object Lock on, no default retention (Jilu locks each "
                "object it writes)"
            )
            return
        # A default retention would lock the staging objects of unfinished uploads
        # (uploads/…), which must be deleted once an upload ends.
        client.put_object_lock_configuration(
            Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        )
        self.stdout.write(
            f"bucket {bucket}: Object Lock on; its default retention ({have.get('Mode')} "
            f"{have.get('Days') or have.get('Years')} {'days' if have.get('Days') else 'years'}) "
            "was removed, since it would lock the staging objects of unfinished uploads under "
            "uploads/; Jilu locks each evidence object and checkpoint it writes"
        )
