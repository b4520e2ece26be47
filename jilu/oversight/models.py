"""Oversight's records. Each part keeps its models in its own module, imported here."""

from jilu.oversight.ledger_models import LedgerConfirmation  # noqa: F401
