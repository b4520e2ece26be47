"""``jilu check-disc CASE_NUMBER DIR --reviewer USERNAME``: check a disc in a
workstation's or server's drive (or an ISO extracted to a directory) against
what Jilu recorded (C5.5, C6.5.3), and record the result in the case's pending
legal review as that reviewer's check.

Each recording on the disc is compared with the hashes recorded at ingest, the
other files with the hand-over's manifest; missing, extra and altered files are
named. In the browser a reviewer uploads the disc image instead.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from jilu.org.models import Person
from jilu.org.roles import Role
from jilu.transfer import actions, verify
from jilu.transfer.models import Review


class Command(BaseCommand):
    help = "Check a mounted case disc and record it in the pending legal review."

    def add_arguments(self, parser) -> None:
        parser.add_argument("case_number")
        parser.add_argument("directory", type=Path, help="where the disc is mounted")
        parser.add_argument("--reviewer", required=True, help="the legal reviewer's login name")

    def handle(self, *args, **opts) -> None:
        reviewer = Person.objects.filter(username=opts["reviewer"], is_active=True).first()
        if reviewer is None or not reviewer.has_role(Role.LEGAL_REVIEWER):
            raise CommandError(f"--reviewer {opts['reviewer']!r}: no active legal reviewer")
        review = (
            Review.objects.select_related("transfer__package")
            .filter(transfer__case__number=opts["case_number"], decision=Review.Decision.PENDING)
            .order_by("-pk")
            .first()
        )
        if review is None:
            raise CommandError(f"case {opts['case_number']!r} has no legal review waiting")
        directory = opts["directory"]
        if not directory.is_dir():
            raise CommandError(f"{directory}: no such directory (is the disc mounted?)")
        package = review.transfer.package
        expected = set(package.discs.values_list("manifest_sha256", flat=True)) - {""}
        try:
            report = verify.check_directory(
                str(directory.resolve()),
                expected_manifest_sha256=expected,
                expected=verify.expected_for(package),
            )
        except verify.PackageUnreadable as exc:
            raise CommandError(str(exc)) from None
        actions.record_verification(actor=reviewer, package=package, report=report, review=review)
        for a in report.altered:
            self.stdout.write(f"altered: {a}")
        for m in report.missing:
            self.stdout.write(f"missing: {m}")
        for m in report.extra:
            self.stdout.write(f"extra: {m}")
        for m in report.problems:
            self.stdout.write(f"problem: {m}")
        verdict = "consistent" if report.ok else "NOT consistent"
        self.stdout.write(
            f"{report.checked_files} files checked: {verdict}; recorded in the review"
        )
        if not report.ok:
            raise CommandError("the disc does not match what Jilu recorded", returncode=1)
