"""Oversight's tests use casework's recorders, recordings and activities."""

from jilu.casework.tests.conftest import *  # noqa: F401,F403
from jilu.oversight.tests.spotcheck_fixtures import draw  # noqa: F401,E402
