"""The pages here combine casework, evidence and the duty log: their tests use
casework's fixtures (recorders, recordings, activities)."""

from jilu.casework.tests.conftest import *  # noqa: F401,F403
