"""Oversight's records. Each part keeps its models in its own module, imported here."""
