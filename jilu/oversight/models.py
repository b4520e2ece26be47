"""Oversight's records. Each part keeps its models in its own module, imported here."""

from jilu.oversight.finding_models import Finding, FindingFact, RuleCursor, RuleSetting  # noqa: F401
from jilu.oversight.ledger_models import LedgerConfirmation  # noqa: F401
from jilu.oversight.report_models import Report, ReportFile  # noqa: F401
from jilu.oversight.spotcheck_models import SpotCheck, SpotCheckItem, SpotCheckMark  # noqa: F401
