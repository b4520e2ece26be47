"""Oversight's tests use casework's recorders, recordings and activities."""

from jilu.casework.tests.conftest import *  # noqa: F401,F403
