"""``jilu verify``: recompute the audit chain and re-hash stored objects.

Exits 0 when everything checks out; otherwise exits 1 and names the first
broken audit entry and every object whose bytes differ or are missing
(C6.5.3 altering or deleting recordings, C6.5.4 losing them).
"""

from __future__ import annotations

import random

from django.core.management.base import BaseCommand, CommandError

from jilu.audit.chain import verify_chain
from jilu.evidence.models import StoredObject
from jilu.evidence.store import get_store


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

    def handle(self, *args, **opts) -> None:
        failures: list[str] = []
        chain = verify_chain()
        if chain.ok:
            self.stdout.write(f"audit chain: OK ({chain.checked} entries)")
        else:
            failures.append(f"audit chain BROKEN: {chain.problem}")
            self.stdout.write(failures[-1])

        if not opts["skip_objects"]:
            keys = list(StoredObject.objects.values_list("sha256", "sm3", "size"))
            sample = opts["sample"]
            if sample is not None:
                if sample < 1:
                    raise CommandError("--sample must be at least 1")
                keys = random.sample(keys, min(sample, len(keys)))
            store = get_store()
            bad = 0
            for sha256, sm3, size in keys:
                result = store.verify(sha256)
                problem = result.problem
                if result.ok and (result.sm3 != sm3 or result.size != size):
                    problem = "SM3 or size differs from what was recorded at ingest"
                if problem:
                    bad += 1
                    failures.append(f"object {sha256}: {problem}")
                    self.stdout.write(failures[-1])
            self.stdout.write(f"stored objects: {len(keys) - bad} of {len(keys)} OK")

        if failures:
            raise CommandError(f"verification failed: {failures[0]}", returncode=1)
