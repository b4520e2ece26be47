"""Retention's tests use casework's recorders, recordings and activities."""

from jilu.casework.tests.conftest import *  # noqa: F401,F403
from jilu.evidence.tests.conftest import s3_endpoint  # noqa: E402,F401
