"""``jilu verify``: check the audit chain and re-hash stored objects.

The chain is checked entry by entry (hash, link, MAC under the audit key) and
against every checkpoint of its head kept outside the database. Exits 0 when
everything checks out; otherwise exits 1 and names the first audit entry after
which the chain no longer holds and every object whose bytes differ or are missing
(C6.5.3 altering or deleting recordings, C6.5.4 losing them). Each object
check is recorded like the rolling fixity schedule's, and a failure raises
the same alarm on the fixity alarm page.
"""

from __future__ import annotations

import random

from django.core.management.base import BaseCommand, CommandError

from jilu.audit.verify import verify_chain
from jilu.evidence.fixity import check_object
from jilu.evidence.models import StoredObject, Tombstone


class Command(BaseCommand):
    help = "Verify the audit chain and the stored objects' hashes."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--sample",
            type=int,
            default=None,
            metavar="N",
            help="re-hash a random sample of N stored objects instead of all",
        )
        parser.add_argument("--skip-objects", action="store_true", help="check the chain only")
        parser.add_argument(
            "--object",
            action="append",
            default=[],
            metavar="SHA256",
            help="re-hash only this stored object (its SHA-256, or a unique prefix of at "
            "least 12 characters); repeatable. For example after restoring it from backup",
        )

    def handle(self, *args, **opts) -> None:
        failures: list[str] = []
        chain = verify_chain()
        if chain.ok:
            self.stdout.write(f"audit chain: OK ({chain.checked} entries)")
            for note in chain.notes:
                self.stdout.write(f"  {note}")
        else:
            where = f" at #{chain.bad_seq}" if chain.bad_seq is not None else ""
            failures.append(f"audit chain BROKEN{where}: {chain.problem}")
            self.stdout.write(failures[-1])

        if not opts["skip_objects"]:
            sample = opts["sample"]
            if opts["object"]:
                if sample is not None:
                    raise CommandError("--object and --sample cannot be used together")
                keys = [self._object_key(text) for text in opts["object"]]
            else:
                keys = list(StoredObject.objects.values_list("pk", flat=True))
            if sample is not None:
                if sample < 1:
                    raise CommandError("--sample must be at least 1")
                keys = random.sample(keys, min(sample, len(keys)))
            bad = 0
            # Objects a disposal removed as approved (C5.6) are gone, not lost:
            # their tombstones say so. Any other missing object fails.
            tombstones = {t.sha256: t for t in Tombstone.objects.filter(pk__in=keys)}
            disposed = 0
            for key in keys:
                obj = StoredObject.objects.filter(pk=key).first()
                if obj is None:
                    continue
                tomb = tombstones.get(key)
                if tomb is not None:
                    disposed += 1
                    state = (
                        "deleted from the store"
                        if tomb.store_deleted_at
                        else "deletion from the store pending"
                    )
                    self.stdout.write(
                        f"object {key}: disposed under {tomb.disposal_ref} "
                        f"({tomb.rule}, {tomb.clause}), {state}"
                    )
                    continue
                # The same check as the rolling schedule: recorded as a fixity
                # event, and a differing or missing object raises the alarm that
                # administrators and inspectors see (C6.5.3, C6.5.4).
                check = check_object(obj)
                if not check.ok:
                    bad += 1
                    failures.append(f"object {obj.sha256}: {check.problem}")
                    self.stdout.write(failures[-1])
            checked = len(keys) - disposed
            self.stdout.write(
                f"stored objects: {checked - bad} of {checked} OK"
                + (f"; {disposed} disposed of as approved (tombstones)" if disposed else "")
            )

        if failures:
            raise CommandError(f"verification failed: {failures[0]}", returncode=1)

    @staticmethod
    def _object_key(text: str) -> str:
        """The full SHA-256 of the stored object named by ``text``."""
        prefix = text.strip().lower()
        if len(prefix) < 12 or any(c not in "0123456789abcdef" for c in prefix):
            raise CommandError(
                f"--object {text!r}: give the object's SHA-256 (64 hex digits) "
                "or at least its first 12"
            )
        found = list(
            StoredObject.objects.filter(pk__startswith=prefix).values_list("pk", flat=True)[:2]
        )
        if not found:
            raise CommandError(f"--object {text!r}: no stored object has this SHA-256")
        if len(found) > 1:
            raise CommandError(
                f"--object {text!r}: more than one object starts so; give more digits"
            )
        return found[0]
